"""Link probability map <-> link line quads.

``shrink_quad`` (training targets) and ``decode`` (runtime) are the two
directions of one rule, parameterised by DecodeSpec: a link line is drawn as
its central band, shortened at both ends, so that neighbouring lines and
neighbouring words stay apart in the map; decoding grows each region back.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from edge_app.model_spec import DecodeSpec
from edge_app.results import Detection, quad_height, quad_overlap


# The four rotations of a point order (np.roll, precomputed: decode calls
# order_quad for every region of every frame).
_ROTATIONS = [np.array([(k + j) % 4 for j in range(4)]) for k in range(4)]


def order_quad(pts: np.ndarray) -> np.ndarray:
    """Order 4 points as tl, tr, br, bl for a line of text read left to right:
    the top edge is a long side (the line runs along it) pointing rightwards
    (straight up for a line turned a quarter turn anticlockwise)."""
    pts = np.asarray(pts, dtype=np.float32).reshape(4, 2)
    c = pts.mean(axis=0)
    ang = np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0])
    pts = pts[np.argsort(ang)]  # clockwise in image coordinates, starting at ~ -pi (left)
    edges = [math.hypot(*(pts[(k + 1) % 4] - pts[k])) for k in range(4)]
    best = None
    for k, rot in enumerate(_ROTATIONS):
        # Starting at point k makes edge k the top. A short top edge would
        # turn a line steeper than about 27 degrees clockwise on its side.
        if edges[k] < edges[(k + 1) % 4] - 1e-3:
            continue
        q = pts[rot]
        top = q[1] - q[0]
        if top[0] < 0 or (top[0] == 0 and top[1] > 0):
            continue
        # Of two equal candidates (a square), the one starting top-left.
        score = q[0, 0] + q[0, 1] * 0.5
        if best is None or score < best[0]:
            best = (score, q)
    return best[1] if best is not None else pts


def shrink_quad(quad: np.ndarray, spec: DecodeSpec) -> np.ndarray:
    """Training target region of a link line quad (tl, tr, br, bl)."""
    q = np.asarray(quad, dtype=np.float32).reshape(4, 2)
    tl, tr, br, bl = q
    left_mid, right_mid = (tl + bl) / 2, (tr + br) / 2
    height = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    axis = right_mid - left_mid
    length = float(np.linalg.norm(axis))
    if length < 1e-6:
        return q.copy()
    u = axis / length
    cut = min(spec.shrink_ends * height, 0.45 * length)
    hs = spec.shrink_height
    new_left = left_mid + u * cut
    new_right = right_mid - u * cut
    # Move top/bottom edges toward the mid-line, keeping their direction.
    return np.stack(
        [
            new_left + (tl - left_mid) * hs,
            new_right + (tr - right_mid) * hs,
            new_right + (br - right_mid) * hs,
            new_left + (bl - left_mid) * hs,
        ]
    ).astype(np.float32)


def expand_rect(center: tuple[float, float], size: tuple[float, float], angle: float, spec: DecodeSpec) -> np.ndarray:
    """Inverse of shrink_quad for a rotated rectangle in the same units."""
    (cx, cy), (w, h) = center, size
    # minAreaRect may report the text line rotated by 90 degrees.
    if h > w:
        w, h = h, w
        angle += 90.0
    band_h = h / spec.shrink_height  # the height the training target was cut from
    full_w = w + 2 * spec.shrink_ends * band_h
    full_h = band_h * spec.height_scale
    box = cv2.boxPoints(((cx, cy), (full_w, full_h), angle))
    return order_quad(box)


def decode(
    prob: np.ndarray,
    spec: DecodeSpec,
    stride: int,
    scale_x: float = 1.0,
    scale_y: float = 1.0,
) -> list[Detection]:
    """Link probability map (H/stride, W/stride) -> detections in frame pixels."""
    mask = (prob >= spec.threshold).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    out: list[Detection] = []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i, :5])
        if area < spec.min_area:
            continue
        # Only inside the region's box: a frame has tens of regions, most of
        # them specks, and the whole map is 4x larger at stride 2.
        sub = labels[y : y + h, x : x + w] == i
        score = float(prob[y : y + h, x : x + w][sub].mean(dtype=np.float64))
        if score < spec.min_score:
            continue
        # The outline's points have the same convex hull, so the same
        # minimum-area rectangle, as all of the region's pixels: far fewer
        # points to hull.
        outline, _ = cv2.findContours(sub.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        pts = (np.concatenate(outline).reshape(-1, 2) + (x, y)).astype(np.float32)
        # No +1 for pixel extent: rasterize_targets fills every cell a shrunk
        # quad touches, and measured over line heights 8-40 px the two
        # biases cancel (mean decoded/true height 1.00).
        (cx, cy), (rw, rh), ang = cv2.minAreaRect(pts)
        # A one-row or one-column component has zero extent across it; it
        # still covers at least one cell, and a zero-height quad cannot be read.
        quad = expand_rect((cx, cy), (max(rw, 1.0), max(rh, 1.0)), ang, spec)
        # Map cell centre -> model-input pixel centre -> frame pixel.
        quad = (quad + 0.5) * stride
        quad[:, 0] *= scale_x
        quad[:, 1] *= scale_y
        out.append(Detection(quad=quad.astype(np.float32), score=score))
    return reading_order(out)


def reading_order(dets: list[Detection]) -> list[Detection]:
    """Top to bottom (in steps of a line height), then left to right."""
    return sorted(dets, key=lambda d: (round(float(d.quad[:, 1].mean()) / max(1.0, quad_height(d.quad))),
                                       float(d.quad[0, 0])))


def merge_scales(first: list[Detection], more: list[Detection], overlap: float = 0.3) -> list[Detection]:
    """Detections of one frame at two input sizes: all of ``first``, plus each
    of ``more`` that mostly lies outside every one of them (a line the first
    size missed), in reading order."""
    extra = [d for d in more if all(quad_overlap(d.quad, f.quad) < overlap for f in first)]
    return reading_order(first + extra)


def fill_cells(target: np.ndarray, poly: np.ndarray, stride: int) -> None:
    """Set to 1 the cells of a stride-``stride`` map that a polygon given in
    input pixels covers (cell centres at (k + 0.5) * stride, as ``decode``
    reads them back; sub-pixel vertices)."""
    cells = np.asarray(poly, np.float32) / stride - 0.5
    cv2.fillPoly(target, [np.round(cells * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)


def rasterize_targets(quads: list[np.ndarray], shape: tuple[int, int], stride: int, spec: DecodeSpec) -> np.ndarray:
    """Target map (H/stride, W/stride) uint8 {0,1} for quads given in input pixels."""
    h, w = shape
    target = np.zeros((h // stride, w // stride), dtype=np.uint8)
    for q in quads:
        fill_cells(target, shrink_quad(q, spec), stride)
    return target
