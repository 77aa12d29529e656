"""The line check: strips cut from candidate quads, its sidecar, and the rule
that keeps a candidate (a tiny classifier converted in-process, and the shipped one)."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_app.detector import Detector, DetectorSettings
from edge_app.errors import ModelError
from edge_app.line_check import CheckSpec, LineChecker, StripSpec, cut_strip, default_check_path, load_check_spec
from edge_app.model_spec import default_model_path, load_spec
from edge_app.results import Detection

SMALL = StripSpec(height=32, width=128)


def _page_with_line(text: str, angle: float, invert: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """A gray page with ``text`` printed on one line, turned by ``angle`` degrees
    about the page centre, and the line's quad (tl, tr, br, bl)."""
    page = np.full((400, 600), 235, np.uint8)
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 1.0, 2)
    x0, y0 = 100, 200
    cv2.putText(page, text, (x0, y0), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 20, 2, cv2.LINE_AA)
    quad = np.array([[x0, y0 - h], [x0 + w, y0 - h], [x0 + w, y0 + base], [x0, y0 + base]], np.float32)
    m = cv2.getRotationMatrix2D((300, 200), angle, 1.0)
    page = cv2.warpAffine(page, m, (600, 400), borderValue=235)
    quad = cv2.transform(quad[None], m)[0]
    return (255 - page if invert else page), quad


@pytest.mark.parametrize("angle", [0.0, 12.0, -20.0])
def test_strip_is_the_line_upright_at_the_spec_size(angle):
    page, quad = _page_with_line("example.org/a", angle)
    flat_page, flat_quad = _page_with_line("example.org/a", 0.0)
    strip = cut_strip(page, quad, SMALL)
    flat = cut_strip(flat_page, flat_quad, SMALL)
    assert strip.shape == (SMALL.height, SMALL.width) and strip.dtype == np.uint8
    # Dark ink in the middle rows, light margins: the line is upright, not on its side.
    ink = (strip < 128).mean(axis=1)
    assert ink[SMALL.height // 2 - 4: SMALL.height // 2 + 4].mean() > 3 * max(ink[:3].mean(), 0.01)
    # Turned pages give (nearly) the strip of the flat one.
    diff = np.abs(strip.astype(int) - flat.astype(int))
    assert np.mean(diff > 100) < 0.08


def test_strip_puts_light_text_on_dark_the_right_way_round():
    page, quad = _page_with_line("https://x.io", 0.0)
    inv, _ = _page_with_line("https://x.io", 0.0, invert=True)
    a, b = cut_strip(page, quad, SMALL), cut_strip(inv, quad, SMALL)
    assert (b < 128).mean() < 0.5  # ink stays the minority, dark
    assert np.mean(np.abs(a.astype(int) - b.astype(int)) > 100) < 0.05


def test_long_lines_are_squeezed_and_short_ones_padded_white():
    page, quad = _page_with_line("a", 0.0)
    short = cut_strip(page, quad, SMALL)
    assert (short[:, -20:] == 255).all()
    long_page, long_quad = _page_with_line("www.example.org/a/long/path", 0.0)  # fits the page
    assert (cut_strip(long_page, long_quad, SMALL)[:, -10:] < 128).any()  # ink reaches the end


def test_sidecar_round_trip_and_bad_fields(tmp_path):
    spec = CheckSpec(strip=SMALL, candidate_min_score=0.7, keep=0.4, info={"a": 1})
    spec.save(tmp_path / "c.json")
    assert load_check_spec(tmp_path / "c.tflite") == spec
    (tmp_path / "d.json").write_text(json.dumps({"strip": {"height": 32, "depth": 3}}))
    with pytest.raises(ModelError, match="unexpected fields"):
        load_check_spec(tmp_path / "d.tflite")
    with pytest.raises(ModelError, match="no sidecar"):
        load_check_spec(tmp_path / "e.tflite")


@pytest.fixture(scope="module")
def tiny_check(tmp_path_factory) -> Path:
    """An untrained classifier at SMALL's size, converted to int8 by the project's
    converter; its output is some probability per strip, which is all the rule needs."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    pytest.importorskip("tensorflow")
    import keras

    from convert.tflite_export import convert_saved_model
    from training.line_check_model import build_check_model

    keras.utils.set_random_seed(0)
    root = tmp_path_factory.mktemp("check")
    build_check_model(SMALL, width=8).export(str(root / "sm"), verbose=False)
    rng = np.random.default_rng(0)

    def representative():
        for _ in range(8):
            yield rng.integers(0, 256, (1, SMALL.height, SMALL.width, 1)).astype(np.float32)

    path = root / "tiny_check.tflite"
    path.write_bytes(convert_saved_model(root / "sm", "int8", representative))
    CheckSpec(strip=SMALL, candidate_min_score=0.7, keep=0.5).save(path.with_suffix(".json"))
    return path


def _dets(quad: np.ndarray, scores: list[float]) -> list[Detection]:
    return [Detection(quad=quad + i, score=s) for i, s in enumerate(scores)]


def _lines(dets: list[Detection]) -> list[tuple[bytes, float]]:
    """Which lines: kept lines carry the check's probability, so they are new objects."""
    return [(np.asarray(d.quad).tobytes(), d.score) for d in dets]


@pytest.mark.slow
def test_keep_rule_sure_lines_always_doubtful_ones_by_the_bar(tiny_check, tmp_path):
    page, quad = _page_with_line("www.example.org", 0.0)
    checker = LineChecker(tiny_check, threads=1)
    dets = _dets(quad, [0.95, 0.8, 0.78])
    p = checker.probs(page, [d.quad for d in dets])
    assert p.shape == (3,) and ((p >= 0) & (p <= 1)).all()
    for keep, want in ((0.0, 3), (1.01, 1)):
        checker.spec = replace(checker.spec, keep=keep)
        kept = checker.keep(page, dets, sure=0.9)
        assert len(kept) == want
        assert kept[0] is dets[0]  # the sure line, whatever the classifier says (no veto)
    # A veto: a sure line goes only below it; the doubtful ones still go by keep.
    below, above = float(p.min()) - 1e-3, 1.01
    checker.spec = replace(checker.spec, keep=above, veto=above)
    assert checker.keep(page, dets, sure=0.9) == []
    checker.spec = replace(checker.spec, keep=above, veto=below)
    assert _lines(checker.keep(page, dets, sure=0.9)) == _lines(dets[:1])
    checker.spec = replace(checker.spec, keep=below, veto=above)
    assert _lines(checker.keep(page, dets, sure=0.9)) == _lines(dets[1:])
    assert checker.keep(page, [], sure=0.9) == []
    # What the check said travels with each line it asked about (photo mode weighs the sizes by it).
    checker.spec = replace(checker.spec, keep=below, veto=below)
    assert [d.check for d in checker.keep(page, dets, sure=0.9)] == pytest.approx(p.tolist())


def _one_sure_two_doubtful(check: Path) -> tuple[np.ndarray, LineChecker, list[Detection], float, float]:
    """A page with one printed line, a checker, three candidates on it (one the
    map is sure of), and bars just under and over every probability they get."""
    page, quad = _page_with_line("www.example.org", 0.0)
    checker = LineChecker(check, threads=1)
    dets = _dets(quad, [0.95, 0.8, 0.78])
    p = checker.probs(page, [d.quad for d in dets])
    return page, checker, dets, float(p.min()) - 1e-3, 1.01


def test_photo_modes_extra_size_keeps_its_lines_at_the_photo_bars(tiny_check):
    page, checker, dets, below, above = _one_sure_two_doubtful(tiny_check)
    # Older sidecars have no photo bars: the extra size keeps as the first does.
    checker.spec = replace(checker.spec, keep=below, veto=0.0)
    assert checker.spec.for_extra_size() == checker.spec
    assert _lines(checker.keep(page, dets, sure=0.9, extra_size=True)) == _lines(checker.keep(page, dets, sure=0.9)) \
        == _lines(dets)
    # Photo bars over every probability: the extra size keeps nothing, the first size all it kept.
    checker.spec = replace(checker.spec, photo_keep=above, photo_veto=above)
    assert checker.keep(page, dets, sure=0.9, extra_size=True) == []
    assert _lines(checker.keep(page, dets, sure=0.9)) == _lines(dets)
    # Only the photo keep bar: the sure line stays (no veto), the doubtful ones go.
    checker.spec = replace(checker.spec, photo_veto=None)
    assert _lines(checker.keep(page, dets, sure=0.9, extra_size=True)) == _lines(dets[:1])
    assert CheckSpec.from_json(json.loads(json.dumps(checker.spec.to_json()))) == checker.spec


def test_video_frames_keep_their_lines_at_the_video_bars(tiny_check):
    page, checker, dets, below, above = _one_sure_two_doubtful(tiny_check)
    # Older sidecars have no video bars: video keeps as stills do.
    checker.spec = replace(checker.spec, keep=below, veto=0.0)
    assert checker.spec.for_video() == checker.spec
    assert _lines(checker.keep(page, dets, sure=0.9, video=True)) == _lines(dets)
    # Still bars over every probability, video bars under: a still keeps the sure line only, video all.
    checker.spec = replace(checker.spec, keep=above, veto=0.0, video_keep=below, video_veto=0.0)
    checker.forget()
    assert _lines(checker.keep(page, dets, sure=0.9)) == _lines(dets[:1])
    assert _lines(checker.keep(page, dets, sure=0.9, video=True)) == _lines(dets)
    # The other way round, with a video veto: video keeps nothing, the still all.
    checker.spec = replace(checker.spec, keep=below, video_keep=above, video_veto=above)
    checker.forget()
    assert checker.keep(page, dets, sure=0.9, video=True) == []
    assert _lines(checker.keep(page, dets, sure=0.9)) == _lines(dets)
    # Photo mode's extra size is a still: the video bars never reach it.
    assert _lines(checker.keep(page, dets, sure=0.9, extra_size=True)) == _lines(dets)
    spec = replace(checker.spec, wrap_keep=0.2, video_wrap_keep=0.6)
    assert spec.for_video().wrap_keep == 0.6 and replace(spec, video_wrap_keep=None).for_video().wrap_keep == 0.2
    assert CheckSpec.from_json(json.loads(json.dumps(checker.spec.to_json()))) == checker.spec


@pytest.mark.skipif(not default_check_path().is_file(), reason="no shipped line check")
def test_batched_probabilities_are_the_single_ones():
    page, quad = _page_with_line("https://www.example.org/a", 0.0)
    checker = LineChecker(threads=1)  # the shipped one: an untrained one says 0.5 to everything
    quads = [quad + np.float32([4 * i, 2 * (i % 5) - 4]) for i in range(21)]  # a full batch, then a padded one
    together = checker.probs(page, quads)
    alone = np.array([checker.probs(page, [q])[0] for q in quads])
    np.testing.assert_array_equal(together, alone)
    assert len(np.unique(alone)) > 1  # the strips differ, so the order is checked too


@pytest.mark.skipif(not default_check_path().is_file(), reason="no shipped line check")
def test_video_reuses_a_still_lines_check_for_a_few_frames_only():
    page, quad = _page_with_line("https://www.example.org/docs", 0.0)
    blank = np.full_like(page, 235)  # the same place, nothing printed: a different answer
    checker = LineChecker(threads=1, reuse_frames=2)
    on_page, on_blank = checker.probs(page, [quad])[0], checker.probs(blank, [quad])[0]
    assert on_page > on_blank + 0.5
    assert checker.probs_in_video(page, [quad])[0] == on_page
    # Barely moved: the page's answer twice (reuse_frames), then looked at again.
    got = [checker.probs_in_video(blank, [quad + np.float32([1, 0])])[0] for _ in range(3)]
    assert got == [on_page, on_page, on_blank]
    checker.probs_in_video(page, [quad])
    assert checker.probs_in_video(blank, [quad + np.float32([0, 12])])[0] == on_blank  # moved: new look
    checker.probs_in_video(page, [quad])
    checker.forget()
    assert checker.probs_in_video(blank, [quad])[0] == on_blank
    assert checker.probs_in_video(blank, []).shape == (0,)
    assert LineChecker(threads=1).probs_in_video(blank, [quad])[0] == on_blank  # reuse_frames 0: never


@pytest.mark.slow
def test_detector_uses_a_check_next_to_it_and_decodes_lower(tiny_check, tmp_path):
    det_src = default_model_path()
    for ext in (".tflite", ".json"):
        (tmp_path / f"links_detector{ext}").write_bytes(det_src.with_suffix(ext).read_bytes())
    alone = Detector(DetectorSettings(model_path=tmp_path / "links_detector.tflite"))
    assert alone.checker is None
    for ext in (".tflite", ".json"):
        (tmp_path / f"line_check{ext}").write_bytes(tiny_check.with_suffix(ext).read_bytes())
    both = Detector(DetectorSettings(model_path=tmp_path / "links_detector.tflite"))
    assert both.checker is not None
    assert both._decode.min_score == 0.7 < both.spec.decode.min_score
    off = Detector(DetectorSettings(model_path=tmp_path / "links_detector.tflite", use_check=False))
    assert off.checker is None
    frame = cv2.imread(str(Path(__file__).resolve().parent.parent / "edge_app" / "samples" / "page1.jpg"))
    out = both.detect(frame)
    assert "check" in out.timings_ms
    # Every line the map alone is sure of is still there.
    sure = alone.detect(frame).detections
    assert all(any(np.allclose(s.quad, d.quad) for d in out.detections) for s in sure)


def test_corrupt_check_model_is_a_model_error(tmp_path):
    bad = tmp_path / "line_check.tflite"
    bad.write_bytes(b"not a model")
    CheckSpec().save(bad.with_suffix(".json"))
    with pytest.raises(ModelError, match="not a valid TFLite"):
        Detector(DetectorSettings(check_path=bad))
    with pytest.raises(ModelError, match="not found"):
        LineChecker(tmp_path / "missing.tflite")


LINKS = ["https://www.example.org/docs", "www.debian.org/doc/", "http://bit.ly/3xYz9", "https://gnu.org/software/",
         "http://kernel.org/doc/html/latest", "www.python.org/downloads", "https://ctan.org/pkg/hyperref",
         "http://w3.org/TR/html5/", "https://www.r-project.org/", "ftp://ftp.debian.org/debian/"]
TEXT = ["The quick brown fox jumps", "over the lazy dog, and then", "Chapter 4. Compatibility",
        "which we have seen before in", "is the first of these results", "Table 2 gives the values for",
        "and so on until the end of", "More details are given below.", "In this section we describe",
        "they could not have known it"]


def _printed(text: str, font: str, size: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """A gray page with ``text`` on one line in the TrueType ``font``, and its quad."""
    from PIL import Image, ImageDraw, ImageFont
    img = Image.new("L", (900, 160), 235)
    draw, face = ImageDraw.Draw(img), ImageFont.truetype(font, size)
    draw.text((40, 60), text, font=face, fill=25)
    x0, y0, x1, y1 = draw.textbbox((40, 60), text, font=face)
    return np.array(img), [np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)]


@pytest.mark.skipif(not default_check_path().is_file(), reason="no shipped line check")
def test_shipped_check_tells_link_lines_from_text_lines():
    from training.fonts import discover_fonts
    fonts = sorted(f.regular.path for f in discover_fonts())[:8]
    if not fonts:
        pytest.skip("no typefaces installed (scripts/setup-system.sh)")
    checker = LineChecker()
    p_link = np.array([checker.probs(*_printed(t, f, s))[0] for f in fonts for t in LINKS for s in (18, 26)])
    p_text = np.array([checker.probs(*_printed(t, f, s))[0] for f in fonts for t in TEXT for s in (18, 26)])
    # How often a link line outranks a text line (ROC AUC) on such isolated lines:
    # the twelfth session's 41k-parameter check 0.86, the thirteenth's wider one 0.96.
    auc = ((p_link[:, None] > p_text[None]) + 0.5 * (p_link[:, None] == p_text[None])).mean()
    assert auc >= 0.85, (auc, p_link.mean(), p_text.mean())
    assert np.median(p_link) > 0.5 > np.median(p_text)


def _one(text: str) -> tuple[np.ndarray, list[np.ndarray]]:
    page, quad = _page_with_line(text, 0.0)
    return page, [quad]


def test_candidates_are_labelled_link_text_or_left_out():
    from training.evaluate import EvalItem, GtLink
    from training.line_strips import label_candidates

    line = np.array([[100, 100], [400, 100], [400, 120], [100, 120]], np.float32)
    cut = np.array([[500, 300], [700, 300], [700, 320], [500, 320]], np.float32)
    item = EvalItem("x", np.zeros((400, 800), np.uint8),
                    [GtLink("https://a.org/long", [line], False), GtLink("b.org", [cut], True)])
    same = line + 2
    far = line + np.float32([0, 200])
    piece = np.array([[100, 100], [180, 100], [180, 120], [100, 120]], np.float32)  # a quarter of it
    on_cut = cut + 1  # a link cut by the frame edge is still link text
    cut_piece = np.array([[500, 300], [540, 300], [540, 320], [500, 320]], np.float32)
    assert label_candidates([same, far, piece, on_cut, cut_piece], item) == [1, 0, None, 1, None]


@pytest.mark.slow
def test_bar_choice_sees_more_lines_kept_at_a_lower_bar(tiny_check):
    from convert.line_check import MAP_ALONE, f1_by_rule
    from synth_pages import synth_eval_items

    items = synth_eval_items(4)
    checker = LineChecker(tiny_check, threads=1)
    own = load_spec(default_model_path()).decode.join_threshold  # the detector's own joining
    joins = (None, own) if own is not None else (None, 0.2)
    grid = f1_by_rule(items, default_model_path(), checker, keeps=(0.0, 1.01), vetoes=(0.0, 1.01),
                      cands=(0.75, 0.85), joins=joins, wraps=(None, 0.0))
    # a veto never above keep
    assert set(grid) == {(c, j, k, v, w) for c in (0.75, 0.85) for j in joins for w in (None, 0.0)
                         for k, v in [(0.0, 0.0), (1.01, 0.0), (1.01, 1.01)]} | {MAP_ALONE}
    for j in joins:
        (p_all, r_all, _), (p_sure, r_sure, _) = grid[(0.75, j, 0.0, 0.0, None)], grid[(0.75, j, 1.01, 0.0, None)]
        assert grid[(0.75, j, 1.01, 1.01, None)][1] == 0  # nothing passes a bar over 1 when every line is checked
        assert grid[(0.75, j, 1.01, 0.0, None)] == grid[(0.85, j, 1.01, 0.0, None)]  # both: the sure lines only
        assert r_all >= r_sure  # every candidate kept vs the sure ones only
        assert r_all >= grid[(0.85, j, 0.0, 0.0, None)][1]  # a lower candidate bar lets more lines in
        assert 0 <= p_all <= 1 and 0 <= p_sure <= 1 and r_sure > 0
        # Wrapped rests only add lines to what the other bars keep; with everything kept, nothing.
        assert grid[(0.75, j, 1.01, 0.0, 0.0)][1] >= r_sure
        assert grid[(0.75, j, 0.0, 0.0, 0.0)] == grid[(0.75, j, 0.0, 0.0, None)]
    # The map alone is the detector's own decoding: the sure lines, joined as the detector joins.
    if own is not None:
        assert grid[MAP_ALONE] == grid[(0.75, own, 1.01, 0.0, None)]


@pytest.mark.slow
def test_photo_bars_are_chosen_over_what_the_extra_size_adds(tiny_check):
    from convert.line_check import f1_by_rule, photo_f1_by_bars
    from synth_pages import synth_eval_items

    items = synth_eval_items(3)
    checker = LineChecker(tiny_check, threads=1)
    rule = replace(checker.spec, candidate_min_score=0.75, keep=0.5, veto=0.0)
    photo = photo_f1_by_bars(items, default_model_path(), checker, rule, 1280, keeps=(0.0, 1.01), vetoes=(0.0, 1.01))
    assert set(photo) == {(0.0, 0.0), (1.01, 0.0), (1.01, 1.01)}  # a veto never above keep
    alone = f1_by_rule(items, default_model_path(), checker, keeps=(0.5,), vetoes=(0.0,), cands=(0.75,),
                       joins=(rule.candidate_join_threshold,), wraps=(None,))
    # Bars nothing passes: photo mode is the first size alone.
    assert photo[(1.01, 1.01)] == alone[(0.75, rule.candidate_join_threshold, 0.5, 0.0, None)]
    # Every extra candidate let in: at least the recall of the sure ones alone.
    assert photo[(0.0, 0.0)][1] >= photo[(1.01, 0.0)][1] >= photo[(1.01, 1.01)][1] > 0


def test_candidates_are_joined_as_the_check_says() -> None:
    from edge_app.line_check import candidate_decode
    from edge_app.model_spec import DecodeSpec

    det = DecodeSpec(threshold=0.6, min_score=0.9, join_threshold=0.3)
    assert candidate_decode(det, CheckSpec(candidate_min_score=0.8, candidate_join_threshold=0.2)) == DecodeSpec(
        threshold=0.6, min_score=0.8, join_threshold=0.2)
    # A check tuned without joining (older sidecars have no such field) decodes its candidates unjoined.
    assert candidate_decode(det, CheckSpec.from_json({"candidate_min_score": 0.95})).join_threshold is None
    assert candidate_decode(det, CheckSpec(candidate_min_score=0.95)).min_score == 0.9


def test_training_blur_smears_ink_and_keeps_paper_white():
    pytest.importorskip("tensorflow")
    import tensorflow as tf

    from training.line_check_model import motion_blur

    x = np.full((2, 32, 384, 1), 255, np.float32)
    x[:, 12:20, 100:300] = 0
    y = motion_blur(tf.constant(x), tf.constant([3, 4]), 1.0).numpy()
    assert (y[:, :4] == 255).all() and (y[:, :, :90] == 255).all()  # the border is paper, not padding
    assert np.isclose(y.sum(), x.sum(), rtol=1e-3)  # ink is moved, not made or lost
    assert (y != x).any() and (y[:, 16, 150] == 0).all()  # edges smeared, the middle still ink
    assert (motion_blur(tf.constant(x), tf.constant([3, 4]), 0.0).numpy() == x).all()


def test_training_degrade_softens_strokes_and_adds_grain():
    pytest.importorskip("tensorflow")
    import tensorflow as tf

    from training.line_check_model import degrade

    x = np.full((4, 32, 384, 1), 255, np.float32)
    x[:, 12:20, 100:300:4] = 0  # thin strokes
    y = degrade(tf.constant(x), tf.constant([3, 4]), 1.0).numpy()
    assert y.shape == x.shape and y.min() >= 0 and y.max() <= 255
    assert (y[:, 16, 100:300:4] > 0).any()  # strokes softened by the lost resolution
    assert y[:, :8].std() > 0  # grain on the paper
    assert (degrade(tf.constant(x), tf.constant([3, 4]), 0.0).numpy() == x).all()


def test_training_strips_are_cut_from_the_candidates_the_check_will_see(tmp_path):
    """line_strips decodes as the runtime's check does (candidate_decode): its bar and join threshold."""
    from training import line_strips, shards

    split = tmp_path / "split"
    shards.main(["--out", str(split), "--count", "2", "--seed", "1", "--workers", "1"])
    metas = {}
    for name, extra in (("plain", []), ("joined", ["--candidate-join-threshold", "0.2"])):
        out = tmp_path / f"{name}.npz"
        line_strips.main(["--data", str(split), "--out", str(out), "--candidate-min-score", "0.8", *extra])
        metas[name] = json.loads(str(np.load(out)["meta"]))["decode"]
    det = load_spec(default_model_path()).decode
    assert metas["plain"]["join_threshold"] is None and metas["joined"]["join_threshold"] == 0.2
    assert metas["plain"]["min_score"] == metas["joined"]["min_score"] == min(0.8, det.min_score)


@pytest.mark.slow
def test_keep_lets_the_rest_of_a_wrapped_link_in_below_a_kept_line(tiny_check):
    from printed_lines import printed_lines
    lines = ["The manual is online at https://example.org/docs/", "guide/index.html for everyone who"]
    page, quad = printed_lines(lines)
    link = Detection(quad=quad(0, lines[0].index("https"), len(lines[0])), score=0.95)
    rest = Detection(quad=quad(1, 0, len("guide/index.html")), score=0.8)
    words = Detection(quad=quad(1, lines[1].index("everyone"), len(lines[1])), score=0.8)
    checker = LineChecker(tiny_check, threads=1)
    # No doubtful line passes the classifier's bar; only the wrap rule can let one in.
    checker.spec = replace(checker.spec, keep=1.01, veto=0.0, wrap_keep=None)
    assert _lines(checker.keep(page, [link, rest, words], sure=0.9)) == _lines([link])
    checker.spec = replace(checker.spec, wrap_keep=0.0)
    assert _lines(checker.keep(page, [link, rest, words], sure=0.9)) == _lines([link, rest])
    checker.spec = replace(checker.spec, wrap_keep=1.01)
    assert _lines(checker.keep(page, [link, rest, words], sure=0.9)) == _lines([link])


@pytest.mark.slow
def test_retune_chooses_an_existing_checks_bars_again_and_keeps_its_weights(tiny_check, tmp_path, capsys):
    from convert import line_check
    from training import shards

    split = tmp_path / "split"
    shards.main(["--out", str(split), "--count", "2", "--seed", "1", "--workers", "1"])
    made = json.loads(tiny_check.with_suffix(".json").read_text())
    source = tmp_path / "made.tflite"
    source.write_bytes(tiny_check.read_bytes())
    source.with_suffix(".json").write_text(json.dumps({**made, "info": {"command": "python -m convert.line_check x"}}))
    out = tmp_path / "retuned" / "line_check.tflite"
    line_check.main(["--retune", str(source), "--tune", str(split), "--candidate-min-score", "0.75,0.85",
                     "--video-keep", "0.6", "--video-veto", "0.3", "--out", str(out)])
    assert out.read_bytes() == source.read_bytes()
    spec = load_check_spec(out)
    assert spec.strip == SMALL and spec.candidate_min_score in (0.75, 0.85)
    # Video's bars are written as given, not chosen on the still tuning frames.
    assert (spec.video_keep, spec.video_veto, spec.video_wrap_keep) == (0.6, 0.3, None)
    assert spec.info["command"] == "python -m convert.line_check x" and "--retune" in spec.info["retuned"]
    assert spec.info["tuning"]["frames"] == 2 and "chosen:" in capsys.readouterr().out
    # A file that is no model: a clear error, the command's usage line, no traceback.
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a model")
    bad.with_suffix(".json").write_text(source.with_suffix(".json").read_text())
    with pytest.raises(SystemExit):
        line_check.main(["--retune", str(bad), "--tune", str(split), "--out", str(tmp_path / "o.tflite")])
    assert "bad.tflite" in capsys.readouterr().err
