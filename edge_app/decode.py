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
from edge_app.results import Detection, quad_height, quad_overlap, quad_size


def order_quad(pts: np.ndarray) -> np.ndarray:
    """Order 4 points as tl, tr, br, bl for a line of text read left to right:
    the top edge is a long side (the line runs along it) pointing rightwards
    (straight up for a line turned a quarter turn anticlockwise)."""
    # Plain floats: decode calls this for every region of every frame, and
    # numpy's per-call overhead on four points is most of its cost.
    p = [(float(x), float(y)) for x, y in np.asarray(pts, dtype=np.float32).reshape(4, 2)]
    cx, cy = sum(x for x, _ in p) / 4, sum(y for _, y in p) / 4
    # Clockwise in image coordinates, starting at ~ -pi (left); a stable
    # sort, as np.argsort's on four keys.
    p = sorted(p, key=lambda q: math.atan2(q[1] - cy, q[0] - cx))
    edges = [math.hypot(p[(k + 1) % 4][0] - p[k][0], p[(k + 1) % 4][1] - p[k][1]) for k in range(4)]
    best: tuple[float, list[tuple[float, float]]] | None = None
    for k in range(4):
        # Starting at point k makes edge k the top. A short top edge would
        # turn a line steeper than about 27 degrees clockwise on its side.
        if edges[k] < edges[(k + 1) % 4] - 1e-3:
            continue
        q = p[k:] + p[:k]
        top_x, top_y = q[1][0] - q[0][0], q[1][1] - q[0][1]
        if top_x < 0 or (top_x == 0 and top_y > 0):
            continue
        # Of two equal candidates (a square), the one starting top-left.
        score = q[0][0] + q[0][1] * 0.5
        if best is None or score < best[0]:
            best = (score, q)
    return np.array(best[1] if best is not None else p, dtype=np.float32)


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
    on = prob >= spec.threshold
    joined = spec.joins
    linked = prob >= spec.join_threshold if joined else on
    n, labels, stats, _ = cv2.connectedComponentsWithStats(linked.view(np.uint8), connectivity=8)
    # Every region's area and mean in one pass over the pixels above
    # threshold only (a few percent of the map; a frame has tens of regions,
    # most of them specks that fail the score). Joining pixels below the
    # threshold only connect: they count in neither.
    on_labels = labels[on]
    areas = np.bincount(on_labels, minlength=n)
    sums = np.bincount(on_labels, weights=prob[on], minlength=n)
    out: list[Detection] = []
    for i, (x, y, w, h) in enumerate(stats[:, :4].tolist()):
        area = int(areas[i])
        if i == 0 or area < spec.min_area:  # 0: the background
            continue
        score = float(sums[i] / area)
        if score < spec.min_score:
            continue
        sub = labels[y : y + h, x : x + w] == i
        if joined:
            sub &= on[y : y + h, x : x + w]
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


def line_confidence(det: Detection) -> float:
    """How sure the models are of a line: the map's score, averaged with the
    line check's probability where the check was asked."""
    return det.score if det.check is None else (det.score + det.check) / 2


# Where each input size found one line in a place, lines this many times
# longer than the other are the other size's piece of them, or the line
# whole where the other ran short (model notes, a twenty-second session).
LONGER_LINE = 1.5


def merge_scales(first: list[Detection], more: list[Detection], overlap: float = 0.3,
                 longer: float = LONGER_LINE) -> list[Detection]:
    """Detections of one frame at two input sizes, as one set, in reading order.

    A line only one size found is kept. Where the sizes disagree on how many
    lines lie in one place (one size's line overlaps two or more of the
    other's: two lines run together, or one line in pieces), the lines of the
    size the models are surer of there are kept (``line_confidence`` on
    average; the first size on a tie). Where each found one line, the longer
    is kept if it is ``longer`` times the other's length or more (the other
    is a piece of it), else the first size's: its outline reads as well or
    better. (Keeping the first size's lines everywhere lost the lines the
    other size had apart or whole; model notes, twenty-first and
    twenty-second sessions.)"""
    n = len(first)
    parent = list(range(n + len(more)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, f in enumerate(first):
        for j, m in enumerate(more):
            if quad_overlap(f.quad, m.quad) >= overlap:
                parent[root(i)] = root(n + j)
    groups: dict[int, tuple[list[Detection], list[Detection]]] = {}
    for k, det in enumerate(first + more):
        groups.setdefault(root(k), ([], []))[k >= n].append(det)
    kept: list[Detection] = []
    for ours, theirs in groups.values():
        if not ours or not theirs:
            kept += ours or theirs
        elif len(ours) == len(theirs) == 1:
            kept += theirs if quad_size(theirs[0].quad)[0] >= longer * quad_size(ours[0].quad)[0] else ours
        else:
            surer = np.mean([line_confidence(d) for d in theirs]) > np.mean([line_confidence(d) for d in ours])
            kept += theirs if surer else ours
    return reading_order(kept)


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
