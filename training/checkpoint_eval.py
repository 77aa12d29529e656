"""Compare training checkpoints (or final models) on equal terms, without converting them.

    python -m training.checkpoint_eval runs/main/final.keras runs/wrap/final.keras

For each Keras model: the decoding threshold and min_score are tuned for it
on the first ``--tune-limit`` images of each tuning split (input long side
from the shipped sidecar), then it is scored on the real-documents set and on
the first ``--synth-limit`` images of the synthetic validation split, and the
real documents' link lines are split into one-line links and pieces of
wrapped links (short pieces: under 8 characters). A mid-training checkpoint
is best compared with another run's checkpoint of the same epoch.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from edge_app.decode import decode  # noqa: E402
from edge_app.model_spec import ModelSpec, default_model_path, load_spec  # noqa: E402
from training.model import probe_stride  # noqa: E402
from training.evaluate import EvalItem, ProbFn, evaluate, keras_prob_fn, match, realdocs_items, synth_items, tune_decode, tuning_items  # noqa: E402

SHORT_PIECE = 8  # characters


def wrapped_recall(folder: Path, items: list[EvalItem], prob_fn: ProbFn, spec: ModelSpec) -> dict[str, tuple[int, int]]:
    """(found, total) line quads of the real-documents set ``items`` (read
    from ``folder``): one-line links, pieces of wrapped links, and short
    pieces, from labels.jsonl's ``parts``."""
    labels = [json.loads(line) for line in (folder / "labels.jsonl").read_text().splitlines()]
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for item, label in zip(items, labels):
        prob, mi = prob_fn(item.image)
        preds = [d.quad for d in decode(prob, spec.decode, spec.output.stride, mi.scale_x, mi.scale_y)]
        _used, gt_match, _ignore = match(preds, item.links)
        for li, (gt, raw) in enumerate(zip(item.links, label["links"])):
            if gt.partial:
                continue
            for qi in range(len(gt.quads)):
                keys = ["one-line link"] if len(gt.quads) == 1 else ["wrapped piece"]
                part = raw["parts"][qi] if qi < len(raw["parts"]) else ""
                if len(gt.quads) > 1 and len(part) < SHORT_PIECE:
                    keys.append(f"wrapped piece < {SHORT_PIECE} chars")
                for k in keys:
                    total[k] += 1
                    found[k] += (li, qi) in gt_match
    return {k: (found[k], total[k]) for k in total}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", type=Path, nargs="+", help=".keras files (checkpoints or final.keras)")
    ap.add_argument("--tune", default="data/synth/tune", help="tuning split(s), comma-separated (pooled)")
    ap.add_argument("--synth", type=Path, default=Path("data/synth/val"))
    ap.add_argument("--realdocs", type=Path, default=Path("data/realdocs"))
    ap.add_argument("--tune-limit", type=int, default=150)
    ap.add_argument("--synth-limit", type=int, default=200)
    args = ap.parse_args(argv)
    base = load_spec(default_model_path())
    long_side = base.input.long_side
    real_items = list(realdocs_items(args.realdocs))  # scored twice per model: read once
    for path in args.models:
        model = keras.models.load_model(path, compile=False)
        model_spec = replace(base, output=replace(base.output, stride=probe_stride(model)))
        fn = keras_prob_fn(model, model_spec, long_side)
        t = tune_decode(tuning_items(args.tune, args.tune_limit), {long_side: fn}, model_spec, progress=False)
        spec = replace(model_spec, decode=replace(base.decode, threshold=t.threshold, min_score=t.min_score,
                                                               join_threshold=t.join_threshold))
        # The real-documents maps are computed once and decoded twice.
        real_maps = {id(item.image): fn(item.image) for item in real_items}

        def real_fn(image, maps=real_maps):  # noqa: ANN001, ANN202
            return maps[id(image)]

        real = evaluate(iter(real_items), real_fn, spec, n_worst=0, progress=False)
        synth = evaluate(synth_items(args.synth, args.synth_limit), fn, spec, n_worst=0, progress=False)
        print(f"{path}: tuned threshold {t.threshold} min_score {t.min_score} join {t.join_threshold} (tuning F1 {t.f1:.3f})")
        for name, r in (("real documents", real), (f"synthetic ({args.synth_limit})", synth)):
            print(f"  {name:<18} P {r.precision:.3f} R {r.recall:.3f} F1 {r.f1:.3f}")
        for k, (f, n) in sorted(wrapped_recall(args.realdocs, real_items, real_fn, spec).items()):
            print(f"  {k:<28} recall {f / max(1, n):.2f} ({f}/{n})")


if __name__ == "__main__":
    main()
