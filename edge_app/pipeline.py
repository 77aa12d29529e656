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
from dataclasses import dataclass, field, replace

import numpy as np

from edge_app.decode import merge_scales
from edge_app.detector import Detector, DetectorSettings
from edge_app.line_fit import FitSettings, stretch_end
from edge_app.print_size import PrintSizing, photo_sizes, video_size
from edge_app.reader import LineReader, LineReading, Look, ReaderSettings
from edge_app.results import FrameResult, Link, quad_overlap
from edge_app.tracking import Tracker, TrackerSettings, group_lines
from edge_app.urls import (join_wrapped, lost_scheme, normalize_url, page_scheme, squeeze_line, starts_new_link, vote,
                           warm_up, with_scheme)

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
    # Photo mode, with no later frames to vote over: a link that does not
    # read as a URL, or whose least confident line is under photo_sure, is
    # read again with its lines cut out at each of these heights, and its URL
    # is the vote over all its readings. Links whose every line the
    # detector found, read from its (fitted) quads: synthetic tuning split
    # (245 links) exact 0.188 -> 0.212; real documents (345) 0.565 -> 0.600.
    # Other heights on the tuning split: 48 then (64, 80) 0.212, 48 then
    # (56, 72) 0.220, but real documents 0.588 / 0.571: not taken. () turns
    # it off.
    photo_heights: tuple[int, ...] = (48, 80)
    # ... and once more cut out in gray at the reader's height, for
    # Tesseract to threshold itself: the local binarisation loses strokes
    # that it keeps (bundled page3's wrapped "should_", read cleanly in 7 of 7
    # gray cut-outs, 1 of 7 local ones). Photo mode end to end
    # (training.read_eval), all 240 real documents / 300 tuning frames,
    # exact 0.460 -> 0.477 / 0.115 -> 0.118, host right 0.698 -> 0.696 /
    # 0.202 -> 0.208, 1.2-1.4x the time per image. Most of the gain is in the
    # first 150 documents, where the idea was tried first (0.457 -> 0.483);
    # the other 90 gained one link (0.463 -> 0.468).
    photo_gray: bool = True
    # Tesseract's confidence (0..1) above which a valid URL is not looked at
    # again: a cost setting. It spares 41% of the real documents' links and
    # 6% of the synthetic ones (true quads) for 0.002 of exact rate.
    photo_sure: float = 0.8
    # Photo mode also runs the detector with these input long sides and adds
    # the lines only they find; where the sizes disagree on how many lines
    # lie in one place, it keeps the size the models are surer of there, and
    # of one line each, the longer where one is a piece of the other
    # (decode.merge_scales): small print comes out larger. Synthetic tuning
    # split (150 images), line quads: 960 alone
    # P 0.827 R 0.620 F1 0.709; +1280 P 0.809 R 0.664 F1 0.730; +1152 0.715;
    # +1440 0.717; +768 0.707. () turns it off. With a line check, the lines
    # of these sizes are kept at its photo bars (CheckSpec.photo_keep, chosen
    # for the first of these sizes).
    photo_long_sides: tuple[int, ...] = (1280,)
    # A photo larger than these sizes whose print came out small at the first
    # one is detected at sizes scaled up to its print (edge_app.print_size).
    photo_sizing: PrintSizing = field(default_factory=PrintSizing)
    # Video: a frame larger than the detector's input whose print comes out
    # small there runs at a larger input (edge_app.print_size.video_size),
    # measured every video_measure_every frames; the cap is a 1080p frame's
    # own size. Whole-page clips of the real documents at 1920x1080
    # (data/clips_far, 12 clips): recall per frame 0.461 -> 0.755, exact
    # 19 -> 31 of 38, 19 -> 48 ms a frame (median); close-up clips at
    # 1280x720 (data/clips_real, clips_real2) 0.796 / 0.681 -> 0.867 / 0.685,
    # exact 59 -> 59 of 77, other URLs 30 -> 33, 14 -> 19 ms; 640x480 clips
    # cannot move. Turn it off (text_px=None, or an input size set in
    # DetectorSettings.long_side) where every millisecond counts.
    video_sizing: PrintSizing = field(default_factory=lambda: PrintSizing(max_long_side=1920))
    video_measure_every: int = 15
    # Photo mode: a line read as a link's start up to a dot and no URL
    # ("http://www.reportlab.": the detection stopped in the gap after a thin
    # glyph, where fitting does not move an end) is read once more with its
    # end carried this many line heights on, onto the next glyph, and the
    # new reading replaces it when it is a URL. None: never.
    dot_reach: float | None = 0.5
    # Photo mode fits its lines tighter than video does (a quad 1.1 times
    # its band of ink, not 1.19). Exact URLs, photo mode end to end
    # (training.read_eval), tuning sets realcam_tune2 / realcam_tune /
    # synthetic tune (782 / 499 / 836 links): band 1.19 318 / 271 / 103, 1.1
    # 323 / 286 / 113, 1.0 328 / 274 / 107 (0.9: 308 on the first); held out
    # (realdocs / _s1 / whole pages) exact 0.608 / 0.593 / 0.689 -> 0.599 /
    # 0.593 / 0.695, URLs not printed 119 / 119 / 129 -> 116 / 120 / 125.
    # Video read so loses tuning clips (94 -> 88 of 165 exact): not there.
    photo_fit: FitSettings = field(default_factory=lambda: FitSettings(band_scale=1.1))


@dataclass(frozen=True)
class LinkReading:
    """One link as photo mode read it: its lines (indices into the quads
    read), the text they gave, and the URL (None when it is not one)."""

    lines: list[int]
    raw: str
    url: str | None
    # The quads of ``lines`` as read (a line read again further on, see
    # ``PipelineSettings.dot_reach``, has its longer quad here).
    quads: list[np.ndarray]


def take_page_scheme(raws: list[str], urls: list[str | None]) -> list[str | None]:
    """The URLs of links read as ``raws``, those that lost their scheme to
    the line above ("//www.x.org/…", ``urls.lost_scheme``) given the scheme
    most of the other links print (``urls.page_scheme``): a document keeps to
    one, and older ones print http, which the URL rules' https guess misses."""
    lost = [bool(u) and lost_scheme(r) for r, u in zip(raws, urls)]
    if not any(lost):  # the usual frame: no page scheme to work out
        return urls
    scheme = page_scheme(r for r, u, gone in zip(raws, urls, lost) if u and not gone)
    if scheme is None:
        return urls
    return [with_scheme(u, scheme) if gone else u for u, gone in zip(urls, lost)]


def photo_input_sizes(detector: Detector, frame_shape: tuple[int, ...], text_px: float | None,
                      settings: PipelineSettings) -> tuple[int, tuple[int, ...]]:
    """Photo mode's input long sides for a frame (first, extras), given the
    print's height measured at the detector's own size (``edge_app.print_size``)."""
    return photo_sizes(max(frame_shape[:2]), detector.long_side, settings.photo_long_sides, text_px,
                       settings.photo_sizing, detector.spec.input.multiple)


def _joined(texts: list[str]) -> str:
    return texts[0] if len(texts) == 1 else join_wrapped(texts)


def _same_place(a: Link, b: Link, overlap: float) -> bool:
    """Do two links lie in one place: a quad of one and a quad of the other
    overlapping by ``overlap`` of the smaller (quads, not boxes: on a tilted
    page the boxes of two lines of a listing overlap most of the way)."""
    return any(quad_overlap(qa, qb) >= overlap for qa in a.quads for qb in b.quads)


def dedupe(links: list[Link], overlap: float = 0.5) -> list[Link]:
    """Drop a link when one with the same URL and a higher score covers the
    same place (two detections of one printed link). The same URL printed
    twice on a page stays twice."""
    kept: list[Link] = []
    for link in sorted(links, key=lambda k: -k.score):
        if any(k.url == link.url and _same_place(k, link, overlap) for k in kept):
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
        # Video's input size for this source (None: the detector's own) and
        # the frames until the print is measured again.
        self._video_long_side: int | None = None
        self._measure_in = 0
        warm_up()

    @property
    def ocr_calls(self) -> int:
        """Line images sent to Tesseract by this pipeline so far."""
        return self.reader.images_read - self._ocr_base

    def video_long_side(self, frame_shape: tuple[int, ...]) -> int:
        """The detector's input long side for this source's next video frame of ``frame_shape``."""
        return self._video_sizes(frame_shape)[1]

    def _video_sizes(self, frame_shape: tuple[int, ...]) -> tuple[int, int]:
        """(the detector's own video size, the size this source's next frame runs at)."""
        base = self.detector.video_long_side(frame_shape)
        # A size chosen on earlier frames, never past this frame's own.
        size = max(base, min(self._video_long_side, max(frame_shape[:2]))) if self._video_long_side else base
        return base, size

    def reset(self) -> None:
        """A new source: forget every track."""
        self.tracker.reset()
        self.detector.forget()
        self._video_long_side, self._measure_in = None, 0

    def process(self, frame: np.ndarray) -> FrameResult:
        if not self.settings.track:
            return self.process_photo(frame)
        t0 = time.perf_counter()
        base, long_side = self._video_sizes(frame.shape)
        sizing = self.settings.video_sizing
        # An input size the user set stays fixed in video (a Raspberry Pi's speed).
        measure = (sizing.text_px is not None and self.settings.detector.long_side is None
                   and max(frame.shape[:2]) > base and self._measure_in <= 0)
        out = self.detector.detect(frame, long_side=long_side, video=True, measure_text=measure)
        if measure:
            self._measure_in = self.settings.video_measure_every
            size = video_size(max(frame.shape[:2]), base, long_side, out.text_px, sizing, self.detector.spec.input.multiple)
            if size != long_side:
                log.debug("print %.1f px at %d: video input now %d", out.text_px, long_side, size)
            self._video_long_side = size
        self._measure_in -= 1
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
            links.append(Link(url=tl.url, raw=tl.raw, quads=[t.quad.copy() for t in tl.shown],
                              score=float(np.mean([t.score for t in tl.shown])), track_id=tl.id))
        urls = take_page_scheme([k.raw for k in links], [k.url for k in links])
        links = dedupe([k if u == k.url else replace(k, url=u) for k, u in zip(links, urls)])
        t4 = time.perf_counter()
        h, w = frame.shape[:2]
        timings = dict(out.timings_ms)
        timings.update({"track": ((t2 - t1) + (t4 - t3)) * 1e3, "ocr": (t3 - t2) * 1e3, "total": (t4 - t0) * 1e3})
        return FrameResult(width=w, height=h, links=links, detections=list(out.detections), timings_ms=timings)

    def process_photo(self, frame: np.ndarray) -> FrameResult:
        """Every detected line read now; links with a valid URL in reading order."""
        t0 = time.perf_counter()
        sizing = self.settings.photo_sizing
        out = self.detector.detect(frame, measure_text=sizing.text_px is not None)
        timings = dict(out.timings_ms)
        first, extras = photo_input_sizes(self.detector, frame.shape, out.text_px, self.settings)
        if first != self.detector.long_side:
            log.debug("print %.1f px at %d: photo detected at %d, %s", out.text_px, self.detector.long_side, first, extras)
            out = self.detector.detect(frame, long_side=first)
            for stage, ms in out.timings_ms.items():
                timings[stage] = timings.get(stage, 0.0) + ms
        dets = list(out.detections)
        for long_side in extras:
            more = self.detector.detect(frame, long_side=long_side, extra_size=True)
            dets = merge_scales(dets, more.detections)
            for stage, ms in more.timings_ms.items():
                timings[stage] = timings.get(stage, 0.0) + ms
        t1 = time.perf_counter()
        quads = [np.asarray(d.quad, np.float32).reshape(4, 2) for d in dets]
        read = self.read_links(frame, quads)
        t2 = time.perf_counter()
        links = [Link(url=r.url, raw=r.raw, quads=r.quads,
                      score=float(np.mean([dets[i].score for i in r.lines]))) for r in read if r.url]
        links = dedupe(links)
        t3 = time.perf_counter()
        h, w = frame.shape[:2]
        timings.update({"track": (t3 - t2) * 1e3, "ocr": (t2 - t1) * 1e3, "total": (t3 - t0) * 1e3})
        return FrameResult(width=w, height=h, links=links, detections=dets, timings_ms=timings)

    def read_links(self, frame: np.ndarray, quads: list[np.ndarray],
                   groups: list[list[int]] | None = None) -> list[LinkReading]:
        """Photo mode's reading: every line of ``quads`` read, grouped into
        links (``groups``: already known, e.g. a validation set's true links),
        the doubtful ones read again (see ``PipelineSettings.photo_heights``
        and ``photo_gray``).
        Links come in the order of their first line (``decode`` returns lines
        in reading order).
        """
        if not quads:
            return []
        fit = self.settings.photo_fit
        readings = self.reader.read_lines(frame, quads, retry=False, fit=fit)
        texts = [squeeze_line(r.text) for r in readings]
        given = groups is not None
        groups = groups if given else group_lines(quads, texts, self.settings.tracker)
        # A second look only at lines that are neither a link nor part of
        # one: the pieces of a wrapped link are never URLs on their own.
        lonely = [g[0] for g in groups if len(g) == 1 and normalize_url(texts[g[0]]) is None]
        again = self.reader.retry_lines(frame, quads, readings, lonely, fit)
        if again != readings:
            readings, texts = again, [squeeze_line(r.text) for r in again]
            if not given:
                groups = group_lines(quads, texts, self.settings.tracker)
        if self.settings.dot_reach is not None:
            quads, readings, texts = self._past_the_dot(frame, quads, readings, texts, groups, self.settings.dot_reach)
        groups = sorted(groups, key=min)
        looks = [[(_joined([texts[i] for i in g]), min(readings[i].confidence for i in g))] for g in groups]
        doubtful = [k for k, g in enumerate(groups)
                    if normalize_url(looks[k][0][0]) is None or looks[k][0][1] < self.settings.photo_sure]
        lines = sorted({i for k in doubtful for i in groups[k]})
        cut_outs: list[Look] = [(h, None) for h in self.settings.photo_heights]
        cut_outs += [(None, "none")] if self.settings.photo_gray else []
        for at_look in self.reader.read_lines_at(frame, [quads[i] for i in lines], cut_outs, fit):
            more = dict(zip(lines, at_look))
            for k in doubtful:
                g = groups[k]
                looks[k].append((_joined([squeeze_line(more[i].text) for i in g]), min(more[i].confidence for i in g)))
        out: list[LinkReading] = []
        for g, seen in zip(groups, looks):
            # One look votes for itself: its URL, or none.
            url = vote([t for t, _ in seen], [max(c, 1e-3) for _, c in seen]) or None
            # The raw text behind the winner: the most confident look that gives
            # it (the URL itself when the vote went letter by letter).
            raw = max(((c, t) for t, c in seen if normalize_url(t) == url), default=(0.0, url))[1] if url \
                else seen[0][0]
            out.append(LinkReading(g, raw, url, [quads[i] for i in g]))
        urls = take_page_scheme([r.raw for r in out], [r.url for r in out])
        return [r if u == r.url else replace(r, url=u) for r, u in zip(out, urls)]

    def _past_the_dot(self, frame: np.ndarray, quads: list[np.ndarray], readings: list[LineReading], texts: list[str],
                      groups: list[list[int]], reach: float) -> tuple[list[np.ndarray], list[LineReading], list[str]]:
        """``read_links``' lines, those of one-line links read cut at a dot read
        again further on (``PipelineSettings.dot_reach``)."""
        cut = [g[0] for g in groups if len(g) == 1 and texts[g[0]].endswith(".")
               and starts_new_link(texts[g[0]]) and normalize_url(texts[g[0]]) is None]
        if not cut:
            return quads, readings, texts
        quads, readings, texts = list(quads), list(readings), list(texts)
        longer = [stretch_end(quads[i], reach) for i in cut]
        for i, q, r in zip(cut, longer, self.reader.read_lines(frame, longer, retry=False,
                                                               fit=self.settings.photo_fit)):
            text = squeeze_line(r.text)
            if normalize_url(text) is not None:
                quads[i], readings[i], texts[i] = q, r, text
        return quads, readings, texts

    def close(self) -> None:
        self.reader.close()

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

