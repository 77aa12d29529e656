"""Where the missed link lines go: each scored line of a set, found or missed, and why.

    python -m training.misses --model models/links_detector.tflite --check models/line_check.tflite \\
        --data data/synth_cam/tune,data/realcam_tune --sheet docs/misses.png

Every scored link line (IoU >= 0.5, ``training.evaluate``'s matching) that the
kept lines miss gets the first of these causes that holds:

- ``lost in the merge``: one input size kept a line that matches it, and photo mode's merge of the sizes
  (``decode.merge_scales``) kept an overlapping line of the other size instead;
- ``dropped by the check``: a candidate (the check's lower-bar decoding) matches it, and the check did not keep it;
- ``weak in the map``: no candidate does, but the map decoded at a low bar (pixel threshold and region
  mean ``MissSettings.low``, no joining) has a region that does;
- ``merged``: a low-bar region covers a good part of it and is much larger (the line ran into its neighbours);
- ``in pieces``: two or more low-bar regions cover parts of it (the map broke it);
- ``wrong shape``: one low-bar region touches it, not at IoU 0.5 (too short, too tall, turned);
- ``not in the map``: nothing touches it.

With ``--also-long-side`` the kept lines are photo mode's, and the candidates
and low-bar regions those of every input size. The report counts them per line
size and per place in its link (a one-line
link; the first, a middle or the last line of a wrapped one), with three upper
bounds: the recall a perfect merge of the sizes would reach, a perfect check over
these candidates (and merge), and a perfect decoding of this map. A contact sheet (``--sheet``) shows examples of
each cause: the true line green, the low-bar regions red, the candidates
orange, the kept lines blue.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections import Counter
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Iterable

import cv2
import numpy as np
from tqdm import tqdm

from edge_app.decode import decode
from edge_app.model_spec import ModelSpec
from edge_app.results import Detection, quad_covered, quad_height, quad_iou
from training.evaluate import (CheckFn, EvalItem, ProbFn, check_fn, detect_frame, score_frame, size_bucket,
                               tflite_prob_fn, tuning_items)
from training.shards import folders as split_folders

FOUND = "found"
MERGE, CHECK, WEAK = "lost in the merge", "dropped by the check", "weak in the map"
MERGED, PIECES, SHAPE, ABSENT = "merged", "in pieces", "wrong shape", "not in the map"
CAUSES = (FOUND, MERGE, CHECK, WEAK, MERGED, PIECES, SHAPE, ABSENT)
PLACES = ("one line", "wrap first", "wrap middle", "wrap last")  # a one-line link; the lines of a wrapped one


@dataclass(frozen=True)
class MissSettings:
    low: float = 0.4  # pixel threshold and region mean of the low-bar decoding
    covers: float = 0.3  # share of the line a merged region covers, at least
    merged_size: float = 2.0  # ... being this many times the line's area
    piece: float = 0.05  # share of the line a region must cover to count as one of its pieces
    touched: float = 0.1  # less than this share of the line under any region: not in the map


@dataclass(frozen=True)
class LineFate:
    """One scored link line of a frame: what became of it."""

    item: str
    url: str
    line: int
    size: str  # training.evaluate.size_bucket
    place: str  # one of PLACES
    cause: str  # one of CAUSES


def line_place(n_lines: int, index: int) -> str:
    if n_lines == 1:
        return PLACES[0]
    return PLACES[1] if index == 0 else PLACES[3] if index == n_lines - 1 else PLACES[2]


def _area(quad: np.ndarray) -> float:
    return abs(float(cv2.contourArea(np.asarray(quad, np.float32).reshape(4, 2))))


def miss_cause(line: np.ndarray, candidates: list[np.ndarray], low: list[np.ndarray],
               s: MissSettings = MissSettings(), picked: list[np.ndarray] = ()) -> str:
    """Why a missed true ``line`` was missed, given the frame's candidate quads,
    its low-bar regions and the lines each input size kept before the merge
    (``picked``; see the module's list)."""
    if any(quad_iou(c, line) >= 0.5 for c in picked):
        return MERGE
    if any(quad_iou(c, line) >= 0.5 for c in candidates):
        return CHECK
    if any(quad_iou(r, line) >= 0.5 for r in low):
        return WEAK
    covered = [quad_covered(line, r) for r in low]
    if sum(covered) < s.touched:
        return ABSENT
    area = _area(line)
    if any(c >= s.covers and _area(r) > s.merged_size * area for c, r in zip(covered, low)):
        return MERGED
    if sum(c >= s.piece for c in covered) >= 2:
        return PIECES
    return SHAPE


@dataclass
class FrameAccount:
    item: EvalItem
    fates: list[tuple[LineFate, np.ndarray]]  # each scored line's fate and its true quad
    candidates: list[Detection]
    kept: list[Detection]
    low: list[Detection]


def account(items: Iterable[EvalItem], prob_fn: ProbFn, spec: ModelSpec, check: CheckFn | None = None,
            settings: MissSettings = MissSettings(), total: int | None = None,
            more: tuple[ProbFn, ...] = ()) -> Iterable[FrameAccount]:
    """Each frame's scored lines and their fates. ``spec`` decodes the candidates
    (with ``check``, its candidate bar: ``training.evaluate.check_fn``); without a
    check the candidates are the kept lines. ``more``: photo mode's extra input
    sizes, whose kept lines are added as ``training.evaluate.evaluate`` adds them;
    the candidates and low-bar regions are then every size's."""
    low_spec = replace(spec.decode, threshold=settings.low, min_score=settings.low, join_threshold=None)
    for item in tqdm(items, desc="misses", total=total):
        kept, sizes = detect_frame(item.image, prob_fn, spec, more, check)
        cands = [d for size in sizes for d in size.candidates]
        # With one size nothing is merged: its kept lines are the picked ones.
        picked = [d.quad for size in sizes for d in size.picked] if len(sizes) > 1 else []
        low = [d for size in sizes for d in decode(size.prob, low_spec, spec.output.stride, size.mi.scale_x,
                                                      size.mi.scale_y)]
        found, _fp = score_frame([d.quad for d in kept], item.links)
        fates = []
        for (li, qi), ok in found.items():
            link = item.links[li]
            q = link.quads[qi]
            cause = FOUND if ok else miss_cause(q, [d.quad for d in cands], [d.quad for d in low], settings, picked)
            fates.append((LineFate(item.name, link.url, qi, size_bucket(quad_height(q)),
                                   line_place(len(link.quads), qi), cause), q))
        yield FrameAccount(item, fates, cands, kept, low)


def table(fates: list[LineFate]) -> dict[str, dict[str, float | int]]:
    """Share of each cause (``n``: lines) overall, per size and per place."""
    groups: dict[str, list[LineFate]] = {"all": fates}
    for f in fates:
        groups.setdefault(f.size, []).append(f)
    for f in fates:
        groups.setdefault(f.place, []).append(f)
    out = {}
    for name, members in groups.items():
        c = Counter(f.cause for f in members)
        out[name] = {"n": len(members), **{cause: c[cause] / len(members) for cause in CAUSES}}
    return out


def bounds(fates: list[LineFate]) -> dict[str, float]:
    """Recall as found, with a perfect merge of the sizes, with a perfect check over these
    candidates (and merge), and with a perfect decoding of this map."""
    n = max(1, len(fates))
    c = Counter(f.cause for f in fates)
    return {"recall": c[FOUND] / n, "perfect merge": (c[FOUND] + c[MERGE]) / n,
            "perfect check": (c[FOUND] + c[MERGE] + c[CHECK]) / n,
            "perfect decoding": (c[FOUND] + c[MERGE] + c[CHECK] + c[WEAK]) / n}


def _tile(acc: FrameAccount, quad: np.ndarray, width: int = 360, height: int = 110) -> np.ndarray:
    img = acc.item.image
    img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR) if img.ndim == 2 else img.copy()
    for dets, colour, thick in ((acc.low, (0, 0, 230), 1), (acc.candidates, (0, 150, 255), 1),
                                (acc.kept, (230, 80, 0), 2)):
        for d in dets:
            cv2.polylines(img, [np.round(d.quad).astype(np.int32)], True, colour, thick)
    cv2.polylines(img, [np.round(quad).astype(np.int32)], True, (0, 190, 0), 2)
    h = max(quad_height(quad), 4.0)
    x0, y0 = np.maximum(quad.min(axis=0) - [2 * h, 1.5 * h], 0).astype(int)
    x1, y1 = (quad.max(axis=0) + [2 * h, 1.5 * h]).astype(int)
    crop = img[y0:y1, x0:x1]
    if crop.size == 0:
        return np.full((height, width, 3), 255, np.uint8)
    k = min(width / crop.shape[1], height / crop.shape[0])
    crop = cv2.resize(crop, (max(1, int(crop.shape[1] * k)), max(1, int(crop.shape[0] * k))))
    out = np.full((height, width, 3), 255, np.uint8)
    out[:crop.shape[0], :crop.shape[1]] = crop
    return out


def draw_sheet(examples: dict[str, list[np.ndarray]], path: Path, per_row: int = 4) -> None:
    """One row of tiles per cause, its name above it."""
    rows = []
    for cause, tiles in examples.items():
        if not tiles:
            continue
        band = np.full((24, per_row * tiles[0].shape[1], 3), 255, np.uint8)
        cv2.putText(band, cause, (6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
        tiles = tiles + [np.full_like(tiles[0], 255)] * (per_row - len(tiles))
        rows += [band, np.hstack(tiles)]
    if rows:
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), np.vstack(rows))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, required=True, help="detector .tflite (with its sidecar)")
    ap.add_argument("--check", type=Path, help="a line-check .tflite: the candidates are its lower-bar ones")
    ap.add_argument("--data", type=str, required=True,
                    help="generator shards or real-documents folders, comma-separated (each reported apart)")
    ap.add_argument("--limit", type=int, help="frames per folder")
    ap.add_argument("--also-long-side", type=int, action="append", default=[],
                    help="also detect at this input long side and merge its lines as photo mode "
                         "does (training.evaluate's flag); repeatable")
    ap.add_argument("--low", type=float, default=MissSettings.low, help="the low-bar decoding's threshold")
    ap.add_argument("--sheet", type=Path, help="contact sheet of missed lines, by cause (one per folder: "
                    "the folder's name is added)")
    ap.add_argument("--json", type=Path, help="write the tables here")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    settings = MissSettings(low=args.low)
    folders = split_folders(args.data)
    for folder in folders:
        if not folder.is_dir():
            ap.error(f"no such folder: {folder}")
    prob_fn, spec = tflite_prob_fn(args.model, args.threads)
    more = tuple(tflite_prob_fn(args.model, args.threads, ls)[0] for ls in args.also_long_side)
    check = None
    if args.check:
        check, spec = check_fn(args.check, spec, args.threads)
    report = {}
    for folder in folders:
        fates: list[LineFate] = []
        examples: dict[str, list[np.ndarray]] = {c: [] for c in CAUSES[1:]}
        for acc in account(tuning_items(folder, args.limit), prob_fn, spec, check, settings, total=args.limit,
                           more=more):
            for fate, quad in acc.fates:
                fates.append(fate)
                if args.sheet and fate.cause != FOUND and len(examples[fate.cause]) < 4:
                    examples[fate.cause].append(_tile(acc, quad))
        t, b = table(fates), bounds(fates)
        report[str(folder)] = {"bounds": b, "table": t, "settings": asdict(settings)}
        print(f"\n{folder}: {len(fates)} scored lines; recall {b['recall']:.3f}, with a perfect merge "
              f"{b['perfect merge']:.3f}, with a perfect check "
              f"{b['perfect check']:.3f}, with a perfect decoding {b['perfect decoding']:.3f}")
        cols = [c for c in ("all", *sorted(k for k in t if k.startswith("line")), *PLACES) if c in t]
        print(f"{'':22s}" + "".join(f"{c.removeprefix('line '):>12s}" for c in cols))
        print(f"{'lines':22s}" + "".join(f"{t[c]['n']:12d}" for c in cols))
        for cause in CAUSES:
            print(f"{cause:22s}" + "".join(f"{t[c][cause]:12.3f}" for c in cols))
        if args.sheet:
            draw_sheet(examples, args.sheet.with_name(f"{args.sheet.stem}_{folder.name}{args.sheet.suffix}"))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
