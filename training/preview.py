"""Contact sheet of synthetic samples with their labels drawn.

    python -m training.preview --count 16 --seed 0 --out docs/synth_preview.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from training.shards import sample_seed
from training.camera import add_camera_flags, camera_from_flags
from training.synth import Sample, SynthConfig, Synthesizer

GREEN, ORANGE = (40, 200, 40), (0, 150, 255)


def draw_labels(s: Sample) -> np.ndarray:
    img = s.image.copy()
    for ln in s.links:
        color = ORANGE if ln.partial else GREEN
        for q in ln.quads:
            cv2.polylines(img, [np.round(q).astype(np.int32)], True, color, 2, cv2.LINE_AA)
    return img


def contact_sheet(samples: list[Sample], cols: int = 4, tile: int = 400) -> np.ndarray:
    tiles = []
    for s in samples:
        img = draw_labels(s)
        k = tile / max(img.shape[:2])
        img = cv2.resize(img, (int(img.shape[1] * k), int(img.shape[0] * k)), interpolation=cv2.INTER_AREA)
        t = np.full((tile, tile, 3), 245, np.uint8)
        y0, x0 = (tile - img.shape[0]) // 2, (tile - img.shape[1]) // 2
        t[y0:y0 + img.shape[0], x0:x0 + img.shape[1]] = img
        tiles.append(t)
    while len(tiles) % cols:
        tiles.append(np.full((tile, tile, 3), 245, np.uint8))
    return np.vstack([np.hstack(tiles[i:i + cols]) for i in range(0, len(tiles), cols)])


def save_sheet(path: Path, sheet: np.ndarray) -> None:
    """Write a BGR contact sheet as a PNG with a 256-colour palette: a committed
    sheet stays near 1 MB instead of 3-4."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(sheet[..., ::-1])).quantize(256, method=Image.Quantize.FASTOCTREE).save(
        path, optimize=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Contact sheet of synthetic samples (green: link lines, orange: cut by the frame).")
    ap.add_argument("--count", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cols", type=int, default=4)
    ap.add_argument("--out", type=Path, default=Path("docs/synth_preview.png"))
    add_camera_flags(ap)
    args = ap.parse_args(argv)
    synth = Synthesizer(SynthConfig(camera=camera_from_flags(args)))
    samples = [synth.make_sample(sample_seed(args.seed, i)) for i in range(args.count)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), contact_sheet(samples, args.cols))
    n = sum(len(s.links) for s in samples)
    print(f"{args.out}: {len(samples)} samples, {n} links")


if __name__ == "__main__":
    main()
