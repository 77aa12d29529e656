"""Train the link detector on synthetic shards; checkpoints, resume, TensorBoard.

    python -m training.train --data data/synth/train --val data/synth/val --out runs/main

Re-running the same command resumes from the newest checkpoint in --out.
Every setting is written to <out>/settings.json; the SavedModel to
<out>/saved_model when training ends.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from training.dataset import load, load_many, make_dataset  # noqa: E402
from training.losses import link_dice, make_loss  # noqa: E402
from training.model import OUT_STRIDES, ModelConfig, build_model, four_ints  # noqa: E402

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    data: str = "data/synth/train"  # comma-separated folders are mixed
    val: str = "data/synth/val"
    out: str = "runs/main"
    crop: int = 256
    batch: int = 16
    epochs: int = 30
    steps_per_epoch: int = 250
    lr: float = 3e-3
    weight_decay: float = 1e-4
    text_weight: float = 0.5
    # Extra BCE weight on the link map around each line's two ends (the
    # dataset's end-zone channel): 0 trains exactly as before.
    end_weight: float = 0.0
    # Extra BCE weight on the link map over the link lines under
    # training.synth.SMALL_LINE_PX (the dataset's small-line channel): 0 as before.
    small_weight: float = 0.0
    seed: int = 0
    limit: int | None = None  # use only the first N training samples (tests, smoke runs)
    # The cosine schedule's length in epochs; longer than --epochs stops early on a
    # schedule meant for a longer run (what the shipped model did, see its card).
    schedule_epochs: int | None = None
    # Start from this model's weights (a .keras file) instead of random ones: a second
    # run with a fresh learning-rate schedule continues a finished one.
    init: str | None = None
    # Resize every frame so its longer side is this many pixels before cropping,
    # as the runtime resizes its input (the sidecar's long_side): the generator
    # makes 640x480 frames that the runtime sees upscaled to 960, so text the
    # network trains on at native size is 1.5x smaller than what it runs on.
    # None trains on the frames as made.
    long_side: int | None = None
    # With long_side: each training frame's long side drawn from
    # [long_side, long_side_max] instead (a scale augmentation; validation
    # frames stay at long_side).
    long_side_max: int | None = None


class TimeLog(keras.callbacks.Callback):
    """One readable line per epoch in the log file, with images/s."""

    def __init__(self, batch: int, steps: int) -> None:
        super().__init__()
        self.batch, self.steps = batch, steps
        self.t0 = 0.0

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self.t0 = time.time()

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        dt = time.time() - self.t0
        items = " ".join(f"{k}={v:.4f}" for k, v in (logs or {}).items())
        print(f"epoch {epoch + 1}: {items} ({self.batch * self.steps / dt:.1f} img/s, {dt:.0f}s)", flush=True)


def train(cfg: TrainConfig, model_cfg: ModelConfig | None = None, verbose: int = 2) -> keras.Model:
    model_cfg = model_cfg or ModelConfig()
    out = Path(cfg.out)
    ckpt_dir = out / "checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    (out / "settings.json").write_text(json.dumps({"train": asdict(cfg), "model": asdict(model_cfg)}, indent=2) + "\n")
    keras.utils.set_random_seed(cfg.seed)

    sides = (cfg.long_side, cfg.long_side_max) if cfg.long_side and cfg.long_side_max else cfg.long_side
    stride = model_cfg.out_stride
    train_data = load_many(cfg.data, limit=cfg.limit, progress=verbose > 0, long_side=sides, stride=stride)
    val_data = load(Path(cfg.val), limit=None if cfg.limit is None else max(8, cfg.limit // 10), progress=verbose > 0,
                    long_side=cfg.long_side, stride=stride)
    ds = make_dataset(train_data, cfg.crop, cfg.batch, cfg.seed, stride)
    val_ds = make_dataset(val_data, cfg.crop, cfg.batch, cfg.seed + 1, stride).take(max(1, min(40, len(val_data) // cfg.batch)))
    val_ds = val_ds.cache()

    model = build_model(model_cfg)
    if cfg.init:
        model.set_weights(keras.models.load_model(cfg.init, compile=False).get_weights())
        print(f"starting from the weights of {cfg.init}", flush=True)
    total = (cfg.schedule_epochs or cfg.epochs) * cfg.steps_per_epoch
    sched = keras.optimizers.schedules.CosineDecay(cfg.lr, total, alpha=0.02, warmup_target=None)
    loss = make_loss(cfg.text_weight, cfg.end_weight, cfg.small_weight)
    model.compile(optimizer=keras.optimizers.AdamW(sched, weight_decay=cfg.weight_decay),
                  loss=loss, metrics=[link_dice])

    initial_epoch = 0
    ckpts = sorted(ckpt_dir.glob("epoch-*.keras"))
    if ckpts:
        latest = ckpts[-1]
        initial_epoch = int(latest.stem.split("-")[1])
        model = keras.models.load_model(latest, custom_objects={"loss": loss, "link_dice": link_dice})
        print(f"resuming from {latest} (epoch {initial_epoch})", flush=True)

    callbacks = [
        keras.callbacks.ModelCheckpoint(str(ckpt_dir / "epoch-{epoch:03d}.keras")),
        keras.callbacks.TensorBoard(str(out / "tensorboard"), update_freq="epoch"),
        TimeLog(cfg.batch, cfg.steps_per_epoch),
    ]
    if initial_epoch < cfg.epochs:
        model.fit(ds, epochs=cfg.epochs, initial_epoch=initial_epoch, steps_per_epoch=cfg.steps_per_epoch,
                  validation_data=val_ds, callbacks=callbacks, verbose=verbose)
    # Export a clean inference graph (no optimizer, no custom loss).
    inference = build_model(model_cfg)
    inference.set_weights(model.get_weights())
    inference.export(str(out / "saved_model"), verbose=False)
    inference.save(out / "final.keras")
    return inference


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ints = ("crop", "batch", "epochs", "steps_per_epoch", "seed", "limit", "schedule_epochs", "long_side", "long_side_max")
    for f, default in asdict(TrainConfig()).items():
        typ = int if f in ints else (float if isinstance(default, float) else str)
        ap.add_argument("--" + f.replace("_", "-"), type=typ, default=default)
    model_defaults = ModelConfig()
    ap.add_argument("--widths", type=four_ints, default=model_defaults.widths,
                    help="channels at strides 4,8,16,32, comma-separated (default %(default)s)")
    ap.add_argument("--repeats", type=four_ints, default=model_defaults.repeats,
                    help="inverted residual blocks at strides 4,8,16,32 (default %(default)s)")
    ap.add_argument("--fpn", type=int, default=model_defaults.fpn,
                    help="channels of the feature pyramid (default %(default)s)")
    ap.add_argument("--out-stride", type=int, choices=OUT_STRIDES, default=model_defaults.out_stride,
                    help="output map stride (default %(default)s; 2 adds an FPN level fed by the stem)")
    ap.add_argument("--s2-width", type=int, default=model_defaults.s2_width,
                    help="with --out-stride 2: channels of the stride-2 level (default: the stem's)")
    ap.add_argument("--s2-lite", action="store_true",
                    help="with --out-stride 2: the head at stride 4, only the stem's detail and the logits at stride 2")
    ap.add_argument("--no-head-dw", dest="head_dw", action="store_false",
                    help="no depthwise 3x3 after the head's 1x1 (cheaper at --out-stride 2)")
    ap.add_argument("--verbose", type=int, default=2, help="Keras verbosity: 1 = progress bar, 2 = a line per epoch")
    args = vars(ap.parse_args(argv))
    verbose = args.pop("verbose")
    model_cfg = replace(model_defaults, widths=args.pop("widths"), repeats=args.pop("repeats"),
                        out_stride=args.pop("out_stride"), s2_width=args.pop("s2_width"),
                        s2_lite=args.pop("s2_lite"), head_dw=args.pop("head_dw"),
                        fpn=args.pop("fpn"))
    cfg = TrainConfig(**args)
    logging.basicConfig(level=logging.INFO)
    tf.config.threading.set_inter_op_parallelism_threads(2)
    train(cfg, model_cfg, verbose=verbose)
    print(f"saved model: {Path(cfg.out) / 'saved_model'}")


if __name__ == "__main__":
    main()
