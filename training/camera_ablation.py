"""Which part of the real-documents camera costs a detector its recall.

    python -m training.camera_ablation --model models/links_detector.tflite

Rebuilds the real-documents set (``training.realdocs``: same seed, pages and
plan) once per variant, each with one effect of ``RealCameraConfig`` switched
off, and evaluates the model on every variant. A variant whose recall is
far above the full camera's names what the training data lacks. It is a
diagnostic of the model, not a way to choose its thresholds.

Switching an effect off can change the random draws after it (a branch not
taken draws nothing), so some variants also see other views: the line
counts are printed. ``no-sharpen`` keeps every other random draw; the tilt
variants keep them too, but a pose can change which framing attempt keeps
the target link in the frame. The sets are kept under ``--work`` and reused when
their camera matches.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

from training.evaluate import EvalResult, evaluate, realdocs_items, tflite_prob_fn
from training.realdocs import BuildConfig, DocSource, RealCameraConfig, RealDocsError, build, fetch_packages

VARIANTS: dict[str, dict] = {
    "full": {},
    "no-tilt": dict(max_tilt_deg=0.0, max_roll_deg=0.0),
    "no-pitch-yaw": dict(max_tilt_deg=0.0),
    "no-roll": dict(max_roll_deg=0.0),
    "no-sharpen": dict(sharpen=(0.0, 0.0)),
    "no-defocus": dict(defocus_px=(0.0, 0.0)),
    "no-noise": dict(full_well=(1e6, 1e6), read_noise=0.0),
    "no-distortion": dict(distortion_k1=(0.0, 0.0)),
    "no-light": dict(light_gradient=(0.0, 0.0), hand_shadow_p=0.0),
    "clean-jpeg": dict(jpeg_quality=(95, 95), double_jpeg_p=0.0, texture_strength=(0.0, 0.0)),
}


@dataclass(frozen=True)
class VariantResult:
    name: str
    lines: int
    precision: float
    recall: float
    f1: float


def variant_set(name: str, work: Path, sources: Callable[[], list[DocSource]], images: int, progress: bool) -> Path:
    """The real-documents set built with variant ``name``'s camera (reused if already built so)."""
    cfg = BuildConfig(images=images, camera=replace(RealCameraConfig(), **VARIANTS[name]))
    out = work / name
    manifest = out / "manifest.json"
    if manifest.is_file() and json.loads(manifest.read_text()).get("config") == json.loads(json.dumps(asdict(cfg))):
        return out
    build(sources(), out, cfg, progress=progress)
    return out


def run(model: Path, names: list[str], work: Path, src: Path, images: int, progress: bool = True) -> list[VariantResult]:
    fn, spec = tflite_prob_fn(model)
    # The packages are checked and unpacked once, and only if a set has to be built.
    sources = functools.cache(lambda: fetch_packages(src))
    out = []
    for name in names:
        folder = variant_set(name, work, sources, images, progress)
        res: EvalResult = evaluate(realdocs_items(folder), fn, spec, progress=progress)
        out.append(VariantResult(name, res.tp + res.fn, res.precision, res.recall, res.f1))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=Path("models/links_detector.tflite"), help=".tflite with its sidecar")
    ap.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of: {', '.join(VARIANTS)}")
    ap.add_argument("--work", type=Path, default=Path("data/camera_ablation"), help="where the variant sets are kept")
    ap.add_argument("--src", type=Path, default=Path("data/realdocs_src"), help="the real-documents download cache")
    ap.add_argument("--images", type=int, default=BuildConfig.images)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    names = [n.strip() for n in args.variants.split(",") if n.strip()]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        ap.error(f"unknown variant(s) {', '.join(unknown)}; known: {', '.join(VARIANTS)}")
    if not args.model.is_file():
        print(f"error: no model at {args.model}", file=sys.stderr)
        return 2
    try:
        results = run(args.model, names, args.work, args.src, args.images)
    except RealDocsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    full = next((r for r in results if r.name == "full"), None)
    print(f"{args.model}: real-documents camera, one effect off at a time")
    print("| variant | lines | precision | recall | F1 | recall vs full |")
    print("|---|---|---|---|---|---|")
    for r in results:
        delta = f"{r.recall - full.recall:+.3f}" if full else "-"
        print(f"| {r.name} | {r.lines} | {r.precision:.3f} | {r.recall:.3f} | {r.f1:.3f} | {delta} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
