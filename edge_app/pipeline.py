"""One frame in, the links on it out: detector -> tracker -> reader -> URL rules.

Two modes:

* ``process(frame)`` (live video): line detections are tracked across
  frames and only the lines the tracker says are due are read, all of them in
  ONE ``read_lines`` call per frame. A link is read a few times in its life,
  not once per frame; its URL is the vote over those readings.
* ``process_photo(frame)``: no state; every detected line is read now.

Both join a link printed over 2-3 lines (``tracking.group_lines``, which
uses the URL rules of ``edge_app.urls``) and report only links whose text is
a valid URL (``normalize_url``).

Thread rule: create and use a Pipeline in one thread (it owns a LineReader).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from edge_app.detector import Detector, DetectorSettings
from edge_app.reader import LineReader, ReaderSettings
from edge_app.results import FrameResult, Link
from edge_app.tracking import Tracker, TrackerSettings, group_lines, squeeze
from edge_app.urls import join_wrapped, normalize_url, warm_up

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineSettings:
    detector: DetectorSettings = field(default_factory=DetectorSettings)
    reader: ReaderSettings = field(default_factory=ReaderSettings)
    tracker: TrackerSettings = field(default_factory=TrackerSettings)
    track: bool = True  # False: photo mode, every call independent, all lines read
    # The reader's second look at a line that did not read as a URL, in live
    # video. Off by default: the tracker looks again a few frames later
    # anyway, and there the second look doubled the frame's OCR time
    # (bundled clip: 85 -> 52 line reads, 24 -> 34 frames/s overall, same
    # recall). Photo mode, with one look only, always takes it.
    retry_in_video: bool = False


def _box_overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over the smaller box's area."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    small = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return inter / small if small > 0 else 0.0


def dedupe(links: list[Link], overlap: float = 0.5) -> list[Link]:
    """Drop a link when one with the same URL and a higher score covers the
    same place (two detections of one printed link). The same URL printed
    twice on a page stays twice."""
    kept: list[Link] = []
    for link in sorted(links, key=lambda k: -k.score):
        if any(k.url == link.url and _box_overlap(k.box, link.box) >= overlap for k in kept):
            continue
        kept.append(link)
    order = {id(k): i for i, k in enumerate(links)}
    return sorted(kept, key=lambda k: order[id(k)])


class Pipeline:
    def __init__(self, settings: PipelineSettings | None = None) -> None:
        self.settings = settings or PipelineSettings()
        self.detector = Detector(self.settings.detector)  # ModelError
        self.reader = LineReader(self.settings.reader)  # OcrError
        self.tracker = Tracker(self.settings.tracker)
        self._ocr_base = self.reader.images_read
        warm_up()

    @property
    def ocr_calls(self) -> int:
        """Line images sent to Tesseract by this pipeline so far."""
        return self.reader.images_read - self._ocr_base

    def reset(self) -> None:
        """A new source: forget every track."""
        self.tracker.reset()

    def process(self, frame: np.ndarray) -> FrameResult:
        if not self.settings.track:
            return self.process_photo(frame)
        t0 = time.perf_counter()
        out = self.detector.detect(frame)
        t1 = time.perf_counter()
        self.tracker.update(out.detections)
        due = self.tracker.due(frame)
        t2 = time.perf_counter()
        if due:
            readings = self.reader.read_lines(frame, [t.quad for t in due], retry=self.settings.retry_in_video)
            for t, r in zip(due, readings):
                self.tracker.add_reading(t, r.text, max(r.confidence, 0.05), frame)
        t3 = time.perf_counter()
        links = []
        for tl in self.tracker.links():
            visible = [t for t in tl.tracks if t.visible]
            links.append(Link(url=tl.url, raw=tl.raw, quads=[t.quad.copy() for t in visible],
                              score=float(np.mean([t.score for t in visible])), track_id=tl.id))
        links = dedupe(links)
        t4 = time.perf_counter()
        h, w = frame.shape[:2]
        timings = dict(out.timings_ms)
        timings.update({"track": ((t2 - t1) + (t4 - t3)) * 1e3, "ocr": (t3 - t2) * 1e3, "total": (t4 - t0) * 1e3})
        return FrameResult(width=w, height=h, links=links, detections=list(out.detections), timings_ms=timings)

    def process_photo(self, frame: np.ndarray) -> FrameResult:
        """Every detected line read now; links with a valid URL in reading order."""
        t0 = time.perf_counter()
        out = self.detector.detect(frame)
        dets = list(out.detections)
        t1 = time.perf_counter()
        quads = [np.asarray(d.quad, np.float32).reshape(4, 2) for d in dets]
        readings = self.reader.read_lines(frame, quads, retry=False) if quads else []
        texts = [squeeze(r.text) for r in readings]
        groups = group_lines(quads, texts, self.settings.tracker)
        # A second look only at lines that are neither a link nor part of
        # one: the pieces of a wrapped link are never URLs on their own.
        lonely = [g[0] for g in groups if len(g) == 1 and normalize_url(texts[g[0]]) is None]
        again = self.reader.retry_lines(frame, quads, readings, lonely)
        if again != readings:
            texts = [squeeze(r.text) for r in again]
            groups = group_lines(quads, texts, self.settings.tracker)
        t2 = time.perf_counter()
        links = []
        # Groups in the order of their first line among the detections: the
        # detector (decode) already returns lines in reading order.
        for g in sorted(groups, key=min):
            raw = texts[g[0]] if len(g) == 1 else join_wrapped([texts[i] for i in g])
            url = normalize_url(raw)
            if url:
                links.append(Link(url=url, raw=raw, quads=[quads[i] for i in g],
                                  score=float(np.mean([dets[i].score for i in g]))))
        links = dedupe(links)
        t3 = time.perf_counter()
        h, w = frame.shape[:2]
        timings = dict(out.timings_ms)
        timings.update({"track": (t3 - t2) * 1e3, "ocr": (t2 - t1) * 1e3, "total": (t3 - t0) * 1e3})
        return FrameResult(width=w, height=h, links=links, detections=dets, timings_ms=timings)

    def close(self) -> None:
        self.reader.close()

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

