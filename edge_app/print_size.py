"""How large the print is in a frame, and the input sizes photo mode and video run at.

The detector reads print best when a text line is some 20-50 pixels tall in
its input. A webcam frame of part of a page (640-1280 pixels) is there at
the sidecar's input size, but a phone photo of a whole page (3-12
megapixels) shrunk to it puts the lines at 6-12 pixels, where the detector
finds few (model card, twentieth session: whole-page photos, recall 0.67 at
960 and 1280 against 0.93 at 2560). The model's second output, the map of
all text, tells how tall the print came out at the first size; a large photo
whose print came out small is then detected again, its long side scaled up to
bring the print to ``PrintSizing.text_px``, up to the photo's own resolution.
Video does the same for a frame larger than its input (a 1080p webcam over a
whole page), measuring every few frames and keeping the size it chose until the
print moves well away from the target (``video_size``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from edge_app.decode import decode
from edge_app.model_spec import DecodeSpec
from edge_app.results import quad_size

# Text-map regions: a plain cut at one half, no hysteresis; specks go by
# area. The heights come out in model-input pixels.
TEXT_DECODE = DecodeSpec(threshold=0.5, min_score=0.5, min_area=3.0)


@dataclass(frozen=True)
class PrintSizing:
    """When and how far a large frame's input is scaled up to its print."""

    # The print's line height (model-input pixels, as ``text_height``
    # measures it) that a large frame is scaled to. None: the fixed sizes
    # only. Chosen with max_long_side for photo mode's detection F1 on
    # whole-page photos of the tuning documents (data/realcam_far_tune, 160
    # images; fixed sizes 0.737): 24 / 32 / 40 / 48 / 56 px 0.791 / 0.810 /
    # 0.813 / 0.825 / 0.821 at 3200; 48 px at 2560 / 4096: 0.817 / 0.823.
    text_px: float | None = 48.0
    # The largest input long side it runs at (photo mode's cost: a 3200 x
    # 2400 input is 11 times the pixels of 960 x 720).
    max_long_side: int = 3200


def text_height(text_map: np.ndarray, stride: int, height_scale: float = 1.0) -> float | None:
    """The print's typical line height in model-input pixels: the median
    height of the text map's regions, each weighted by its length (specks and
    single letters count little), or None when the map holds no text."""
    regions = decode(text_map, replace(TEXT_DECODE, height_scale=height_scale), stride)
    if not regions:
        return None
    lengths, heights = np.array([quad_size(d.quad) for d in regions]).T
    order = np.argsort(heights)
    cum = np.cumsum(lengths[order])
    return float(heights[order][np.searchsorted(cum, cum[-1] / 2)])


def parse_print_px(value: str) -> float | None:
    """A command line's print height: pixels, or 'none' (sizing off)."""
    if value.strip().lower() == "none":
        return None
    try:
        px = float(value)
    except ValueError:
        px = 0.0
    if not px > 0:
        raise ValueError(f"--print-px wants a height in pixels or 'none', not {value!r}")
    return px


def _round_to(x: float, multiple: int) -> int:
    return max(multiple, int(round(x / multiple)) * multiple)


def photo_sizes(frame_long_side: int, first: int, extras: tuple[int, ...], text_px: float | None,
                sizing: PrintSizing, multiple: int = 32) -> tuple[int, tuple[int, ...]]:
    """Photo mode's input long sides for a frame: (first, extras).

    ``first`` and ``extras`` are the fixed sizes; ``text_px`` is the print's
    height measured at ``first`` (``text_height``). A frame larger than every
    fixed size whose print came out under ``sizing.text_px`` runs at the
    size that brings it there, at most its own long side and
    ``sizing.max_long_side``, with the extras scaled alike. Anything else
    keeps the fixed sizes.
    """
    fixed = (first, extras)
    if sizing.text_px is None or text_px is None or text_px <= 0:
        return fixed
    if frame_long_side <= max((first, *extras)):
        return fixed  # the fixed sizes already see the frame at its own resolution
    grow = min(sizing.text_px / text_px, frame_long_side / first, sizing.max_long_side / first)
    new_first = _round_to(first * grow, multiple)
    if new_first <= max((first, *extras)):
        return fixed  # no larger than the fixed sizes reach anyway
    new_extras = tuple(sorted({_round_to(min(e * grow, sizing.max_long_side), multiple) for e in extras}
                              - {new_first}))
    return new_first, new_extras


def video_size(frame_long_side: int, base: int, current: int, text_px: float | None, sizing: PrintSizing,
               multiple: int = 32, dead_band: float = 0.25) -> int:
    """Video's input long side for the next frames, from the print's height
    ``text_px`` measured at the ``current`` size: the size that brings it to
    ``sizing.text_px``, no smaller than ``base`` (the detector's own video
    size) and no larger than the frame or ``sizing.max_long_side``. Within
    ``dead_band`` of ``current`` it stays, so a measurement's noise does not
    make the size (and the tracks' outlines) jump back and forth."""
    if sizing.text_px is None or text_px is None or text_px <= 0:
        return current
    top = max(base, min(frame_long_side, sizing.max_long_side))
    want = _round_to(min(max(current * sizing.text_px / text_px, base), top), multiple)
    return current if abs(want - current) <= dead_band * current else want
