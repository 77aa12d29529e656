"""A test page of text lines printed from the left margin, and the quads of any stretch of them."""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

FONT, SCALE, THICK = cv2.FONT_HERSHEY_SIMPLEX, 0.8, 2
LEFT, TOP, LEADING = 40, 60, 36


def printed_lines(lines: list[str], angle: float = 0.0) -> tuple[np.ndarray, Callable[[int, int, int], np.ndarray]]:
    """A gray page with ``lines`` printed from the left margin, turned by
    ``angle`` degrees, and a function giving the quad of characters
    [start, stop) of line ``row``."""
    page = np.full((400, 760), 240, np.uint8)
    for row, text in enumerate(lines):
        cv2.putText(page, text, (LEFT, TOP + row * LEADING), FONT, SCALE, 20, THICK, cv2.LINE_AA)
    m = cv2.getRotationMatrix2D((380, 200), angle, 1.0)
    page = cv2.warpAffine(page, m, (760, 400), borderValue=240)

    def quad(row: int, start: int, stop: int) -> np.ndarray:
        text = lines[row]
        x0 = LEFT + cv2.getTextSize(text[:start], FONT, SCALE, THICK)[0][0] if start else LEFT
        x1 = LEFT + cv2.getTextSize(text[:stop], FONT, SCALE, THICK)[0][0]
        (_, h), base = cv2.getTextSize(text, FONT, SCALE, THICK)
        y = TOP + row * LEADING
        q = np.array([[x0, y - h], [x1, y - h], [x1, y + base], [x0, y + base]], np.float32)
        return cv2.transform(q[None], m)[0]

    return page, quad
