"""The measurements a converted detector's sidecar records, shared by the
conversion (``python -m convert``) and a later retuning of its decoding
(``python -m convert.retune``): decoding chosen on a tuning split, parity of
each export against the float model, accuracy on the validation sets."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np

from convert.parity import check, float_reference
from edge_app.model_spec import ModelSpec
from training.evaluate import (
    draw_worst,
    evaluate,
    height_ratio,
    keras_prob_fn,
    realdocs_items,
    synth_items,
    tflite_prob_fn,
    tune_decode,
    tuning_items,
)
from training.shards import folders

log = logging.getLogger(__name__)

# The float model: (1, H, W, 1) pixels -> (1, h, w, C) maps.
Serve = Callable[[np.ndarray], np.ndarray]


def parse_optional_bar(text: str, what: str = "join threshold") -> float | None:
    """A bar that can be off (a join threshold, the line check's wrap bar: ``what``)
    as the command lines take it: a probability, or 'none' for off."""
    if text.strip().lower() == "none":
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"a {what} is a probability or 'none', not {text!r}") from None


def variant_path(out: Path, name: str, variant: str) -> Path:
    """Where a conversion writes each export: the shipped int8 file, the others in ``variants/``."""
    return out / f"{name}.tflite" if variant == "int8" else out / "variants" / f"{name}_{variant}.tflite"


def tune_sidecar(model_path: Path, spec: ModelSpec, tune: str, long_sides: list[int],
                 grid: dict[str, tuple] | None = None) -> tuple[ModelSpec, dict]:
    """Input long side and decoding thresholds chosen on ``tune`` for the
    model at ``model_path``, then the decoded height's scale; saves the
    sidecar as it goes (the evaluator reads it) and returns the spec and the
    report for ``info["decode_tuning"]``. ``grid``: tune_decode's value
    lists to search instead of its defaults (``thresholds``, ``min_scores``,
    ``join_thresholds``)."""
    spec = replace(spec, decode=replace(spec.decode, height_scale=1.0))
    spec.save(model_path.with_suffix(".json"))
    fns = {ls: tflite_prob_fn(model_path, long_side=ls)[0] for ls in long_sides}
    tuned = tune_decode(tuning_items(tune), fns, spec, **(grid or {}))
    spec = replace(spec, input=replace(spec.input, long_side=tuned.long_side),
                   decode=replace(spec.decode, threshold=tuned.threshold, min_score=tuned.min_score,
                                  join_threshold=tuned.join_threshold))
    spec.save(model_path.with_suffix(".json"))
    report = {"split": str(tune), "searched": {k: list(v) for k, v in (grid or {}).items()},
              "long_side": tuned.long_side, "threshold": tuned.threshold,
              "min_score": tuned.min_score, "join_threshold": tuned.join_threshold,
              "precision": round(tuned.precision, 4), "recall": round(tuned.recall, 4),
              "f1": round(tuned.f1, 4), "grid": tuned.grid}
    log.info("tuned on %s: long side %d, threshold %.2f, min_score %.2f, join %s (F1 %.3f)", tune,
             tuned.long_side, tuned.threshold, tuned.min_score, tuned.join_threshold, tuned.f1)
    fn, _ = tflite_prob_fn(model_path)  # reads the sidecar just saved
    # The synthetic split's quads are the ones the reader's line fit was
    # tuned against; the PDF text layer's word boxes are drawn differently.
    ratio, pairs = height_ratio(synth_items(folders(tune)[0]), fn, spec)
    spec = replace(spec, decode=replace(spec.decode, height_scale=round(ratio, 3)))
    spec.save(model_path.with_suffix(".json"))
    report["height_scale"] = {"value": round(ratio, 3), "pairs": pairs}
    log.info("decoded quads %.3f x their height on %s (%d matched lines)", ratio, tune, pairs)
    return spec, report


def parity_figures(serve: Serve, paths: dict[str, Path], items: list, spec: ModelSpec) -> dict[str, dict]:
    """Map error and F1 (at ``spec``'s decoding) of each export against ``serve``."""
    reference = float_reference(serve, items, spec)
    out = {}
    for v, path in paths.items():
        par = check(serve, str(path), items, spec, reference)
        out[v] = {"map_mae": round(par.map_mae, 5), "map_max": round(par.map_max, 4),
                  "f1_float": round(par.f1_float, 4), "f1_export": round(par.f1_export, 4),
                  "f1_drop": round(par.f1_drop, 4), "images": len(items)}
    return out


def accuracy(model_path: Path, serve: Serve, spec: ModelSpec, data: Path, realdocs: Path | None,
             figures: Path) -> dict:
    """Detection figures of the int8 model and the float one on both validation
    sets, and the int8 model's worst cases drawn into ``figures``."""
    acc: dict = {}
    fn, _ = tflite_prob_fn(model_path)
    for name, items_fn in (("synthetic", lambda: synth_items(data)),
                           ("realdocs", (lambda: realdocs_items(realdocs)) if realdocs else None)):
        if items_fn is None:
            continue
        r_int8 = evaluate(items_fn(), fn, spec)
        r_float = evaluate(items_fn(), keras_prob_fn(serve, spec), spec)
        acc[name] = {"int8": r_int8.summary(), "float": r_float.summary()}
        draw_worst(r_int8, figures / f"worst_{name}.png")
        log.info("%s: int8 P=%.3f R=%.3f F1=%.3f | float F1=%.3f", name, r_int8.precision, r_int8.recall,
                 r_int8.f1, r_float.f1)
    return acc
