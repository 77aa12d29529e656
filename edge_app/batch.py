"""Runs the pipeline over files: a photo gives the links on it, a video gives
each distinct link once with the frames it was seen in.

The ``detect`` command is a thin layer over these; the reports carry the
JSON objects of DESIGN.md's contract (``to_json``).
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from edge_app.errors import LinksDetectorError
from edge_app.results import FrameResult, Link, Quad
from edge_app.sources import open_source, read_image

if TYPE_CHECKING:  # the pipeline is passed in; importing it here would load LiteRT for --help
    from edge_app.pipeline import Pipeline

log = logging.getLogger(__name__)

# The stages a photo's JSON reports (DESIGN.md); the pipeline measures more.
PHOTO_TIMINGS = ("preprocess", "detect", "ocr", "total")


def _ms(timings: dict[str, float], keys: tuple[str, ...]) -> dict[str, float]:
    return {k: round(float(timings.get(k, 0.0)), 2) for k in keys}


@dataclass
class PhotoReport:
    """The outcome for one image: its FrameResult, or why it could not be read."""

    path: str
    result: FrameResult | None = None
    error: str | None = None

    def to_json(self) -> dict:
        if self.result is None:
            return {"image": self.path, "error": self.error or "unknown error"}
        r = self.result
        return {"image": self.path, "width": r.width, "height": r.height,
                "links": [link.to_json() for link in r.links],
                "timings_ms": _ms(r.timings_ms, PHOTO_TIMINGS)}


@dataclass
class VideoLink:
    """One distinct link of a video and the frames where it was visible."""

    url: str
    raw: str
    frames: list[int]
    first_box: tuple[float, float, float, float]
    first_quads: list[Quad]
    score: float  # the best detection score over its frames

    def to_json(self) -> dict:
        return {"url": self.url, "raw": self.raw, "frames": list(self.frames),
                "first_box": [round(v, 1) for v in self.first_box], "score": round(float(self.score), 4)}


@dataclass
class VideoReport:
    path: str
    frames: int = 0
    fps: float | None = None
    width: int = 0
    height: int = 0
    links: list[VideoLink] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)  # per-stage medians over frames
    error: str | None = None  # set when the video failed; what was read before stays

    def to_json(self) -> dict:
        if not self.frames:  # nothing read: the same shape as an unreadable image
            return {"video": self.path, "error": self.error or "no frames"}
        out: dict = {"video": self.path, "frames": self.frames, "fps": round(self.fps, 3) if self.fps else None,
                     "width": self.width, "height": self.height, "links": [v.to_json() for v in self.links],
                     "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()}}
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class _TrackLog:
    first_frame: int
    first_box: tuple[float, float, float, float]
    first_quads: list[Quad]
    url: str = ""
    raw: str = ""
    score: float = 0.0
    frames: list[int] = field(default_factory=list)


class VideoLinkCollector:
    """Gathers the links of consecutive frames into distinct links.

    A track's URL can improve as more readings are voted on, so each track
    keeps its latest URL; tracks that end with the same URL (a link that left
    the picture and came back) are one link.
    """

    def __init__(self) -> None:
        self._tracks: dict[object, _TrackLog] = {}

    def add(self, index: int, links: list[Link]) -> None:
        for link in links:
            key: object = link.track_id if link.track_id is not None else ("url", link.url)
            t = self._tracks.get(key)
            if t is None:
                t = self._tracks[key] = _TrackLog(index, link.box, list(link.quads))
            t.frames.append(index)
            t.url, t.raw = link.url, link.raw
            t.score = max(t.score, float(link.score))

    def links(self) -> list[VideoLink]:
        merged: dict[str, VideoLink] = {}
        for t in sorted(self._tracks.values(), key=lambda t: t.first_frame):
            v = merged.get(t.url)
            if v is None:
                merged[t.url] = VideoLink(t.url, t.raw, sorted(set(t.frames)), t.first_box, t.first_quads, t.score)
            else:
                v.frames = sorted(set(v.frames) | set(t.frames))
                v.score = max(v.score, t.score)
        return sorted(merged.values(), key=lambda v: v.frames[0])


def median_timings(per_frame: list[dict[str, float]]) -> dict[str, float]:
    keys: list[str] = []
    for t in per_frame:
        keys += [k for k in t if k not in keys]
    return {k: float(statistics.median(t[k] for t in per_frame if k in t)) for k in keys}


def detect_photo(pipeline: Pipeline, path: Path, label: str | None = None) -> tuple[PhotoReport, np.ndarray | None]:
    """Read and process one image; (report, the image) or (error report, None)."""
    label = label or str(path)
    try:
        image = read_image(path)
        result = pipeline.process_photo(image)
    except LinksDetectorError as e:
        log.info("%s: %s", label, e)
        return PhotoReport(label, error=str(e)), None
    return PhotoReport(label, result), image


def detect_video(pipeline: Pipeline, path: Path, label: str | None = None,
                 on_frame: Callable[[int], None] | None = None
                 ) -> tuple[VideoReport, tuple[np.ndarray, list[Link]] | None]:
    """Run the tracking pipeline over a video file.

    Returns the report and a snapshot for pictures: the frame on which the
    most links were visible, with those links (None when no frame was read).
    A video that fails part way keeps what was read before, with ``error`` set.
    """
    label = label or str(path)
    report = VideoReport(label)
    collector = VideoLinkCollector()
    timings: list[dict[str, float]] = []
    snapshot: tuple[np.ndarray, list[Link]] | None = None
    pipeline.reset()  # a new source: tracks of the previous one mean nothing here
    try:
        with open_source(str(path)) as source:
            report.fps = source.fps
            while True:
                frame = source.read()
                if frame is None:
                    break
                result = pipeline.process(frame.image)
                report.frames += 1
                report.height, report.width = frame.image.shape[:2]
                collector.add(frame.index, result.links)
                timings.append(result.timings_ms)
                if snapshot is None or len(result.links) > len(snapshot[1]):
                    snapshot = (frame.image.copy(), list(result.links))
                if on_frame:
                    on_frame(frame.index)
            announced = getattr(source, "frame_count", None)
            if announced and report.frames < announced - 1:
                # The source ends a damaged file quietly (the frames before
                # the damage are good); a batch report must still say so.
                report.error = (f"the video ended at frame {report.frames} of the {announced} its header "
                                "announces: the file is truncated or damaged (links of the frames read are listed)")
    except LinksDetectorError as e:
        log.info("%s: %s", label, e)
        report.error = str(e)
    if report.frames == 0 and report.error is None:
        report.error = "the video has no frames (empty or truncated file?)"
    report.links = collector.links()
    if timings:
        report.timings_ms = median_timings(timings)
    return report, snapshot
