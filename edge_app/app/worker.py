"""Capture and reading off the UI thread.

Two threads per window: a capture thread drains the source (so a camera's
own buffer never holds stale frames) and an inference thread runs the
Pipeline, which is created in that thread (one Pipeline per thread). They
meet in one-item slots: a new frame replaces an unread one, so the newest
frame wins and nothing queues up behind a slow Tesseract read. The UI thread
only takes the newest frame and the newest result when it is told to.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from PyQt6.QtCore import QObject, QThread, pyqtSignal

from edge_app.errors import LinksDetectorError, SourceError
from edge_app.results import FrameResult

if TYPE_CHECKING:  # imported when the inference thread starts: it loads LiteRT
    from edge_app.pipeline import Pipeline

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRY_S = 2.0  # a live source that fails is reopened after this long
PHOTO_PERIOD_S = 3.0  # a folder of photos is shown one photo per this long


class LatestSlot(Generic[T]):
    """Holds at most one item; putting replaces what was not taken yet."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None

    def put(self, item: T) -> bool:
        """Store ``item``; True when the slot was empty (the taker needs a nudge)."""
        with self._cond:
            was_empty = self._item is None
            self._item = item
            self._cond.notify_all()
            return was_empty

    def take(self, timeout: float | None = None) -> T | None:
        with self._cond:
            if self._item is None and timeout:
                self._cond.wait(timeout)
            item, self._item = self._item, None
            return item

    def clear(self) -> None:
        with self._cond:
            self._item = None


def is_live_spec(spec: str) -> bool:
    """Sources that come back after a failure: cameras and streams."""
    s = spec.strip().lower()
    return (s.isdigit() and len(s) <= 2) or s == "picamera" or "://" in s


def is_photo_spec(spec: str) -> bool:
    """Still pictures are read completely (every line), not tracked."""
    from edge_app.sources import IMAGE_EXTS

    if is_live_spec(spec) or spec.strip().lower() == "demo":
        return False
    p = Path(spec).expanduser()
    return p.is_dir() or p.suffix.lower() in IMAGE_EXTS


@dataclass(frozen=True)
class Job:
    frame: object  # edge_app.sources.Frame
    photo: bool
    generation: int


@dataclass(frozen=True)
class ResultUpdate:
    """A result and the frame it was computed on."""

    frame: object  # edge_app.sources.Frame
    result: FrameResult
    fps: float  # frames read per second, recent average
    ocr_calls: int  # line images sent to Tesseract so far
    photo: bool
    generation: int


@dataclass(frozen=True)
class PipelineInfo:
    model_path: Path
    model_bytes: int
    model_info: dict = field(default_factory=dict)
    input_long_side: int | None = None
    threads: int = 1
    ocr_engine: str = ""
    ocr_workers: int = 1  # Tesseract instances reading a frame's lines in parallel


class _InferenceThread(QThread):
    def __init__(self, worker: "Worker") -> None:
        super().__init__()
        self.setObjectName("links-inference")
        self._w = worker

    def run(self) -> None:
        self._w._inference_loop()


class Worker(QObject):
    """Owns the frame source and the pipeline for one window."""

    frame_ready = pyqtSignal()  # take_frame() has a frame
    result_ready = pyqtSignal()  # take_result() has a result
    message = pyqtSignal(str)  # a problem the user should see; reading goes on or retries
    source_started = pyqtSignal(str, str, bool)  # spec, name, is_live
    source_ended = pyqtSignal(str, bool)  # spec, photo: the stream has no more frames
    ready = pyqtSignal(object)  # PipelineInfo: the pipeline is loaded
    failed = pyqtSignal(str)  # the pipeline cannot be created: nothing will be read

    def __init__(self, settings: object, parent: QObject | None = None, *, retry_s: float = RETRY_S,
                 loop_demo: bool = True, source_factory: Callable[[str], object] | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        # spec -> FrameSource; edge_app.sources.open_source unless given
        self.source_factory = source_factory
        self.retry_s = retry_s
        self.loop_demo = loop_demo
        self._frames: LatestSlot = LatestSlot()  # for the UI
        self._jobs: LatestSlot[Job] = LatestSlot()  # for the pipeline
        self._results: LatestSlot[ResultUpdate] = LatestSlot()
        self._stop = threading.Event()
        self._paused = threading.Event()
        self._lock = threading.Lock()
        self._generation = 0
        self._capture: threading.Thread | None = None
        self._capture_stop = threading.Event()
        self._last_job: Job | None = None
        self._thread = _InferenceThread(self)
        self.spec: str | None = None
        self.info: PipelineInfo | None = None

    # ------------------------------------------------------------ control
    def start(self) -> None:
        self._thread.start()

    def open(self, spec: str) -> None:
        """Switch to ``spec`` (see edge_app.sources.open_source); returns at
        once. The old source's frames are dropped by generation, so its
        thread is only briefly waited for (a camera may be slow to let go)."""
        self._stop_capture(timeout_s=0.5)
        with self._lock:
            self._generation += 1
            generation = self._generation
            self._last_job = None
        self._frames.clear()
        self._jobs.clear()
        self._results.clear()
        self.spec = spec
        stop = threading.Event()
        self._capture_stop = stop
        self._capture = threading.Thread(target=self._capture_loop, args=(spec, generation, stop),
                                         name="links-capture", daemon=True)
        self._capture.start()

    def set_paused(self, paused: bool, frame: object | None = None) -> None:
        """Freeze: no new frames; the frozen frame (``frame``, the one on
        screen, else the newest read) is read completely once."""
        if paused == self._paused.is_set():
            return
        if paused:
            self._paused.set()
            with self._lock:
                job = self._last_job
            if job is not None and not job.photo:
                self._jobs.put(Job(frame if frame is not None else job.frame, True, job.generation))
        else:
            self._paused.clear()

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    @property
    def generation(self) -> int:
        return self._generation

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._stop_capture(timeout_s)
        self._thread.wait(int(timeout_s * 1000))

    def take_frame(self):
        """The newest frame not yet shown (edge_app.sources.Frame), or None."""
        return self._frames.take()

    def take_result(self) -> ResultUpdate | None:
        """The newest result of the current source, or None."""
        update = self._results.take()
        if update is not None and update.generation != self._generation:
            return None
        return update

    def _stop_capture(self, timeout_s: float = 5.0) -> None:
        self._capture_stop.set()
        if self._capture is not None and self._capture is not threading.current_thread():
            self._capture.join(timeout_s)
            if self._capture.is_alive():
                # A camera stuck in a driver call: leave the daemon thread to
                # finish on its own rather than freeze the window.
                log.info("the previous source is still closing after %.1f s", timeout_s)
        self._capture = None

    # ------------------------------------------------------------ capture
    def _capture_loop(self, spec: str, generation: int, stop: threading.Event) -> None:
        from edge_app.sources import open_source

        open_source = self.source_factory or open_source
        live = is_live_spec(spec)
        photo = is_photo_spec(spec)
        loop = self.loop_demo and spec.strip().lower() == "demo"
        while not stop.is_set():
            try:
                source = open_source(spec)
            except SourceError as e:
                if not self._source_failed(str(e), live, stop, generation):
                    return
                continue
            except Exception as e:  # a driver error OpenCV does not turn into SourceError
                log.exception("opening %s failed", spec)
                if not self._source_failed(f"cannot open {spec}: {e}", live, stop, generation):
                    return
                continue
            live = live or bool(source.is_live)
            if generation != self._generation:
                source.close()
                return
            self.source_started.emit(spec, source.name, bool(source.is_live))
            try:
                with source:
                    got_any = self._pump(source, spec, generation, photo, stop)
            except SourceError as e:
                if not self._source_failed(str(e), live, stop, generation):
                    return
                continue
            except Exception as e:
                log.exception("reading %s failed", spec)
                if not self._source_failed(f"reading {spec} failed: {e}", live, stop, generation):
                    return
                continue
            if stop.is_set():
                return
            if live:
                if not self._source_failed(f"{source.name} stopped sending frames", True, stop, generation):
                    return
                continue
            if loop and got_any:
                continue  # the demo clip plays round and round
            self.source_ended.emit(spec, photo)
            return

    def _source_failed(self, text: str, live: bool, stop: threading.Event, generation: int) -> bool:
        """Report a source problem; True when the source should be tried again.
        A source the user has already left says nothing."""
        current = not stop.is_set() and generation == self._generation
        if live:
            if current:
                self.message.emit(f"{text} — retrying every {self.retry_s:g} s")
            stop.wait(self.retry_s)
            return not stop.is_set()
        if current:
            self.message.emit(text)
        return False

    def _pump(self, source, spec: str, generation: int, photo: bool, stop: threading.Event) -> bool:
        period = 1.0 / source.fps if (source.fps and not source.is_live) else 0.0
        next_t = time.monotonic()
        got_any = False
        while not stop.is_set() and not self._stop.is_set():
            if self._paused.is_set() and not source.is_live:
                stop.wait(0.05)  # a file waits where it is
                next_t = time.monotonic()
                continue
            frame = source.read()
            if frame is None:
                return got_any
            got_any = True
            if self._paused.is_set():
                continue  # a camera is drained while frozen, so it resumes with a fresh frame
            job = Job(frame, photo, generation)
            with self._lock:
                if generation != self._generation:
                    return got_any
                self._last_job = job
            self._jobs.put(job)
            if self._frames.put(frame):
                self.frame_ready.emit()
            if photo:
                stop.wait(PHOTO_PERIOD_S)
            elif period:
                next_t += period
                delay = next_t - time.monotonic()
                if delay > 0:
                    stop.wait(delay)
                else:
                    next_t = time.monotonic()  # behind: do not try to catch up
        return got_any

    # ---------------------------------------------------------- inference
    def _inference_loop(self) -> None:
        from edge_app.pipeline import Pipeline

        try:
            pipeline = Pipeline(self._settings)  # created here: one Pipeline per thread
        except LinksDetectorError as e:
            self.failed.emit(str(e))
            return
        except Exception as e:
            log.exception("the pipeline could not start")
            self.failed.emit(f"the reader could not start: {e}")
            return
        self.info = _info(pipeline)
        self.ready.emit(self.info)
        times: deque[float] = deque(maxlen=30)
        seen_generation = self._generation
        with pipeline:
            while not self._stop.is_set():
                job = self._jobs.take(timeout=0.1)
                if job is None:
                    continue
                if job.generation != self._generation:
                    continue
                if job.generation != seen_generation:
                    pipeline.reset()  # a new source: forget the old one's tracks
                    times.clear()
                    seen_generation = job.generation
                image = job.frame.image
                try:
                    result = pipeline.process_photo(image) if job.photo else pipeline.process(image)
                except LinksDetectorError as e:
                    self.message.emit(str(e))
                    continue
                except Exception as e:
                    log.exception("reading a frame failed")
                    self.message.emit(f"reading a frame failed: {e}")
                    continue
                now = time.monotonic()
                times.append(now)
                fps = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0
                update = ResultUpdate(job.frame, result, fps, pipeline.ocr_calls,
                                      job.photo, job.generation)
                if self._results.put(update):
                    self.result_ready.emit()


def _info(pipeline: Pipeline) -> PipelineInfo:
    det = pipeline.detector
    return PipelineInfo(model_path=det.model_path, model_bytes=det.size_bytes, model_info=dict(det.spec.info),
                        input_long_side=det.long_side, threads=det.settings.threads,
                        ocr_engine=pipeline.reader.engine, ocr_workers=pipeline.reader.workers)
