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
import sys
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from convert.latency import measure  # noqa: E402
from convert.model_card import write_card  # noqa: E402
from convert.tflite_export import VARIANTS, convert_saved_model  # noqa: E402
from convert.tuning import accuracy, parity_figures, tune_sidecar, variant_path  # noqa: E402
from edge_app.model_spec import DEFAULT_MODEL_STEM, InputSpec, ModelSpec, OutputSpec  # noqa: E402
from edge_app.preprocess import preprocess  # noqa: E402
from training.evaluate import synth_items  # noqa: E402
from training.model import probe_stride  # noqa: E402
from training.shards import git_commit  # noqa: E402

log = logging.getLogger("convert")


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
    (args.out / "variants").mkdir(exist_ok=True)
    report: dict = {"variants": {}}
    paths: dict[str, Path] = {}
    sizes: dict[str, int] = {}
    for v in VARIANTS:
        data = convert_saved_model(args.saved_model, v, representative if v == "int8" else None)
        path = variant_path(args.out, args.name, v)
        path.write_bytes(data)
        paths[v], sizes[v] = path, len(data)

    spec.save(paths["int8"].with_suffix(".json"))  # the evaluator reads the sidecar
    if args.tune:
        spec, report["decode_tuning"] = tune_sidecar(paths["int8"], spec, args.tune, args.tune_long_sides)

    # Parity after tuning, so the F1 difference is measured at the shipped thresholds.
    parity = parity_figures(serve, paths, parity_items, spec)
    for v, path in paths.items():
        lat = measure(str(path))
        report["variants"][v] = {"file": str(path), "size_bytes": sizes[v], "parity": parity[v],
                                 "latency_ms_2_threads": lat}
        log.info("%s: %.0f KB, F1 %.4f vs float %.4f, %s", v, sizes[v] / 1024, parity[v]["f1_export"],
                 parity[v]["f1_float"], lat.get("640x384"))

    if not args.skip_eval:
        report["accuracy"] = accuracy(paths["int8"], serve, spec, args.data, args.realdocs, figures)

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
        "commit": git_commit(),
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
