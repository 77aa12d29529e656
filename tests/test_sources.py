"""Frame sources: every bad input gives a SourceError that says what is wrong;
good inputs give BGR frames in order."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from edge_app.errors import SourceError
from edge_app.sources import (
    IMAGE_EXTS,
    VIDEO_EXTS,
    CaptureSource,
    Frame,
    demo_clip_path,
    iter_inputs,
    open_source,
    read_image,
    sample_photos,
)


def test_demo_clip_gives_all_frames_in_order() -> None:
    with open_source("demo") as src:
        assert not src.is_live and src.fps == pytest.approx(15, abs=0.5)
        frames = list(src)
    assert len(frames) == 40
    assert [f.index for f in frames] == list(range(40))
    assert frames[1].time_s == pytest.approx(1 / 15, abs=1e-3)
    assert all(f.image.shape == (480, 640, 3) and f.image.dtype == np.uint8 for f in frames)


def test_image_file_is_a_one_frame_source() -> None:
    photo = sample_photos()[0]
    with open_source(str(photo)) as src:
        frames = list(src)
    assert len(frames) == 1 and isinstance(frames[0], Frame)
    assert frames[0].image.shape == (960, 1280, 3)


def test_folder_is_read_in_sorted_order_and_skips_a_bad_image(tmp_path: Path, caplog) -> None:
    img = np.full((20, 30, 3), 200, np.uint8)
    for name, value in (("b.png", 2), ("a.png", 1), ("c.jpg", 3)):
        img[0, 0] = value
        cv2.imwrite(str(tmp_path / name), img)
    (tmp_path / "broken.png").write_bytes(b"not a png")
    (tmp_path / "notes.txt").write_text("ignored")
    with caplog.at_level(logging.WARNING), open_source(str(tmp_path)) as src:
        frames = list(src)
    assert [Path(f.source).name for f in frames] == ["a.png", "b.png", "c.jpg"]
    assert [f.index for f in frames] == [0, 1, 2]
    assert "broken.png" in caplog.text


def test_missing_file() -> None:
    with pytest.raises(SourceError, match=r"file not found: .*nope\.jpg"):
        open_source("/nonexistent/nope.jpg")
    with pytest.raises(SourceError, match="file not found"):
        read_image("/nonexistent/nope.jpg")


def test_corrupt_jpeg_bytes(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(sample_photos()[0].read_bytes()[:400])  # header only: no image data
    with pytest.raises(SourceError, match=r"cannot decode .*bad\.jpg.*corrupt"):
        read_image(bad)
    with pytest.raises(SourceError, match="corrupt"):
        open_source(str(bad))
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match="empty"):
        read_image(empty)


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("no images here")
    with pytest.raises(SourceError, match=r"no images in folder"):
        open_source(str(tmp_path))


def test_missing_camera_index() -> None:
    with pytest.raises(SourceError) as err:
        open_source("7")
    assert str(err.value) == "no camera found at index 7; open a file or use --source demo"


def test_unsupported_extension(tmp_path: Path) -> None:
    f = tmp_path / "page.pdf"
    f.write_bytes(b"%PDF-1.4")
    with pytest.raises(SourceError, match=r"unsupported file type '\.pdf'"):
        open_source(str(f))
    with pytest.raises(SourceError, match=r"unsupported image type '\.pdf'"):
        read_image(f)


def test_unsupported_stream_scheme() -> None:
    with pytest.raises(SourceError, match=r"unsupported stream type 'file://'"):
        open_source("file:///etc/passwd")


def test_picamera_without_picamera2_says_how_to_install() -> None:
    try:
        import picamera2  # noqa: F401
    except ImportError:
        with pytest.raises(SourceError, match=r"pip install \.\[picamera\]"):
            open_source("picamera")
    else:
        pytest.skip("picamera2 is installed here")


def test_mp4_cut_short_is_refused_cleanly(tmp_path: Path) -> None:
    # demo.mp4 keeps its index (moov atom) at the end: cut to 60 % it has
    # none, and no decoder can open it. That must be a clear SourceError.
    data = demo_clip_path().read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    with pytest.raises(SourceError, match=r"cannot open video .*cut\.mp4.*truncated"):
        open_source(str(cut))


def test_truncated_video_ends_early_with_a_warning(tmp_path: Path, caplog) -> None:
    # The same clip in a container without a trailing index (AVI/MJPG), cut
    # to 60 % of its bytes: the frames before the cut come out, then the
    # stream ends with a warning instead of an exception.
    full = tmp_path / "demo.avi"
    writer = cv2.VideoWriter(str(full), cv2.VideoWriter_fourcc(*"MJPG"), 15, (640, 480))
    with open_source("demo") as src:
        for f in src:
            writer.write(f.image)
    writer.release()
    data = full.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    with caplog.at_level(logging.WARNING), open_source(str(cut)) as src:
        n = sum(1 for _ in src)
        assert src.read() is None  # stays ended
    assert 5 < n < 40
    assert "truncated" in caplog.text


class _DeadCapture:
    """A capture that opened but delivers no frames (an unplugged webcam).
    cv2.VideoCapture's interface, not a mock of anything that runs here."""

    def __init__(self, frames_before_death: int) -> None:
        self.left = frames_before_death

    def get(self, prop: int) -> float:
        return 0.0

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.left > 0:
            self.left -= 1
            return True, np.zeros((4, 4, 3), np.uint8)
        return False, None

    def release(self) -> None:
        pass


def test_live_source_that_stops_delivering_raises() -> None:
    src = CaptureSource(_DeadCapture(3), "camera 0", is_live=True, describe="camera 0")  # type: ignore[arg-type]
    assert [src.read().index for _ in range(3)] == [0, 1, 2]
    with pytest.raises(SourceError, match="camera 0 stopped delivering frames"):
        src.read()


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    # 100 wide x 40 high, white band on the left. Orientation 6 means "rotate
    # 90 degrees clockwise to display": upright it is 40 wide x 100 high with
    # the band at the top.
    img = np.zeros((40, 100, 3), np.uint8)
    img[:, :20] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    Image.fromarray(img).save(path, exif=exif.tobytes(), quality=95)
    out = read_image(path)
    assert out.shape == (100, 40, 3)
    assert out[:15].mean() > 200 and out[-60:].mean() < 30


def test_iter_inputs_walks_folders_sorted_and_reports_bad_paths(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    for name in ("sub/z.png", "b.jpg", "a.mp4", "skip.txt"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "emptydir").mkdir()
    items = list(iter_inputs([str(tmp_path), "/nonexistent/x.jpg", str(tmp_path / "emptydir")]))
    paths = [i for i in items if isinstance(i, Path)]
    errors = [i for i in items if isinstance(i, SourceError)]
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == ["a.mp4", "b.jpg", "sub/z.png"]
    assert len(errors) == 2 and "file not found" in str(errors[0]) and errors[0].path == "/nonexistent/x.jpg"
    assert "no images or videos" in str(errors[1])
    assert ".jpg" in IMAGE_EXTS and ".mp4" in VIDEO_EXTS
