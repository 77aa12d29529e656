"""The LiteRT detector with the shipped model: switching input sizes."""

from __future__ import annotations

import numpy as np

from edge_app.detector import MAX_SHAPES, Detector, DetectorSettings
from edge_app.sources import SAMPLES_DIR, read_image


def _quads(det: Detector, img: np.ndarray, long_side: int | None) -> list[np.ndarray]:
    return [d.quad for d in det.detect(img, long_side=long_side).detections]


def test_switching_input_sizes_gives_what_a_fresh_detector_gives() -> None:
    img = read_image(SAMPLES_DIR / "page1.jpg")
    fresh = {ls: _quads(Detector(DetectorSettings(long_side=ls)), img, None) for ls in (960, 1280, 640)}
    det = Detector(DetectorSettings())
    for ls in (960, 1280, 960, 640, 1280, 800, 1024, 960, 1280):
        got = _quads(det, img, ls)
        if ls in fresh:
            assert len(got) == len(fresh[ls]) and all(np.array_equal(a, b) for a, b in zip(got, fresh[ls])), ls
        assert len(det._by_shape) <= MAX_SHAPES  # interpreters kept for other sizes stay bounded
