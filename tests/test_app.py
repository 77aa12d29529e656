"""The PyQt6 window, offscreen, against the real pipeline on the bundled clip.

Nothing here is mocked except the browser: QDesktopServices.openUrl is
patched to record what would have been opened.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from importlib import metadata

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, QPointF, QSettings, Qt, QTimer
from PyQt6.QtGui import QDesktopServices, QGuiApplication, QImage
from sample_truth import CLIP_URLS, MIN_EXACT_CLIP, missing_hosts

from edge_app.app import AppOptions, run_app
from edge_app.app.links_panel import LinksPanel
from edge_app.app.main_window import MainWindow
from edge_app.app.opening import tooltip
from edge_app.app.qt_env import cv2_dir, guard_qt_plugin_path
from edge_app.app.video_view import LINK_COLOR, VideoView
from edge_app.errors import SourceError
from edge_app.results import Link
from edge_app.sources import FrameSource, open_source
from edge_app.urls import normalize_url

READ_TIMEOUT_MS = 20_000  # the clip is 2.7 s long and loops; links are read in the first pass
# Lines Tesseract must read while the event loop is watched: a stretch of
# real OCR work (~25 ms a line) without waiting on the clip's loop for more.
MIN_LINES_READ = 20


@pytest.fixture
def opened(monkeypatch) -> list[str]:
    """What the app asked the browser to open (the browser is the only stand-in)."""
    calls: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: calls.append(url.toString()) or True)
    return calls


@pytest.fixture
def make_window(qtbot, tmp_path):
    def make(source: str, retry_s: float | None = None) -> MainWindow:
        settings = QSettings(str(tmp_path / "app.ini"), QSettings.Format.IniFormat)
        w = MainWindow(AppOptions(source=source), settings=settings, probe_cameras=False)
        if retry_s is not None:
            w.worker.retry_s = retry_s
        qtbot.addWidget(w)  # closed at teardown: closeEvent stops the threads
        w.resize(1000, 620)
        w.show()
        w.start()
        return w

    return make


def _quad(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)


def _link(url: str, y: float) -> Link:
    return Link(url=url, raw=url, quads=[_quad(60, y, 420, y + 28)], score=0.9)


# ------------------------------------------------------ real pipeline, clip
def test_overlays_appear_for_the_known_links(make_window, qtbot):
    # Every known link gets an overlay with its host right; most exactly
    # (the bar: tests/sample_truth.py).
    w = make_window("demo")
    seen: set[str] = set()
    w.view.links_changed.connect(lambda links: seen.update(normalize_url(k.url) for k in links))

    def all_there() -> bool:
        return not missing_hosts(CLIP_URLS, seen) and len(CLIP_URLS & seen) >= MIN_EXACT_CLIP

    try:
        qtbot.waitUntil(all_there, timeout=READ_TIMEOUT_MS)
    except qtbot.TimeoutError:
        pytest.fail(f"overlays seen: {sorted(seen)}; known: {sorted(CLIP_URLS)}")
    listed = {normalize_url(u) for u in w.panel.urls()}
    assert not missing_hosts(CLIP_URLS, listed) and len(CLIP_URLS & listed) >= MIN_EXACT_CLIP
    assert len(w.panel.urls()) == len(set(w.panel.urls()))


def test_click_on_an_overlay_opens_exactly_its_url(make_window, qtbot, opened):
    w = make_window("demo")
    try:
        qtbot.waitUntil(lambda: bool(w.view.links()), timeout=READ_TIMEOUT_MS)
    except qtbot.TimeoutError:
        pytest.fail("no link overlay appeared on the demo clip")
    link = w.view.links()[0]
    pos = w.view.link_center(link).toPoint()
    assert w.view.link_at(QPointF(pos)) is link
    qtbot.mouseClick(w.view, Qt.MouseButton.LeftButton, pos=pos)
    assert opened == [link.url]
    # The right button copies instead of opening.
    qtbot.mouseClick(w.view, Qt.MouseButton.RightButton, pos=pos)
    assert opened == [link.url]
    assert QGuiApplication.clipboard().text() == link.url


def test_ui_stays_responsive_while_links_are_read(make_window, qtbot):
    w = make_window("demo")
    qtbot.waitUntil(lambda: w.last_update is not None, timeout=READ_TIMEOUT_MS)  # window up, reader running
    ocr_before = w.last_update.ocr_calls
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer(interval=10, timeout=tick)
    timer.start()
    # Measure across a stretch in which Tesseract really reads lines.
    qtbot.waitUntil(lambda: w.last_update.ocr_calls >= ocr_before + MIN_LINES_READ, timeout=READ_TIMEOUT_MS)
    qtbot.wait(1000)
    timer.stop()
    longest_ms = max(gaps) * 1000
    read = w.last_update.ocr_calls - ocr_before
    print(f"\nlongest event-loop stall: {longest_ms:.0f} ms over {len(gaps)} ticks of 10 ms; "
          f"{read} lines sent to Tesseract meanwhile; {w.last_update.fps:.1f} frames/s read")
    assert read >= MIN_LINES_READ
    assert len(gaps) > 50
    assert longest_ms < 250


def test_space_freezes_the_frame_and_snapshot_keeps_full_resolution(make_window, qtbot, tmp_path):
    w = make_window("demo")
    qtbot.waitUntil(lambda: w.view.has_frame() and w._shown_frame is not None, timeout=10_000)
    w.activateWindow()
    qtbot.waitUntil(lambda: QGuiApplication.focusWindow() is w.windowHandle(), timeout=2000)
    qtbot.keyClick(w.view, Qt.Key.Key_Space)
    assert w.worker.paused
    frozen = w._shown_frame
    qtbot.wait(400)  # six frames of the clip
    assert w._shown_frame is frozen
    out = w.save_snapshot(tmp_path / "snap.png")
    img = QImage(str(out))
    assert (img.width(), img.height()) == (frozen.image.shape[1], frozen.image.shape[0])
    qtbot.keyClick(w.view, Qt.Key.Key_Space)  # resume
    assert not w.worker.paused
    qtbot.waitUntil(lambda: w._shown_frame is not frozen, timeout=5000)
    # Model and threads info, without blocking the video.
    qtbot.waitUntil(lambda: w.info is not None and w.last_update is not None, timeout=READ_TIMEOUT_MS)
    w.show_info()
    assert w._info_box.isVisible() and not w._info_box.isModal()
    text = w._info_box.text()
    assert "links_detector.tflite" in text and "Detector threads: 2" in text
    assert "OCR engine: tesserocr (2 in parallel)" in text
    assert w.det_label.text().startswith("detector ") and w.det_label.text().endswith(" ms")


# ----------------------------------------------------------- failing sources
def test_missing_file_shows_a_message_and_the_app_keeps_running(make_window, qtbot, tmp_path):
    missing = tmp_path / "missing.mp4"
    w = make_window(str(missing))
    qtbot.waitUntil(lambda: "not found" in w.message_bar.text(), timeout=5000)
    assert str(missing) in w.message_bar.text()
    assert w.message_bar.demo_button.isVisible()  # offers a source that works
    assert w.isVisible()
    qtbot.mouseClick(w.message_bar.demo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.view.has_frame(), timeout=5000)
    assert w.message_bar.text() == ""


def test_absent_camera_shows_a_message_retries_and_the_app_keeps_running(make_window, qtbot):
    w = make_window("7", retry_s=0.2)
    messages: list[str] = []
    w.worker.message.connect(messages.append)
    qtbot.waitUntil(lambda: len(messages) >= 2, timeout=5000)  # tried again, still no crash
    assert "camera" in messages[-1] and "7" in messages[-1] and "retrying" in messages[-1]
    assert "retrying" in w.message_bar.text()
    w.open_source("demo")
    qtbot.waitUntil(lambda: w.view.has_frame(), timeout=5000)
    n = len(messages)
    qtbot.wait(500)
    assert len(messages) == n  # the old camera's retry loop has stopped


class _FlakyCamera(FrameSource):
    """A live source that plays the demo clip like a webcam and, the first
    time it is opened, is unplugged after a few frames."""

    is_live = True
    opened = 0

    def __init__(self) -> None:
        type(self).opened += 1
        self.name = "flaky camera"
        self._clip = open_source("demo")
        self._unplug_after = 5 if type(self).opened == 1 else None
        self._n = 0

    def read(self):
        time.sleep(1 / 30)
        if self._unplug_after is not None and self._n >= self._unplug_after:
            raise SourceError("flaky camera stopped delivering frames: check the cable")
        self._n += 1
        return self._clip.read()

    def close(self) -> None:
        self._clip.close()


def test_camera_that_disconnects_shows_a_message_and_comes_back(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(_FlakyCamera, "opened", 0)
    settings = QSettings(str(tmp_path / "app.ini"), QSettings.Format.IniFormat)
    w = MainWindow(AppOptions(source="flaky"), settings=settings, probe_cameras=False)
    w.worker.source_factory = lambda spec: _FlakyCamera()
    w.worker.retry_s = 0.2
    qtbot.addWidget(w)
    w.show()
    messages: list[str] = []
    w.worker.message.connect(messages.append)
    w.start()
    qtbot.waitUntil(lambda: bool(messages), timeout=5000)
    assert "stopped delivering frames" in messages[0] and "retrying" in messages[0]
    qtbot.waitUntil(lambda: _FlakyCamera.opened >= 2, timeout=5000)  # reopened by itself
    qtbot.waitUntil(lambda: w.message_bar.text() == "", timeout=5000)  # the message goes once it is back
    shown = w._shown_frame
    qtbot.waitUntil(lambda: w._shown_frame is not shown, timeout=5000)  # frames flow again
    assert w.isVisible() and len(messages) == 1


def test_no_camera_offers_a_file_or_the_demo_clip(qtbot, tmp_path):
    from edge_app.sources import list_cameras

    if list_cameras():
        pytest.skip("this machine has a camera")
    settings = QSettings(str(tmp_path / "app.ini"), QSettings.Format.IniFormat)
    w = MainWindow(AppOptions(), settings=settings)  # no source, nothing remembered: look for cameras
    qtbot.addWidget(w)
    w.show()
    w.start()
    qtbot.waitUntil(lambda: "No camera" in w.message_bar.text(), timeout=10_000)
    assert w.message_bar.open_button.isVisible() and w.message_bar.demo_button.isVisible()
    assert not w.camera_combo.isEnabled()


def test_geometry_and_last_source_are_remembered(qtbot, tmp_path):
    path = str(tmp_path / "app.ini")
    w = MainWindow(AppOptions(source="demo"), settings=QSettings(path, QSettings.Format.IniFormat),
                   probe_cameras=False)
    qtbot.addWidget(w)
    w.show()
    w.start()
    qtbot.waitUntil(lambda: w.view.has_frame(), timeout=5000)
    w.resize(730, 510)
    size = w.size()
    w.close()
    again = MainWindow(AppOptions(), settings=QSettings(path, QSettings.Format.IniFormat), probe_cameras=False)
    qtbot.addWidget(again)
    again.show()
    again.start()
    assert again.size() == size
    assert again.worker.spec == "demo"
    qtbot.waitUntil(lambda: again.view.has_frame(), timeout=5000)


def test_missing_model_shows_a_message_and_the_video_still_plays(qtbot, tmp_path):
    from edge_app.app.options import pipeline_settings

    settings = QSettings(str(tmp_path / "app.ini"), QSettings.Format.IniFormat)
    opts = AppOptions(source="demo", model=tmp_path / "none.tflite")
    w = MainWindow(opts, settings=settings, pipeline=pipeline_settings(opts), probe_cameras=False)
    qtbot.addWidget(w)
    w.show()
    w.start()
    qtbot.waitUntil(lambda: "none.tflite" in w.message_bar.text(), timeout=5000)
    qtbot.waitUntil(lambda: w.view.has_frame(), timeout=5000)
    assert w.isVisible()


# ------------------------------------------------------------ view, no model
@pytest.fixture
def view(qtbot) -> VideoView:
    v = VideoView()
    qtbot.addWidget(v)
    v.resize(640, 480)
    v.show()
    v.set_frame(np.full((480, 640, 3), 255, np.uint8))
    return v


def test_unsafe_schemes_are_never_opened(view, qtbot, opened):
    unsafe = [_link("javascript:alert(1)", 40), _link("file:///etc/passwd", 120),
              _link("data:text/html,<b>x</b>", 200), _link("https://user@evil.example.com/", 280)]
    safe = _link("https://example.com/a", 360)
    view.set_links(unsafe + [safe])
    refused: list[str] = []
    view.link_refused.connect(refused.append)
    for link in unsafe:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=view.link_center(link).toPoint())
    assert opened == []
    assert refused == [k.url for k in unsafe]
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=view.link_center(safe).toPoint())
    assert opened == ["https://example.com/a"]
    # The list's Open button follows the same rule.
    panel = LinksPanel()
    qtbot.addWidget(panel)
    panel.add_links(unsafe)
    panel.tree.selectAll()
    panel.open_selected()
    assert opened == ["https://example.com/a"]


def test_overlay_is_drawn_on_the_link_and_missing_it_opens_nothing(view, qtbot, opened):
    link = _link("https://example.com/a", 200)
    view.set_links([link])
    img = view.grab().toImage()
    # The outline's top edge, in widget pixels (the frame fills the view here).
    p = view.frame_to_widget(240, 200).toPoint()
    dpr = img.devicePixelRatio()
    colors = [img.pixelColor(QPoint(int(p.x() * dpr), int((p.y() + dy) * dpr))) for dy in (-1, 0, 1)]
    assert any(abs(c.green() - LINK_COLOR.green()) < 40 and c.red() < 120 for c in colors), colors
    # Hovering highlights it, and the highlight survives the next result.
    qtbot.mouseMove(view, view.link_center(link).toPoint())
    assert view._hover == 0
    view.set_links([link])
    assert view._hover == 0
    # Far from any outline or label: nothing opens.
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(600, 450))
    assert opened == []


_HIDPI = r"""
import json
import numpy as np
from PyQt6.QtWidgets import QApplication
from edge_app.app.video_view import VideoView
app = QApplication([])
v = VideoView()
v.resize(320, 240)
v.show()
v.set_frame(np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8))
img = v.grab().toImage()
print(json.dumps({"dpr": v.devicePixelRatioF(), "grab": [img.width(), img.height()],
                  "pixmap": [v._cache[3].width(), v._cache[3].height(), v._cache[3].devicePixelRatio()]}))
"""


def test_frame_is_drawn_at_device_pixels_on_a_hidpi_screen():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR="2")
    r = subprocess.run([sys.executable, "-c", _HIDPI], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    info = json.loads(r.stdout.strip().splitlines()[-1])
    assert info["dpr"] == 2.0
    # A 320x240 (logical) view of a 640x480 frame uses all 640x480 device
    # pixels: the frame is not shrunk to 320x240 and blown up again.
    assert info["pixmap"] == [640, 480, 2.0]
    assert info["grab"] == [640, 480]


def test_tooltip_shows_the_whole_url_and_the_punycode_host():
    text = tooltip("https://аpple.com/login")  # Cyrillic 'а'
    assert "https://аpple.com/login" in text
    assert "xn--pple-43d.com" in text


# ------------------------------------------------------------------- panel
def test_links_panel_newest_first_no_duplicates_and_exports(qtbot, tmp_path):
    panel = LinksPanel()
    qtbot.addWidget(panel)
    a, b = _link("https://a.example.com/x", 10), _link("https://b.example.org/y?q=1,2", 50)
    assert panel.add_links([a], source="demo") == 1
    assert panel.add_links([a, b], source="demo") == 1
    assert panel.add_links([b, a]) == 0
    assert panel.urls() == [b.url, a.url]
    assert panel.tree.topLevelItemCount() == 2
    panel.copy_all()
    assert QGuiApplication.clipboard().text() == f"{b.url}\n{a.url}"
    rows = list(csv.DictReader(io.StringIO(panel.export(tmp_path / "l.csv").read_text())))
    assert [r["url"] for r in rows] == [b.url, a.url]
    assert rows[0]["host"] == "b.example.org"
    md = panel.export(tmp_path / "l.md").read_text()
    assert md.index(f"<{b.url}>") < md.index(f"<{a.url}>")


# ----------------------------------------------------------- headless runs
def test_screenshot_option_saves_the_window_and_quits(qtbot, tmp_path):
    out = tmp_path / "docs" / "shot.png"
    settings = QSettings(str(tmp_path / "app.ini"), QSettings.Format.IniFormat)
    t0 = time.monotonic()
    rc = run_app(AppOptions(source="demo", screenshot=out, quit_after=4), settings=settings)
    assert rc == 0
    assert time.monotonic() - t0 < 15
    img = QImage(str(out))
    assert not img.isNull() and img.width() >= 640 and img.height() >= 400
    assert settings.value("last_source") == "demo"


# ---------------------------------------------------------- OpenCV and Qt
_COEXIST = r"""
import json, os, sys
import numpy as np
def load_cv2():
    import cv2
    return cv2
def load_qt():
    from PyQt6.QtCore import QLibraryInfo
    from PyQt6.QtWidgets import QApplication, QLabel
    return QLibraryInfo, QApplication, QLabel
if sys.argv[1] == "cv2_first":
    cv2 = load_cv2(); QLibraryInfo, QApplication, QLabel = load_qt()
else:
    QLibraryInfo, QApplication, QLabel = load_qt(); cv2 = load_cv2()
app = QApplication([])
label = QLabel("x"); label.show(); app.processEvents()
gray = cv2.cvtColor(np.zeros((8, 8, 3), np.uint8), cv2.COLOR_BGR2GRAY)
gui = [l.strip() for l in cv2.getBuildInformation().splitlines() if l.strip().startswith("GUI:")]
print(json.dumps({"platform": app.platformName(), "shape": list(gray.shape),
                  "env": {k: os.environ.get(k) for k in ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_PLUGIN_PATH")},
                  "plugins": QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath),
                  "cv2": os.path.dirname(cv2.__file__), "gui": gui}))
"""


@pytest.mark.parametrize("order", ["cv2_first", "qt_first"])
def test_opencv_and_pyqt6_coexist(order):
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_PLUGIN_PATH")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    r = subprocess.run([sys.executable, "-c", _COEXIST, order], capture_output=True, text=True, env=env,
                       timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    info = json.loads(r.stdout.strip().splitlines()[-1])
    assert info["platform"] == "offscreen"
    assert info["shape"] == [8, 8]
    cv2_path = os.path.realpath(info["cv2"])
    assert all(v is None or cv2_path not in os.path.realpath(v) for v in info["env"].values()), info["env"]
    assert cv2_path not in os.path.realpath(info["plugins"])
    assert "QT" not in " ".join(info["gui"]).upper()  # no Qt inside OpenCV's wheel


def test_only_the_headless_opencv_wheel_is_installed():
    """opencv-python and the headless wheel share the cv2 folder: with both
    installed, whichever came last wins, Qt plugins included."""
    names = {(d.metadata["Name"] or "").lower() for d in metadata.distributions()}
    assert names & {"opencv-python-headless", "opencv-contrib-python-headless"}
    assert not names & {"opencv-python", "opencv-contrib-python"}


def test_plugin_path_into_opencv_is_dropped_and_others_kept(tmp_path):
    cv2_path = cv2_dir()
    assert cv2_path is not None
    theirs = str(cv2_path / "qt" / "plugins")
    mine = str(tmp_path / "my-plugins")
    env = {"QT_QPA_PLATFORM_PLUGIN_PATH": theirs, "QT_PLUGIN_PATH": os.pathsep.join([mine, theirs])}
    assert sorted(guard_qt_plugin_path(env)) == ["QT_PLUGIN_PATH", "QT_QPA_PLATFORM_PLUGIN_PATH"]
    assert env == {"QT_PLUGIN_PATH": mine}
    assert guard_qt_plugin_path(env) == []
    assert env == {"QT_PLUGIN_PATH": mine}
