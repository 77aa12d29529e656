"""The generator's shards decoded once into memory, random crops; tf.data over them.

TensorFlow is imported only by ``make_dataset``: the crops feed other Keras
backends too (``training.train_device``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from edge_app.model_spec import OutputSpec
from training.shards import read_dataset
from training.synth import targets


@dataclass
class InMemoryData:
    images: list[np.ndarray]  # gray uint8, model input
    # (h/stride, w/stride, channels + 2) uint8: the model's target maps, then
    # the zones the loss may weight: the link ends' (training.synth.end_zone_map)
    # and the small link lines' (training.synth.small_line_map).
    maps: list[np.ndarray]

    def __len__(self) -> int:
        return len(self.images)


def frame_maps(bgr: np.ndarray, links: list, text_quads: list[np.ndarray], meta: dict, stride: int,
               long_side: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One frame's model input and training maps (InMemoryData's two lists)."""
    return targets(bgr, links, text_quads, stride, ignore_quads=meta.get("ignore_quads"), end_zones=True,
                   long_side=long_side, small_lines=True)


def load(folder: Path, limit: int | None = None, progress: bool = True,
         long_side: int | tuple[int, int] | None = None, stride: int | None = None) -> InMemoryData:
    """Target maps at ``stride`` (default: OutputSpec's; the model's own when
    it has another). ``long_side``: resize each frame as the runtime would
    (None: as made); a (low, high) pair draws each frame's long side
    uniformly from that range, seeded by the frame's index (the same sizes
    every run)."""
    stride = stride or OutputSpec().stride
    images, maps = [], []
    for i, (jpeg, links, tq, _meta) in enumerate(tqdm(read_dataset(folder), desc=f"load {folder.name}", disable=not progress)):
        if limit is not None and i >= limit:
            break
        bgr = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        side = long_side if not isinstance(long_side, tuple) else \
            int(np.random.default_rng(i).integers(long_side[0], long_side[1] + 1))
        img, m = frame_maps(bgr, links, tq, _meta, stride, side)
        images.append(img)
        maps.append(m)
    if not images:
        raise FileNotFoundError(f"no samples in {folder}: run python -m training.shards --out {folder}")
    return InMemoryData(images, maps)


def load_many(folders: str, limit: int | None = None, progress: bool = True,
              long_side: int | tuple[int, int] | None = None, stride: int | None = None) -> InMemoryData:
    """Comma-separated folders as one pool: each crop picks a frame uniformly,
    so a folder's share of the crops is its share of the frames."""
    from training.shards import folders as split_folders

    parts = [load(f, limit=limit, progress=progress, long_side=long_side, stride=stride) for f in split_folders(folders)]
    if not parts:
        raise FileNotFoundError(f"no training folders in {folders!r}")
    return InMemoryData([im for p in parts for im in p.images], [m for p in parts for m in p.maps])


def random_crop(data: InMemoryData, rng: np.random.Generator, crop: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """One random crop (crop x crop, aligned to the output stride) of a random
    frame and its maps, uint8."""
    i = int(rng.integers(len(data)))
    img, m = data.images[i], data.maps[i]
    h, w = img.shape
    ch, cw = min(crop, h), min(crop, w)
    y = int(rng.integers(0, (h - ch) // stride + 1)) * stride
    x = int(rng.integers(0, (w - cw) // stride + 1)) * stride
    im = img[y:y + ch, x:x + cw]
    mm = m[y // stride:(y + ch) // stride, x // stride:(x + cw) // stride]
    if rng.random() < 0.08:  # whole frame light-on-dark (slides, dark-mode printouts)
        im = 255 - im
    return im, mm


def crop_generator(data: InMemoryData, crop: int, seed: int, stride: int):
    """Endless random crops (crop x crop) aligned to the output stride."""
    rng = np.random.default_rng(seed)
    while True:
        im, mm = random_crop(data, rng, crop, stride)
        yield im[..., None].astype(np.float32), mm.astype(np.float32)


def make_dataset(data: InMemoryData, crop: int, batch: int, seed: int, stride: int | None = None):
    """tf.data batches of ``crop_generator``'s crops."""
    import tensorflow as tf

    stride = stride or OutputSpec().stride
    ch = len(OutputSpec().channels) + 2  # + the end zone and the small lines' zone
    ds = tf.data.Dataset.from_generator(
        lambda: crop_generator(data, crop, seed, stride),
        output_signature=(
            tf.TensorSpec((crop, crop, 1), tf.float32),
            tf.TensorSpec((crop // stride, crop // stride, ch), tf.float32),
        ),
    )
    return ds.batch(batch, drop_remainder=True).prefetch(4)
