"""Second opinion on each candidate link line: a small classifier on the line's own strip.

The detector's map is computed from a downscaled frame (long side 960), where
small print is a few pixels tall; it often marks a link line "maybe" (0.6-0.9)
and decoding must choose between dropping it and letting ordinary text in.
This stage looks again at every candidate line, cut out upright from the
full-resolution frame at a fixed height, and says link or not from the
whole line (scheme, dots, slashes). The detector then decodes with a lower bar (``CheckSpec.candidate_min_score``; its
pieces joined at ``CheckSpec.candidate_join_threshold``) and keeps a doubtful
candidate if the classifier is sure of it (``CheckSpec.keep``), and one the
map alone is sure of (``DecodeSpec.min_score``) unless the classifier clearly
says no (``CheckSpec.veto``): ``kept``. The rest of a wrapped link, placed as
one on the line below a kept line, needs less (``CheckSpec.wrap_keep``,
``edge_app.wraps``): ``kept_lines``. Photo mode's extra input sizes add only
the lines the first size missed, and keep them at bars of their own
(``CheckSpec.photo_keep``, ``photo_veto``); video frames may have bars of
their own too (``CheckSpec.video_keep``, ``video_veto``, ``video_wrap_keep``).

A model is ``<stem>.tflite`` plus ``<stem>.json``, like the detector's; the
strip rule (``cut_strip``) is the one definition training and runtime share.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np

from edge_app.errors import ModelError
from edge_app.litert import open_interpreter
from edge_app.model_spec import MODELS_DIR, DecodeSpec
from edge_app.preprocess import to_gray
from edge_app.results import Detection, quad_axes, quad_size
from edge_app.wraps import Wraps, with_wraps

log = logging.getLogger(__name__)

DEFAULT_CHECK_STEM = "line_check"


@dataclass(frozen=True)
class StripSpec:
    """How a candidate quad becomes classifier input."""

    height: int = 32  # pixels, the line's height after scaling
    width: int = 384  # longer strips are squeezed to this, shorter ones padded white
    # Source context around the quad, in line heights: across (the quad's
    # height is the detector's estimate) and along the line (a candidate often
    # stops short of its scheme or its last path segment).
    margin_y: float = 0.25
    margin_x: float = 0.75


def _unless_none(override: float | None, bar: float | None) -> float | None:
    """A mode's own bar where its sidecar sets one, else the stills' ``bar``."""
    return bar if override is None else override


@dataclass(frozen=True)
class CheckSpec:
    strip: StripSpec = field(default_factory=StripSpec)
    # The detector's decoding bar for candidates (region mean probability).
    candidate_min_score: float = 0.75
    # The candidates' join threshold (DecodeSpec.join_threshold; None: no
    # joining), chosen with the bars: a joined line is the whole line the
    # classifier needs to see, and F1 under the check, not the map's alone,
    # decides it.
    candidate_join_threshold: float | None = None
    keep: float = 0.5  # classifier probability a doubtful candidate needs
    # The probability below which a candidate the map is sure of is dropped
    # too (0: never). Lower than ``keep``: a line the map is sure of is dropped
    # only on a clear no (a short wrapped piece such as ``2ee1.us/`` at a
    # line's end looks doubtful to the classifier, and without it the link is lost).
    veto: float = 0.0
    # The classifier probability a doubtful candidate needs when it lies as
    # the rest of a wrapped link under a kept line (``edge_app.wraps``: the
    # classifier sees no scheme or host in it). None: no such rule (sidecars
    # tuned before it).
    wrap_keep: float | None = None
    # Photo mode's extra input sizes (``PipelineSettings.photo_long_sides``) add
    # mostly the lines the first size missed, most of them doubtful: their
    # candidates are kept at these bars instead of ``keep`` and ``veto`` (None:
    # the same bars; sidecars tuned before them). See ``for_extra_size``.
    photo_keep: float | None = None
    photo_veto: float | None = None
    # Video frames' bars instead of ``keep``, ``veto`` and ``wrap_keep`` (None:
    # the same bars). The bars are chosen on still frames; video's are held
    # apart because a moving camera's blur lowers the classifier's
    # probabilities, and a bar chosen on sharp photos drops blurred links
    # (the tracker shows a link only once a frame has kept it). See ``for_video``.
    video_keep: float | None = None
    video_veto: float | None = None
    video_wrap_keep: float | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def for_extra_size(self) -> "CheckSpec":
        """The rule for the candidates of photo mode's extra input sizes."""
        return replace(self, keep=_unless_none(self.photo_keep, self.keep),
                       veto=_unless_none(self.photo_veto, self.veto))

    def for_video(self) -> "CheckSpec":
        """The rule for the candidates of a video's frames."""
        return replace(self, keep=_unless_none(self.video_keep, self.keep),
                       veto=_unless_none(self.video_veto, self.veto),
                       wrap_keep=_unless_none(self.video_wrap_keep, self.wrap_keep))

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "CheckSpec":
        try:
            rest = {k: v for k, v in d.items() if k != "strip"}
            return cls(strip=StripSpec(**d.get("strip", {})), **rest)
        except TypeError as exc:
            raise ModelError(f"line-check sidecar has unexpected fields: {exc}") from exc

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")


def kept(score: float, prob: float | None, sure: float, spec: CheckSpec) -> bool:
    """The rule: is a candidate with the map's region mean ``score`` and the
    classifier's ``prob`` (None: not asked, see ``needs_check``) a link line?"""
    if not needs_check(score, sure, spec):
        return True
    return prob is not None and prob >= (spec.veto if score >= sure else spec.keep)


def kept_lines(scores: list[float], probs: list[float | None], sure: float, spec: CheckSpec,
               continues: Callable[[int, int], bool]) -> list[bool]:
    """The rule over one frame's candidates: ``kept`` for each, then the rest of
    a wrapped link whose line above is kept, at ``spec.wrap_keep``.
    ``continues(upper, lower)``: ``wraps.Wraps.continues`` for these candidates."""
    flags = [kept(s, p, sure, spec) for s, p in zip(scores, probs)]
    if spec.wrap_keep is None:
        return flags
    eligible = [not f and p is not None and p >= spec.wrap_keep for f, p in zip(flags, probs)]
    return with_wraps(flags, eligible, continues)


def needs_check(score: float, sure: float, spec: CheckSpec) -> bool:
    return spec.veto > 0 or score < sure


def candidate_decode(decode: DecodeSpec, spec: CheckSpec) -> DecodeSpec:
    """The detector's decoding under a line check: its bar lowered to the check's candidate bar
    (``decode.min_score`` still marks the candidates the map is sure of), its
    pieces joined as the check's tuning chose."""
    return replace(decode, min_score=min(decode.min_score, spec.candidate_min_score),
                   join_threshold=spec.candidate_join_threshold)


def default_check_path() -> Path:
    return MODELS_DIR / f"{DEFAULT_CHECK_STEM}.tflite"


def load_check_spec(model_path: Path) -> CheckSpec:
    path = model_path.with_suffix(".json")
    if not path.is_file():
        raise ModelError(f"no sidecar {path.name} next to {model_path}: a model needs its JSON description")
    try:
        return CheckSpec.from_json(json.loads(path.read_text()))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"cannot read line-check sidecar {path}: {exc}") from exc


def cut_strip(gray: np.ndarray, quad: np.ndarray, spec: StripSpec) -> np.ndarray:
    """(spec.height, spec.width) uint8: the quad's line upright, dark on light,
    with spec's context around it; ``gray`` is the full-resolution frame in gray."""
    q = np.asarray(quad, np.float32).reshape(4, 2)
    w, h = quad_size(q)
    h = max(h, 1.0)
    ux, uy = quad_axes(q)
    dx, dy = spec.margin_x * h * ux, spec.margin_y * h * uy
    tl, tr, br, bl = q
    src = np.array([tl - dx - dy, tr + dx - dy, br + dx + dy, bl - dx + dy], np.float32)
    full_w, full_h = w + 2 * spec.margin_x * h, h * (1 + 2 * spec.margin_y)
    out_h = spec.height
    out_w = int(np.clip(round(full_w * out_h / full_h), 1, spec.width))
    # Warp at the source scale, then resize with area averaging when shrinking:
    # a direct downscaling warp aliases thin strokes away.
    sw, sh = max(1, int(round(full_w))), max(1, int(round(full_h)))
    dst = np.array([[0, 0], [sw, 0], [sw, sh], [0, sh]], np.float32)
    line = cv2.warpPerspective(gray, cv2.getPerspectiveTransform(src, dst), (sw, sh),
                               flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    shrink = out_h < sh
    line = cv2.resize(line, (out_w, out_h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    # Dark on light: ink is whichever side of Otsu's split covers less.
    _, split = cv2.threshold(line, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if np.count_nonzero(split) < split.size / 2:
        line = 255 - line
    out = np.full((out_h, spec.width), 255, np.uint8)
    out[:, :out_w] = line
    return out


def cut_strips(frame: np.ndarray, quads: list[np.ndarray], spec: StripSpec) -> np.ndarray:
    """(N, height, width) uint8 strips of ``quads`` in ``frame`` (BGR or gray)."""
    gray = to_gray(frame)
    if not quads:
        return np.zeros((0, spec.height, spec.width), np.uint8)
    return np.stack([cut_strip(gray, q, spec) for q in quads])


# In video, a candidate whose box overlaps one of the previous frame's this
# much (IoU) keeps the probability computed there (see LineChecker.probs_in_video).
REUSE_IOU = 0.8


@dataclass(frozen=True)
class _Recent:
    """The previous video frame's candidates: boxes (N, 4: x0 y0 x1 y1), probabilities, and
    how many frames ago each probability was computed."""

    boxes: np.ndarray
    probs: np.ndarray
    ages: np.ndarray


def _boxes(quads: list[np.ndarray]) -> np.ndarray:
    q = np.asarray(quads, np.float32).reshape(-1, 4, 2)
    return np.concatenate([q.min(axis=1), q.max(axis=1)], axis=1)


def _box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) IoU of boxes ``a`` (N, 4) and ``b`` (M, 4)."""
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=2)
    area = lambda x: np.prod(np.clip(x[:, 2:] - x[:, :2], 0, None), axis=1)  # noqa: E731
    return inter / np.maximum(area(a)[:, None] + area(b)[None, :] - inter, 1e-6)


# Batch sizes the interpreter is sized for: one invoke over 16 strips costs
# about half of 16 single ones here, and a fixed set of sizes avoids
# re-allocating for every count (a short batch is padded with white strips).
BATCH_SIZES = (1, 4, 16)


class LineChecker:
    """Candidate quads of a frame -> the classifier's link probability for each."""

    def __init__(self, model_path: Path | None = None, threads: int = 2, reuse_frames: int = 0) -> None:
        """``reuse_frames``: in video (``probs_in_video``), how many frames in a row a
        candidate that barely moved keeps its probability (0: every frame computes its own)."""
        path = Path(model_path) if model_path else default_check_path()
        if not path.is_file():
            raise ModelError(f"line-check model not found: {path}")
        self.model_path = path
        self.spec = load_check_spec(path)
        self._threads = threads
        interp = open_interpreter(path, threads)
        inp = interp.get_input_details()[0]
        want = [1, self.spec.strip.height, self.spec.strip.width, 1]
        if list(inp["shape"]) != want:
            raise ModelError(f"line-check model {path} takes input {list(inp['shape'])}, "
                             f"its sidecar's strip is {want}")
        # batch size -> (interpreter, input details, output details): the details
        # are looked up once, not on every frame.
        self._by_batch: dict[int, tuple[Any, dict, dict]] = {1: (interp, inp, interp.get_output_details()[0])}
        self.reuse_frames = reuse_frames
        self._recent: _Recent | None = None

    def _interpreter(self, batch: int) -> tuple[Any, dict, dict]:
        """A LiteRT interpreter sized for ``batch`` strips, with its input and output details."""
        if batch not in self._by_batch:
            interp = open_interpreter(self.model_path, self._threads, allocate=False)
            index = interp.get_input_details()[0]["index"]
            interp.resize_tensor_input(index, [batch, self.spec.strip.height, self.spec.strip.width, 1])
            interp.allocate_tensors()
            self._by_batch[batch] = (interp, interp.get_input_details()[0], interp.get_output_details()[0])
        return self._by_batch[batch]

    def probs(self, frame: np.ndarray, quads: list[np.ndarray]) -> np.ndarray:
        """(N,) float32 link probabilities of ``quads`` (frame pixels) in ``frame``."""
        strips = cut_strips(frame, quads, self.spec.strip)
        out = np.empty(len(strips), np.float32)
        top = BATCH_SIZES[-1]
        for start in range(0, len(strips), top):
            chunk = strips[start:start + top]
            batch = next(b for b in BATCH_SIZES if b >= len(chunk))
            interp, inp, res = self._interpreter(batch)
            x = np.full((batch, *chunk.shape[1:], 1), 255, np.dtype(inp["dtype"]))
            x[:len(chunk), :, :, 0] = chunk
            interp.set_tensor(inp["index"], x)
            interp.invoke()
            y = interp.get_tensor(res["index"]).reshape(batch, -1)[:len(chunk), 0].astype(np.float32)
            if np.dtype(res["dtype"]) != np.float32:
                scale, zero = res["quantization"]
                y = (y - zero) * scale
            out[start:start + len(chunk)] = y
        return out

    def probs_in_video(self, frame: np.ndarray, quads: list[np.ndarray]) -> np.ndarray:
        """``probs`` for a frame of a video: a candidate whose box barely moved
        since the previous frame (``REUSE_IOU``) keeps the probability computed
        there, up to ``reuse_frames`` frames in a row; the classifier looks at
        new and moved lines only."""
        n = len(quads)
        boxes = _boxes(quads) if n else np.zeros((0, 4), np.float32)
        probs, ages = np.zeros(n, np.float32), np.zeros(n, np.int32)
        fresh = np.ones(n, bool)
        r = self._recent
        if r is not None and n and len(r.probs) and self.reuse_frames > 0:
            iou = _box_iou(boxes, r.boxes)
            j = iou.argmax(axis=1)
            same = (iou[np.arange(n), j] >= REUSE_IOU) & (r.ages[j] < self.reuse_frames)
            probs[same], ages[same] = r.probs[j[same]], r.ages[j[same]] + 1
            fresh = ~same
        if fresh.any():
            probs[fresh] = self.probs(frame, [quads[i] for i in np.flatnonzero(fresh)])
        self._recent = _Recent(boxes, probs, ages)
        return probs

    def forget(self) -> None:
        """A new video: nothing of the previous frames is reused."""
        self._recent = None

    def keep(self, frame: np.ndarray, dets: list[Detection], sure: float, video: bool = False,
             extra_size: bool = False) -> list[Detection]:
        """``dets`` decoded with the candidate bar -> the link lines among them
        (``kept``; ``sure``: the detector's own min_score; ``video``: ``frame``
        follows the one of the previous call with ``video``; ``extra_size``: the
        detector ran at one of photo mode's extra input sizes, see ``CheckSpec.photo_keep``;
        ``video`` also picks the video bars, ``CheckSpec.for_video``)."""
        spec = self.spec.for_video() if video else self.spec
        spec = spec.for_extra_size() if extra_size else spec
        asked = [i for i, d in enumerate(dets) if needs_check(d.score, sure, spec)]
        probs_of = self.probs_in_video if video else self.probs
        probs: dict[int, float] = dict(zip(asked, probs_of(frame, [dets[i].quad for i in asked]).tolist())) \
            if asked else {}
        flags = kept_lines([d.score for d in dets], [probs.get(i) for i in range(len(dets))], sure, spec,
                           Wraps(frame, [d.quad for d in dets]).continues)
        return [replace(d, check=probs[i]) if i in probs else d for i, (d, f) in enumerate(zip(dets, flags)) if f]
