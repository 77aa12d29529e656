"""SavedModel -> models/: int8 (shipped), fp16, fp32 TFLite, TF.js; parity, latency, model card.

    python -m convert --saved-model runs/main/saved_model --data data/synth/val \
        --realdocs data/realdocs --train-dir runs/main --out models
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from convert.latency import measure  # noqa: E402
from convert.model_card import write_card  # noqa: E402
from convert.parity import check, float_reference  # noqa: E402
from convert.tflite_export import VARIANTS, convert_saved_model  # noqa: E402
from edge_app.model_spec import DEFAULT_MODEL_STEM, InputSpec, ModelSpec, OutputSpec  # noqa: E402
from edge_app.preprocess import preprocess  # noqa: E402
from training.shards import folders  # noqa: E402
from training.model import probe_stride  # noqa: E402
from training.evaluate import (  # noqa: E402
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

log = logging.getLogger("convert")


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--saved-model", type=Path, required=True)
    ap.add_argument("--data", type=Path, required=True, help="synthetic validation shards (representative set, parity, metrics)")
    ap.add_argument("--realdocs", type=Path, help="real-documents validation set (training.realdocs)")
    ap.add_argument("--train-dir", type=Path, help="training run folder (settings.json) for the model card")
    ap.add_argument("--out", type=Path, default=Path("models"))
    ap.add_argument("--name", default=DEFAULT_MODEL_STEM)
    ap.add_argument("--rep-count", type=int, default=100)
    # The whole split by default: on 60 frames the int8 model's F1 drop was
    # 0.030 where the 600-frame split gave 0.003 (a few lines flip either way).
    ap.add_argument("--parity-count", type=int, default=0,
                    help="last N frames of --data for the parity check (default 0: all of them)")
    ap.add_argument("--tfjs", action="store_true", help="also export a TF.js graph model (separate environment)")
    ap.add_argument("--skip-eval", action="store_true")
    ap.add_argument("--tune", help="split(s) of their own (not --data) to pick the decoding thresholds on, comma-separated "
                                   "and pooled (e.g. data/synth/tune,data/pdftune); the first also sets height_scale")
    ap.add_argument("--long-side", type=int, default=960,
                    help="input long side written to the sidecar without --tune (default 960: at 640 the stride-4 "
                         "map merges small lines; see python -m training.evaluate --model ceiling)")
    ap.add_argument("--tune-long-sides", type=int, nargs="+", default=[960, 1280],
                    help="with --tune: the input long sides to choose from (a larger one must gain 0.01 F1)")
    ap.add_argument("--notes", type=Path, help="Markdown appended to the model card (training history, figures measured elsewhere)")
    ap.add_argument("--figures", type=Path,
                    help="folder for the worst-case pictures (default: docs/ for the shipped models/, else --out, "
                         "so converting an experiment leaves the shipped model's pictures alone)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    figures = args.figures or (Path("docs") if args.out.resolve() == Path("models").resolve() else args.out)

    # Keep the loaded object: its variables die with it, and `serve` alone
    # does not hold them.
    loaded = tf.saved_model.load(str(args.saved_model))
    serve = loaded.serve
    spec = ModelSpec(input=replace(InputSpec(), long_side=args.long_side),
                     output=replace(OutputSpec(), stride=probe_stride(serve)))
    val = list(synth_items(args.data))
    rep_items = val[: args.rep_count]
    parity_items = val[-args.parity_count:] if args.parity_count > 0 else val

    def representative():
        for it in rep_items:
            yield preprocess(it.image, spec.input).image[None, :, :, None].astype(np.float32)

    args.out.mkdir(parents=True, exist_ok=True)
    variants_dir = args.out / "variants"
    variants_dir.mkdir(exist_ok=True)
    report: dict = {"variants": {}}
    paths: dict[str, Path] = {}
    sizes: dict[str, int] = {}
    for v in VARIANTS:
        data = convert_saved_model(args.saved_model, v, representative if v == "int8" else None)
        path = args.out / f"{args.name}.tflite" if v == "int8" else variants_dir / f"{args.name}_{v}.tflite"
        path.write_bytes(data)
        paths[v], sizes[v] = path, len(data)

    spec.save(paths["int8"].with_suffix(".json"))  # the evaluator reads the sidecar
    if args.tune:
        fns = {ls: tflite_prob_fn(paths["int8"], long_side=ls)[0] for ls in args.tune_long_sides}
        tuned = tune_decode(tuning_items(args.tune), fns, spec)
        spec = replace(spec, input=replace(spec.input, long_side=tuned.long_side),
                       decode=replace(spec.decode, threshold=tuned.threshold, min_score=tuned.min_score))
        spec.save(paths["int8"].with_suffix(".json"))
        report["decode_tuning"] = {"split": str(args.tune), "long_side": tuned.long_side,
                                   "threshold": tuned.threshold, "min_score": tuned.min_score,
                                   "precision": round(tuned.precision, 4), "recall": round(tuned.recall, 4),
                                   "f1": round(tuned.f1, 4), "grid": tuned.grid}
        log.info("tuned on %s: long side %d, threshold %.2f, min_score %.2f (F1 %.3f)", args.tune,
                 tuned.long_side, tuned.threshold, tuned.min_score, tuned.f1)
        fn, _ = tflite_prob_fn(paths["int8"])  # reads the sidecar just saved
        # The synthetic split's quads are the ones the reader's line fit was
        # tuned against; the PDF text layer's word boxes are drawn differently.
        ratio, pairs = height_ratio(synth_items(folders(args.tune)[0]), fn, spec)
        spec = replace(spec, decode=replace(spec.decode, height_scale=round(ratio, 3)))
        spec.save(paths["int8"].with_suffix(".json"))
        report["decode_tuning"]["height_scale"] = {"value": round(ratio, 3), "pairs": pairs}
        log.info("decoded quads %.3f x their height on %s (%d matched lines)", ratio, args.tune, pairs)

    # Parity after tuning, so the F1 difference is measured at the shipped thresholds.
    reference = float_reference(serve, parity_items, spec)
    for v, path in paths.items():
        par = check(serve, str(path), parity_items, spec, reference)
        lat = measure(str(path))
        report["variants"][v] = {
            "file": str(path), "size_bytes": sizes[v],
            "parity": {"map_mae": round(par.map_mae, 5), "map_max": round(par.map_max, 4),
                       "f1_float": round(par.f1_float, 4), "f1_export": round(par.f1_export, 4),
                       "f1_drop": round(par.f1_drop, 4), "images": len(parity_items)},
            "latency_ms_2_threads": lat,
        }
        log.info("%s: %.0f KB, F1 %.4f vs float %.4f, %s", v, sizes[v] / 1024, par.f1_export, par.f1_float,
                 lat.get("640x384"))

    if not args.skip_eval:
        acc: dict = {}
        for name, items_fn in (("synthetic", lambda: synth_items(args.data)),
                               ("realdocs", (lambda: realdocs_items(args.realdocs)) if args.realdocs else None)):
            if items_fn is None:
                continue
            fn, _ = tflite_prob_fn(paths["int8"])
            r_int8 = evaluate(items_fn(), fn, spec)
            r_float = evaluate(items_fn(), keras_prob_fn(serve, spec), spec)
            acc[name] = {"int8": r_int8.summary(), "float": r_float.summary()}
            draw_worst(r_int8, figures / f"worst_{name}.png")
            log.info("%s: int8 P=%.3f R=%.3f F1=%.3f | float F1=%.3f", name, r_int8.precision, r_int8.recall, r_int8.f1, r_float.f1)
        report["accuracy"] = acc

    if args.tfjs:
        from convert.tfjs_export import export_tfjs

        res = export_tfjs(args.saved_model, args.out / "tfjs")
        report["tfjs"] = {"dir": str(res.out_dir), "size_bytes": res.size_bytes, "converter": res.converter_version}

    data_manifest = json.loads((Path(args.data).parent / "train" / "manifest.json").read_text()) \
        if (Path(args.data).parent / "train" / "manifest.json").exists() else {}
    train_settings = json.loads((args.train_dir / "settings.json").read_text()) if args.train_dir else {}
    info = {
        "name": args.name,
        "variant": "int8 full-integer (uint8 in/out)",
        "commit": _git("rev-parse", "HEAD"),
        "convert_command": " ".join(["python -m convert"] + (argv if argv is not None else sys.argv[1:])),
        "training": train_settings,
        "data": {k: data_manifest.get(k) for k in ("count", "seed", "seed_rule", "links", "command", "fonts", "font_faces", "config")},
        "machine": {"cpu": _cpu_model(), "cores": os.cpu_count(), "threads": 2},
        "long_side": spec.input.long_side,
        **report,
    }
    for v, p in paths.items():
        ModelSpec(input=spec.input, output=spec.output, decode=spec.decode, info={**info, "variant": v}).save(p.with_suffix(".json"))
    write_card(args.out / "MODEL_CARD.md", {**info, "figures": str(figures),
                                            "notes": args.notes.read_text() if args.notes else ""})
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
