"""Follows link lines from frame to frame, so each is read a few times, not
every frame.

A ``Track`` is one printed line of a link as the detector keeps finding it.
Each frame the ``Tracker``:

1. matches the new line quads to its tracks (polygon IoU, or for small
   boxes that moved further than their own size, centre distance in units
   of the line height; at 15-30 fps a hand-held page moves a few pixels);
2. says which tracks need OCR now (``due``): a new track once seen in
   ``stable_frames`` frames; a read one again when a clearly sharper
   (Laplacian variance of the line) or larger (taller quad) view arrives,
   or once more a while later, until its readings agree (``stable_votes``)
   or ``max_reads`` is reached; never in a view much blurrier than the
   line's recent best (a read of a motion-blurred line is junk), nor while
   the frame's edge cuts the line;
3. takes the readings back (``add_reading``) and votes each track's text;
4. groups line tracks into links (``links``): the pieces of a printed line
   the detector broke apart, then a link wrapped over 2-3 lines is the top
   line plus the lines below it whose text continues it.

There is no global state: everything lives on the Tracker instance.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np

from edge_app.preprocess import to_gray
from edge_app.results import Detection, Quad, quad_height, quad_iou
from edge_app.urls import (continues_link, continues_on_line, join_wrapped, looks_incomplete, normalize_url,
                            squeeze_line, starts_new_link, vote)

ReadState = Literal["new", "reading", "done"]


@dataclass(frozen=True)
class TrackerSettings:
    # Association: IoU of the two quads, or centre distance (in line heights)
    # with similar height, for small fast-moving lines whose IoU drops to 0.
    min_iou: float = 0.25
    max_centre_dist: float = 1.0
    max_height_ratio: float = 1.6
    # A new line is read once seen in this many frames (1 = at once): one
    # frame of agreement filters most detector flicker at no visible delay.
    stable_frames: int = 2
    # Frames a track survives without a matching detection (dropped after).
    max_missed: int = 8
    # Frames a line stays shown, at its last place, after its detection is
    # lost: a detection that drops out for a frame (motion blur) does not
    # make its link blink.
    show_missed: int = 1
    # Re-reading: at most max_reads readings per track; another when the view
    # is sharper by sharper_ratio or taller by larger_ratio than at the best
    # read so far; none once stable_votes readings agree.
    max_reads: int = 4
    sharper_ratio: float = 1.5
    # Below this Laplacian variance a view is blank or mush: never "sharper".
    min_sharpness: float = 20.0
    larger_ratio: float = 1.25
    stable_votes: int = 2
    # A track whose vote is not stable yet (no text, or readings that do not
    # agree) is read again after this many frames even without a better view
    # (new sensor noise, a slightly different cut-out)...
    retry_frames: int = 10
    # ...and only this many times: after that a line is read again only in a
    # sharper or larger view. Read only a view at least blur_tolerance as
    # sharp as the sharpest recent one (which loses sharpness_decay of its
    # weight each frame, so a line that only gets blurrier is still read).
    # 20 held-out synthetic clips with motion blur (60 frames each, 60 links):
    # 914 -> 677 line reads, recall per frame after frame 30 0.760 -> 0.756;
    # bundled clip 46 -> 31 reads (the per-setting figures are in the stop note).
    max_blind_retries: int = 1
    # Whether a line the frame's edge cuts (``cut_by_frame``) is read: it can
    # only read as a cut-short URL, and such a reading also glues onto the
    # link above it as a wrapped piece. Held-out synthetic clips, 60 frames
    # each: 10 clean pans, line reads 259 -> 159 and recall per frame
    # 0.718 -> 0.748; 20 with motion blur, 707 -> 473 and 0.664 -> 0.654;
    # the bundled clip 37 -> 18 reads for the same recall.
    read_cut_lines: bool = False
    blur_tolerance: float = 0.7
    sharpness_decay: float = 0.9
    # Wrapped links: the next line's top edge may lie this far (in line
    # heights of the upper line) above/below the upper line's bottom edge,
    # and may start at most this far right of the upper line's start.
    wrap_gap: tuple[float, float] = (-0.6, 1.6)
    wrap_indent: float = 1.5
    max_wrap_lines: int = 3
    # A line the detector broke in two (its map dips at thin characters such
    # as the '//' of a scheme): the right piece may start at most this far
    # (in line heights) right of the left one's end, on the same baseline
    # (centres within half a line height); continues_on_line checks the text.
    # 0 or less: pieces of a line are never joined.
    split_gap: float = 1.0
    # A link line with another detected line after it on the same printed
    # line, at most this far (line heights) right of its end, does not
    # continue on the next line: a link that wraps ends its line, and the
    # next line continues the later one (read or not: a line the frame's
    # edge cuts is not read but still there). Further away is taken for the
    # next column of the page. 0 or less: never. With the same rule for the
    # lower line (a continuation starts its line) and a link ended by a comma
    # (urls.continues_link): held-out clips (training.clip_eval), clean pans
    # recall per frame 0.610 -> 0.715, exact 14 -> 16 of 21; blurred 0.484 ->
    # 0.487; real documents (read_eval) exact 0.422 -> 0.428.
    wrap_blocked_gap: float = 3.0


@dataclass
class Track:
    id: int
    quad: Quad  # latest
    score: float  # latest detection score
    age: int = 0  # frames since created
    hits: int = 1  # frames with a matching detection
    missed: int = 0  # frames in a row without one
    readings: list[tuple[str, float]] = field(default_factory=list)  # (squeezed text, weight)
    best_url: str = ""  # vote over readings; "" while no reading is a URL
    best_text: str = ""  # the text the track is taken to show (a URL or a piece of one)
    state: ReadState = "new"
    read_sharpness: float = 0.0  # of the best view read so far
    read_height: float = 0.0
    last_read_age: int = -1
    blind_retries: int = 0  # readings made with no better view than before
    peak_sharpness: float = 0.0  # of the recent views (decays frame by frame)

    @property
    def visible(self) -> bool:
        return self.missed == 0

    @property
    def height(self) -> float:
        return quad_height(self.quad)


# ---------------------------------------------------------------- geometry
def sharpness(frame: np.ndarray, quad: Quad) -> float:
    """Variance of the Laplacian over the quad's bounding box (a focus/blur
    measure: higher is sharper)."""
    q = np.asarray(quad, np.float32).reshape(4, 2)
    h, w = frame.shape[:2]
    x0, y0 = np.floor(q.min(axis=0)).astype(int)
    x1, y1 = np.ceil(q.max(axis=0)).astype(int)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return 0.0
    crop = to_gray(frame[y0:y1, x0:x1])
    return float(cv2.Laplacian(crop, cv2.CV_32F).var())


@dataclass(frozen=True)
class _LineGeom:
    """A line quad in its own axes: computed once per grouping, not per pair."""

    pts: np.ndarray
    ux: np.ndarray  # unit vector along the line
    uy: np.ndarray  # unit vector down the page (image y points down)
    h: float

    @staticmethod
    def of(quad: Quad) -> "_LineGeom":
        q = np.asarray(quad, np.float32).reshape(4, 2)
        ux = (q[1] - q[0]) + (q[2] - q[3])
        ux = ux / max(float(np.linalg.norm(ux)), 1e-6)
        return _LineGeom(q, ux, np.array([-ux[1], ux[0]], np.float32), quad_height(q))


def _below(up: _LineGeom, low: _LineGeom, s: TrackerSettings) -> bool:
    if up.h <= 0 or not (1 / s.max_height_ratio <= low.h / up.h <= s.max_height_ratio):
        return False
    q, r = up.pts, low.pts
    # "Down" as both lines have it: the upper piece ends a line and the lower
    # one starts the next, far apart along it, and on a curled or slanted page
    # their tilts differ by degrees; one line's tilt alone, carried that far,
    # moves the other line by line heights.
    down = up.uy + low.uy
    down = down / max(float(np.linalg.norm(down)), 1e-6)
    gap = (float(np.dot((r[0] + r[1]) / 2, down)) - float(np.dot((q[2] + q[3]) / 2, down))) / up.h
    if not (s.wrap_gap[0] <= gap <= s.wrap_gap[1]):
        return False
    # A continuation starts at the column's left margin: never to the right
    # of where the upper line's text starts (plus slack for detector jitter).
    # It may end left of where the upper piece starts (a link wrapped just
    # after it began on the right of a line).
    start_up = float(np.dot(q[0], up.ux))
    start_low = float(np.dot(r[0], up.ux))
    return start_low <= start_up + s.wrap_indent * up.h


def _gap_on_line(left: _LineGeom, right: _LineGeom, max_gap: float) -> float | None:
    """The gap (``left``'s line heights) from ``left``'s end to ``right``'s
    start when ``right`` sits on ``left``'s printed line (centres within half
    a line height) and starts at most ``max_gap`` after its end; None
    otherwise. A little overlap counts: fitted ends jitter by a fraction of
    a character."""
    if max_gap <= 0 or left.h <= 0:
        return None
    q, r = left.pts, right.pts
    across = float(np.dot(r.mean(axis=0) - q.mean(axis=0), left.uy)) / left.h
    gap = (float(np.dot((r[0] + r[3]) / 2, left.ux)) - float(np.dot((q[1] + q[2]) / 2, left.ux))) / left.h
    return gap if abs(across) <= 0.5 and -0.5 <= gap <= max_gap else None


def _beside(left: _LineGeom, right: _LineGeom, s: TrackerSettings) -> float | None:
    """The gap (line heights) from ``left``'s end to ``right``'s start when
    ``right`` could be the rest of ``left``'s printed line; None otherwise."""
    if left.h <= 0 or not (1 / s.max_height_ratio <= right.h / left.h <= s.max_height_ratio):
        return None
    return _gap_on_line(left, right, s.split_gap)


def _after_on_line(left: _LineGeom, right: _LineGeom, s: TrackerSettings) -> bool:
    """Does ``right`` follow ``left`` on its printed line, near enough to be
    in the same column (``wrap_blocked_gap``)?"""
    return _gap_on_line(left, right, s.wrap_blocked_gap) is not None


def cut_by_frame(quad: Quad, shape: tuple[int, ...], beyond: float = 0.1) -> bool:
    """Does the quad run past the frame's border by more than ``beyond`` of
    its height? A line the border cuts does, by about a quarter of its
    height: its map runs to the edge, and decoding grows the quad back past
    the map's end (``DecodeSpec.shrink_ends``)."""
    h, w = shape[:2]
    q = np.asarray(quad, np.float32).reshape(4, 2)
    m = beyond * quad_height(q)
    return bool((q[:, 0] < -m).any() or (q[:, 0] > w + m).any() or (q[:, 1] < -m).any() or (q[:, 1] > h + m).any())


def is_below(upper: Quad, lower: Quad, settings: TrackerSettings | None = None) -> bool:
    """Could ``lower`` be the next printed line after ``upper``? Measured in
    the upper line's own axes, so a tilted page works too."""
    return _below(_LineGeom.of(upper), _LineGeom.of(lower), settings or TrackerSettings())


def group_lines(quads: list[Quad], texts: list[str], settings: TrackerSettings | None = None,
                memo: dict | None = None) -> list[list[int]]:
    """Group line indexes into links, each group in reading order.

    First the pieces of one printed line that the detector broke apart are
    put back together (``_beside``, ``continues_on_line``). Then a line whose
    text does not end a link on its own (``looks_incomplete``, or not a URL)
    is followed by the line just below it when ``continues_link`` says that
    line's text continues it, unless another line follows the upper one or
    comes before the lower one on its printed line (``_after_on_line``: a
    wrapped link ends its line and goes on at the next one's start); up to
    ``max_wrap_lines`` lines, kept only as long as the joined text is a URL.
    Lines with no text (not read) only stand in that way. Every line is in
    exactly one group.
    ``memo`` caches the text rules across calls (the Tracker passes its own:
    texts repeat frame after frame).
    """
    s = settings or TrackerSettings()
    geo = [_LineGeom.of(q) for q in quads]
    memo = {} if memo is None else memo

    def cached(fn: Callable[..., object], *args: object) -> object:
        key = (fn.__name__, *args)
        if key not in memo:
            memo[key] = fn(*args)
        return memo[key]

    def url(text: str) -> str | None:
        return cached(normalize_url, text)

    def joined(parts: tuple[str, ...]) -> str | None:
        return cached(_join_url, parts)

    units = _line_pieces(geo, texts, s, cached)
    # A unit is one printed line: its geometry runs from its first piece's
    # start to its last piece's end, its text is its pieces' texts joined.
    ugeo = [geo[u[0]] if len(u) == 1 else
            _LineGeom.of(np.stack([geo[u[0]].pts[0], geo[u[-1]].pts[1], geo[u[-1]].pts[2], geo[u[0]].pts[3]]))
            for u in units]
    utext = [texts[u[0]] if len(u) == 1 else cached(_join_text, tuple(texts[k] for k in u)) for u in units]
    order = _page_order(ugeo)
    # A line that opens a link claims its rest first: the words before it on
    # its printed line can be a detected line too, one that comes first and
    # whose text, glued to that rest, is a valid host name
    # ("WhenrequestingbinNMUsorgive-backs" + "debian.org/wanna-build.txt").
    starts = sorted(order, key=lambda i: not (utext[i] and cached(starts_new_link, utext[i])))
    used: set[int] = set()
    groups: list[list[int]] = []
    for i in starts:
        if i in used:
            continue
        chain = [i]
        while len(chain) < s.max_wrap_lines:
            last = chain[-1]
            # From the second line on, whether the link goes on is asked of
            # the link so far: "…/subscribe)" or "…/gcc-darwin-arm64" has
            # ended though its last line alone ("subscribe)", "gcc-darwin-
            # arm64") is no URL. Typesetters break links after a delimiter,
            # so a link whose lines so far make a whole URL ending in a
            # letter is taken as whole (the generator also breaks mid-word:
            # "…/Petri" + "fied" + "Try/" loses its third line; synthetic
            # split, 200 frames: 2 of 580 links read exactly lost, against
            # 7 of 1392 gained on the three real sets).
            so_far = utext[last] if len(chain) == 1 else cached(_join_text, tuple(utext[j] for j in chain))
            if not utext[last] or not (cached(looks_incomplete, so_far) or url(so_far) is None):
                break
            # The text rule first: it is memoised across frames, the geometry
            # is not; and the scans of every other line last, for the few
            # lines that pass both.
            cands = [j for j in order if j not in used and j not in chain and utext[j]
                     and cached(continues_link, so_far, utext[j]) and _below(ugeo[last], ugeo[j], s)]
            if not cands or any(_after_on_line(ugeo[last], ugeo[k], s) for k in range(len(units)) if k != last):
                break
            # Nor when another line lies between them (the upper line's next
            # line, itself followed by the candidate): a wrapped link goes on
            # at the very next line, and a tall tilted line's wrap gap can
            # reach past one line to the one after.
            below_last = [k for k in range(len(units)) if k != last and _below(ugeo[last], ugeo[k], s)]
            cands = [j for j in cands
                     if not any(_after_on_line(ugeo[k], ugeo[j], s) for k in range(len(units)) if k != j)
                     and not any(_below(ugeo[k], ugeo[j], s) for k in below_last if k != j)]
            if not cands:
                break
            # The nearest line below.
            chain.append(min(cands, key=lambda j: float(np.dot(ugeo[j].pts[0], ugeo[last].uy))))
        # Keep the longest prefix whose joined text is a link (one line alone
        # is always kept, link or not: the caller filters).
        while len(chain) > 1 and joined(tuple(texts[k] for j in chain for k in units[j])) is None:
            chain.pop()
        used.update(chain)
        groups.append([k for j in chain for k in units[j]])
    return groups


def _page_order(geo: list[_LineGeom]) -> list[int]:
    """Lines down the page, then along it, in the page's own axes (the lines'
    mean direction). On a tilted page a wrapped link's next line can sit
    higher in the frame than the end of the line above (its start is further
    left, and the left side is up): ordered by frame y, that next line came
    first, started a link of its own and was no longer free to continue the
    one above (63 of the 104 wrapped links whose every line was found but
    not joined, on two real-documents sets)."""
    if not geo:
        return []
    down = np.mean([g.uy for g in geo], axis=0)
    down = down / max(float(np.linalg.norm(down)), 1e-6)
    along = np.array([down[1], -down[0]], np.float32)
    centre = [g.pts.mean(axis=0) for g in geo]
    return sorted(range(len(geo)), key=lambda i: (float(np.dot(centre[i], down)), float(np.dot(centre[i], along))))


def _line_pieces(geo: list[_LineGeom], texts: list[str], s: TrackerSettings,
                 cached: Callable[..., object]) -> list[list[int]]:
    """The lines as runs of pieces, left to right: each piece followed by the
    nearest one just right of it whose text continues its link."""
    n = len(geo)
    nxt: dict[int, int] = {}
    taken: set[int] = set()
    for i in sorted(range(n), key=lambda k: float(geo[k].pts[:, 0].min())):
        if not texts[i]:
            continue
        best: tuple[float, int] | None = None
        for j in range(n):
            if j == i or j in taken or not texts[j] or not cached(continues_on_line, texts[i], texts[j]):
                continue
            gap = _beside(geo[i], geo[j], s)
            if gap is not None and (best is None or gap < best[0]):
                best = (gap, j)
        if best is not None:
            nxt[i] = best[1]
            taken.add(best[1])
    runs = []
    for i in range(n):
        if i in taken:
            continue
        run = [i]
        while run[-1] in nxt and nxt[run[-1]] not in run:
            run.append(nxt[run[-1]])
        runs.append(run)
    # Two overlapping pieces can each take the other: a loop with no start.
    covered = {k for run in runs for k in run}
    return runs + [[i] for i in range(n) if i not in covered]


def _join_text(parts: tuple[str, ...]) -> str:
    return join_wrapped(list(parts))


def _join_url(parts: tuple[str, ...]) -> str | None:
    return normalize_url(_join_text(parts))


def _text_vote(readings: list[tuple[str, float]]) -> str:
    """The text several (squeezed) readings of a non-URL line agree on: largest total
    weight, ties to the latest."""
    if not readings:
        return ""
    totals: Counter[str] = Counter()
    last: dict[str, int] = {}
    for k, (key, w) in enumerate(readings):
        if key:
            totals[key] += max(w, 1e-3)
            last[key] = k
    if not totals:
        return ""
    return max(totals, key=lambda key: (totals[key], last[key]))


@dataclass
class TrackedLink:
    """A link made of one or more line tracks (top line first)."""

    url: str
    raw: str
    tracks: list[Track]
    shown: list[Track]  # the ones to outline: seen now or lost at most show_missed frames ago

    @property
    def id(self) -> int:
        return self.tracks[0].id


class Tracker:
    def __init__(self, settings: TrackerSettings | None = None) -> None:
        self.settings = settings or TrackerSettings()
        self.tracks: list[Track] = []
        self._ids = itertools.count(1)
        self._memo: dict = {}  # text-rule results for group_lines; texts repeat frame after frame

    def reset(self) -> None:
        self.tracks = []
        self._memo.clear()

    # ------------------------------------------------------------ association
    def _affinity(self, a: np.ndarray, b: np.ndarray, boxes_meet: bool = True) -> float:
        """Track quad ``a`` vs detection quad ``b``: 0 = no match; higher = better.
        ``boxes_meet``: False when their bounding boxes are known to be
        disjoint (then so are the quads: no polygon intersection needed)."""
        iou = quad_iou(a, b) if boxes_meet else 0.0
        if iou >= self.settings.min_iou:
            return 1.0 + iou
        h1, h2 = quad_height(a), quad_height(b)
        if h1 <= 0 or h2 <= 0 or not (1 / self.settings.max_height_ratio <= h2 / h1 <= self.settings.max_height_ratio):
            return 0.0
        d = float(np.linalg.norm(a.mean(axis=0) - b.mean(axis=0))) / max(h1, h2)
        if d > self.settings.max_centre_dist:
            return 0.0
        return 1.0 - d / (self.settings.max_centre_dist + 1e-6)  # (0, 1]: always below an IoU match

    def _pairs(self, quads: list[np.ndarray]) -> list[tuple[float, int, int]]:
        """(affinity, track index, detection index) for every possible match."""
        if not self.tracks or not quads:
            return []
        tq = np.stack([t.quad for t in self.tracks])  # (T, 4, 2)
        dq = np.stack(quads)  # (D, 4, 2)
        tlo, thi = tq.min(axis=1), tq.max(axis=1)
        dlo, dhi = dq.min(axis=1), dq.max(axis=1)
        # Boxes further apart than the centre-distance rule allows can match
        # neither way: reject them in one numpy step, test the rest exactly.
        slack = self.settings.max_centre_dist * np.maximum((thi - tlo)[:, None, 1], (dhi - dlo)[None, :, 1])
        apart = ((tlo[:, None] > dhi[None] + slack[..., None]) | (dlo[None] > thi[:, None] + slack[..., None])).any(-1)
        meet = ((tlo[:, None] <= dhi[None]) & (dlo[None] <= thi[:, None])).all(-1)
        pairs = []
        for ti, di in zip(*np.nonzero(~apart)):
            a = self._affinity(tq[ti], dq[di], bool(meet[ti, di]))
            if a > 0:
                pairs.append((a, int(ti), int(di)))
        return pairs

    def update(self, detections: list[Detection]) -> list[Track]:
        """Match this frame's detections; returns the tracks seen in it
        (in the detections' order)."""
        quads = [np.asarray(d.quad, np.float32).reshape(4, 2) for d in detections]
        pairs = self._pairs(quads)
        pairs.sort(key=lambda p: -p[0])
        track_of: dict[int, Track] = {}
        taken: set[int] = set()
        for _, ti, di in pairs:  # greedy: a handful of lines per frame, optimal in practice
            if ti in taken or di in track_of:
                continue
            taken.add(ti)
            track_of[di] = self.tracks[ti]
        for t in self.tracks:
            t.age += 1
        for ti, t in enumerate(self.tracks):
            if ti not in taken:
                t.missed += 1
        for di, d in enumerate(detections):
            t = track_of.get(di)
            if t is None:
                t = Track(id=next(self._ids), quad=quads[di], score=float(d.score))
                self.tracks.append(t)
                track_of[di] = t
            else:
                t.quad = quads[di]
                t.score = float(d.score)
                t.hits += 1
                t.missed = 0
        self.tracks = [t for t in self.tracks if t.missed <= self.settings.max_missed]
        return [track_of[di] for di in range(len(detections))]

    # ---------------------------------------------------------------- reading
    def _stable(self, t: Track) -> bool:
        if not t.readings:
            return False
        if t.best_url:
            n = sum(1 for text, _ in t.readings if normalize_url(text) == t.best_url)
        else:
            n = sum(1 for text, _ in t.readings if text == t.best_text and t.best_text)
        return n >= self.settings.stable_votes

    def due(self, frame: np.ndarray) -> list[Track]:
        """The visible tracks to read in this frame (reading order)."""
        s = self.settings
        out = []
        for t in self.tracks:
            if not t.visible or t.state == "done":
                continue
            if t.state == "reading" and len(t.readings) >= s.max_reads:
                t.state = "done"
                continue
            if not s.read_cut_lines and cut_by_frame(t.quad, frame.shape):
                continue
            sharp = sharpness(frame, t.quad)
            t.peak_sharpness = max(t.peak_sharpness * s.sharpness_decay, sharp)
            if sharp < s.blur_tolerance * t.peak_sharpness:
                # A hand-held camera blurs some frames: a blurred view reads
                # as junk and costs a read; the line is read in a sharp one.
                continue
            if t.state == "new":
                if t.hits >= s.stable_frames:
                    out.append(t)
                continue
            if t.height >= t.read_height * s.larger_ratio \
                    or sharp > max(t.read_sharpness * s.sharper_ratio, s.min_sharpness):
                out.append(t)
            elif t.age - t.last_read_age >= s.retry_frames and t.blind_retries < s.max_blind_retries:
                # No text yet, or a vote of one: another look at a later frame
                # (new noise) confirms or corrects it.
                t.blind_retries += 1
                out.append(t)
        out.sort(key=lambda t: (float(t.quad[:, 1].mean()), float(t.quad[:, 0].min())))
        return out

    def add_reading(self, track: Track, text: str, weight: float, frame: np.ndarray | None = None) -> None:
        """Record one OCR reading of ``track`` (made from its current quad),
        squeezed as a link line (``urls.squeeze_line``) before it is kept:
        the vote's ``normalize_url`` would drop every space, and with them
        where a link ends and the sentence after it begins."""
        track.readings.append((squeeze_line(text), float(weight)))
        track.last_read_age = track.age
        track.read_height = max(track.read_height, track.height)
        if frame is not None:
            track.read_sharpness = max(track.read_sharpness, sharpness(frame, track.quad))
        texts = [r for r, _ in track.readings]
        weights = [max(w, 1e-3) for _, w in track.readings]
        track.best_url = vote(texts, weights)
        if track.best_url:
            # The raw text behind the winning URL, for joining and for Link.raw.
            cands = [(w, k, r) for k, (r, w) in enumerate(track.readings) if normalize_url(r) == track.best_url]
            track.best_text = max(cands)[2] if cands else track.best_url
        else:
            track.best_text = _text_vote(track.readings)
        track.state = "done" if self._stable(track) or len(track.readings) >= self.settings.max_reads \
            else "reading"

    # ------------------------------------------------------------------ links
    def links(self) -> list[TrackedLink]:
        """Links currently visible with a valid URL, in reading order. Groups
        are formed over all live tracks (a line missed for a frame does not
        split its link); a link is reported when one of its lines is visible
        or was lost at most ``show_missed`` frames ago."""
        # Visible lines not read (yet) take part too: they can end the line
        # above them (group_lines), and form no link of their own.
        live = [t for t in self.tracks if t.best_text or t.visible]
        if len(self._memo) > 20000:
            self._memo.clear()
        groups = group_lines([t.quad for t in live], [t.best_text for t in live], self.settings, self._memo)
        out = []
        for g in groups:
            members = [live[i] for i in g]
            shown = [m for m in members if m.missed <= self.settings.show_missed]
            if not shown:
                continue
            if len(members) == 1:
                url, raw = members[0].best_url, members[0].best_text
            else:
                raw = join_wrapped([m.best_text for m in members])
                url = normalize_url(raw) or ""
            if url:
                out.append(TrackedLink(url, raw, members, shown))
        return out
