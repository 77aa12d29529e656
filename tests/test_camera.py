"""The training camera: a tilted view keeps its labels on the ink, and the
new effects leave configs that switch them off untouched."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from training.camera import CameraConfig, _tilt, photograph, random_geometry, warp_image, warp_points


def _point(m: np.ndarray, x: float, y: float) -> np.ndarray:
    p = m @ np.array([x, y, 1.0])
    return p[:2] / p[2]


def test_tilt_keeps_the_centre_and_its_scale_and_foreshortens_the_sides() -> None:
    w, h = 640, 480
    cfg = CameraConfig(max_tilt_deg=30.0)
    spreads = []
    for seed in range(20):
        m = _tilt(np.random.default_rng(seed), (w, h), cfg)
        np.testing.assert_allclose(_point(m, w / 2, h / 2), [w / 2, h / 2], atol=1e-6)
        # A short segment at the centre keeps its area (scale 1 there).
        a, b, c = _point(m, w / 2, h / 2), _point(m, w / 2 + 1, h / 2), _point(m, w / 2, h / 2 + 1)
        (ux, uy), (vx, vy) = b - a, c - a
        assert abs(abs(ux * vy - uy * vx) - 1.0) < 0.01
        # Along the frame's width, the local horizontal scale changes.
        left = np.linalg.norm(_point(m, 11, h / 2) - _point(m, 10, h / 2))
        right = np.linalg.norm(_point(m, w - 10, h / 2) - _point(m, w - 11, h / 2))
        spreads.append(max(left, right) / min(left, right))
    assert max(spreads) > 1.3, f"no view is foreshortened: {max(spreads):.2f}"
    assert min(spreads) < max(spreads)


def test_labels_follow_the_ink_in_a_tilted_view() -> None:
    """A black box drawn on the canvas lands where warp_points puts its corners."""
    cfg = CameraConfig(tilt_p=1.0, curl_p=0.0)
    canvas = np.full((600, 800, 3), 255, np.uint8)
    box = np.array([[300, 250], [500, 250], [500, 330], [300, 330]], np.float32)
    cv2.fillPoly(canvas, [box.astype(np.int32)], (0, 0, 0))
    for seed in range(5):
        geo = random_geometry(np.random.default_rng(seed), (800, 600), (640, 480), 1.0, cfg)
        frame = warp_image(canvas, geo, 1.0, (255, 255, 255))
        ink = (frame[..., 0] < 128).astype(np.uint8)
        label = np.zeros_like(ink)
        cv2.fillPoly(label, [np.round(warp_points(box, geo)).astype(np.int32)], 1)
        inter, union = int((ink & label).sum()), int((ink | label).sum())
        assert union > 1000 and inter / union > 0.95, f"seed {seed}: IoU {inter / union:.3f}"


def test_switched_off_effects_draw_nothing() -> None:
    """With probability 0 the tilt and the sharpening take no random draws, so
    a config that turns them off (the bundled samples') makes the frames it
    made before they existed, whatever their other settings."""
    img = np.random.default_rng(0).integers(0, 256, (120, 160, 3), np.uint8)
    off = CameraConfig(tilt_p=0.0, sharpen_p=0.0)
    other = dataclasses.replace(off, max_tilt_deg=5.0, focal_frac=(2.0, 3.0), sharpen_amount=(2.0, 3.0))
    ga = random_geometry(np.random.default_rng(1), (200, 150), (160, 120), 1.0, off)
    gb = random_geometry(np.random.default_rng(1), (200, 150), (160, 120), 1.0, other)
    np.testing.assert_array_equal(ga.homography, gb.homography)
    _, ja = photograph(np.random.default_rng(2), img, off)
    _, jb = photograph(np.random.default_rng(2), img, other)
    assert ja == jb
    _, jc = photograph(np.random.default_rng(2), img, dataclasses.replace(off, sharpen_p=1.0))
    assert jc != ja


def test_sharpening_makes_halos() -> None:
    """A dark bar on grey: sharpening lifts the paper next to the stroke and
    leaves the paper far from it (a halo a blur alone never makes)."""
    img = np.full((64, 64, 3), 180, np.uint8)
    img[:, 30:34] = 30
    base = dict(blur_sigma=(0.0, 0.0), motion_blur_p=0.0, noise_sigma=(0.0, 0.0), jpeg_p=0.0, shadow_p=0.0,
                glare_p=0.0, low_contrast_p=0.0, dark_p=0.0)
    plain, _ = photograph(np.random.default_rng(3), img, CameraConfig(sharpen_p=0.0, **base))
    sharp, _ = photograph(np.random.default_rng(3), img, CameraConfig(sharpen_p=1.0, sharpen_amount=(1.0, 1.0),
                                                                       sharpen_sigma=(1.5, 1.5), **base))
    lift = sharp[32, :, 1].astype(int) - plain[32, :, 1].astype(int)
    assert lift[28] > 10 and lift[35] > 10, lift[:40]
    assert abs(lift[10]) <= 3, lift[:40]
