"""The line check's network, its training, and its export.

    python -m training.line_check_model --train data/strips/train.npz --val data/strips/tune.npz --out runs/check

A strip (``edge_app.line_check.StripSpec``: 32 x 384 gray, raw 0..255) goes
through a stride-2 stem and depthwise-separable blocks down to stride 8 (the
strip is then 4 cells tall), is folded to one row,
looks along the row with wide depthwise kernels (a URL's scheme and its
dots and slashes are far apart), and is pooled (max and mean) to one link
probability. Only ops full-integer TFLite runs: Conv2D, DepthwiseConv2D, ReLU6,
mean and max reductions, Dense.

Training: binary cross-entropy, AdamW with a cosine schedule, a checkpoint
per epoch (resumes), light photometric and placement augmentation; the
candidate strips come from ``training.line_strips``.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

from edge_app.line_check import StripSpec  # noqa: E402
from training.line_strips import Strips  # noqa: E402


@dataclass(frozen=True)
class CheckTrainConfig:
    train: str = "data/strips/train.npz"  # comma-separated .npz files
    val: str = "data/strips/tune.npz"
    out: str = "runs/check"
    epochs: int = 12
    batch: int = 128
    lr: float = 0.003
    weight_decay: float = 1e-4
    width: int = 32  # channels of the first blocks; 2x from stride 8 on
    seed: int = 0
    # Share of training strips blurred as a moving camera blurs them (on top of
    # the frames' own camera, which blurs 15% of them); 0 for the shipped check.
    blur: float = 0.0
    # Share of training strips degraded as small print on a poor camera is
    # (``degrade``); 0 for the shipped check.
    degrade: float = 0.0


def _cbr(x, filters: int, k, s=1, name: str = ""):
    x = layers.Conv2D(filters, k, strides=s, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(6.0, name=f"{name}_relu")(x)


def _sep(x, filters: int, k, s=1, name: str = ""):
    x = layers.DepthwiseConv2D(k, strides=s, padding="same", use_bias=False, name=f"{name}_dw")(x)
    x = layers.BatchNormalization(name=f"{name}_dwbn")(x)
    x = layers.ReLU(6.0, name=f"{name}_dwrelu")(x)
    return _cbr(x, filters, 1, name=f"{name}_pw")


def build_check_model(strip: StripSpec = StripSpec(), width: int = 32) -> keras.Model:
    inp = keras.Input((strip.height, strip.width, 1), name="strip")
    x = layers.Rescaling(1 / 127.5, offset=-1.0, name="norm")(inp)
    x = _cbr(x, 16, 3, 2, name="stem")                      # 16 x 192
    x = _sep(x, width, 3, 2, name="b1")                     # 8 x 96
    x = _sep(x, width, 3, 1, name="b2")
    x = _sep(x, width * 2, 3, 2, name="b3")                 # 4 x 48
    # Fold the rows: one column of features per position along the line.
    x = layers.Conv2D(width * 2, (strip.height // 8, 1), padding="valid", use_bias=False, name="rows")(x)
    x = layers.BatchNormalization(name="rows_bn")(x)
    x = layers.ReLU(6.0, name="rows_relu")(x)               # 1 x 48
    x = _sep(x, width * 2, (1, 9), 1, name="l1")
    x = _sep(x, width * 2, (1, 9), 1, name="l2")
    pooled = layers.Concatenate(name="pool")([layers.GlobalMaxPooling2D(name="max")(x),
                                              layers.GlobalAveragePooling2D(name="mean")(x)])
    x = layers.Dense(64, activation="relu", name="fc")(pooled)
    out = layers.Dense(1, activation="sigmoid", name="link")(x)
    return keras.Model(inp, out, name="line_check")


MAX_BLUR = 9  # pixels of the 32-px strip a moving camera smears a line over, at most


def motion_blur(x: tf.Tensor, seed: tf.Tensor, share: float) -> tf.Tensor:
    """(B, H, W, 1): ``share`` of the strips smeared along the line and across it
    by box kernels of random lengths (one pair of lengths per batch)."""
    lengths = tf.random.stateless_uniform([2], seed, 1, MAX_BLUR + 1, dtype=tf.int32)
    taps = tf.range(MAX_BLUR)
    along = tf.cast(taps < lengths[0], tf.float32)
    across = tf.cast(taps < (lengths[1] + 1) // 2, tf.float32)
    k_along = tf.reshape(along / tf.reduce_sum(along), [1, MAX_BLUR, 1, 1])
    k_across = tf.reshape(across / tf.reduce_sum(across), [MAX_BLUR, 1, 1, 1])
    # On ink (255 - x), so that the zero padding at the strip's border is paper.
    y = tf.nn.depthwise_conv2d(255.0 - x, k_along, [1, 1, 1, 1], "SAME")
    y = 255.0 - tf.nn.depthwise_conv2d(y, k_across, [1, 1, 1, 1], "SAME")
    pick = tf.random.stateless_uniform([tf.shape(x)[0], 1, 1, 1], seed + 1) < share
    return tf.where(pick, y, x)


MAX_SHRINK = 3.0  # times the strip's resolution a degraded strip loses, at most


def degrade(x: tf.Tensor, seed: tf.Tensor, share: float) -> tf.Tensor:
    """(B, H, W, 1): ``share`` of the strips as a line printed small is cut
    from a grainy frame: shrunk by up to ``MAX_SHRINK`` (one factor per batch),
    sensor grain added at that size, then scaled back up as ``cut_strip``
    scales a small line up, so that the grain comes out coarse and the strokes soft.
    Tried for the small print the check seemed to drop on the real documents;
    not shipped (model notes, a twenty-second session)."""
    h, w = x.shape[1], x.shape[2]
    f = tf.random.stateless_uniform([], seed, 1.0, MAX_SHRINK)
    small = tf.cast(tf.round(tf.cast([h, w], tf.float32) / f), tf.int32)
    y = tf.image.resize(x, small, method="area")
    grain = tf.random.stateless_uniform([tf.shape(x)[0], 1, 1, 1], seed + 1, 0.0, 14.0)
    y = y + tf.random.stateless_normal(tf.shape(y), seed + 2) * grain
    y = tf.image.resize(y, [h, w], method="bilinear")
    pick = tf.random.stateless_uniform([tf.shape(x)[0], 1, 1, 1], seed + 3) < share
    return tf.clip_by_value(tf.where(pick, y, x), 0.0, 255.0)


def augment(x: tf.Tensor, seed: tf.Tensor, blur: float = 0.0, degraded: float = 0.0) -> tf.Tensor:
    """(B, H, W, 1) float raw pixels: contrast, brightness, noise, and a
    shift along the line (white comes in), as a camera and a detector's
    uncertain ends would vary them; ``blur``: see ``motion_blur``; ``degraded``:
    see ``degrade``."""
    if blur > 0:
        x = motion_blur(x, seed + 5, blur)
    if degraded > 0:
        x = degrade(x, seed + 7, degraded)
    b = tf.shape(x)[0]
    s = tf.random.stateless_uniform([b, 1, 1, 1], seed, 0.6, 1.2)
    o = tf.random.stateless_uniform([b, 1, 1, 1], seed + 1, -30.0, 30.0)
    x = (x - 128.0) * s + 128.0 + o
    x = x + tf.random.stateless_normal(tf.shape(x), seed + 2) * tf.random.stateless_uniform([b, 1, 1, 1], seed + 3, 0, 8)
    shift = tf.random.stateless_uniform([], seed + 4, -12, 13, dtype=tf.int32)
    x = tf.roll(x, shift, axis=2)
    return tf.clip_by_value(x, 0.0, 255.0)


def make_dataset(s: Strips, batch: int, seed: int, train: bool, blur: float = 0.0,
                 degraded: float = 0.0) -> tf.data.Dataset:
    x = s.strips[..., None]
    y = s.labels.astype(np.float32)[:, None]
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if train:
        ds = ds.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch).map(lambda a, b: (tf.cast(a, tf.float32), b), num_parallel_calls=tf.data.AUTOTUNE)
    if train:
        counter = tf.data.Dataset.counter().map(lambda i: tf.stack([i, tf.constant(seed, tf.int64)]))
        ds = tf.data.Dataset.zip((ds, counter)).map(lambda xy, sd: (augment(xy[0], tf.cast(sd, tf.int32), blur, degraded),
                                                                   xy[1]),
                                                    num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(2)


def train(cfg: CheckTrainConfig, verbose: int = 2) -> keras.Model:
    out = Path(cfg.out)
    ckpt_dir = out / "checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    (out / "settings.json").write_text(json.dumps(asdict(cfg), indent=2) + "\n")
    keras.utils.set_random_seed(cfg.seed)
    tr, va = Strips.load_many(cfg.train), Strips.load_many(cfg.val)
    strip = StripSpec(height=tr.strips.shape[1], width=tr.strips.shape[2])
    steps = int(np.ceil(len(tr.labels) / cfg.batch))
    model = build_check_model(strip, cfg.width)
    sched = keras.optimizers.schedules.CosineDecay(cfg.lr, cfg.epochs * steps, alpha=0.02)
    model.compile(optimizer=keras.optimizers.AdamW(sched, weight_decay=cfg.weight_decay),
                  loss="binary_crossentropy", metrics=["accuracy", keras.metrics.AUC(name="auc")])
    initial_epoch = 0
    ckpts = sorted(ckpt_dir.glob("epoch-*.keras"))
    if ckpts:
        initial_epoch = int(ckpts[-1].stem.split("-")[1])
        model = keras.models.load_model(ckpts[-1])
        print(f"resuming from {ckpts[-1]} (epoch {initial_epoch})", flush=True)
    if initial_epoch < cfg.epochs:
        model.fit(make_dataset(tr, cfg.batch, cfg.seed, True, cfg.blur, cfg.degrade), epochs=cfg.epochs,
                  initial_epoch=initial_epoch,
                  validation_data=make_dataset(va, 256, cfg.seed, False), verbose=verbose,
                  callbacks=[keras.callbacks.ModelCheckpoint(str(ckpt_dir / "epoch-{epoch:03d}.keras")),
                             keras.callbacks.TensorBoard(str(out / "tensorboard"), update_freq="epoch")])
    inference = build_check_model(strip, cfg.width)
    inference.set_weights(model.get_weights())
    inference.export(str(out / "saved_model"), verbose=False)
    inference.save(out / "final.keras")
    return inference


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for f, default in asdict(CheckTrainConfig()).items():
        ap.add_argument("--" + f.replace("_", "-"), type=type(default), default=default)
    args = ap.parse_args(argv)
    train(CheckTrainConfig(**vars(args)))


if __name__ == "__main__":
    main()
