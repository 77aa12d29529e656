"""Result types shared by the pipeline, the CLI and the app."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

# A quad is four (x, y) points in frame pixels, ordered top-left, top-right,
# bottom-right, bottom-left in the reading direction of the text line.
Quad = np.ndarray


def quad_to_list(quad: Quad) -> list[list[float]]:
    return [[round(float(x), 1), round(float(y), 1)] for x, y in np.asarray(quad).reshape(4, 2)]


def quad_height(quad: Quad) -> float:
    """Mean length of the left and right edges."""
    q = np.asarray(quad, np.float32).reshape(4, 2).tolist()
    # math.hypot on lists: the tracker calls this for every track/detection pair each frame.
    return (math.hypot(q[3][0] - q[0][0], q[3][1] - q[0][1]) + math.hypot(q[2][0] - q[1][0], q[2][1] - q[1][1])) / 2


def quad_size(quad: Quad) -> tuple[float, float]:
    """(width, height): the mean lengths of the top and bottom edges, and of the left and right ones."""
    tl, tr, br, bl = np.asarray(quad, np.float32).reshape(4, 2)
    return (float(np.linalg.norm(tr - tl)) + float(np.linalg.norm(br - bl))) / 2, quad_height(quad)


def quad_axes(quad: Quad) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors along the quad's line (left to right) and across it (top to bottom)."""
    tl, tr, br, bl = np.asarray(quad, np.float32).reshape(4, 2)
    ux = (tr - tl) + (br - bl)
    uy = (bl - tl) + (br - tr)
    return ux / max(float(np.linalg.norm(ux)), 1e-6), uy / max(float(np.linalg.norm(uy)), 1e-6)


def _areas(a: Quad, b: Quad) -> tuple[float, float, float]:
    """Areas of two quads (taken as their convex hulls) and of their intersection."""
    pa = np.asarray(a, np.float32).reshape(4, 2)
    pb = np.asarray(b, np.float32).reshape(4, 2)
    area_a, area_b = abs(cv2.contourArea(pa)), abs(cv2.contourArea(pb))
    if area_a <= 0 or area_b <= 0:
        return area_a, area_b, 0.0
    inter, _ = cv2.intersectConvexConvex(cv2.convexHull(pa), cv2.convexHull(pb))
    return area_a, area_b, max(float(inter), 0.0)


def quad_iou(a: Quad, b: Quad) -> float:
    """Intersection over union of two quads (taken as their convex hulls)."""
    area_a, area_b, inter = _areas(a, b)
    return inter / (area_a + area_b - inter) if inter > 0 else 0.0


def quad_overlap(a: Quad, b: Quad) -> float:
    """Intersection over the smaller quad's area: 1 when one lies inside the other."""
    area_a, area_b, inter = _areas(a, b)
    return inter / min(area_a, area_b) if inter > 0 else 0.0


def quad_covered(a: Quad, b: Quad) -> float:
    """Fraction of ``a``'s area that ``b`` covers."""
    area_a, _area_b, inter = _areas(a, b)
    return inter / area_a if inter > 0 else 0.0


def quads_box(quads: list[Quad]) -> tuple[float, float, float, float]:
    pts = np.concatenate([np.asarray(q, dtype=np.float32).reshape(4, 2) for q in quads])
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


@dataclass(frozen=True)
class Detection:
    """One printed line of a link, as the detector sees it."""

    quad: Quad
    score: float  # the link map's mean over the line's region
    # The line check's probability that this is a link line (None: not asked,
    # or no check): photo mode's sizes compare lines by it (decode.line_confidence).
    check: float | None = None


@dataclass
class Link:
    """A link: its URL, the OCR text it came from, and the line quads it occupies."""

    url: str
    raw: str
    quads: list[Quad]
    score: float
    track_id: int | None = None

    @property
    def box(self) -> tuple[float, float, float, float]:
        return quads_box(self.quads)

    def to_json(self) -> dict:
        return {
            "url": self.url,
            "raw": self.raw,
            "box": [round(v, 1) for v in self.box],
            "quads": [quad_to_list(q) for q in self.quads],
            "score": round(float(self.score), 4),
        }


@dataclass
class FrameResult:
    """Everything the pipeline learned from one frame."""

    width: int
    height: int
    links: list[Link] = field(default_factory=list)
    detections: list[Detection] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
