"""The evaluator's own rules: matching, the target ceiling, threshold tuning."""

from __future__ import annotations

import numpy as np

from edge_app.decode import rasterize_targets
from edge_app.model_spec import ModelSpec
from edge_app.preprocess import ModelInput, preprocess
from training.evaluate import EvalItem, GtLink, ceiling_prob_fn, evaluate, tune_decode

SPEC = ModelSpec()


def _page(n_lines: int = 4) -> EvalItem:
    """A blank 640x480 frame with link lines 24 px high, 60 px apart."""
    img = np.full((480, 640, 3), 255, np.uint8)
    links = []
    for i in range(n_lines):
        y = 60 + 60 * i
        q = np.array([[80, y], [420, y], [420, y + 24], [80, y + 24]], np.float32)
        links.append(GtLink(f"https://example.org/{i}", [q], False))
    return EvalItem(f"page{n_lines}", img, links)


def test_ceiling_finds_every_well_spaced_line() -> None:
    fn, remember = ceiling_prob_fn(SPEC)
    res = evaluate(map(remember, [_page()]), fn, SPEC, progress=False)
    assert (res.tp, res.fp, res.fn) == (4, 0, 0)


def test_ceiling_merges_lines_closer_than_the_stride() -> None:
    # Two 8 px lines 9 px apart at a 4 px stride: their bands fill
    # neighbouring cells and decode as one region; 10 px apart they do not.
    img = np.full((480, 640, 3), 255, np.uint8)
    quads = [np.array([[80, y], [420, y], [420, y + 8], [80, y + 8]], np.float32) for y in (100, 109)]
    item = EvalItem("tight", img, [GtLink("https://a.org", [quads[0]], False), GtLink("https://b.org", [quads[1]], False)])
    fn, remember = ceiling_prob_fn(SPEC)
    res = evaluate(map(remember, [item]), fn, SPEC, progress=False)
    assert (res.tp, res.fp) == (0, 1)


def _noisy_prob_fn(item: EvalItem):
    """Links at 0.65 and a link-sized false blob at 0.55: only a threshold
    between the two gets both precision and recall right."""

    def fn(frame: np.ndarray) -> tuple[np.ndarray, ModelInput]:
        mi = preprocess(frame, SPEC.input)
        scale = np.array([mi.scale_x, mi.scale_y], np.float32)
        links = rasterize_targets([q / scale for g in item.links for q in g.quads], mi.image.shape, 4, SPEC.decode)
        fake = np.array([[80, 400], [420, 400], [420, 424], [80, 424]], np.float32) / scale
        blob = rasterize_targets([fake], mi.image.shape, 4, SPEC.decode)
        return (0.65 * links + 0.55 * blob).astype(np.float32), mi

    return fn


def test_tuning_picks_the_threshold_between_signal_and_noise_and_the_smaller_input() -> None:
    item = _page()
    fn = _noisy_prob_fn(item)
    # Both "input sizes" give the same maps: the larger one gains nothing.
    tuned = tune_decode(iter([item]), {640: fn, 960: fn}, SPEC, thresholds=(0.5, 0.6, 0.7),
                        min_scores=(0.5, 0.6, 0.7), progress=False)
    assert tuned.long_side == 640 and (tuned.precision, tuned.recall) == (1.0, 1.0)
    # The blob (mean 0.55) is out by the threshold or by min_score.
    assert tuned.threshold > 0.55 or tuned.min_score > 0.55
    low = next(g for g in tuned.grid if (g["long_side"], g["threshold"], g["min_score"]) == (640, 0.5, 0.5))
    assert low["precision"] < 1.0 and low["recall"] == 1.0
    # Pairs where min_score < threshold are skipped: they mean nothing.
    assert all(g["min_score"] >= g["threshold"] for g in tuned.grid)
    assert {g["long_side"] for g in tuned.grid} == {640, 960}


def test_height_ratio_measures_thick_bands_and_height_scale_undoes_it() -> None:
    from dataclasses import replace

    from edge_app.results import quad_height
    from training.evaluate import height_ratio

    item = _page()
    fat = replace(SPEC, decode=replace(SPEC.decode, shrink_height=0.7))  # bands 1.4x the target's

    def thick(frame: np.ndarray) -> tuple[np.ndarray, ModelInput]:
        mi = preprocess(frame, SPEC.input)
        scale = np.array([mi.scale_x, mi.scale_y], np.float32)
        quads = [q / scale for g in item.links for q in g.quads]
        return rasterize_targets(quads, mi.image.shape, 4, fat.decode).astype(np.float32), mi

    ratio, pairs = height_ratio(iter([item]), thick, SPEC, progress=False)
    assert pairs == 4 and 0.5 < ratio < 0.85
    fixed = replace(SPEC, decode=replace(SPEC.decode, height_scale=ratio))
    res = evaluate(iter([item]), thick, fixed, progress=False)
    assert res.tp == 4
    from edge_app.decode import decode

    prob, mi = thick(item.image)
    before = [quad_height(d.quad) for d in decode(prob, SPEC.decode, 4, mi.scale_x, mi.scale_y)]
    after = [quad_height(d.quad) for d in decode(prob, fixed.decode, 4, mi.scale_x, mi.scale_y)]
    assert np.allclose(np.median(after), 24, atol=2.5) and np.median(before) > 28


def test_a_second_input_size_adds_only_the_lines_the_first_missed() -> None:
    # The first "size" sees the first two lines only, the second sees all four:
    # merged, every line is found once (photo mode's rule, decode.merge_scales).
    item = _page()

    def partial(keep: int):
        def fn(frame: np.ndarray) -> tuple[np.ndarray, ModelInput]:
            mi = preprocess(frame, SPEC.input)
            scale = np.array([mi.scale_x, mi.scale_y], np.float32)
            quads = [q / scale for g in item.links[:keep] for q in g.quads]
            return rasterize_targets(quads, mi.image.shape, 4, SPEC.decode).astype(np.float32), mi
        return fn

    alone = evaluate(iter([item]), partial(2), SPEC, progress=False)
    merged = evaluate(iter([item]), partial(2), SPEC, progress=False, more=(partial(4),))
    assert (alone.tp, alone.fn, alone.fp) == (2, 2, 0)
    assert (merged.tp, merged.fn, merged.fp) == (4, 0, 0)


def test_tuning_chooses_joining_where_a_map_breaks_lines_into_pieces() -> None:
    """Each line's band drops to 0.4 in two places: unjoined, every line is
    three pieces (each too short to match); joined at 0.3, all four match."""
    item = _page()

    def broken(frame: np.ndarray) -> tuple[np.ndarray, ModelInput]:
        mi = preprocess(frame, SPEC.input)
        scale = np.array([mi.scale_x, mi.scale_y], np.float32)
        quads = [q / scale for g in item.links for q in g.quads]
        prob = 0.95 * rasterize_targets(quads, mi.image.shape, 4, SPEC.decode).astype(np.float32)
        for x in (180, 300):  # input pixels, inside every band
            c = int(x / mi.scale_x / 4)
            prob[:, c:c + 2] = np.minimum(prob[:, c:c + 2], 0.4)
        return prob, mi

    tuned = tune_decode(iter([item]), {640: broken}, SPEC, thresholds=(0.5,), min_scores=(0.9,),
                        join_thresholds=(None, 0.3), progress=False)
    by_join = {g["join_threshold"]: g for g in tuned.grid}
    assert by_join[None]["recall"] == 0.0 and by_join[0.3]["recall"] == 1.0
    assert tuned.join_threshold == 0.3 and tuned.f1 == 1.0


def test_the_map_alone_ignores_a_line_check_beside_the_model(tmp_path) -> None:
    # convert.line_check --retune --out DIR writes DIR/line_check.tflite before its
    # sidecar; the detector's map beside it must still load.
    import shutil

    from edge_app.model_spec import default_model_path
    from training.evaluate import tflite_prob_fn

    src = default_model_path()
    for f in (src, src.with_suffix(".json")):
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "line_check.tflite").write_bytes(b"half written")
    fn, spec = tflite_prob_fn(tmp_path / src.name, threads=1)
    link, mi = fn(np.full((480, 640, 3), 255, np.uint8))
    assert link.ndim == 2 and link.max() < 0.5
    assert spec.output.stride == 2


def test_a_link_read_right_from_its_own_quads_is_legible_and_one_over_blank_paper_is_not() -> None:
    import cv2
    from printed_lines import LEADING, printed_lines

    from edge_app.pipeline import Pipeline, PipelineSettings
    from training.evaluate import tag_legible
    from training.legibility import true_quads_settings

    text = "see https://example.org/docs today"
    page, quad = printed_lines([text])
    start = text.index("https")
    q = quad(0, start, start + len("https://example.org/docs"))
    printed = GtLink("https://example.org/docs", [q], False)
    blank = GtLink("https://example.org/docs", [q + np.float32([0, 3 * LEADING])], False)
    cut = GtLink("https://see.org", [quad(0, 0, 3)], True)  # cut by the frame edge: not scored, not read
    with Pipeline(true_quads_settings(PipelineSettings(track=False))) as pipeline:
        [item] = tag_legible(iter([EvalItem("page", cv2.cvtColor(page, cv2.COLOR_GRAY2BGR), [printed, blank, cut])]),
                             pipeline)
    assert [(g.tags.get("legible"), g.tags.get("not legible")) for g in item.links] == \
        [(True, False), (False, True), (None, None)]
    # The tags are slices of the recall like any other.
    fn, remember = ceiling_prob_fn(SPEC)
    res = evaluate(map(remember, [item]), fn, SPEC, progress=False)
    assert (res.by_tag["legible"].tp, res.by_tag["not legible"].tp) == (1, 1)
