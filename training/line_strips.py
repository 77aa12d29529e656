"""Training data for the line check: the shipped detector's candidate lines, cut out and labelled.

    python -m training.line_strips --data data/synth_cam/check --out data/strips/train.npz

Every frame of ``--data`` (generator shards, or a real-documents folder for
measuring only) goes through the detector (``--model``, default the shipped
one); its map is decoded with the line check's candidate bar
(``--candidate-min-score``) and join threshold (``--candidate-join-threshold``), and each candidate is cut out by
``edge_app.line_check.cut_strip``. A candidate matching a link line
(IoU >= 0.5, ``training.evaluate.match``) is a link (1); one with less than
``NEGATIVE_OVERLAP`` of its area on any link line is not (0); the rest, and
those on links cut by the frame edge, are left out. The frames should be ones the detector was not
trained on, so that its doubt looks as it will on new pages.
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edge_app.decode import decode
from edge_app.line_check import CheckSpec, StripSpec, candidate_decode, cut_strips
from edge_app.model_spec import default_model_path
from edge_app.results import quad_covered
from training.evaluate import EvalItem, ProbFn, folder_items, match, tflite_prob_fn

log = logging.getLogger(__name__)

NEGATIVE_OVERLAP = 0.3  # a candidate with less than this of its area on every link line is not a link


@dataclass
class Strips:
    strips: np.ndarray  # (N, H, W) uint8
    labels: np.ndarray  # (N,) uint8, 1 = link line
    scores: np.ndarray  # (N,) float32, the detector's region mean
    frames: np.ndarray  # (N,) int32, index of the frame it came from

    def save(self, path: Path, meta: dict) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, strips=self.strips, labels=self.labels, scores=self.scores, frames=self.frames,
                            meta=json.dumps(meta))

    @classmethod
    def load(cls, path: Path) -> "Strips":
        z = np.load(path)
        return cls(z["strips"], z["labels"], z["scores"], z["frames"])

    @classmethod
    def load_many(cls, paths: str) -> "Strips":
        """Comma-separated .npz files, one after the other (frame indices are per file)."""
        parts = [cls.load(Path(p)) for p in paths.split(",") if p]
        return cls(*(np.concatenate([getattr(s, f) for s in parts]) for f in ("strips", "labels", "scores", "frames")))


def label_candidates(quads: list[np.ndarray], item: EvalItem) -> list[int | None]:
    """1 (a link line), 0 (no link line near it) or None (neither: left out)."""
    used, _gt_match, ignore = match(quads, item.links)
    out: list[int | None] = []
    for i, q in enumerate(quads):
        if i in used:
            out.append(1)
        elif i in ignore:
            out.append(None)
        else:
            on_link = max((quad_covered(q, g) for link in item.links for g in link.quads), default=0.0)
            out.append(0 if on_link < NEGATIVE_OVERLAP else None)
    return out


def collect(items: list[EvalItem] | object, prob_fn: ProbFn, decode_spec, stride: int, strip: StripSpec,
            total: int | None = None) -> Strips:
    strips, labels, scores, frames = [], [], [], []
    for fi, item in enumerate(tqdm(items, desc="strips", total=total)):
        prob, mi = prob_fn(item.image)
        dets = decode(prob, decode_spec, stride, mi.scale_x, mi.scale_y)
        quads = [d.quad for d in dets]
        keep = [(d, lab) for d, lab in zip(dets, label_candidates(quads, item)) if lab is not None]
        if not keep:
            continue
        strips.append(cut_strips(item.image, [d.quad for d, _ in keep], strip))
        labels += [lab for _, lab in keep]
        scores += [d.score for d, _ in keep]
        frames += [fi] * len(keep)
    empty = np.zeros((0, strip.height, strip.width), np.uint8)
    return Strips(np.concatenate(strips) if strips else empty, np.array(labels, np.uint8),
                  np.array(scores, np.float32), np.array(frames, np.int32))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="generator shards, or a real-documents folder")
    ap.add_argument("--out", type=Path, required=True, help=".npz to write")
    ap.add_argument("--model", type=Path, default=None, help="detector .tflite (default: the shipped one)")
    ap.add_argument("--candidate-min-score", type=float, default=CheckSpec.candidate_min_score)
    ap.add_argument("--candidate-join-threshold", type=float, default=None,
                    help="join the candidates' pieces at this bar, as a check with this "
                         "CheckSpec.candidate_join_threshold decodes them (default: no joining)")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--long-side", type=int, default=None,
                    help="the detector's input long side (default: the sidecar's; the frame's own is video's scale)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    model = args.model or default_model_path()
    prob_fn, spec = tflite_prob_fn(model, long_side=args.long_side)
    # The candidates exactly as the runtime's check will see them.
    dspec = candidate_decode(spec.decode, CheckSpec(candidate_min_score=args.candidate_min_score,
                                                    candidate_join_threshold=args.candidate_join_threshold))
    items = folder_items(args.data, args.limit)
    s = collect(items, prob_fn, dspec, spec.output.stride, StripSpec(), total=args.limit)
    meta = {"data": str(args.data), "model": str(model), "long_side": args.long_side or spec.input.long_side,
            "decode": asdict(dspec), "strip": asdict(StripSpec())}
    s.save(args.out, meta)
    print(f"{args.out}: {len(s.labels)} strips, {int(s.labels.sum())} links, from {len(set(s.frames.tolist()))} frames")


if __name__ == "__main__":
    main()
