"""The main window: video with clickable links, the links list, controls."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import cv2
from PyQt6.QtCore import QByteArray, QSettings, Qt, pyqtSignal
from PyQt6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PyQt6.QtWidgets import (QComboBox, QDockWidget, QFileDialog, QFrame, QHBoxLayout, QLabel, QMainWindow,
                             QMessageBox, QPushButton, QToolBar, QVBoxLayout, QWidget)

from edge_app.annotate import draw_links
from edge_app.app.links_panel import LinksPanel
from edge_app.app.opening import Opener
from edge_app.app.options import AppOptions, pipeline_settings
from edge_app.app.video_view import VideoView
from edge_app.app.worker import PipelineInfo, ResultUpdate, Worker, is_live_spec

log = logging.getLogger(__name__)

NO_CAMERA = "No camera found. Open a photo or a video, or play the bundled demo clip."


class MessageBar(QFrame):
    """A message above the picture that never blocks: the app keeps running
    while it is shown. Offers the sources that always work."""

    open_file = pyqtSignal()
    play_demo = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.setStyleSheet("#messageBar { background: #fff4ce; border: 1px solid #e0c060; } "
                           "#messageBar QLabel { color: #222; }")
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = QPushButton("Open file…", self)
        self.demo_button = QPushButton("Play demo clip", self)
        close = QPushButton("Dismiss", self)
        self.open_button.clicked.connect(self.open_file)
        self.demo_button.clicked.connect(self.play_demo)
        close.clicked.connect(self.hide)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 4)
        row.addWidget(self.label, 1)
        for b in (self.open_button, self.demo_button, close):
            row.addWidget(b)
        self.hide()

    def show_message(self, text: str, offer_sources: bool = False) -> None:
        self.label.setText(text)
        self.open_button.setVisible(offer_sources)
        self.demo_button.setVisible(offer_sources)
        self.show()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""


class MainWindow(QMainWindow):
    """Wires the worker (capture + pipeline threads) to the view and panel."""

    message_shown = pyqtSignal(str)
    cameras_found = pyqtSignal(list)

    def __init__(self, options: AppOptions | None = None, *, settings: QSettings | None = None,
                 pipeline: object | None = None, opener: Opener | None = None,
                 probe_cameras: bool = True) -> None:
        super().__init__()
        self.options = options or AppOptions()
        self.settings = settings if settings is not None else QSettings("links-detector", "app")
        self.setWindowTitle("Links Detector")
        self.view = VideoView(opener=opener)
        self.panel = LinksPanel(opener=opener)
        self.message_bar = MessageBar()
        self.worker = Worker(pipeline if pipeline is not None else pipeline_settings(self.options), self)
        self.info: PipelineInfo | None = None
        self.last_update: ResultUpdate | None = None
        self._shown_frame = None
        self._cameras: list[int] | None = None
        self._probe = probe_cameras
        self._det_ms: float | None = None
        self._info_box: QMessageBox | None = None
        self._sticky_message = False
        self.remember_geometry = True
        self.reader_error: str | None = None  # why the pipeline could not start

        central = QWidget()
        col = QVBoxLayout(central)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(0)
        col.addWidget(self.message_bar)
        col.addWidget(self.view, 1)
        self.setCentralWidget(central)
        dock = QDockWidget("Links", self)
        dock.setObjectName("linksDock")
        dock.setWidget(self.panel)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self._build_actions()
        self._build_status()

        self.message_bar.open_file.connect(self.open_file_dialog)
        self.message_bar.play_demo.connect(lambda: self.open_source("demo"))
        self.view.link_refused.connect(
            lambda url: self.statusBar().showMessage(f"Not opened: {url} (only http and https links open)", 8000))
        self.view.link_copied.connect(lambda url: self.statusBar().showMessage(f"Copied {url}", 4000))
        self.view.link_opened.connect(lambda url: self.statusBar().showMessage(f"Opened {url}", 4000))
        self.panel.link_refused.connect(self.view.link_refused)
        w = self.worker
        w.frame_ready.connect(self._on_frame)
        w.result_ready.connect(self._on_result)
        w.message.connect(self.show_message)
        w.failed.connect(self._on_reader_failed)
        w.ready.connect(self._on_ready)
        w.source_started.connect(self._on_source_started)
        w.source_ended.connect(self._on_source_ended)
        self.cameras_found.connect(self._on_cameras)

        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1100, 640)

    # ------------------------------------------------------------ building
    def _build_actions(self) -> None:
        tb = QToolBar("Main", self)
        tb.setObjectName("mainToolbar")
        tb.setMovable(False)
        self.addToolBar(tb)
        self.camera_combo = QComboBox(self)
        self.camera_combo.setToolTip("Camera")
        self.camera_combo.addItem("Looking for cameras…")
        self.camera_combo.setEnabled(False)
        self.camera_combo.activated.connect(self._on_camera_chosen)
        self.open_action = QAction("Open photo or video…", self, shortcut=QKeySequence.StandardKey.Open,
                                   triggered=self.open_file_dialog)
        self.demo_action = QAction("Demo clip", self, triggered=lambda: self.open_source("demo"))
        self.pause_action = QAction("Pause", self, checkable=True, shortcut=QKeySequence(Qt.Key.Key_Space),
                                    toggled=self.set_paused)
        self.pause_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.snapshot_action = QAction("Save snapshot…", self, shortcut=QKeySequence.StandardKey.Save,
                                       triggered=self.snapshot_dialog)
        self.info_action = QAction("Model and threads…", self, triggered=self.show_info)
        self.refresh_cameras_action = QAction("Look for cameras again", self, triggered=self.probe_cameras)
        quit_action = QAction("Quit", self, shortcut=QKeySequence.StandardKey.Quit, triggered=self.close)
        tb.addWidget(QLabel(" Camera "))
        tb.addWidget(self.camera_combo)
        for a in (self.open_action, self.demo_action, self.pause_action, self.snapshot_action, self.info_action):
            tb.addAction(a)

        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        for a in (self.open_action, self.demo_action, self.snapshot_action):
            file_menu.addAction(a)
        export = file_menu.addMenu("Export links")
        export.addAction("Markdown…", lambda: self.panel.export_dialog("md"))
        export.addAction("CSV…", lambda: self.panel.export_dialog("csv"))
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        self.camera_menu = mb.addMenu("&Camera")
        self._camera_group = QActionGroup(self)
        self.camera_menu.addAction(self.refresh_cameras_action)
        view_menu = mb.addMenu("&View")
        view_menu.addAction(self.pause_action)
        help_menu = mb.addMenu("&Help")
        help_menu.addAction(self.info_action)

    def _build_status(self) -> None:
        self.source_label = QLabel("")
        self.fps_label = QLabel("FPS –")
        self.det_label = QLabel("detector – ms")
        self.ocr_label = QLabel("OCR – ms")
        sb = self.statusBar()
        sb.addWidget(self.source_label, 1)
        for lab in (self.fps_label, self.det_label, self.ocr_label):
            lab.setMinimumWidth(90)
            sb.addPermanentWidget(lab)

    # ------------------------------------------------------------- sources
    def start(self) -> None:
        """Start reading: the given source, else the last one, else a camera."""
        self.worker.start()
        if self._probe:
            self.probe_cameras()
        else:
            self.camera_combo.setItemText(0, "Cameras not searched")
        source = self.options.source or self._remembered_source()
        if source:
            self.open_source(source)
        elif not self._probe:
            self.show_message(NO_CAMERA, offer_sources=True)
        else:
            self.view.clear("Looking for cameras…")

    def _remembered_source(self) -> str | None:
        last = self.settings.value("last_source")
        if not isinstance(last, str) or not last:
            return None
        if last == "demo" or "://" in last:
            return last
        if not is_live_spec(last) and Path(last).expanduser().exists():
            return last
        return None  # a camera: only if the probe finds it again

    def probe_cameras(self) -> None:
        """Enumerate webcams in the background: opening absent devices can
        take a while and must not freeze the window."""
        self.camera_combo.setEnabled(False)
        from edge_app.sources import list_cameras

        def probe() -> None:
            try:
                found = list_cameras()
            except Exception:  # a broken driver means no usable camera
                log.exception("looking for cameras failed")
                found = []
            try:
                self.cameras_found.emit(found)
            except RuntimeError:  # the window was closed meanwhile
                pass

        threading.Thread(target=probe, name="links-cameras", daemon=True).start()

    def _on_cameras(self, cameras: list) -> None:
        self._cameras = list(cameras)
        self.camera_combo.clear()
        for a in self._camera_group.actions():
            self.camera_menu.removeAction(a)
            self._camera_group.removeAction(a)
        if cameras:
            for i in cameras:
                self.camera_combo.addItem(f"Camera {i}", str(i))
                act = QAction(f"Camera {i}", self, checkable=True)
                act.triggered.connect(lambda _=False, s=str(i): self.open_source(s))
                self._camera_group.addAction(act)
                self.camera_menu.insertAction(self.refresh_cameras_action, act)
            self.camera_combo.setEnabled(True)
        else:
            self.camera_combo.addItem("No camera")
            self.camera_combo.setEnabled(False)
        if self.worker.spec is None:  # nothing chosen yet: the last camera, the first one, or ask
            last = self.settings.value("last_source")
            if cameras:
                self.open_source(last if isinstance(last, str) and last in {str(c) for c in cameras}
                                 else str(cameras[0]))
            else:
                self.view.clear(NO_CAMERA)
                self.show_message(NO_CAMERA, offer_sources=True)
        self._sync_camera_choice()

    def _on_camera_chosen(self, index: int) -> None:
        spec = self.camera_combo.itemData(index)
        if spec is not None and spec != self.worker.spec:
            self.open_source(spec)

    def _sync_camera_choice(self) -> None:
        i = self.camera_combo.findData(self.worker.spec)
        if i >= 0:
            self.camera_combo.setCurrentIndex(i)

    def open_source(self, spec: str) -> None:
        self.pause_action.setChecked(False)
        if not self._sticky_message:
            self.message_bar.hide()
        self.view.clear(f"Opening {spec}…")
        self._shown_frame = None
        self.last_update = None
        self.source_label.setText(f"Opening {spec}…")
        self.worker.open(spec)
        self._sync_camera_choice()

    def open_file_dialog(self) -> None:
        from edge_app.sources import IMAGE_EXTS, VIDEO_EXTS

        images = " ".join(f"*{e}" for e in sorted(IMAGE_EXTS))
        videos = " ".join(f"*{e}" for e in sorted(VIDEO_EXTS))
        name, _ = QFileDialog.getOpenFileName(
            self, "Open a photo or video", str(Path.home()),
            f"Photos and videos ({images} {videos});;Photos ({images});;Videos ({videos});;All files (*)")
        if name:
            self.open_source(name)

    def _on_source_started(self, spec: str, name: str, live: bool) -> None:
        if spec != self.worker.spec:
            return
        if not self._sticky_message:
            self.message_bar.hide()
        self.settings.setValue("last_source", spec)
        shown = "Demo clip" if spec.strip().lower() == "demo" else name
        self.source_label.setText(("Live: " if live else "") + shown)
        self.setWindowTitle(f"Links Detector — {shown}")
        self._sync_camera_choice()

    def _on_source_ended(self, spec: str, photo: bool) -> None:
        if spec == self.worker.spec and not photo:
            self.source_label.setText(f"{self.source_label.text()} — end of video")

    def show_message(self, text: str, offer_sources: bool = False, sticky: bool = False) -> None:
        """Show ``text`` above the picture without blocking anything. A
        source problem goes away when a source starts; a ``sticky`` one (the
        reader cannot start) stays until dismissed."""
        log.info("%s", text)
        if self._sticky_message and self.message_bar.isVisible() and not sticky:
            text = f"{self.message_bar.label.text()}\n{text}"
            sticky = True
        self._sticky_message = sticky
        self.message_bar.show_message(text, offer_sources or not self.view.has_frame())
        self.message_shown.emit(text)

    # ------------------------------------------------------------- updates
    def _on_frame(self) -> None:
        frame = self.worker.take_frame()
        if frame is None or self.worker.paused:
            return
        self._shown_frame = frame
        self.view.set_frame(frame.image)

    def _on_result(self) -> None:
        update = self.worker.take_result()
        if update is None:
            return
        if self.worker.paused and (self._shown_frame is None or update.frame is not self._shown_frame):
            return  # a result of a frame no longer on screen
        if self._shown_frame is None:
            self._shown_frame = update.frame
            self.view.set_frame(update.frame.image)
        self.last_update = update
        links = update.result.links
        self.view.set_links(links)
        self.panel.add_links(links, source=self.worker.spec or "")
        self._show_timings(update)

    def _show_timings(self, update: ResultUpdate) -> None:
        t = update.result.timings_ms
        det = sum(float(t.get(k, 0.0)) for k in ("preprocess", "detect", "decode"))
        self._det_ms = det if self._det_ms is None else 0.8 * self._det_ms + 0.2 * det
        self.fps_label.setText(f"FPS {update.fps:.1f}" if update.fps else "FPS –")
        self.det_label.setText(f"detector {self._det_ms:.0f} ms")
        if t.get("ocr", 0.0) > 0.0:  # only frames with new lines to read use Tesseract
            self.ocr_label.setText(f"OCR {t['ocr']:.0f} ms")

    def set_paused(self, paused: bool) -> None:
        self.worker.set_paused(paused, self._shown_frame)
        self.pause_action.setText("Resume" if paused else "Pause")
        if paused:
            self.statusBar().showMessage("Frozen: every line of this frame is being read", 4000)

    # ------------------------------------------------------------ snapshot
    def save_snapshot(self, path: Path) -> Path:
        """The shown frame at full resolution with the links drawn on it."""
        if self._shown_frame is None:
            raise ValueError("no picture to save yet")
        path = Path(path)
        image = draw_links(self._shown_frame.image, self.view.links())
        ext = path.suffix.lower() or ".png"
        ok, buf = cv2.imencode(ext if ext in (".png", ".jpg", ".jpeg", ".bmp", ".webp") else ".png", image)
        if not ok:
            raise ValueError(f"cannot encode a {ext} picture")
        path.write_bytes(buf.tobytes())
        return path

    def snapshot_dialog(self) -> None:
        if self._shown_frame is None:
            self.statusBar().showMessage("Nothing to save yet", 4000)
            return
        name, _ = QFileDialog.getSaveFileName(self, "Save snapshot", str(Path.home() / "links.png"),
                                              "PNG (*.png);;JPEG (*.jpg)")
        if not name:
            return
        try:
            saved = self.save_snapshot(Path(name))
        except (OSError, ValueError) as e:
            self.show_message(f"The snapshot was not saved: {e}")
            return
        self.statusBar().showMessage(f"Saved {saved}", 6000)

    # ---------------------------------------------------------------- info
    def _on_reader_failed(self, text: str) -> None:
        self.reader_error = text
        self.show_message(f"Links cannot be read: {text}", sticky=True)

    def _on_ready(self, info: PipelineInfo) -> None:
        self.info = info

    def info_text(self) -> str:
        i = self.info
        if i is None:
            return "The reader is still starting (or could not start: see the message above the picture)."
        lines = [f"Model: {i.model_path}", f"Size: {i.model_bytes / 1024:.0f} KiB",
                 f"Input long side: {i.input_long_side} px", f"Detector threads: {i.threads}",
                 f"OCR engine: {i.ocr_engine} ({i.ocr_workers} in parallel)"]
        lines += [f"{k}: {v}" for k, v in sorted(i.model_info.items()) if not isinstance(v, (dict, list))]
        return "\n".join(lines)

    def show_info(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "Model and threads", self.info_text(),
                          QMessageBox.StandardButton.Close, self)
        box.setModal(False)  # the video goes on behind it
        box.show()
        self._info_box = box

    # ----------------------------------------------------------- lifecycle
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        if self.remember_geometry:
            self.settings.setValue("geometry", self.saveGeometry())
        self.settings.sync()
        self.worker.stop()
        super().closeEvent(event)
