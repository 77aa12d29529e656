"""The bundled demo inputs in edge_app/samples/: photos and a short clip.

    python -m training.samples --out edge_app/samples

Made by our own generator with a gentler camera (a steady hand, good light),
at photo resolution, and a truth.json with the links fully in view. Used by
the README's first command, the tests and the benchmark.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from training.camera import CameraConfig, photograph, random_geometry, warp_image, warp_points
from training.synth import SynthConfig, Synthesizer, inside_frame

PHOTO_CAMERA = CameraConfig(max_rotation_deg=6, wide_rotation_p=0.0, max_perspective=0.06, curl_p=0.3, max_curl_px=10,
                            blur_sigma=(0.0, 0.8), motion_blur_p=0.0, noise_sigma=(0.0, 0.015), jpeg_quality=(85, 95),
                            shadow_p=0.3, glare_p=0.0, low_contrast_p=0.0, dark_p=0.0)
PHOTO_CONFIG = SynthConfig(out_size=(1280, 960), portrait_p=0.0, xheight=(16.0, 24.0), min_canvas_xheight=16.0,
                           link_rate=0.2, camera=PHOTO_CAMERA)


def _good(sample, min_links: int, max_links: int) -> bool:
    full = [ln for ln in sample.links if not ln.partial]
    return min_links <= len(full) <= max_links and len(full) == len(sample.links)


def make_photos(synth: Synthesizer, n: int, start_seed: int) -> list[tuple[str, object]]:
    out = []
    seed = start_seed
    while len(out) < n:
        s = synth.make_sample(seed)
        seed += 1
        if _good(s, 2, 4):
            out.append((f"page{len(out) + 1}.jpg", s))
    return out


def pan_shift(t: float, scale: float = 1.0) -> np.ndarray:
    """The slow hand-held pan of the clips, as a shift in output pixels at
    ``t`` (0..1 over the clip): a drift with a little wobble, ``scale`` times
    the 640-px-wide frame's."""
    return np.array([[1, 0, scale * (-40 * t + 6 * np.sin(7 * t))], [0, 1, scale * (25 * t + 4 * np.sin(5 * t))],
                     [0, 0, 1]])


def make_clip(synth: Synthesizer, seed: int, frames: int, fps: int, path: Path,
              size: tuple[int, int] = (640, 480)) -> list[str]:
    """A slow hand-held pan over one page; returns URLs fully visible in every frame.
    ``size``: the frame; the page and the pan scale with its width (a camera of more
    pixels over the same view), the camera's blur and noise do not."""
    cfg = replace(synth.config, out_size=size, camera=replace(synth.config.camera, noise_sigma=(0.0, 0.0)))
    rng = np.random.default_rng(seed)
    w, h = cfg.out_size
    k = w / 640
    xh = 11.0 * k
    zoom = 1.5
    cw, ch = int(w * zoom * 1.4), int(h * zoom * 1.4)
    page = synth.renderer.render(rng, cw, ch, xh * zoom, link_rate=0.25)
    base = random_geometry(rng, (cw, ch), (w, h), zoom, cfg.camera)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    if not writer.isOpened():
        raise RuntimeError("OpenCV cannot write mp4 here")
    always: set[str] | None = None
    canvas = np.asarray(page.image)
    for i in range(frames):
        t = i / max(1, frames - 1)
        shift = pan_shift(t, k)
        geo = replace(base, homography=shift @ base.homography)
        img = warp_image(canvas, geo, zoom, (60, 50, 40))
        frame, _ = photograph(np.random.default_rng(seed * 1000 + i), img, cfg.camera)
        writer.write(frame)
        seen = {ld.url for ld in page.links if ld.quads
                and all(inside_frame(q, w, h) for q in (warp_points(q0, geo) for q0 in ld.quads))}
        always = seen if always is None else always & seen
    writer.release()
    return sorted(always or [])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("edge_app/samples"))
    ap.add_argument("--photos", type=int, default=3)
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    synth = Synthesizer(PHOTO_CONFIG)
    truth: dict = {"photos": {}, "clip": {}}
    for name, s in make_photos(synth, args.photos, args.seed):
        (args.out / name).write_bytes(s.jpeg)
        truth["photos"][name] = [{"url": ln.url, "quads": [np.round(q, 1).tolist() for q in ln.quads]} for ln in s.links]
    clip_synth = Synthesizer(replace(PHOTO_CONFIG, out_size=(640, 480)))
    # The first page whose pan keeps at least two links fully in view.
    clip_seed, urls = args.seed, []
    while len(urls) < 2:
        urls = make_clip(clip_synth, clip_seed, frames=40, fps=15, path=args.out / "demo.mp4")
        clip_seed += 1
    truth["clip"] = {"file": "demo.mp4", "frames": 40, "fps": 15, "seed": clip_seed - 1, "urls": urls}
    (args.out / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    print(f"{len(truth['photos'])} photos, clip with {len(urls)} links -> {args.out}")


if __name__ == "__main__":
    main()
