"""The one definition of how a frame becomes model input.

Training imports this module for every sample; the runtime calls it for
every frame. There is no second copy anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edge_app.model_spec import InputSpec


@dataclass(frozen=True)
class ModelInput:
    """A frame ready for the detector, and how to map back to the frame."""

    image: np.ndarray  # (H, W) uint8 gray, H and W multiples of spec.multiple
    scale_x: float  # frame pixels per model-input pixel
    scale_y: float


def to_gray(frame: np.ndarray) -> np.ndarray:
    """BGR, BGRA or gray uint8 -> gray uint8."""
    if frame.ndim == 2:
        return frame
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    if frame.shape[2] == 1:
        return frame[:, :, 0]
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def input_size(width: int, height: int, spec: InputSpec, long_side: int | None = None) -> tuple[int, int]:
    """Model input (width, height) for a frame: longer side to ``long_side``,
    both rounded to the network's multiple (a few pixels of aspect change are
    cheaper than padding and are undone exactly by scale_x/scale_y)."""
    target = long_side or spec.long_side
    s = target / max(width, height)
    m = spec.multiple
    w = max(m, int(round(width * s / m)) * m)
    h = max(m, int(round(height * s / m)) * m)
    return w, h


def preprocess(frame: np.ndarray, spec: InputSpec, long_side: int | None = None) -> ModelInput:
    gray = to_gray(frame)
    h0, w0 = gray.shape[:2]
    w, h = input_size(w0, h0, spec, long_side)
    if (w, h) != (w0, h0):
        # INTER_AREA keeps thin strokes visible when shrinking a large frame.
        interp = cv2.INTER_AREA if w < w0 else cv2.INTER_LINEAR
        gray = cv2.resize(gray, (w, h), interpolation=interp)
    return ModelInput(image=np.ascontiguousarray(gray), scale_x=w0 / w, scale_y=h0 / h)
