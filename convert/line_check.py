"""The line check's SavedModel -> full-integer int8 .tflite and its sidecar, with its bar chosen.

    python -m convert.line_check --saved-model runs/check/saved_model --strips data/strips/tune.npz \\
        --tune data/synth_cam/tune --out models/line_check.tflite

The representative strips come from ``--strips`` (``training.line_strips``).
``--retune`` instead takes a converted check as it is and chooses its bars
again (the pipeline's decoding moves on after a check is made):

    python -m convert.line_check --retune models/line_check.tflite --tune data/synth_cam/tune \
        --out /tmp/check/line_check.tflite

The classifier's bars (``CheckSpec.keep`` and ``veto``) are chosen for detection F1 on the
tuning frames (``--tune``), with the detector (``--detector``, default the
shipped one) decoding at the candidate bar, and with them, when several are
given, the candidate bar, join threshold and wrap bar (``CheckSpec.wrap_keep``);
with ``--photo-long-side``, then the bars of photo mode's extra input size
(``CheckSpec.photo_keep``, ``photo_veto``) for photo mode's F1 on the same
frames; the sidecar records them, the figures and the command. Video's bars
(``--video-keep``, ``--video-veto``, ``--video-wrap-keep``; ``CheckSpec.video_keep``)
are not chosen here, on still frames: they are written as given.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from convert.tflite_export import convert_saved_model  # noqa: E402
from convert.tuning import parse_optional_bar  # noqa: E402
from edge_app.decode import decode, merge_scales  # noqa: E402
from edge_app.errors import ModelError  # noqa: E402
from edge_app.line_check import CheckSpec, LineChecker, StripSpec, candidate_decode, kept_lines  # noqa: E402
from edge_app.model_spec import default_model_path  # noqa: E402
from edge_app.results import Detection  # noqa: E402
from edge_app.wraps import Wraps  # noqa: E402
from training.evaluate import EvalItem, EvalResult, ProbFn, score_frame, tflite_prob_fn, tuning_items  # noqa: E402
from training.line_strips import Strips  # noqa: E402

log = logging.getLogger(__name__)

KEEP_GRID = tuple(round(k, 2) for k in np.arange(0.1, 0.96, 0.05)) + (0.97, 0.98, 0.99)
VETO_GRID = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
# (candidate bar, candidate join threshold, keep, veto, wrap keep). No check at
# all: a keep bar no probability reaches and no veto, over the detector's own
# decoding (its min_score and join threshold): the baseline the check must beat.
MAP_ALONE = (0.0, None, 2.0, 0.0, None)

Rule = tuple[float, float | None, float, float, float | None]
Counts = tuple[int, int, int]  # true positives, false positives, misses


def _counts(preds: list[Detection], item: EvalItem) -> Counts:
    found, fp = score_frame([d.quad for d in preds], item.links)
    tp = sum(found.values())
    return tp, fp, len(found) - tp


def _add(total: list[int], scored: Counts) -> None:
    for k in range(3):
        total[k] += scored[k]


def _rates(counts: dict) -> dict:
    """Summed counts per key -> (precision, recall, F1) per key."""
    out = {}
    for key, (tp, fp, missed) in counts.items():
        r = EvalResult(tp=tp, fp=fp, fn=missed)  # evaluation's one rule for P, R and F1
        out[key] = (r.precision, r.recall, r.f1)
    return out


def _checked(checker: LineChecker, image: np.ndarray, dets: list[Detection]
             ) -> tuple[list[float], Callable[[int, int], bool]]:
    """Each candidate's probability, and which continues which (worked out once per pair), for every rule."""
    return checker.probs(image, [d.quad for d in dets]).tolist(), functools.cache(
        Wraps(image, [d.quad for d in dets]).continues)


def f1_by_rule(items: list[EvalItem], detector: Path, checker: LineChecker, keeps: tuple[float, ...] = KEEP_GRID,
               vetoes: tuple[float, ...] = VETO_GRID, cands: tuple[float, ...] | None = None,
               joins: tuple[float | None, ...] | None = None,
               wraps: tuple[float | None, ...] | None = None) -> dict[Rule, tuple[float, float, float]]:
    """Detection (precision, recall, F1) on ``items`` for each (candidate bar,
    join threshold, keep, veto, wrap keep) with veto <= keep, and for ``MAP_ALONE``.
    ``cands`` / ``joins`` / ``wraps``: the candidate bars, join thresholds and
    wrap bars (``CheckSpec.wrap_keep``) to try (default the checker's own);
    each frame is decoded once per join threshold, at the lowest bar, since a
    higher bar only drops whole regions."""
    prob_fn, spec = tflite_prob_fn(detector)
    sure = spec.decode.min_score
    cands = tuple(cands or (checker.spec.candidate_min_score,))
    joins = tuple(joins or (checker.spec.candidate_join_threshold,))
    wraps = tuple(wraps or (checker.spec.wrap_keep,))
    lowest = {j: candidate_decode(spec.decode, replace(checker.spec, candidate_min_score=min(cands),
                                                       candidate_join_threshold=j)) for j in joins}
    rules = {j: {(c, j, k, v, w): replace(checker.spec, candidate_min_score=c, keep=k, veto=v, wrap_keep=w)
                 for c in cands for k in keeps for v in vetoes if v <= k for w in wraps} for j in joins}
    counts = {r: [0, 0, 0] for by_join in rules.values() for r in by_join} | {MAP_ALONE: [0, 0, 0]}  # tp, fp, fn

    for item in tqdm(items, desc="choose bar"):
        prob, mi = prob_fn(item.image)
        _add(counts[MAP_ALONE], _counts(decode(prob, spec.decode, spec.output.stride, mi.scale_x, mi.scale_y), item))
        for j, dspec in lowest.items():
            dets = decode(prob, dspec, spec.output.stride, mi.scale_x, mi.scale_y)
            # Once per frame for every rule: the probabilities, which candidate continues
            # which, the candidates at each bar, and the score of each set of kept lines
            # (most rules keep one of a few sets).
            p, continues = _checked(checker, item.image, dets)
            at_bar = {}
            for c in cands:
                ids = [i for i, d in enumerate(dets) if d.score >= min(c, sure)]
                at_bar[c] = (ids, [dets[i].score for i in ids], [p[i] for i in ids],
                             lambda a, b, ids=ids: continues(ids[a], ids[b]))
            scored: dict[tuple[int, ...], Counts] = {}
            for r, rule in rules[j].items():
                ids, scores, probs, cont = at_bar[rule.candidate_min_score]
                keep = tuple(i for i, f in zip(ids, kept_lines(scores, probs, sure, rule, cont)) if f)
                if keep not in scored:
                    scored[keep] = _counts([dets[i] for i in keep], item)
                _add(counts[r], scored[keep])
    return _rates(counts)


def photo_f1_by_bars(items: list[EvalItem], detector: Path, checker: LineChecker, rule: CheckSpec, long_side: int,
                     keeps: tuple[float, ...] = KEEP_GRID, vetoes: tuple[float, ...] = VETO_GRID
                     ) -> dict[tuple[float, float], tuple[float, float, float]]:
    """Photo mode's detection (precision, recall, F1) on ``items`` for each (photo
    keep, photo veto) with veto <= keep: the first input size's lines kept by
    ``rule``, those of the extra size (``long_side``) by ``rule`` at those bars
    (``CheckSpec.for_extra_size``), merged as photo mode merges them."""
    first_fn, spec = tflite_prob_fn(detector)
    extra_fn, _ = tflite_prob_fn(detector, long_side=long_side)
    sure = spec.decode.min_score
    dspec = candidate_decode(spec.decode, rule)
    bars = [(k, v) for k in keeps for v in vetoes if v <= k]
    counts = {b: [0, 0, 0] for b in bars}  # tp, fp, fn

    def candidates(fn: ProbFn, image: np.ndarray) -> tuple[list[Detection], list[float], Callable[[int, int], bool]]:
        prob, mi = fn(image)
        dets = decode(prob, dspec, spec.output.stride, mi.scale_x, mi.scale_y)
        probs, cont = _checked(checker, image, dets)
        # Each line carries its probability, as LineChecker.keep returns it: merge_scales weighs the sizes by it.
        return [replace(d, check=p) for d, p in zip(dets, probs)], probs, cont

    for item in tqdm(items, desc="choose photo bars"):
        dets, probs, cont = candidates(first_fn, item.image)
        first = [d for d, f in zip(dets, kept_lines([d.score for d in dets], probs, sure, rule, cont)) if f]
        dets, probs, cont = candidates(extra_fn, item.image)
        scored: dict[tuple[int, ...], Counts] = {}
        for k, v in bars:
            flags = kept_lines([d.score for d in dets], probs, sure, replace(rule, keep=k, veto=v), cont)
            keep = tuple(i for i, f in enumerate(flags) if f)
            if keep not in scored:
                scored[keep] = _counts(merge_scales(first, [dets[i] for i in keep]), item)
            _add(counts[(k, v)], scored[keep])
    return _rates(counts)


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when inside it, so sidecars do not name a machine."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--saved-model", type=Path)
    src.add_argument("--retune", type=Path, help="a converted check (.tflite with its sidecar): its bars chosen "
                                                  "again, its weights and training record kept")
    ap.add_argument("--strips", type=Path, help="representative strips (.npz); needed with --saved-model")
    ap.add_argument("--tune", type=str, required=True, help="tuning split(s) to choose the bar on")
    ap.add_argument("--tune-limit", type=int, default=300)
    ap.add_argument("--detector", type=Path, default=None)
    ap.add_argument("--candidate-min-score", type=str, default=str(CheckSpec.candidate_min_score),
                    help="the detector's decoding bar for candidates; several (comma-separated): chosen too")
    ap.add_argument("--candidate-join-threshold", type=str, default="none",
                    help="the candidates' join threshold (DecodeSpec.join_threshold), 'none' for no joining; "
                         "several (comma-separated): chosen too")
    ap.add_argument("--wrap-keep", type=str, default="none",
                    help="the classifier probability the rest of a wrapped link under a kept line needs "
                         "(CheckSpec.wrap_keep), 'none' for no such rule; several (comma-separated): chosen too")
    ap.add_argument("--photo-long-side", type=int, default=None,
                    help="photo mode's extra input size (PipelineSettings.photo_long_sides): choose the bars "
                         "of its lines (CheckSpec.photo_keep, photo_veto) too; default: the first size's bars")
    for name, field in (("keep", "video_keep"), ("veto", "video_veto"), ("wrap-keep", "video_wrap_keep")):
        ap.add_argument(f"--video-{name}", type=float, default=None,
                        help=f"video frames' {name.replace('-', '_')} bar (CheckSpec.{field}), written as given: "
                             "the tuning frames are stills (default: the stills' bar)")
    ap.add_argument("--out", type=Path, required=True, help=".tflite to write (and its .json)")
    ap.add_argument("--train-dir", type=Path, help="training run folder, for its settings")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    try:
        cands = tuple(float(c) for c in args.candidate_min_score.split(","))
        joins = tuple(parse_optional_bar(j) for j in args.candidate_join_threshold.split(","))
        wraps = tuple(parse_optional_bar(w, "wrap bar") for w in args.wrap_keep.split(","))
    except ValueError as exc:
        ap.error(f"--candidate-min-score / --candidate-join-threshold / --wrap-keep: {exc}")
    command = "python -m convert.line_check " + " ".join(sys.argv[1:] if argv is None else argv)
    if args.retune:
        try:
            checker = LineChecker(args.retune)  # the grid sets every bar itself
        except ModelError as exc:
            ap.error(str(exc))
        data = args.retune.read_bytes()
        strip = checker.spec.strip
        # The command that made the model stays its command; this one is added.
        info = {**checker.spec.info, "name": args.out.stem, "retuned": command}
    else:
        if not args.strips:
            ap.error("--saved-model needs --strips (the representative strips)")
        strips = Strips.load(args.strips)
        rng = np.random.default_rng(0)
        pick = rng.choice(len(strips.labels), size=min(300, len(strips.labels)), replace=False)

        def representative():
            for i in pick:
                yield strips.strips[i][None, :, :, None].astype(np.float32)

        data = convert_saved_model(args.saved_model, "int8", representative)
        strip = StripSpec(height=strips.strips.shape[1], width=strips.strips.shape[2])
        info = {"name": args.out.stem, "variant": "int8", "command": command}
        if args.train_dir and (args.train_dir / "settings.json").is_file():
            info["training"] = json.loads((args.train_dir / "settings.json").read_text())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not (args.retune and args.out.resolve() == args.retune.resolve()):
        args.out.write_bytes(data)
    spec = CheckSpec(strip=strip, candidate_min_score=max(cands), keep=0.5, info=info)
    if not args.retune:
        spec.save(args.out.with_suffix(".json"))  # a provisional sidecar: LineChecker loads the model through it
        checker = LineChecker(args.out)
    detector = args.detector or default_model_path()
    items = list(tuning_items(args.tune, args.tune_limit))
    grid = f1_by_rule(items, detector, checker, cands=cands, joins=joins, wraps=wraps)
    alone = grid.pop(MAP_ALONE)
    # Of equal F1, the highest candidate bar: fewer strips to cut out and classify.
    (cand, join, keep, veto, wrap), (p, r, f1) = max(grid.items(), key=lambda kv: (kv[1][2], kv[0][0]))
    print(f"map alone: tuning P {alone[0]:.3f} R {alone[1]:.3f} F1 {alone[2]:.3f}")
    best = {(c, j, w): max(((rule, m) for rule, m in grid.items() if (rule[0], rule[1], rule[4]) == (c, j, w)),
                           key=lambda kv: kv[1][2])
            for c in cands for j in joins for w in wraps}
    for (c, j, w), ((_, _, k, v, _), m) in best.items():
        print(f"candidate bar {c}, join {j}, wrap bar {w}: best keep {k}, veto {v}: "
              f"tuning P {m[0]:.3f} R {m[1]:.3f} F1 {m[2]:.3f}")
    print(f"chosen: candidate bar {cand}, join {join}, keep {keep}, veto {veto}, wrap bar {wrap}: "
          f"tuning P {p:.3f} R {r:.3f} F1 {f1:.3f} ({len(items)} frames)")
    spec = replace(spec, candidate_min_score=float(cand), candidate_join_threshold=join, keep=float(keep),
                   veto=float(veto), wrap_keep=wrap, video_keep=args.video_keep, video_veto=args.video_veto,
                   video_wrap_keep=args.video_wrap_keep, info={**info, "size_bytes": len(data), "tuning": {
                       "frames": len(items), "detector": _shown(detector), "precision": round(p, 4),
                       "recall": round(r, 4), "f1": round(f1, 4), "map_alone": [round(x, 4) for x in alone],
                       # The grid's best rule per candidate bar, join threshold and wrap bar: the whole
                       # grid is thousands of rules.
                       "best_by_candidate": [{"candidate_min_score": c, "join_threshold": j, "wrap_keep": w,
                                              "keep": k, "veto": v, "precision": round(m[0], 4),
                                              "recall": round(m[1], 4), "f1": round(m[2], 4)}
                                             for (c, j, w), ((_, _, k, v, _), m) in best.items()]}})
    if args.photo_long_side:
        photo = photo_f1_by_bars(items, detector, checker, spec, args.photo_long_side)
        (pk, pv), pm = max(photo.items(), key=lambda kv: (kv[1][2], kv[0]))  # of equal F1, the higher bars
        same = photo[(keep, veto)]
        print(f"photo mode (+{args.photo_long_side}), its lines at the first size's bars: tuning P {same[0]:.3f} "
              f"R {same[1]:.3f} F1 {same[2]:.3f}; chosen keep {pk}, veto {pv}: "
              f"P {pm[0]:.3f} R {pm[1]:.3f} F1 {pm[2]:.3f}")
        chosen_photo = {"long_side": args.photo_long_side, "keep": pk, "veto": pv, "precision": round(pm[0], 4),
                        "recall": round(pm[1], 4), "f1": round(pm[2], 4),
                        "at_first_size_bars": [round(x, 4) for x in same]}
        spec = replace(spec, photo_keep=float(pk), photo_veto=float(pv),
                       info={**spec.info, "tuning": {**spec.info["tuning"], "photo": chosen_photo}})
    spec.save(args.out.with_suffix(".json"))
    video = spec.for_video()
    print(f"{args.out}: {len(data) / 1024:.0f} KB, candidate bar {cand}, join {join}, keep {keep}, veto {veto}, "
          f"wrap bar {wrap}, photo bars {spec.photo_keep} / {spec.photo_veto}, "
          f"video bars {video.keep} / {video.veto} / {video.wrap_keep}")


if __name__ == "__main__":
    main()
