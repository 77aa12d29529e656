"""The one definition of how a gray text line becomes black ink on white paper
(the reader's cut-outs, and the line fitting that finds where the ink is)."""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

Binarize = Literal["local", "otsu", "adaptive", "none"]


def flatten(gray: np.ndarray) -> np.ndarray:
    """Stretch each neighbourhood (about a line high) between its own darkest
    and lightest pixel, so one global threshold then splits ink from paper
    along a line whose lighting changes. The floor on the stretch keeps blank
    paper between words from being blown up into noise."""
    k = max(3, int(gray.shape[0] * 0.9)) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    hi = cv2.dilate(gray, kernel).astype(np.float32)
    lo = cv2.erode(gray, kernel).astype(np.float32)
    p5, p95 = np.percentile(gray, [5, 95])
    floor = max(8.0, 0.3 * float(p95 - p5))
    out = (gray.astype(np.float32) - lo) / np.maximum(hi - lo, floor)
    return np.clip(out * 255.0, 0, 255).astype(np.uint8)


def binarize(gray: np.ndarray, method: Binarize) -> np.ndarray:
    if method == "local":
        _, out = cv2.threshold(flatten(gray), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        return out
    if method == "otsu":
        _, out = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        return out
    if method == "adaptive":
        block = max(3, (gray.shape[0] // 2) | 1)  # about half a line: follows shading along it
        return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, 10)
    return gray
