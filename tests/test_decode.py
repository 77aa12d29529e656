"""Decoding helpers: reading order and merging detections made at two input sizes."""

from __future__ import annotations

import numpy as np
import pytest

from edge_app.decode import decode, line_confidence, merge_scales, rasterize_targets, reading_order
from edge_app.model_spec import DecodeSpec
from edge_app.results import Detection, quad_iou, quad_overlap, quad_size


def _det(x0: float, y0: float, x1: float, y1: float, score: float = 0.95) -> Detection:
    return Detection(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32), score)


def test_reading_order_is_top_to_bottom_then_left_to_right() -> None:
    a, b, c = _det(300, 10, 400, 30), _det(10, 12, 200, 32), _det(10, 60, 200, 80)
    assert [d.quad[0, 0] for d in reading_order([c, a, b])] == [10, 300, 10]


def test_merge_adds_the_lines_the_first_size_missed_once() -> None:
    first = [_det(10, 10, 300, 30), _det(10, 100, 200, 120)]
    more = [
        _det(12, 11, 305, 31, score=0.99),  # the same line, found again: dropped, however sure
        _det(20, 101, 120, 119, score=0.9),  # a piece of a line already found, less sure: dropped
        _det(10, 50, 250, 65),  # a small line only the larger input found: added
    ]
    merged = merge_scales(first, more)
    assert len(merged) == 3
    assert merged[0] is first[0] and merged[2] is first[1]  # reading order, first size's quads kept
    assert merged[1] is more[2]
    assert merge_scales(first, []) == first and merge_scales([], more[2:]) == more[2:]


def test_merge_keeps_the_size_the_models_are_surer_of_where_lines_overlap() -> None:
    # The first size ran two links of one printed line together; the second
    # size has them apart, and the line check is surer of its two.
    run_together = Detection(_det(10, 10, 400, 30).quad, 0.92, check=0.55)
    apart = [Detection(_det(10, 10, 190, 30).quad, 0.93, check=0.97),
             Detection(_det(215, 10, 400, 30).quad, 0.91, check=0.95)]
    other = _det(10, 60, 300, 80)  # a line of its own, untouched
    assert merge_scales([run_together, other], apart) == [apart[0], apart[1], other]
    # The other way round: the first size's two lines are the surer ones.
    doubtful = [Detection(d.quad, d.score, check=0.4) for d in apart]
    assert merge_scales([run_together, other], doubtful) == [run_together, other]
    # The same one line found by both: the first size's outline stays, however sure the other.
    assert merge_scales([run_together], [Detection(run_together.quad + 1, 0.99, check=0.99)]) == [run_together]
    # A tie keeps the first size's lines; without the check's word, the map's score decides.
    tied = [Detection(d.quad, 0.92, check=0.55) for d in apart]
    assert merge_scales([run_together], tied) == [run_together]
    assert line_confidence(_det(0, 0, 10, 10, score=0.9)) == pytest.approx(0.9)
    assert line_confidence(run_together) == pytest.approx((0.92 + 0.55) / 2)
    pieces = [_det(10, 100, 150, 120, score=0.85), _det(160, 100, 300, 120, score=0.86)]
    whole = _det(10, 100, 300, 120, score=0.95)
    assert merge_scales(pieces, [whole]) == [whole]


def test_merge_keeps_the_whole_line_where_one_size_found_a_piece_of_it() -> None:
    # One line each, in the same place: the first size's is a piece of the
    # other's (or ran on past it); the longer is kept, however sure the shorter.
    piece = Detection(_det(10, 10, 150, 30).quad, 0.97, check=1.0)
    whole = Detection(_det(10, 10, 300, 30).quad, 0.85, check=0.9)
    assert merge_scales([piece], [whole]) == [whole]
    assert merge_scales([whole], [piece]) == [whole]
    # Lengths that differ less are the same line found twice: the first size's stays.
    nearly = Detection(_det(10, 10, 250, 30).quad, 0.99, check=1.0)
    assert merge_scales([whole], [nearly]) == [whole] and merge_scales([nearly], [whole]) == [nearly]
    assert merge_scales([piece], [whole], longer=3.0) == [piece]


def test_overlap_is_measured_against_the_smaller_quad() -> None:
    big, inside = _det(0, 0, 100, 20).quad, _det(10, 5, 30, 15).quad
    assert quad_overlap(big, inside) == 1.0
    assert quad_overlap(big, _det(200, 0, 300, 20).quad) == 0.0


@pytest.mark.parametrize("angle", [-60.0, -35.0, -10.0, 0.0, 10.0, 28.0, 35.0, 60.0])
def test_a_turned_line_decodes_to_a_quad_along_it_reading_left_to_right(angle: float) -> None:
    # A line turned clockwise by more than about 27 degrees once came back on
    # its side (the short edge as its top): the reader then cut out a strip
    # across the text.
    spec = DecodeSpec()
    c, (w, h) = np.array([256.0, 256.0]), (320.0, 24.0)
    t = np.deg2rad(angle)
    u, v = np.array([np.cos(t), np.sin(t)]), np.array([-np.sin(t), np.cos(t)])
    quad = np.array([c - u * w / 2 - v * h / 2, c + u * w / 2 - v * h / 2,
                     c + u * w / 2 + v * h / 2, c - u * w / 2 + v * h / 2], np.float32)
    prob = rasterize_targets([quad], (512, 512), 4, spec).astype(np.float32)
    [det] = decode(prob, spec, stride=4)
    qw, qh = quad_size(det.quad)
    assert qw > 5 * qh
    tl, tr, _br, bl = det.quad
    assert tr[0] > tl[0]  # the top edge points right
    assert np.dot(bl - tl, v) > 0  # and the bottom lies below it, across the line
    assert quad_iou(det.quad, quad) > 0.6


def test_region_rectangles_match_those_of_all_their_pixels() -> None:
    """decode fits each region's rectangle to its outline only: the same
    convex hull as all of its pixels, so the same rectangle, on ragged,
    turned, holed blobs like a real map's."""
    import cv2

    from edge_app.decode import expand_rect

    rng = np.random.default_rng(7)
    spec = DecodeSpec(threshold=0.5, min_score=0.0, min_area=3.0)
    prob = np.zeros((200, 320), np.float32)
    for _ in range(25):
        c = rng.uniform([20, 20], [300, 180])
        box = cv2.boxPoints(((float(c[0]), float(c[1])), (float(rng.uniform(3, 60)), float(rng.uniform(1, 6))),
                             float(rng.uniform(-30, 30))))
        cv2.fillPoly(prob, [np.round(box).astype(np.int32)], 1.0)
    prob[rng.random(prob.shape) < 0.15] = 0.0  # holes and ragged edges
    n, labels, stats, _ = cv2.connectedComponentsWithStats((prob >= 0.5).astype(np.uint8), connectivity=8)
    want = []
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] < spec.min_area:
            continue
        ys, xs = np.nonzero(labels == i)
        (cx, cy), (w, h), ang = cv2.minAreaRect(np.stack([xs, ys], 1).astype(np.float32))
        want.append((expand_rect((cx, cy), (max(w, 1.0), max(h, 1.0)), ang, spec) + 0.5) * 4)
    got = [d.quad for d in decode(prob, spec, 4)]
    assert len(got) == len(want) > 10
    for q in got:
        assert min(float(np.abs(q - w).max()) for w in want) < 1e-2


def _band_with_dips(prob: np.ndarray, y0: int, x0: int, x1: int, dips: list[int], dip: float) -> None:
    """A 3-cell band at 0.95 from x0 to x1, falling to ``dip`` in 2-cell gaps at ``dips``."""
    prob[y0:y0 + 3, x0:x1] = 0.95
    for x in dips:
        prob[y0:y0 + 3, x:x + 2] = dip


def test_join_threshold_links_the_pieces_of_a_dipping_line_into_one() -> None:
    prob = np.zeros((60, 200), np.float32)
    _band_with_dips(prob, 20, 10, 190, dips=[60, 120], dip=0.35)
    base = DecodeSpec(threshold=0.6, min_score=0.9, min_area=3.0)
    pieces = decode(prob, base, 2)
    assert len(pieces) == 3
    joined = decode(prob, DecodeSpec(threshold=0.6, min_score=0.9, min_area=3.0, join_threshold=0.3), 2)
    assert len(joined) == 1
    # Shape and score come from the pixels above the threshold: the dips
    # connect, they do not lower the score or change the line's height.
    assert joined[0].score == pytest.approx(0.95)
    w, h = quad_size(joined[0].quad)
    assert w > 2 * 170 and h == pytest.approx(quad_size(pieces[0].quad)[1], abs=0.5)
    # A bar at or above the pixel threshold joins nothing; one above the dips neither.
    for j in (0.6, 0.7, 0.4):
        assert len(decode(prob, DecodeSpec(threshold=0.6, min_score=0.9, min_area=3.0, join_threshold=j), 2)) == 3


def test_join_threshold_keeps_lines_apart_that_nothing_connects() -> None:
    # Two lines two cells apart over a zero background, and a speck joined to
    # nothing: the same regions as without joining.
    prob = np.zeros((60, 200), np.float32)
    _band_with_dips(prob, 20, 10, 190, dips=[], dip=0.0)
    _band_with_dips(prob, 25, 10, 190, dips=[], dip=0.0)
    prob[40, 50] = 0.95
    spec = DecodeSpec(threshold=0.6, min_score=0.9, min_area=3.0)
    a = decode(prob, spec, 2)
    b = decode(prob, DecodeSpec(threshold=0.6, min_score=0.9, min_area=3.0, join_threshold=0.2), 2)
    assert len(a) == len(b) == 2
    assert all(np.allclose(x.quad, y.quad) and x.score == y.score for x, y in zip(a, b))
