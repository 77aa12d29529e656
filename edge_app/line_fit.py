"""Fits a detected line quad to the printed line before it is read.

The detector's quads are right about where a link is but loose about its
extent: a quad can be a character short at either end (decoded from a
coarse map) and, on tightly set pages, tall enough to take in the ink of
the lines above and below. Tesseract reads both as a different URL. Fitting
looks at the ink around the quad: the line's own band of rows (between the
blank rows that separate it from its neighbours) sets the height, and along
that band an end that cuts through ink is carried outward until a gap about
as wide as a narrow word space. The quad never gets shorter along the line:
a URL has no spaces, so the gap that ends it is the first one outside the
detection.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edge_app.binarize import binarize
from edge_app.results import Quad, quad_axes, quad_size


@dataclass(frozen=True)
class FitSettings:
    # How far (in line heights) an end may move outward, and how much room
    # above and below is searched for the line's band. Photo mode end to end
    # (training.read_eval), URLs exact on the synthetic tuning split (300
    # images) / real documents: 0.75 0.117 / 0.378; 1.0 0.113 / 0.382; 1.5
    # 0.122 / 0.399; 2.0 0.122 / 0.411; 2.5 0.130 / 0.414; 3.0 0.129 / 0.409;
    # 4.0 0.123 / 0.401. A cut link can miss more than one glyph at an end.
    search: float = 2.5
    room: float = 0.3
    # A gap this wide (in band heights) ends the line. Chosen on the synthetic
    # tuning split (150 images), exact URLs read from detected quads (245
    # links with every line found) / from true quads (424): unfitted 0.155 /
    # 0.158; gap 0.10 0.180 / 0.177, 0.15 0.188 / 0.177, 0.20 0.192 / 0.175,
    # 0.25 0.180 / 0.165, 0.35 0.155 / 0.118 (a wide gap lets an end run on
    # into the next word: a word space is about 0.2 of the band).
    gap: float = 0.15
    # A row with ink in fewer than this fraction of its columns is blank.
    blank_row: float = 0.02
    # Work at this many pixels per quad height: enough for gaps, cheap.
    px: int = 24
    # A line's quad is this many times its band of ink: the synthetic tuning
    # split's true quads (1275 lines) have bands of 0.84 of their height
    # (median; a line without descenders has a shorter band). Photo mode
    # cuts its lines out tighter (PipelineSettings.photo_fit).
    band_scale: float = 1.19


def _band(ink: np.ndarray, y0: int, y1: int, blank_row: float) -> tuple[int, int]:
    """Rows [top, bottom) of the text line through the middle of rows y0..y1:
    the densest row of the middle half, grown to the nearest blank rows.
    Where no blank row separates it from the canvas edge, that side keeps y0/y1."""
    rows = ink.mean(axis=1)
    blank = rows < blank_row
    lo, hi = y0 + (y1 - y0) // 4, y1 - (y1 - y0) // 4
    c = lo + int(np.argmax(rows[lo:hi])) if hi > lo else (y0 + y1) // 2
    top = c
    while top > 0 and not blank[top - 1]:
        top -= 1
    bottom = c + 1
    while bottom < len(rows) and not blank[bottom]:
        bottom += 1
    return (top if top > 0 else y0), (bottom if bottom < len(rows) else y1)


def _end(cols: np.ndarray, start: int, step: int, gap: int) -> int:
    """Last ink column reached from ``start`` (in direction ``step``) before
    ``gap`` blank columns in a row; ``start`` itself when none is reached."""
    edge, run, x = start, 0, start
    while 0 <= x < len(cols):
        if cols[x]:
            edge, run = x, 0
        else:
            run += 1
            if run >= gap:
                break
        x += step
    return edge


def fit_line(gray: np.ndarray, quad: Quad, settings: FitSettings | None = None) -> Quad:
    """The quad of the printed line ``quad`` was detected on, in frame pixels
    (``quad`` itself when there is no ink to fit to)."""
    s = settings or FitSettings()
    q = np.asarray(quad, np.float32).reshape(4, 2)
    w, h = quad_size(q)
    tl, tr, br, bl = q
    if w < 1 or h < 1:
        return q
    ux, uy = quad_axes(q)
    dx, dy = s.search * h, s.room * h
    canvas = np.array([tl - dx * ux - dy * uy, tr + dx * ux - dy * uy, br + dx * ux + dy * uy,
                       bl - dx * ux + dy * uy], np.float32)
    k = s.px / h
    cw, ch = max(2, int(round((w + 2 * dx) * k))), max(2, int(round((h + 2 * dy) * k)))
    m = cv2.getPerspectiveTransform(canvas, np.array([[0, 0], [cw, 0], [cw, ch], [0, ch]], np.float32))
    img = cv2.warpPerspective(gray, m, (cw, ch), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
    ink = binarize(img, "local") == 0
    if ink.mean() > 0.5:  # light text on a dark ground: ink is the minority tone
        ink = ~ink
    x0, y0 = int(round(dx * k)), int(round(dy * k))
    x1, y1 = cw - x0, ch - y0
    if x1 <= x0 + 1 or y1 <= y0 + 1 or not ink[y0:y1, x0:x1].any():
        return q
    top, bottom = _band(ink[:, x0:x1], y0, y1, s.blank_row)
    cols = ink[top:bottom].any(axis=0)
    gap = max(2, int(round(s.gap * (bottom - top))))
    # The quad's new height: the band, grown to the height a line's quad has
    # around its ink, never taller than the detection. Only the neighbours'
    # ink is cut away; the text keeps about the scale the reader expects.
    c, hb = (top + bottom) / 2, min((bottom - top) * s.band_scale, y1 - y0)
    # An end moves only when ink touches it (the detection cut a glyph): an
    # end in blank paper already holds the whole line, and carrying it over
    # a narrow gap would take in an adjacent bracket or quote. (Carrying an
    # end over a blank of up to 0.3 / 0.5 band heights, to mend a monospaced
    # "ll" cut between its letters, read worse: URLs exact on the tuning split
    # 0.130 -> 0.098 / 0.086, real documents 0.414 -> 0.342 / 0.297. Two
    # narrower allowances, photo mode on the first 150 real documents /
    # tuning split, exact and host right, against 0.457 / 0.695 and 0.115 /
    # 0.196: a blank up to the line's own widest letter gap, 0.439 / 0.651 and
    # 0.115 / 0.189; a blank narrower than ``gap`` from the last ink inside
    # the quad, 0.457 / 0.691 and 0.115 / 0.198.)
    left = _end(cols, x0, -1, gap) if cols[max(0, x0 - 1):x0 + 1].any() else x0
    right = (_end(cols, x1 - 1, 1, gap) if cols[x1 - 1:x1 + 1].any() else x1 - 1) + 1
    box = np.array([[left, c - hb / 2], [right, c - hb / 2], [right, c + hb / 2], [left, c + hb / 2]], np.float32)
    back = cv2.perspectiveTransform(box.reshape(-1, 1, 2), np.linalg.inv(m)).reshape(4, 2)
    return back.astype(np.float32)


def stretch_end(quad: Quad, by: float) -> Quad:
    """``quad`` with its right end carried ``by`` of its height further along
    the line: onto the next glyph when the detection stopped in the gap before
    it, so that ``fit_line`` carries it on to the end of the word."""
    q = np.asarray(quad, np.float32).reshape(4, 2).copy()
    ux, _ = quad_axes(q)
    _, h = quad_size(q)
    q[1] += ux * by * h
    q[2] += ux * by * h
    return q
