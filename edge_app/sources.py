"""Where frames come from: webcams, the Pi camera, video files, photos,
folders of photos, network streams and the bundled demo clip.

``open_source(spec)`` turns what a user typed (``0``, ``demo``,
``page.jpg``, ``scans/``, ``clip.mp4``, ``rtsp://...``, ``picamera``) into
a ``FrameSource``. Every way this can go wrong raises ``SourceError`` with a
one-line message that says what to do; nothing here prints.

End of stream: a file source returns ``None`` from ``read()``. A video file
that stops before the frame count in its header (a truncated download) ends
early with a logged warning, because the frames before the damage are still
good. A live source (camera, stream) that stops delivering frames raises
``SourceError`` after ``LIVE_MAX_FAILED_READS`` failed reads in a row: a
camera does not "end", it was unplugged or taken by another program.
"""

from __future__ import annotations

import logging
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import cv2
import numpy as np

from edge_app.errors import SourceError

log = logging.getLogger(__name__)

IMAGE_EXTS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".jp2", ".pgm", ".ppm"})
VIDEO_EXTS = frozenset({".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".gif"})

# Network streams OpenCV's FFmpeg backend opens. file:// and anything else is
# refused: a local file is given as a path.
STREAM_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt"})

# A webcam misses a frame now and then (USB hiccups, auto-exposure); this
# many failures in a row mean it is gone (about 1-2 s at 15-30 fps).
LIVE_MAX_FAILED_READS = 30

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"


def demo_clip_path() -> Path:
    """The bundled demo clip (640x480, 15 fps)."""
    return SAMPLES_DIR / "demo.mp4"


def sample_photos() -> list[Path]:
    """The bundled sample photos, sorted."""
    return sorted(p for p in SAMPLES_DIR.iterdir() if p.suffix.lower() in IMAGE_EXTS)


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # BGR uint8
    index: int  # 0-based position in the source
    time_s: float  # seconds from the start (the file's timeline, or wall time for live sources)
    source: str  # the source's name


# ------------------------------------------------------------------ images
def _as_bgr(img: np.ndarray) -> np.ndarray:
    if img.dtype != np.uint8:
        # 16-bit PNG/TIFF: keep the top 8 bits.
        img = (img / 257).astype(np.uint8) if img.dtype == np.uint16 else cv2.convertScaleAbs(img)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    return img


def read_image(path: str | os.PathLike) -> np.ndarray:
    """A photo as BGR uint8, turned upright by its EXIF orientation tag.

    Raises SourceError when the file is missing, not an image, or corrupt.
    """
    p = Path(path)
    if not p.exists():
        raise SourceError(f"file not found: {p}")
    if p.is_dir():
        raise SourceError(f"{p} is a folder, not an image (give it as a source to read every image in it)")
    if p.suffix.lower() not in IMAGE_EXTS:
        raise SourceError(f"unsupported image type '{p.suffix or '(none)'}' for {p}: "
                          f"use one of {', '.join(sorted(IMAGE_EXTS))}")
    try:
        data = np.fromfile(str(p), dtype=np.uint8)  # imdecode: also works for non-ASCII paths on Windows
    except OSError as e:
        raise SourceError(f"cannot read {p}: {e.strerror or e}") from e
    if data.size == 0:
        raise SourceError(f"{p} is empty (0 bytes)")
    # IMREAD_COLOR applies the EXIF orientation (IMREAD_IGNORE_ORIENTATION
    # would not); tests/test_sources.py checks it with a tagged JPEG.
    img = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if img is None or img.size == 0:
        raise SourceError(f"cannot decode {p}: the file is corrupt or not a {p.suffix.lstrip('.').upper()} image")
    return _as_bgr(img)


# ----------------------------------------------------------------- sources
class FrameSource(ABC):
    """A stream of frames. Iterate it, or call ``read()`` until it gives None."""

    name: str = ""
    is_live: bool = False
    fps: float | None = None

    @abstractmethod
    def read(self) -> Frame | None:
        """The next frame; None at the end. Raises SourceError when a live
        source stops delivering frames."""

    def close(self) -> None:  # noqa: B027 - sources without resources need nothing
        pass

    def __iter__(self) -> Iterator[Frame]:
        while True:
            frame = self.read()
            if frame is None:
                return
            yield frame

    def __enter__(self) -> "FrameSource":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ImageSource(FrameSource):
    """One photo: a one-frame stream."""

    def __init__(self, path: Path) -> None:
        self.name = str(path)
        self._image: np.ndarray | None = read_image(path)  # fail at open time, not at the first read

    def read(self) -> Frame | None:
        if self._image is None:
            return None
        img, self._image = self._image, None
        return Frame(img, 0, 0.0, self.name)


class FolderSource(FrameSource):
    """The images of a folder, in sorted file-name order. An unreadable
    image is skipped with a warning; the others are still worth reading."""

    def __init__(self, folder: Path) -> None:
        self.name = str(folder)
        self.paths = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTS)
        if not self.paths:
            raise SourceError(f"no images in folder {folder} (looked for {', '.join(sorted(IMAGE_EXTS))})")
        self._next = 0
        self._index = 0

    def read(self) -> Frame | None:
        while self._next < len(self.paths):
            p = self.paths[self._next]
            self._next += 1
            try:
                img = read_image(p)
            except SourceError as e:
                log.warning("skipping %s", e)
                continue
            frame = Frame(img, self._index, float(self._index), str(p))
            self._index += 1
            return frame
        return None


class CaptureSource(FrameSource):
    """cv2.VideoCapture over a video file, a webcam index or a stream URL."""

    def __init__(self, cap: cv2.VideoCapture, name: str, is_live: bool, describe: str) -> None:
        self._cap = cap
        self.name = name
        self.is_live = is_live
        self._describe = describe  # "camera 0", "video clip.mp4": for messages
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 0.5 < fps < 1000 else None
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.frame_count: int | None = count if count > 0 and not is_live else None
        self._index = 0
        self._failed = 0
        self._t0: float | None = None

    def read(self) -> Frame | None:
        if self._cap is None:
            return None
        while True:
            ok, img = self._cap.read()
            if ok and img is not None and img.size:
                break
            if not self.is_live:
                if self.frame_count is not None and self._index < self.frame_count - 1:
                    log.warning("%s ended at frame %d of the %d its header announces: the file is "
                                "truncated or damaged; the frames before that were read",
                                self._describe, self._index, self.frame_count)
                return None
            self._failed += 1
            if self._failed >= LIVE_MAX_FAILED_READS:
                raise SourceError(f"{self._describe} stopped delivering frames ({self._failed} failed reads "
                                  "in a row): check the cable or whether another program took it")
            time.sleep(0.01)
        self._failed = 0
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now
        if self.is_live or not self.fps:
            t = now - self._t0
        else:
            t = self._index / self.fps
        frame = Frame(_as_bgr(img), self._index, t, self.name)
        self._index += 1
        return frame

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class PiCameraSource(FrameSource):
    """The Raspberry Pi camera through picamera2 (libcamera)."""

    is_live = True

    def __init__(self, width: int | None = None, height: int | None = None) -> None:
        try:
            from picamera2 import Picamera2  # type: ignore[import-not-found]
        except ImportError as e:
            raise SourceError("the Pi camera needs picamera2: install with pip install .[picamera] "
                              "(on Raspberry Pi OS: sudo apt install python3-picamera2)") from e
        self.name = "picamera"
        try:
            self._cam = Picamera2()
            # "RGB888" is, despite its name, B,G,R byte order: what OpenCV wants.
            cfg = self._cam.create_video_configuration(main={"size": (width or CAMERA_SIZE[0], height or CAMERA_SIZE[1]),
                                                             "format": "RGB888"})
            self._cam.configure(cfg)
            self._cam.start()
        except Exception as e:  # picamera2 raises bare RuntimeError/IndexError when no camera is attached
            raise SourceError(f"cannot start the Pi camera ({e}): check the ribbon cable and that no "
                              "other program uses it; or open a file or use --source demo") from e
        self.fps = None
        self._index = 0
        self._failed = 0
        self._t0 = time.monotonic()

    def read(self) -> Frame | None:
        if self._cam is None:
            return None
        while True:
            try:
                img = self._cam.capture_array("main")
            except Exception as e:  # noqa: BLE001 - any capture failure counts as a failed read
                log.debug("picamera capture failed: %s", e)
                img = None
            if img is not None and img.size:
                break
            self._failed += 1
            if self._failed >= LIVE_MAX_FAILED_READS:
                raise SourceError("the Pi camera stopped delivering frames: check the ribbon cable")
        self._failed = 0
        frame = Frame(_as_bgr(np.ascontiguousarray(img)), self._index, time.monotonic() - self._t0, self.name)
        self._index += 1
        return frame

    def close(self) -> None:
        if self._cam is not None:
            try:
                self._cam.stop()
                self._cam.close()
            finally:
                self._cam = None


# Asked of a camera when the user names no size: OpenCV otherwise opens most
# webcams at 640x480, where printed text is too small for Tesseract.
CAMERA_SIZE = (1280, 720)


def _set_size(cap: cv2.VideoCapture, width: int | None, height: int | None) -> None:
    # Hints only: a camera picks its nearest supported mode.
    cap.set(cv2.CAP_PROP_FRAME_WIDTH, int(width or CAMERA_SIZE[0]))
    cap.set(cv2.CAP_PROP_FRAME_HEIGHT, int(height or CAMERA_SIZE[1]))


def _open_camera(index: int, width: int | None, height: int | None) -> CaptureSource:
    cap = cv2.VideoCapture(index)
    if not cap.isOpened():
        cap.release()
        raise SourceError(f"no camera found at index {index}; open a file or use --source demo")
    _set_size(cap, width, height)
    return CaptureSource(cap, f"camera {index}", is_live=True, describe=f"camera {index}")


def _open_url(url: str, width: int | None, height: int | None) -> CaptureSource:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in STREAM_SCHEMES:
        raise SourceError(f"unsupported stream type '{scheme}://' in {url}: use one of "
                          f"{', '.join(s + '://' for s in sorted(STREAM_SCHEMES))}, or give a file path")
    cap = cv2.VideoCapture(url)
    if not cap.isOpened():
        cap.release()
        raise SourceError(f"cannot open stream {url}: check the address and that the stream is running")
    if width or height:
        _set_size(cap, width, height)
    # A URL to a video file has a frame count and ends; a live stream has none.
    live = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0) <= 0
    return CaptureSource(cap, url, is_live=live, describe=f"stream {url}")


def _open_video(path: Path) -> CaptureSource:
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        cap.release()
        raise SourceError(f"cannot open video {path}: the file is corrupt, truncated (an MP4 cut short "
                          "loses its index) or in a format this OpenCV cannot decode")
    return CaptureSource(cap, str(path), is_live=False, describe=f"video {path}")


def open_source(spec: str, *, width: int | None = None, height: int | None = None) -> FrameSource:
    """Open what the user named. ``width``/``height`` are size hints for cameras.

    spec: a webcam index ("0".."9"), "picamera", "demo" (the bundled clip),
    an image file, a folder of images, a video file, or a stream URL.
    """
    s = str(spec).strip()
    if not s:
        raise SourceError("no source given: use a camera index (0), a file, a folder or demo")
    if s.isdigit() and len(s) <= 2:
        return _open_camera(int(s), width, height)
    if s.lower() == "picamera":
        return PiCameraSource(width, height)
    if s.lower() == "demo":
        clip = demo_clip_path()
        if not clip.is_file():
            raise SourceError(f"the demo clip is missing ({clip}): reinstall the package")
        return _open_video(clip)
    if "://" in s:
        return _open_url(s, width, height)
    p = Path(s).expanduser()
    if not p.exists():
        raise SourceError(f"file not found: {p}")
    if p.is_dir():
        return FolderSource(p)
    ext = p.suffix.lower()
    if ext in IMAGE_EXTS:
        return ImageSource(p)
    if ext in VIDEO_EXTS:
        return _open_video(p)
    raise SourceError(f"unsupported file type '{p.suffix or '(none)'}' for {p}: images "
                      f"({', '.join(sorted(IMAGE_EXTS))}) or videos ({', '.join(sorted(VIDEO_EXTS))})")


def list_cameras(max_index: int = 6) -> list[int]:
    """Indexes of the webcams that open and deliver a frame."""
    found = []
    for i in range(max_index):
        cap = cv2.VideoCapture(i)
        try:
            if cap.isOpened() and cap.read()[0]:
                found.append(i)
        finally:
            cap.release()
    return found


def iter_inputs(paths: list[str]) -> Iterator[Path | SourceError]:
    """The image and video files named by ``paths``, folders walked in sorted
    order. A path that cannot be used yields a SourceError (with ``.path``)
    in its place, so a batch can report it and go on."""
    wanted = IMAGE_EXTS | VIDEO_EXTS
    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            files = []
            for root, dirs, names in os.walk(p):
                dirs.sort()
                files += [Path(root) / n for n in sorted(names) if Path(n).suffix.lower() in wanted]
            if not files:
                yield _input_error(raw, f"no images or videos in folder {p}")
            yield from files
        elif not p.exists():
            yield _input_error(raw, f"file not found: {p}")
        elif p.suffix.lower() not in wanted:
            yield _input_error(raw, f"unsupported file type '{p.suffix or '(none)'}' for {p}")
        else:
            yield p


def _input_error(path: str, message: str) -> SourceError:
    err = SourceError(message)
    err.path = path  # type: ignore[attr-defined]
    return err
