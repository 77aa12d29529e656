"""A converted detector's decoding chosen again, without converting it again.

    python -m convert.retune --model models/links_detector.tflite --tune data/synth_cam/tune \\
        --data data/synth_cam/val --realdocs data/realdocs --notes docs/model_notes.md

For a decoding rule added after the model was converted (a new DecodeSpec
setting): the conversion's own tuning, parity and accuracy steps
(``convert.tuning``) run again on the shipped files. The SavedModel a
conversion starts from is a training run's output, not kept in git, so the
float model here is the fp32 export (``variants/<name>_fp32.tflite``), whose
maps matched the SavedModel's at conversion (its parity is recorded in the
sidecar). Sizes and latencies are the conversion's: decoding does not change
them. Rewrites the sidecars of every export and the model card.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from convert.model_card import write_card
from convert.parity import tflite_serve
from convert.tuning import accuracy, parity_figures, parse_optional_bar, tune_sidecar, variant_path
from edge_app.errors import ModelError
from edge_app.model_spec import ModelSpec, load_spec
from training.evaluate import synth_items
from training.shards import git_commit

log = logging.getLogger("convert")


def _join(text: str) -> float | None:
    try:
        return parse_optional_bar(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, required=True, help="the converted int8 .tflite (its sidecar beside it)")
    ap.add_argument("--tune", required=True, help="tuning split(s), as python -m convert --tune")
    ap.add_argument("--data", type=Path, required=True, help="synthetic validation shards (parity, accuracy)")
    ap.add_argument("--realdocs", type=Path, help="real-documents validation set")
    ap.add_argument("--tune-long-sides", type=int, nargs="+", default=[960, 1280])
    ap.add_argument("--thresholds", type=float, nargs="+", help="pixel thresholds to choose from "
                    "(default: the conversion's grid; one value keeps it fixed)")
    ap.add_argument("--min-scores", type=float, nargs="+", help="region min_score values to choose from")
    ap.add_argument("--join-thresholds", type=_join, nargs="+",
                    help="join thresholds to choose from, 'none' for no joining (default: none 0.3 0.2)")
    ap.add_argument("--notes", type=Path, help="Markdown appended to the model card")
    ap.add_argument("--figures", type=Path, help="folder for the worst-case pictures (default: as python -m convert)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out, name = args.model.parent, args.model.stem
    try:
        old = load_spec(args.model)
    except ModelError as exc:
        ap.error(str(exc))
    variants = list(old.info.get("variants") or {})
    paths = {v: variant_path(out, name, v) for v in variants}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing or "fp32" not in paths:
        ap.error(f"needs the conversion's exports beside the model, the fp32 one included; missing: "
                 f"{', '.join(missing) or variant_path(out, name, 'fp32')}")
    figures = args.figures or (Path("docs") if out.resolve() == Path("models").resolve() else out)

    grid = {k: tuple(v) for k, v in (("thresholds", args.thresholds), ("min_scores", args.min_scores),
                                     ("join_thresholds", args.join_thresholds)) if v}
    spec, tuning = tune_sidecar(args.model, old, args.tune, args.tune_long_sides, grid)
    serve = tflite_serve(str(paths["fp32"]))
    parity = parity_figures(serve, paths, list(synth_items(args.data)), spec)
    acc = accuracy(args.model, serve, spec, args.data, args.realdocs, figures)
    info = dict(old.info)
    info.update({
        "long_side": spec.input.long_side,
        "decode_tuning": tuning,
        "accuracy": acc,
        "variants": {v: {**info["variants"][v], "parity": parity[v]} for v in variants},
        "retune": {"command": " ".join(["python -m convert.retune"] + (argv if argv is not None else sys.argv[1:])),
                   "commit": git_commit(), "float_reference": str(paths["fp32"]),
                   # A second retune keeps the conversion's own figure, not the first retune's.
                   "conversion_parity_fp32": (old.info.get("retune") or {}).get("conversion_parity_fp32")
                   or (old.info.get("variants") or {}).get("fp32", {}).get("parity")},
    })
    for v, p in paths.items():
        ModelSpec(input=spec.input, output=spec.output, decode=spec.decode, info={**info, "variant": v}).save(
            p.with_suffix(".json"))
    write_card(out / "MODEL_CARD.md", {**info, "figures": str(figures),
                                       "notes": args.notes.read_text() if args.notes else ""})
    print(json.dumps({"decode": spec.to_json()["decode"], "long_side": spec.input.long_side,
                      "tuning_f1": tuning["f1"],
                      "accuracy": {n: {m: {k: s[k] for k in ("precision", "recall", "f1")} for m, s in a.items()}
                                   for n, a in acc.items()}}, indent=2))


if __name__ == "__main__":
    main()
