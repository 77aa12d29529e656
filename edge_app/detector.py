"""The link detector: the LiteRT interpreter over a .tflite model and its sidecar.

Never imports TensorFlow: ``ai-edge-litert`` (or the older ``tflite_runtime``
where only that is installed) runs the model. The input tensor is (1, H, W, 1)
with H and W free; the interpreter is resized only when the frame size changes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_app.decode import decode
from edge_app.errors import ModelError
from edge_app.line_check import DEFAULT_CHECK_STEM, LineChecker, candidate_decode
from edge_app.litert import open_interpreter
from edge_app.model_spec import ModelSpec, default_model_path, load_spec
from edge_app.preprocess import ModelInput, preprocess
from edge_app.print_size import text_height
from edge_app.results import Detection

log = logging.getLogger(__name__)

# Interpreters kept for input shapes other than the current one (see Detector._resize).
MAX_SHAPES = 3


@dataclass(frozen=True)
class DetectorSettings:
    model_path: Path | None = None  # None: models/links_detector.tflite
    threads: int = 2
    long_side: int | None = None  # None: the sidecar's input.long_side
    # The line check (edge_app.line_check) over the detector's candidate
    # lines: a .tflite path, or None for line_check.tflite next to the
    # detector model when there is one. use_check=False: the map alone.
    check_path: Path | None = None
    use_check: bool = True
    # In video, frames in a row a line that barely moved keeps its check
    # (LineChecker.probs_in_video); 0: every frame checks every line.
    check_reuse_frames: int = 10
    # In video, a frame smaller than the input size is not scaled up to it
    # (unless long_side is set): on tuning clips (640x480) recall per frame
    # as good or better at the frame's own 640 as scaled up to 960, with
    # fewer wrong URLs, at half the detector's time (model card, eleventh session).
    video_upscale: bool = False


@dataclass(frozen=True)
class DetectorOutput:
    detections: list[Detection]
    timings_ms: dict[str, float]  # preprocess, detect (inference), decode, check (with a line check)
    # The print's line height in model-input pixels (edge_app.print_size),
    # when asked for and the model has a text map; else None.
    text_px: float | None = None


class Detector:
    """Frame (BGR/gray uint8, any size) -> link line quads in frame pixels."""

    def __init__(self, settings: DetectorSettings | None = None) -> None:
        self.settings = settings or DetectorSettings()
        path = Path(self.settings.model_path) if self.settings.model_path else default_model_path()
        if not path.is_file():
            raise ModelError(f"model file not found: {path} (give one with --model, or run "
                             "scripts/train_model.sh to build models/links_detector.tflite)")
        self.model_path = path
        self.spec: ModelSpec = load_spec(path)
        self._interp = open_interpreter(path, self.settings.threads)
        inp = self._interp.get_input_details()[0]
        out = self._interp.get_output_details()[0]
        if len(inp["shape"]) != 4 or inp["shape"][-1] != self.spec.input.channels:
            raise ModelError(f"model {path} takes input {list(inp['shape'])}, "
                             f"its sidecar says {self.spec.input.channels} channel(s)")
        self._in, self._out = inp, out
        self.checker: LineChecker | None = None
        check = self.settings.check_path or path.with_name(DEFAULT_CHECK_STEM + ".tflite")
        if self.settings.use_check and (self.settings.check_path or check.is_file()):
            self.checker = LineChecker(check, self.settings.threads, self.settings.check_reuse_frames)
        self._decode = self.spec.decode if self.checker is None else candidate_decode(self.spec.decode,
                                                                                      self.checker.spec)
        self._shape: tuple[int, int] | None = None
        # One interpreter per input shape in use: re-allocating one for a new
        # shape costs 20-25 ms here, and photo mode alternates two sizes.
        self._by_shape: dict[tuple[int, int], tuple[object, dict, dict]] = {}

    @property
    def input_dtype(self) -> np.dtype:
        return np.dtype(self._in["dtype"])

    @property
    def long_side(self) -> int:
        """The input long side in use: the setting, else the sidecar's."""
        return self.settings.long_side or self.spec.input.long_side

    def video_long_side(self, frame_shape: tuple[int, ...]) -> int:
        """The input long side for a video frame of ``frame_shape`` (see ``DetectorSettings.video_upscale``)."""
        if self.settings.long_side or self.settings.video_upscale:
            return self.long_side
        return min(self.long_side, max(frame_shape[:2]))

    @property
    def size_bytes(self) -> int:
        return self.model_path.stat().st_size

    def _resize(self, h: int, w: int) -> None:
        if self._shape == (h, w):
            return
        if self._shape is not None:
            self._by_shape[self._shape] = (self._interp, self._in, self._out)
        if (h, w) in self._by_shape:
            self._interp, self._in, self._out = self._by_shape.pop((h, w))
        else:
            if len(self._by_shape) >= MAX_SHAPES:
                self._by_shape.pop(next(iter(self._by_shape)))  # the oldest
            if self._shape is not None:
                self._interp = open_interpreter(self.model_path, self.settings.threads, allocate=False)
            self._interp.resize_tensor_input(self._in["index"], [1, h, w, self.spec.input.channels])
            self._interp.allocate_tensors()
            self._in = self._interp.get_input_details()[0]
            self._out = self._interp.get_output_details()[0]
        self._shape = (h, w)

    def _run(self, image: np.ndarray, channel: int | None = None) -> np.ndarray:
        """(H, W) uint8 gray -> (H/stride, W/stride, C) float32 probabilities,
        or only ``channel``'s (H/stride, W/stride): dequantising a uint8 map
        costs per pixel, and a stride-2 map has four times the pixels."""
        h, w = image.shape
        self._resize(h, w)
        x = image[None, :, :, None]
        scale, zero = self._in["quantization"]
        if self.input_dtype == np.uint8 and (scale, zero) != (1.0, 0):
            # Quantised input whose scale is not 1: requantise the raw pixels.
            x = np.clip(np.round(x / scale + zero), 0, 255).astype(np.uint8)
        else:
            x = x.astype(self.input_dtype, copy=False)
        self._interp.set_tensor(self._in["index"], x)
        self._interp.invoke()
        y = self._interp.get_tensor(self._out["index"])[0]
        if channel is not None:
            y = y[..., channel]
        if y.dtype != np.float32:
            scale, zero = self._out["quantization"]
            y = (y.astype(np.float32) - zero) * scale
        return y

    def prob_map(self, frame: np.ndarray, long_side: int | None = None) -> tuple[np.ndarray, np.ndarray | None, ModelInput]:
        """Frame -> (link map, text map or None, the model input it came from);
        ``long_side`` overrides the input size for this call."""
        mi = preprocess(frame, self.spec.input, long_side or self.settings.long_side)
        return (*self._maps(mi.image), mi)

    def _maps(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(link map, text map or None) of one model input."""
        y = self._run(image)
        tc = self.text_channel
        return y[..., self.spec.output.link_channel], (y[..., tc] if tc is not None and y.shape[-1] > tc else None)

    @property
    def text_channel(self) -> int | None:
        names = self.spec.output.channels
        return names.index("text") if "text" in names else None

    def print_height(self, text_map: np.ndarray) -> float | None:
        """The print's line height in model-input pixels, from this model's text map."""
        return text_height(text_map, self.spec.output.stride, self.spec.decode.height_scale)

    def detect(self, frame: np.ndarray, long_side: int | None = None, video: bool = False,
               extra_size: bool = False, measure_text: bool = False) -> DetectorOutput:
        """Link lines of ``frame``; ``long_side`` overrides the input size for this call;
        ``video``: ``frame`` follows the previous ``video`` call's (the line check may
        reuse what it found there; ``forget`` at a new source); ``extra_size``: this is
        one of photo mode's extra input sizes (the line check's photo bars apply);
        ``measure_text``: also measure the print's height (``DetectorOutput.text_px``)."""
        t0 = time.perf_counter()
        if long_side is None:
            long_side = self.video_long_side(frame.shape) if video else self.settings.long_side
        mi = preprocess(frame, self.spec.input, long_side)
        t1 = time.perf_counter()
        text_px = None
        if measure_text and self.text_channel is not None:
            link, text = self._maps(mi.image)
            text_px = self.print_height(text) if text is not None else None
        else:
            link = self._run(mi.image, self.spec.output.link_channel)
        t2 = time.perf_counter()
        dets = decode(link, self._decode, self.spec.output.stride, mi.scale_x, mi.scale_y)
        t3 = time.perf_counter()
        timings = {"preprocess": (t1 - t0) * 1e3, "detect": (t2 - t1) * 1e3, "decode": (t3 - t2) * 1e3}
        if self.checker is not None:
            dets = self.checker.keep(frame, dets, self.spec.decode.min_score, video=video, extra_size=extra_size)
            timings["check"] = (time.perf_counter() - t3) * 1e3
        return DetectorOutput(dets, timings, text_px)

    def forget(self) -> None:
        """A new source: nothing of the previous video frames is reused."""
        if self.checker is not None:
            self.checker.forget()
