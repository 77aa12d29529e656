"""A wrapped link's rest: which candidate line continues which on the next line.

The line check classifies each candidate line alone, and the rest of a
wrapped link (``path/page.html`` at the start of the next line) carries no
scheme or host: the classifier often says no to it, and the link is then
read cut short. Its place says more: it lies where the tracker looks for a
wrapped link's next line (``tracking.is_below``, the one rule for that),
the line above ends where the text ends (blank after it) and the candidate
starts where the text starts (blank before it). ``LineChecker.keep`` lets
such a candidate under a kept line in at a lower classifier bar
(``CheckSpec.wrap_keep``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import cv2
import numpy as np

from edge_app.preprocess import to_gray
from edge_app.results import quad_axes, quad_size
from edge_app.tracking import TrackerSettings, is_below


@dataclass(frozen=True)
class WrapRule:
    """Where the rest of a wrapped link lies, and what "the printed line ends here" means."""

    # Where the next line lies: the tracker's rule for a wrapped link's lines.
    lines: TrackerSettings = field(default_factory=TrackerSettings)
    # "Blank" beside a line: the stretch from ``blank_reach[0]`` to
    # ``blank_reach[1]`` line heights past its end varies in brightness less
    # than ``blank_ratio`` times the line itself (a margin; the next word is ink).
    blank_reach: tuple[float, float] = (0.4, 2.0)
    blank_ratio: float = 0.4


def _sample(gray: np.ndarray, centre: np.ndarray, along: np.ndarray, across: np.ndarray, h: float,
            start: float, stop: float) -> np.ndarray:
    """Brightness along a line (centre, unit axes, height ``h``) from ``start`` to
    ``stop`` pixels from its centre, across its middle."""
    step = max(h / 8, 0.5)
    t, s = np.meshgrid(np.arange(start, stop, step, dtype=np.float32),
                       np.arange(-0.35 * h, 0.35 * h, step, dtype=np.float32))
    x = centre[0] + along[0] * t + across[0] * s
    y = centre[1] + along[1] * t + across[1] * s
    return cv2.remap(gray, x.astype(np.float32), y.astype(np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def blank_beside(gray: np.ndarray, quad: np.ndarray, side: int, rule: WrapRule = WrapRule()) -> bool:
    """Is the printed line over after ``quad`` (side +1) or before it (side -1)?"""
    q = np.asarray(quad, np.float32).reshape(4, 2)
    along, across = quad_axes(q)
    length, h = quad_size(q)
    line = (q.mean(axis=0), along, across, max(h, 1.0))
    half, h = length / 2, line[3]
    ink = float(_sample(gray, *line, -half, half).std())
    near, far = half + rule.blank_reach[0] * h, half + rule.blank_reach[1] * h
    beside = _sample(gray, *line, near, far) if side > 0 else _sample(gray, *line, -far, -near)
    return float(beside.std()) < rule.blank_ratio * max(ink, 1.0)


class Wraps:
    """Which of one frame's candidate quads continues which, worked out on demand."""

    def __init__(self, frame: np.ndarray, quads: list[np.ndarray], rule: WrapRule = WrapRule()) -> None:
        self._frame, self._quads, self._rule = frame, quads, rule
        self._gray: np.ndarray | None = None
        self._blank: dict[tuple[int, int], bool] = {}

    def _is_blank(self, i: int, side: int) -> bool:
        if (i, side) not in self._blank:
            if self._gray is None:
                self._gray = to_gray(self._frame).astype(np.float32)
            self._blank[(i, side)] = blank_beside(self._gray, self._quads[i], side, self._rule)
        return self._blank[(i, side)]

    def continues(self, upper: int, lower: int) -> bool:
        """Is quad ``lower`` the rest of a link wrapped at the end of quad ``upper``?"""
        return upper != lower and is_below(self._quads[upper], self._quads[lower], self._rule.lines) \
            and self._is_blank(upper, +1) and self._is_blank(lower, -1)


def with_wraps(kept: list[bool], eligible: list[bool], continues: Callable[[int, int], bool]) -> list[bool]:
    """``kept`` plus every ``eligible`` line that continues a kept one, through
    any number of lines (a link wrapped twice)."""
    out = list(kept)
    grown = True
    while grown:
        grown = False
        for i, ok in enumerate(eligible):
            if ok and not out[i] and any(out[j] and continues(j, i) for j in range(len(out))):
                out[i] = grown = True
    return out
