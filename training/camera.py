"""A phone/webcam photographing a page: geometry first, then light and sensor.

The geometry is one homography (plus an optional page curl); the same
transform moves the pixels and the label quads, so labels stay exact.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class CameraConfig:
    max_rotation_deg: float = 12.0
    wide_rotation_p: float = 0.1  # sometimes the book is held at a steep angle
    max_perspective: float = 0.10  # corner jitter, fraction of the view size
    curl_p: float = 0.25
    max_curl_px: float = 18.0
    blur_sigma: tuple[float, float] = (0.0, 1.4)
    motion_blur_p: float = 0.15
    noise_sigma: tuple[float, float] = (0.0, 0.04)
    jpeg_p: float = 0.9
    jpeg_quality: tuple[int, int] = (35, 95)
    shadow_p: float = 0.35
    glare_p: float = 0.15
    low_contrast_p: float = 0.2
    dark_p: float = 0.15
    # A camera held at an angle to the page: pitch and yaw of a pinhole
    # camera (focal length as a fraction of the frame width), on top of the
    # corner jitter above. Real cameras foreshorten far more than the jitter
    # does. Off by default (the generator's plain camera); the shipped model
    # was trained with 0.5 of each, together with an end-weighted loss
    # (scripts/train_model.sh; docs/model_notes.md, "a camera held at an
    # angle" and the section after it).
    tilt_p: float = 0.0
    max_tilt_deg: float = 26.0
    focal_frac: tuple[float, float] = (0.8, 1.5)
    # The phone's or webcam's own sharpening (unsharp masking): light halos
    # around strokes that a lens alone never makes.
    sharpen_p: float = 0.0
    sharpen_amount: tuple[float, float] = (0.3, 1.5)
    sharpen_sigma: tuple[float, float] = (0.7, 1.8)


def add_camera_flags(ap: argparse.ArgumentParser) -> None:
    """The command-line switches for the camera's optional effects."""
    ap.add_argument("--tilt-p", type=float, default=CameraConfig.tilt_p,
                    help="share of frames taken by a camera tilted against the page")
    ap.add_argument("--sharpen-p", type=float, default=CameraConfig.sharpen_p,
                    help="share of frames sharpened as a phone's processor does")


def camera_from_flags(args: argparse.Namespace) -> CameraConfig:
    return CameraConfig(tilt_p=args.tilt_p, sharpen_p=args.sharpen_p)


@dataclass
class Geometry:
    homography: np.ndarray  # canvas -> output
    curl: tuple[float, float, float, int] | None  # (amplitude px, x0, width, side)
    size: tuple[int, int]  # output (w, h)


def random_geometry(rng: np.random.Generator, canvas_wh: tuple[int, int], out_wh: tuple[int, int], zoom: float,
                    cfg: CameraConfig) -> Geometry:
    cw, ch = canvas_wh
    w, h = out_wh
    vw, vh = w * zoom, h * zoom
    cx = rng.uniform(min(vw / 2, cw / 2), max(cw - vw / 2, cw / 2))
    cy = rng.uniform(min(vh / 2, ch / 2), max(ch - vh / 2, ch / 2))
    max_rot = cfg.max_rotation_deg * (2.5 if rng.random() < cfg.wide_rotation_p else 1.0)
    ang = np.deg2rad(rng.uniform(-max_rot, max_rot))
    rect = np.array([[-vw / 2, -vh / 2], [vw / 2, -vh / 2], [vw / 2, vh / 2], [-vw / 2, vh / 2]], np.float32)
    rect += rng.uniform(-cfg.max_perspective, cfg.max_perspective, (4, 2)).astype(np.float32) * np.array([vw, vh], np.float32)
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]], np.float32)
    src = rect @ rot.T + np.array([cx, cy], np.float32)
    dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    hm = cv2.getPerspectiveTransform(src.astype(np.float32), dst)
    # A probability of 0 draws nothing, so configs without tilt (the bundled
    # samples') make the same frames as before it existed.
    if cfg.tilt_p > 0 and rng.random() < cfg.tilt_p:
        hm = _tilt(rng, (w, h), cfg) @ hm
    curl = None
    if rng.random() < cfg.curl_p:
        side = int(rng.integers(2))
        width = rng.uniform(0.15, 0.4) * w
        curl = (float(rng.uniform(4, cfg.max_curl_px)) * (1 if rng.random() < 0.7 else -1), 0.0, float(width), side)
    return Geometry(homography=hm, curl=curl, size=(w, h))


def _rotation(pitch: float, yaw: float) -> np.ndarray:
    cx, sx, cy, sy = np.cos(pitch), np.sin(pitch), np.cos(yaw), np.sin(yaw)
    return np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]]) @ np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])


def _tilt(rng: np.random.Generator, size: tuple[int, int], cfg: CameraConfig) -> np.ndarray:
    """Output -> output homography of the camera turned by a pitch and a yaw
    about its centre, then moved and scaled so that the frame centre shows
    the same page point at the same scale (the text size drawn for the frame
    holds at its centre; one side gets smaller, the other larger)."""
    w, h = size
    f = w * rng.uniform(*cfg.focal_frac)
    t = np.deg2rad(cfg.max_tilt_deg)
    k = np.array([[f, 0, w / 2], [0, f, h / 2], [0, 0, 1]])
    turn = k @ _rotation(rng.uniform(-t, t), rng.uniform(-t, t)) @ np.linalg.inv(k)
    c = np.array([w / 2, h / 2, 1.0])
    ct = turn @ c
    ct = ct[:2] / ct[2]
    # Local scale at the centre: where one-pixel steps from it land.
    px, py = turn @ (c + [1.0, 0, 0]), turn @ (c + [0, 1.0, 0])
    jac = np.column_stack([px[:2] / px[2] - ct, py[:2] / py[2] - ct])
    s = 1.0 / np.sqrt(abs(np.linalg.det(jac)))
    fix = np.array([[s, 0, w / 2 - s * ct[0]], [0, s, h / 2 - s * ct[1]], [0, 0, 1]])
    m = fix @ turn
    return m / m[2, 2]


def _curl_dy(x: np.ndarray, geo: Geometry) -> np.ndarray:
    assert geo.curl is not None
    amp, _, width, side = geo.curl
    w = geo.size[0]
    t = (x - (w - width)) / width if side == 1 else (width - x) / width
    t = np.clip(t, 0.0, 1.0)
    return amp * t * t


def warp_points(pts: np.ndarray, geo: Geometry) -> np.ndarray:
    p = cv2.perspectiveTransform(np.asarray(pts, np.float32).reshape(-1, 1, 2), geo.homography).reshape(-1, 2)
    if geo.curl is not None:
        p[:, 1] += _curl_dy(p[:, 0], geo)
    return p


def warp_image(canvas: np.ndarray, geo: Geometry, zoom: float, border: tuple[int, int, int]) -> np.ndarray:
    """Canvas (RGB uint8) -> output frame. Shrinks with INTER_AREA first so the
    page is anti-aliased like a real lens would, then warps the small copy."""
    if zoom > 1.05:
        small = cv2.resize(canvas, None, fx=1 / zoom, fy=1 / zoom, interpolation=cv2.INTER_AREA)
        sx = small.shape[1] / canvas.shape[1]
        sy = small.shape[0] / canvas.shape[0]
        hm = geo.homography @ np.linalg.inv(np.diag([sx, sy, 1.0]))
    else:
        small, hm = canvas, geo.homography
    out = cv2.warpPerspective(small, hm, geo.size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=border)
    if geo.curl is not None:
        w, h = geo.size
        xs = np.arange(w, dtype=np.float32)
        dy = _curl_dy(xs, geo).astype(np.float32)
        map_x = np.broadcast_to(xs, (h, w)).astype(np.float32)
        map_y = (np.arange(h, dtype=np.float32)[:, None] - dy[None, :]).astype(np.float32)
        out = cv2.remap(out, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=border)
    return out


def _smooth_field(rng: np.random.Generator, w: int, h: int, cells: int, lo: float, hi: float) -> np.ndarray:
    g = rng.uniform(lo, hi, (cells, cells + 1)).astype(np.float32)
    return cv2.resize(g, (w, h), interpolation=cv2.INTER_CUBIC)


def photograph(rng: np.random.Generator, img: np.ndarray, cfg: CameraConfig) -> tuple[np.ndarray, bytes]:
    """Light, lens and sensor effects on an RGB uint8 frame -> (BGR uint8, JPEG bytes)."""
    h, w = img.shape[:2]
    f = img.astype(np.float32) / 255.0
    gain = _smooth_field(rng, w, h, 3, 0.7, 1.1)
    yy, xx = np.arange(h, dtype=np.float32)[:, None], np.arange(w, dtype=np.float32)[None, :]
    r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
    gain *= 1.0 - rng.uniform(0.0, 0.35) * r2 / 2
    if rng.random() < cfg.shadow_p:
        pts = (rng.uniform(-0.3, 1.3, (4, 2)) * [w, h]).astype(np.int32)
        mask = np.zeros((h, w), np.float32)
        cv2.fillConvexPoly(mask, cv2.convexHull(pts), 1.0)
        k = int(max(w, h) * rng.uniform(0.02, 0.15)) | 1
        mask = cv2.GaussianBlur(mask, (k, k), 0)
        gain *= 1.0 - rng.uniform(0.2, 0.55) * mask
    if rng.random() < cfg.dark_p:
        gain *= rng.uniform(0.35, 0.7)
    f *= gain[..., None]
    f *= (1.0 + rng.normal(0, 0.035, 3)).astype(np.float32)  # white balance
    if rng.random() < cfg.low_contrast_p:
        lo, hi = rng.uniform(0.05, 0.3), rng.uniform(0.65, 0.95)
        f = lo + (hi - lo) * f
    if rng.random() < cfg.glare_p:
        gx, gy, s = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.08, 0.3) * w
        f += (rng.uniform(0.3, 0.8) * np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * s * s)))[..., None]
    sigma = rng.uniform(*cfg.blur_sigma)
    if sigma > 0.3:
        f = cv2.GaussianBlur(f, (0, 0), sigma)
    if rng.random() < cfg.motion_blur_p:
        n = int(rng.integers(3, 9))
        k = np.zeros((n, n), np.float32)
        k[n // 2, :] = 1.0 / n
        rot = cv2.getRotationMatrix2D((n / 2 - 0.5, n / 2 - 0.5), rng.uniform(0, 180), 1.0)
        k = cv2.warpAffine(k, rot, (n, n))
        f = cv2.filter2D(f, -1, k / max(k.sum(), 1e-6))
    ns = rng.uniform(*cfg.noise_sigma)
    f += rng.normal(0, ns, f.shape).astype(np.float32) * (0.5 + np.sqrt(np.clip(f, 0, 1)))
    if cfg.sharpen_p > 0 and rng.random() < cfg.sharpen_p:
        amount = rng.uniform(*cfg.sharpen_amount)
        # After the sensor's noise: the processor sharpens that too.
        f = f + amount * (f - cv2.GaussianBlur(f, (0, 0), rng.uniform(*cfg.sharpen_sigma)))
    out = np.clip(f * 255.0 + 0.5, 0, 255).astype(np.uint8)[:, :, ::-1]
    q = int(rng.integers(*cfg.jpeg_quality)) if rng.random() < cfg.jpeg_p else 97
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, q])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    jpeg = buf.tobytes()
    return cv2.imdecode(buf, cv2.IMREAD_COLOR), jpeg
