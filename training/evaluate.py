"""Detection precision / recall / F1 of link line quads (IoU >= 0.5).

    python -m training.evaluate --model models/links_detector.tflite --synth data/synth/val \
        --realdocs data/realdocs --out docs/

Works on the synthetic validation shards and on the real-documents set
(labels.jsonl from training.realdocs), with the runtime's own preprocessing
and decoding; per link kind and per text size; and draws the worst cases.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

import cv2
import numpy as np
from tqdm import tqdm

from edge_app.decode import decode, merge_scales, rasterize_targets
from edge_app.model_spec import ModelSpec, default_model_path, load_spec
from edge_app.preprocess import ModelInput, preprocess
from edge_app.results import Detection, quad_height, quad_iou
from edge_app.urls import normalize_url
from training.legibility import read_true_link, true_quads_settings
from training.shards import folders as split_folders

if TYPE_CHECKING:
    from edge_app.detector import Detector
    from edge_app.pipeline import Pipeline, PipelineSettings

log = logging.getLogger(__name__)

# frame -> (link probability map, the ModelInput it was computed from)
ProbFn = Callable[[np.ndarray], tuple[np.ndarray, ModelInput]]
# A frame and its candidate detections -> the ones kept (the line check); with
# extra_size=True, as photo mode keeps those of its extra input sizes.
CheckFn = Callable[..., list[Detection]]
# A frame -> the input sizes to detect it at: the first size's and the extra sizes' prob functions.
SizesFn = Callable[[np.ndarray], tuple[ProbFn, tuple[ProbFn, ...]]]


@dataclass
class GtLink:
    url: str
    quads: list[np.ndarray]
    partial: bool
    tags: dict[str, bool | str] = field(default_factory=dict)


@dataclass
class EvalItem:
    name: str
    image: np.ndarray  # BGR
    links: list[GtLink]


def link_kind(url: str) -> str:
    u = url.lower()
    for k in ("https://", "http://", "ftp://"):
        if u.startswith(k):
            return k[:-3]
    return "www" if u.startswith("www.") else "bare"


def size_bucket(height_px: float) -> str:
    for lo, hi in ((0, 10), (10, 16), (16, 24), (24, 40)):
        if height_px < hi:
            return f"line {lo}-{hi}px"
    return "line >=40px"


def synth_items(folder: Path, limit: int | None = None) -> Iterator[EvalItem]:
    from training.shards import read_dataset

    for i, (jpeg, links, _tq, meta) in enumerate(read_dataset(folder)):
        if limit is not None and i >= limit:
            return
        img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        gts = []
        for ln in links:
            tags = {k: bool(ln.style.get(k)) for k in ("wrapped", "inverted", "italic", "mono", "underline", "colored")}
            gts.append(GtLink(ln.url, ln.quads, ln.partial, tags))
        # Bare hosts on real pages that no annotation confirms (training.pdfpages):
        # maybe links, maybe not, so scored neither way, like a link cut by the frame.
        gts += [GtLink("", [np.asarray(q, np.float32)], True) for q in meta.get("ambiguous_quads", [])]
        yield EvalItem(f"synth-{meta['seed']}", img, gts)


def tuning_items(folders: str | Path, limit: int | None = None) -> Iterator[EvalItem]:
    """The tuning splits of ``folders`` ("a,b": e.g. the synthetic one and
    real typography from ``training.pdfpages --split tune``; a folder with a
    ``labels.jsonl`` is read as ``training.realdocs`` builds them), ``limit``
    images from each, one after the other: thresholds are chosen on their pooled F1."""
    for folder in split_folders(folders):
        yield from folder_items(Path(folder), limit)


def folder_items(folder: Path, limit: int | None = None) -> Iterator[EvalItem]:
    """A labelled folder of either kind: generator shards, or a set ``training.realdocs``
    builds (it has a ``labels.jsonl``)."""
    real = (folder / "labels.jsonl").is_file()
    return (realdocs_items if real else synth_items)(folder, limit)


def realdocs_items(folder: Path, limit: int | None = None) -> Iterator[EvalItem]:
    lines = (folder / "labels.jsonl").read_text().splitlines()
    for i, line in enumerate(lines):
        if limit is not None and i >= limit:
            return
        d = json.loads(line)
        img = cv2.imread(str(folder / d["image"]), cv2.IMREAD_COLOR)
        if img is None:
            log.warning("cannot read %s", d["image"])
            continue
        gts = [GtLink(x["url"], [np.asarray(q, np.float32) for q in x["quads"]], bool(x.get("partial")),
                      {"wrapped": len(x["quads"]) > 1}) for x in d["links"]]
        yield EvalItem(d["image"], img, gts)


@dataclass
class Counts:
    tp: int = 0
    fn: int = 0

    @property
    def recall(self) -> float:
        return self.tp / max(1, self.tp + self.fn)


@dataclass
class EvalResult:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    links_found: int = 0
    links_total: int = 0
    by_tag: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    worst: list[tuple[int, EvalItem, list[np.ndarray]]] = field(default_factory=list)
    images: int = 0

    @property
    def precision(self) -> float:
        return self.tp / max(1, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return self.tp / max(1, self.tp + self.fn)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / max(1e-9, p + r)

    @classmethod
    def pooled(cls, results: list["EvalResult"]) -> "EvalResult":
        """The counts of several sets added up (their worst cases are not kept)."""
        out = cls()
        for r in results:
            out.tp, out.fp, out.fn = out.tp + r.tp, out.fp + r.fp, out.fn + r.fn
            out.links_found, out.links_total = out.links_found + r.links_found, out.links_total + r.links_total
            out.images += r.images
            for k, c in r.by_tag.items():
                out.by_tag[k].tp += c.tp
                out.by_tag[k].fn += c.fn
        return out

    def summary(self) -> dict:
        return {
            "images": self.images, "line_quads": self.tp + self.fn, "precision": round(self.precision, 4),
            "recall": round(self.recall, 4), "f1": round(self.f1, 4), "tp": self.tp, "fp": self.fp, "fn": self.fn,
            "link_recall": round(self.links_found / max(1, self.links_total), 4), "links": self.links_total,
            "recall_by": {k: {"recall": round(v.recall, 4), "n": v.tp + v.fn} for k, v in sorted(self.by_tag.items())},
        }


def match(preds: list[np.ndarray], gts: list[GtLink], iou_thr: float = 0.5) -> tuple[set[int], dict[tuple[int, int], int], set[int]]:
    """Greedy IoU matching. Returns (matched pred ids, (link, line) -> pred id,
    pred ids that only overlap partial links and so count neither way)."""
    pairs = []
    flat = [(li, qi, q) for li, g in enumerate(gts) for qi, q in enumerate(g.quads)]
    for pi, p in enumerate(preds):
        for li, qi, q in flat:
            iou = quad_iou(p, q)
            if iou >= iou_thr:
                pairs.append((iou, pi, li, qi))
    pairs.sort(reverse=True)
    used_p: set[int] = set()
    gt_match: dict[tuple[int, int], int] = {}
    for _iou, pi, li, qi in pairs:
        if pi in used_p or (li, qi) in gt_match:
            continue
        used_p.add(pi)
        gt_match[(li, qi)] = pi
    ignore = set()
    for pi, p in enumerate(preds):
        if pi in used_p:
            continue
        # A detection on a link cut by the frame edge is neither right nor wrong.
        if any(g.partial and quad_iou(p, q) > 0.1 for g in gts for q in g.quads):
            ignore.add(pi)
    return used_p, gt_match, ignore


def score_frame(preds: list[np.ndarray], gts: list[GtLink]) -> tuple[dict[tuple[int, int], bool], int]:
    """Whether each scored true line (link index, piece index) was found, and
    the false positives; links cut by the frame edge are scored neither way."""
    used, gt_match, ignore = match(preds, gts)
    found: dict[tuple[int, int], bool] = {}
    for li, g in enumerate(gts):
        for qi in range(len(g.quads)):
            if not g.partial:
                found[(li, qi)] = (li, qi) in gt_match
            elif (li, qi) in gt_match:
                ignore.add(gt_match[(li, qi)])
    return found, len([p for p in range(len(preds)) if p not in used and p not in ignore])


@dataclass
class SizeOutput:
    """One input size's pass over a frame: its map, the input it came from, its
    candidates, and those of them it keeps (the check's choice) before the sizes are merged."""

    prob: np.ndarray
    mi: ModelInput
    candidates: list[Detection]
    picked: list[Detection]


def detect_frame(image: np.ndarray, prob_fn: ProbFn, spec: ModelSpec, more: tuple[ProbFn, ...] = (),
                 check: CheckFn | None = None) -> tuple[list[Detection], list[SizeOutput]]:
    """A frame's lines as the runtime finds them: each input size's candidates
    checked (``check``; the extra sizes as photo mode's), then merged
    (``decode.merge_scales``); and each size's pass."""
    kept: list[Detection] = []
    sizes: list[SizeOutput] = []
    for k, fn in enumerate((prob_fn, *more)):
        prob, mi = fn(image)
        cands = decode(prob, spec.decode, spec.output.stride, mi.scale_x, mi.scale_y)
        picked = check(image, cands, extra_size=k > 0) if check else cands
        kept = merge_scales(kept, picked) if k else picked
        sizes.append(SizeOutput(prob, mi, cands, picked))
    return kept, sizes


def evaluate(items: Iterator[EvalItem], prob_fn: ProbFn, spec: ModelSpec, n_worst: int = 12,
             progress: bool = True, total: int | None = None, more: tuple[ProbFn, ...] = (),
             check: CheckFn | None = None, sizes: SizesFn | None = None) -> EvalResult:
    """``more``: the same model at other input sizes, whose detections are
    added as photo mode adds them (``decode.merge_scales``). ``check``: the
    line check's choice among the detections (``spec`` then decodes with its
    candidate bar; see ``check_fn``). ``sizes``: each frame's sizes chosen
    instead (``photo_sizes_fn``), in place of ``prob_fn`` and ``more``."""
    res = EvalResult()
    for item in tqdm(items, desc="evaluate", disable=not progress, total=total):
        first, extra = sizes(item.image) if sizes else (prob_fn, more)
        dets, _sizes = detect_frame(item.image, first, spec, extra, check)
        preds = [d.quad for d in dets]
        found, fp = score_frame(preds, item.links)
        errors = 0
        for li, g in enumerate(item.links):
            if g.partial:
                continue
            res.links_total += 1
            all_found = True
            for qi, q in enumerate(g.quads):
                ok = found[(li, qi)]
                res.tp += ok
                res.fn += not ok
                errors += not ok
                all_found &= ok
                tags = ["all", f"kind {link_kind(g.url)}", size_bucket(quad_height(q))]
                tags += [k for k, v in g.tags.items() if v is True]
                for t in tags:
                    c = res.by_tag[t]
                    c.tp += ok
                    c.fn += not ok
            res.links_found += all_found
        res.fp += fp
        errors += fp
        res.images += 1
        if errors:
            res.worst.append((errors, item, preds))
            res.worst.sort(key=lambda t: -t[0])
            del res.worst[n_worst:]
    return res


@dataclass(frozen=True)
class TuneResult:
    long_side: int
    threshold: float
    min_score: float
    precision: float
    recall: float
    f1: float
    grid: list[dict]
    join_threshold: float | None = None


def tune_decode(items: Iterator[EvalItem], prob_fns: dict[int, ProbFn], spec: ModelSpec,
                thresholds: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.85),
                min_scores: tuple[float, ...] = (0.7, 0.8, 0.85, 0.9, 0.93, 0.96),
                join_thresholds: tuple[float | None, ...] = (None, 0.3, 0.2),
                min_gain: float = 0.01, progress: bool = True) -> TuneResult:
    """Grid-search the input long side, the decoding threshold, min_score and
    the join threshold (DecodeSpec.join_threshold; None: no joining) for the
    best F1.

    ``prob_fns`` maps each candidate long side to the model run at it. A
    larger input must beat the best smaller one by ``min_gain`` F1 to be
    chosen: it costs time on every frame. Run it on a split of its own (not
    the one reported): the maps are computed once and decoded for every pair.
    """
    kept: list[EvalItem] = []
    maps: dict[int, dict[int, tuple[np.ndarray, ModelInput]]] = {ls: {} for ls in prob_fns}
    for it in tqdm(items, desc="tune: maps", disable=not progress):
        kept.append(it)
        for ls, fn in prob_fns.items():
            maps[ls][id(it.image)] = fn(it.image)
    grid = []
    best: TuneResult | None = None
    for ls in sorted(prob_fns):
        for thr in thresholds:
            for ms in min_scores:
                if ms < thr:
                    continue  # every pixel of a region is >= thr, so its mean is too
                for join in join_thresholds:
                    s = replace(spec, decode=replace(spec.decode, threshold=thr, min_score=ms, join_threshold=join))
                    if join is not None and not s.decode.joins:
                        continue  # joins nothing: the same as None
                    res = evaluate(iter(kept), lambda img, m=maps[ls]: m[id(img)], s, n_worst=0, progress=False)
                    grid.append({"long_side": ls, "threshold": thr, "min_score": ms, "join_threshold": join,
                                 "precision": round(res.precision, 4), "recall": round(res.recall, 4),
                                 "f1": round(res.f1, 4)})
                    need = 0.0 if best is None or best.long_side == ls else min_gain
                    if best is None or res.f1 > best.f1 + need:
                        best = TuneResult(ls, thr, ms, res.precision, res.recall, res.f1, grid, join)
    assert best is not None, "empty grid"
    return best


def height_ratio(items: Iterator[EvalItem], prob_fn: ProbFn, spec: ModelSpec, progress: bool = True) -> tuple[float, int]:
    """Median of true / decoded quad height over matched line quads, and how
    many pairs it is taken over: the factor for DecodeSpec.height_scale
    (measure it with height_scale 1 on a split of its own)."""
    ratios = []
    for item in tqdm(items, desc="height", disable=not progress):
        prob, mi = prob_fn(item.image)
        preds = [d.quad for d in decode(prob, spec.decode, spec.output.stride, mi.scale_x, mi.scale_y)]
        _used, gt_match, _ignore = match(preds, item.links)
        for (li, qi), pi in gt_match.items():
            h = quad_height(preds[pi])
            if h > 0:
                ratios.append(quad_height(item.links[li].quads[qi]) / h)
    return (float(np.median(ratios)) if ratios else 1.0), len(ratios)


def draw_worst(res: EvalResult, path: Path, tile: int = 360) -> None:
    tiles = []
    for errors, item, preds in res.worst:
        img = item.image.copy()
        for g in item.links:
            for q in g.quads:
                cv2.polylines(img, [np.round(q).astype(np.int32)], True, (0, 170, 0) if not g.partial else (200, 160, 0), 2)
        for p in preds:
            cv2.polylines(img, [np.round(p).astype(np.int32)], True, (0, 0, 230), 1)
        s = tile / max(img.shape[:2])
        img = cv2.resize(img, (int(img.shape[1] * s), int(img.shape[0] * s)), interpolation=cv2.INTER_AREA)
        canvas = np.full((tile, tile, 3), 255, np.uint8)
        canvas[:img.shape[0], :img.shape[1]] = img
        cv2.putText(canvas, f"{errors} errors", (4, tile - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1)
        tiles.append(canvas)
    if not tiles:
        return
    while len(tiles) % 4:
        tiles.append(np.full_like(tiles[0], 255))
    rows = [np.hstack(tiles[i:i + 4]) for i in range(0, len(tiles), 4)]
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.vstack(rows))


def _map_detector(model_path: Path, threads: int, long_side: int | None = None) -> Detector:
    """The detector for its maps alone: a line check beside the model is not
    loaded (convert.line_check --retune writes one there before its sidecar)."""
    from edge_app.detector import Detector, DetectorSettings

    return Detector(DetectorSettings(model_path=model_path, threads=threads, long_side=long_side, use_check=False))


def tflite_prob_fn(model_path: Path, threads: int = 2, long_side: int | None = None) -> tuple[ProbFn, ModelSpec]:
    det = _map_detector(model_path, threads, long_side)

    def fn(frame: np.ndarray) -> tuple[np.ndarray, ModelInput]:
        link, _text, mi = det.prob_map(frame)
        return link, mi

    return fn, det.spec


def photo_sizes_fn(model_path: Path, threads: int = 2, settings: PipelineSettings | None = None
                   ) -> tuple[SizesFn, ModelSpec]:
    """Photo mode's input sizes for each frame, as ``Pipeline.process_photo``
    chooses them with ``settings`` (default: the pipeline's;
    ``pipeline.photo_input_sizes``: the fixed sizes, or sizes scaled up to a
    large photo's small print)."""
    from edge_app.pipeline import PipelineSettings, photo_input_sizes

    det = _map_detector(model_path, threads)
    settings = settings or PipelineSettings()

    def at(long_side: int) -> ProbFn:
        def fn(frame: np.ndarray) -> tuple[np.ndarray, ModelInput]:
            link, _text, mi = det.prob_map(frame, long_side)
            return link, mi

        return fn

    def choose(frame: np.ndarray) -> tuple[ProbFn, tuple[ProbFn, ...]]:
        link, text, mi = det.prob_map(frame)
        text_px = det.print_height(text) if text is not None else None
        first, extras = photo_input_sizes(det, frame.shape, text_px, settings)
        first_fn = (lambda _frame: (link, mi)) if first == det.long_side else at(first)
        return first_fn, tuple(at(ls) for ls in extras)

    return choose, det.spec


def check_fn(check_path: Path, spec: ModelSpec, threads: int = 2) -> tuple[CheckFn, ModelSpec]:
    """The line check of ``check_path`` over a detector of ``spec``: the spec to
    decode with (the check's candidate bar) and the choice it makes."""
    from edge_app.line_check import LineChecker, candidate_decode

    checker = LineChecker(check_path, threads)
    sure = spec.decode.min_score
    cand = replace(spec, decode=candidate_decode(spec.decode, checker.spec))
    return (lambda image, dets, extra_size=False: checker.keep(image, dets, sure, extra_size=extra_size)), cand


def ceiling_prob_fn(spec: ModelSpec, long_side: int | None = None) -> tuple[ProbFn, Callable[[EvalItem], EvalItem]]:
    """A perfect model: its map is the training target itself.

    Decoding that map shows what the target rule and the stride allow at an
    input size (small lines a cell apart merge). Returns the prob function and
    a hook that tells it each item's truth before evaluate() asks for the map.
    """
    truth: dict[int, list[np.ndarray]] = {}

    def remember(item: EvalItem) -> EvalItem:
        truth.clear()
        truth[id(item.image)] = [q for g in item.links for q in g.quads]
        return item

    def fn(frame: np.ndarray) -> tuple[np.ndarray, ModelInput]:
        mi = preprocess(frame, spec.input, long_side)
        quads = [q / np.array([mi.scale_x, mi.scale_y], np.float32) for q in truth[id(frame)]]
        target = rasterize_targets(quads, mi.image.shape, spec.output.stride, spec.decode)
        return target.astype(np.float32), mi

    return fn, remember


def keras_prob_fn(model, spec: ModelSpec, long_side: int | None = None) -> ProbFn:
    """The float model (Keras or a reloaded SavedModel's serve function)."""

    def fn(frame: np.ndarray) -> tuple[np.ndarray, ModelInput]:
        mi = preprocess(frame, spec.input, long_side)
        x = mi.image[None, :, :, None].astype(np.float32)
        out = model(x)
        out = out.numpy() if hasattr(out, "numpy") else np.asarray(out)
        return out[0, :, :, spec.output.link_channel], mi

    return fn


def tag_legible(items: Iterator[EvalItem], pipeline: Pipeline) -> Iterator[EvalItem]:
    """Each whole link tagged "legible" when the reader gets its URL exactly
    from its true quads, "not legible" otherwise (``training.legibility``):
    recall then splits into the links a user could get at all and the rest."""
    for item in items:
        links = []
        for g in item.links:
            want = None if g.partial else normalize_url(g.url)
            if want is not None:
                ok = read_true_link(pipeline, item.image, g.quads) == want
                g = replace(g, tags={**g.tags, "legible": ok, "not legible": not ok})
            links.append(g)
        yield replace(item, links=links)


def _report(name: str, res: EvalResult, results: dict) -> None:
    results[name] = res.summary()
    print(f"{name}: P={res.precision:.3f} R={res.recall:.3f} F1={res.f1:.3f} "
          f"(lines {res.tp + res.fn}, fp {res.fp}, link recall {res.links_found}/{res.links_total})")
    for k, v in results[name]["recall_by"].items():
        print(f"  recall {k:18s} {v['recall']:.3f}  (n={v['n']})")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, required=True,
                    help=".tflite (with sidecar), a SavedModel folder, or 'ceiling': decode the training targets "
                         "themselves (what the target rule and stride allow at --long-side)")
    ap.add_argument("--spec", type=Path, help="sidecar JSON for a SavedModel (default: the shipped one)")
    ap.add_argument("--synth", type=Path)
    ap.add_argument("--realdocs", help="real-documents set(s), comma-separated: each reported, then pooled "
                                       "(one draw of 240 images moves recall by about 0.05: model card)")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--long-side", type=int)
    ap.add_argument("--also-long-side", type=int, action="append", default=[],
                    help="(.tflite) also detect at this input long side and merge its lines "
                         "as photo mode does (PipelineSettings.photo_long_sides); repeatable")
    ap.add_argument("--photo", action="store_true",
                    help="(.tflite) photo mode's input sizes, chosen per image as the pipeline chooses them "
                         "(PipelineSettings: photo_long_sides, and photo_sizing for a large photo's small print)")
    ap.add_argument("--out", type=Path, help="folder for worst-case pictures and metrics JSON")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--check", type=Path, help="a line-check .tflite to choose among lower-bar candidates "
                    "(edge_app.line_check)")
    ap.add_argument("--legible", action="store_true",
                    help="also split recall by whether Tesseract reads each link exactly from its true quads "
                         "(training.legibility; adds about a second an image)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    hook: Callable[[EvalItem], EvalItem] = lambda item: item  # noqa: E731
    more: tuple[ProbFn, ...] = ()
    if (args.also_long_side or args.photo) and args.model.suffix != ".tflite":
        ap.error("--also-long-side and --photo need a .tflite model")
    if args.photo and (args.also_long_side or args.long_side):
        ap.error("--photo chooses the input sizes: drop --long-side / --also-long-side")
    sizes: SizesFn | None = None
    if str(args.model) == "ceiling":
        spec = load_spec(args.spec or default_model_path())
        # The targets are exact bands: no thickness to correct.
        spec = replace(spec, decode=replace(spec.decode, height_scale=1.0))
        fn, hook = ceiling_prob_fn(spec, args.long_side)
        tag = "ceiling"
    elif args.model.suffix == ".tflite":
        fn, spec = tflite_prob_fn(args.model, args.threads, args.long_side)
        more = tuple(tflite_prob_fn(args.model, args.threads, ls)[0] for ls in args.also_long_side)
        tag = args.model.stem + "".join(f"+{ls}" for ls in args.also_long_side)
        if args.photo:
            sizes, _ = photo_sizes_fn(args.model, args.threads)
            tag += "+photo"
    else:
        import tensorflow as tf

        spec = load_spec(args.spec or default_model_path()) if (args.spec or default_model_path().exists()) else ModelSpec()
        sm = tf.saved_model.load(str(args.model))
        fn = keras_prob_fn(sm.serve, spec, args.long_side)
        tag = "savedmodel"
    check = None
    if args.check:
        check, spec = check_fn(args.check, spec, args.threads)
        tag += "+" + args.check.stem
    real = split_folders(args.realdocs) if args.realdocs else []
    for folder in real:
        if not folder.is_dir():
            ap.error(f"no such folder: {folder}")
    sets: list[tuple[str, Iterator[EvalItem]]] = [("synthetic", synth_items(args.synth, args.limit))] if args.synth else []
    # One real set keeps its plain name (what earlier figures and tools read).
    sets += [("realdocs" if len(real) == 1 else f"realdocs {folder}", realdocs_items(folder, args.limit)) for folder in real]
    results = {}
    real_results: list[EvalResult] = []
    with contextlib.ExitStack() as stack:
        pipeline = None
        if args.legible:
            from edge_app.pipeline import Pipeline, PipelineSettings

            pipeline = stack.enter_context(Pipeline(true_quads_settings(PipelineSettings(track=False))))
        for name, items in sets:
            if pipeline is not None:
                items = tag_legible(items, pipeline)
            res = evaluate(map(hook, items), fn, spec, more=more, check=check, sizes=sizes)
            _report(name, res, results)
            if name != "synthetic":
                real_results.append(res)
            if args.out:
                draw_worst(res, args.out / f"worst_{name.replace(' ', '_').replace('/', '_')}_{tag}.png")
    if len(real_results) > 1:
        _report("realdocs pooled", EvalResult.pooled(real_results), results)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / f"metrics_{tag}.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
