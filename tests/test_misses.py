"""Where missed link lines go (training.misses): the causes, and the account against evaluate's own count."""

from __future__ import annotations

import numpy as np
import pytest

from training.misses import CAUSES, FOUND, account, bounds, line_place, miss_cause, table


def _box(x0: float, x1: float, y0: float = 100, y1: float = 120) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)


LINE = _box(100, 400)


@pytest.mark.parametrize("candidates, low, cause", [
    ([LINE + 2], [LINE + 2], "dropped by the check"),  # a candidate matches: the check let it go
    ([], [LINE + 3], "weak in the map"),  # only the low bar finds it
    ([], [_box(90, 410, 80, 160)], "merged"),  # one region over it and the lines around it
    ([], [_box(100, 230), _box(260, 400)], "in pieces"),
    ([], [_box(100, 200)], "wrong shape"),  # one region, a third of it
    ([LINE + np.float32([0, 200])], [_box(500, 700)], "not in the map"),  # nothing near it
])
def test_each_miss_gets_its_cause(candidates, low, cause):
    assert miss_cause(LINE, candidates, low) == cause


def test_a_line_one_size_kept_is_lost_in_the_merge():
    # Photo mode: one size kept the line, the merge kept the other size's longer line there.
    assert miss_cause(LINE, [LINE + 2], [LINE + 2], picked=[LINE + 2]) == "lost in the merge"
    assert miss_cause(LINE, [LINE + 2], [LINE + 2], picked=[_box(100, 200)]) == "dropped by the check"


def test_a_line_is_placed_in_its_link():
    assert line_place(1, 0) == "one line"
    assert [line_place(3, i) for i in range(3)] == ["wrap first", "wrap middle", "wrap last"]


def test_the_account_agrees_with_evaluate():
    from synth_pages import synth_eval_items

    from edge_app.line_check import default_check_path
    from edge_app.model_spec import default_model_path
    from training.evaluate import check_fn, evaluate, tflite_prob_fn

    items = synth_eval_items(3)
    prob_fn, spec = tflite_prob_fn(default_model_path(), threads=1)
    check, cand_spec = check_fn(default_check_path(), spec, threads=1)
    res = evaluate(iter(items), prob_fn, cand_spec, progress=False, check=check)
    frames = list(account(items, prob_fn, cand_spec, check))
    # Photo mode too: a second input size's lines added the same way.
    more = (tflite_prob_fn(default_model_path(), threads=1, long_side=1280)[0],)
    photo = evaluate(iter(items), prob_fn, cand_spec, progress=False, check=check, more=more)
    photo_fates = [f for acc in account(items, prob_fn, cand_spec, check, more=more) for f, _quad in acc.fates]
    assert sum(f.cause == FOUND for f in photo_fates) == photo.tp and len(photo_fates) == photo.tp + photo.fn
    fates = [f for acc in frames for f, _quad in acc.fates]
    # Every scored line once, found exactly when evaluate found it.
    assert len(fates) == res.tp + res.fn > 0
    assert sum(f.cause == FOUND for f in fates) == res.tp
    assert {f.cause for f in fates} <= set(CAUSES)
    b = bounds(fates)
    assert b["recall"] == pytest.approx(res.recall)
    assert b["recall"] <= b["perfect merge"] <= b["perfect check"] <= b["perfect decoding"] <= 1
    assert not any(f.cause == "lost in the merge" for f in fates)  # one size: nothing merged
    t = table(fates)
    assert t["all"]["n"] == len(fates) and sum(t["all"][c] for c in CAUSES) == pytest.approx(1.0)
    # The check keeps some of the candidates, never more than there are.
    assert all(len(acc.kept) <= len(acc.candidates) for acc in frames)
