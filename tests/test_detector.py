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


def test_a_video_frame_smaller_than_the_input_size_is_not_scaled_up() -> None:
    img = read_image(SAMPLES_DIR / "page1.jpg")
    small = img[: img.shape[0] // 2, : img.shape[1] // 2]  # 640 wide: under the sidecar's 960
    det = Detector(DetectorSettings())
    assert det.video_long_side(small.shape) == max(small.shape[:2]) < det.long_side
    assert det.video_long_side(img.shape) == det.long_side  # a larger frame is scaled down as before
    native = _quads(det, small, max(small.shape[:2]))
    det.forget()
    video = [d.quad for d in det.detect(small, video=True).detections]
    assert native and len(video) == len(native) and all(np.array_equal(a, b) for a, b in zip(video, native))
    # Asked for, or with a long side set, video is scaled as photos are.
    assert Detector(DetectorSettings(video_upscale=True)).video_long_side(small.shape) == det.long_side
    assert Detector(DetectorSettings(long_side=960)).video_long_side(small.shape) == 960
