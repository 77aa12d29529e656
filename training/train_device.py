"""The detector's recipe on an accelerator, with another Keras backend (JAX; torch untested).

A measuring tool, not the shipped model's trainer (``training.train``, which
TensorFlow runs on the 2-core CPU in about an hour): it asks what the same
pages and network reach with many times the compute, on a machine that has
neither TensorFlow nor the font packages (``scripts/device_train.sh``):

    python -m training.fonts --copy-to .devcarry/fonts     # here, once
    python -m training.train_device make --fonts .devcarry/fonts --words .devcarry/words \\
        --count 6000 --seed 0 --tilt-p 0.5 --sharpen-p 0.5 --cache /tmp/frames.pkl
    KERAS_BACKEND=jax python -m training.train_device fit --cache /tmp/frames.pkl \\
        --out OUT --name main --minutes 5 --end-weight 3 --out-stride 2
    python -m training.train_device export --weights OUT/main.weights.h5 --out runs/device/main   # back here

``make`` draws the frames of ``training.shards`` (same seeds, same camera)
and their training maps (``training.dataset.frame_maps``) in a process pool;
``fit`` trains for a wall-clock budget with the learning rate on a cosine
over that budget (so the schedule ends whatever the machine's speed; or over
``--steps``), and
writes ``NAME.weights.h5`` (backend-neutral: ``training.model.build_model``
with the settings in ``NAME.json`` loads it) every minute and at the end;
``export``, back here, makes of it a run folder that ``python -m convert`` takes.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import multiprocessing as mp
import os
import pickle
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from training.dataset import InMemoryData, frame_maps, random_crop

if TYPE_CHECKING:
    from training.model import ModelConfig

log = logging.getLogger(__name__)

_worker: Any = None  # one page generator per pool process (set by _init_worker), as training.shards


@dataclass(frozen=True)
class FitConfig:
    cache: str
    out: str
    name: str = "main"
    minutes: float = 5.0  # training wall time, compilation included
    # Or a number of steps (rounded up to whole epochs): the schedule then runs
    # over steps, as training.train's does, with the minutes as a backstop.
    steps: int = 0
    crop: int = 256
    batch: int = 64
    lr: float = 3e-3
    lr_floor: float = 0.02  # the cosine's end, a share of lr (training.train's alpha)
    weight_decay: float = 1e-4
    text_weight: float = 0.5
    end_weight: float = 0.0
    small_weight: float = 0.0
    steps_per_epoch: int = 100  # the learning rate and the clock are checked once an epoch
    workers: int = 6  # threads cutting crops
    seed: int = 0


def _init_worker(fonts: str, words: str, camera: dict, stride: int) -> None:
    global _worker  # one page generator per worker process
    import cv2

    from training.camera import CameraConfig
    from training.fonts import families_from_folder
    from training.synth import SynthConfig, Synthesizer
    from training.vocab import Vocabulary

    cv2.setNumThreads(1)
    synth = Synthesizer(SynthConfig(camera=CameraConfig(**camera)), families_from_folder(Path(fonts)),
                        Vocabulary.load(Path(words)))
    _worker = (synth, stride)


def _make(seed: int) -> tuple[np.ndarray, np.ndarray]:
    from training.shards import label_line, parse_label_line

    synth, stride = _worker
    s = synth.make_sample(seed)
    # Through the shards' label line, rounding and all, so the maps are the ones training.dataset.load makes.
    return frame_maps(s.image, *parse_label_line(label_line(s)), stride)


def make(fonts: str, words: str, count: int, seed: int, camera: dict, stride: int, cache: Path,
         workers: int) -> dict:
    """The frames ``training.shards`` would make with these seeds, as training
    maps, pickled into ``cache``."""
    from tqdm import tqdm

    from training.shards import sample_seed

    t0 = time.time()
    seeds = [sample_seed(seed, i) for i in range(count)]
    with mp.get_context("spawn").Pool(workers, initializer=_init_worker, initargs=(fonts, words, camera, stride)) as pool:
        pairs = list(tqdm(pool.imap(_make, seeds, chunksize=8), total=count, desc="frames", mininterval=10))
    data = InMemoryData([p[0] for p in pairs], [p[1] for p in pairs])
    cache.parent.mkdir(parents=True, exist_ok=True)
    with cache.open("wb") as f:
        pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
    info = {"count": count, "seed": seed, "camera": camera, "stride": stride, "seconds": round(time.time() - t0, 1)}
    log.info("made %s", info)
    return info


def _batches(data: InMemoryData, cfg: FitConfig, stride: int):
    import keras

    class Crops(keras.utils.PyDataset):
        """Batch k of every epoch is cut with its own seed: the threads need no shared state."""

        def __init__(self) -> None:
            super().__init__(workers=cfg.workers, use_multiprocessing=False, max_queue_size=32)
            self.epoch = 0

        def __len__(self) -> int:
            return cfg.steps_per_epoch

        def on_epoch_end(self) -> None:
            self.epoch += 1

        def __getitem__(self, k: int):
            rng = np.random.default_rng((cfg.seed, self.epoch, k))
            crops = [random_crop(data, rng, cfg.crop, stride) for _ in range(cfg.batch)]
            x = np.stack([c[0] for c in crops])[..., None].astype(np.float32)
            y = np.stack([c[1] for c in crops]).astype(np.float32)
            return x, y

    return Crops()


def fit(cfg: FitConfig, model_cfg: ModelConfig) -> dict:
    import keras

    from training.losses import link_dice, make_loss
    from training.model import build_model

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(cfg.cache, "rb") as f:
        data: InMemoryData = pickle.load(f)
    if data.maps[0].shape[0] * model_cfg.out_stride != data.images[0].shape[0]:
        raise ValueError(f"{cfg.cache} holds maps at stride {data.images[0].shape[0] // data.maps[0].shape[0]}, "
                         f"the model outputs at {model_cfg.out_stride}: make it with --stride {model_cfg.out_stride}")
    keras.utils.set_random_seed(cfg.seed)
    model = build_model(model_cfg)
    model.compile(optimizer=keras.optimizers.AdamW(cfg.lr, weight_decay=cfg.weight_decay),
                  loss=make_loss(cfg.text_weight, cfg.end_weight, cfg.small_weight), metrics=[link_dice])
    weights = out / f"{cfg.name}.weights.h5"
    record: dict[str, Any] = {"fit": asdict(cfg), "model": asdict(model_cfg), "backend": keras.backend.backend(),
                              "frames": len(data), "params": model.count_params(), "epochs": []}
    budget = cfg.minutes * 60

    class Clock(keras.callbacks.Callback):
        """Cosine learning rate over the wall-clock budget (or the steps); stop when it is spent."""

        def __init__(self) -> None:
            super().__init__()
            self.t0 = time.time()
            self.saved = self.t0
            self.te = self.t0

        def spent(self, epoch: int) -> float:
            if cfg.steps:
                return epoch * cfg.steps_per_epoch / cfg.steps
            return (time.time() - self.t0) / budget

        def on_epoch_begin(self, epoch: int, logs=None) -> None:
            done = min(1.0, self.spent(epoch))
            floor = cfg.lr * cfg.lr_floor
            self.model.optimizer.learning_rate = floor + 0.5 * (cfg.lr - floor) * (1 + math.cos(math.pi * done))
            self.te = time.time()

        def on_epoch_end(self, epoch: int, logs=None) -> None:
            now = time.time()
            row = {"epoch": epoch + 1, "seconds": round(now - self.t0, 1),
                   "img_per_s": round(cfg.batch * cfg.steps_per_epoch / (now - self.te), 1),
                   "lr": float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)),
                   **{k: float(v) for k, v in (logs or {}).items()}}
            record["epochs"].append(row)
            log.info("%s", json.dumps(row))
            over = now - self.t0 > budget or self.spent(epoch + 1) >= 1.0
            if now - self.saved > 60 or over:
                self.model.save_weights(weights)
                (out / f"{cfg.name}.json").write_text(json.dumps(record, indent=1) + "\n")
                self.saved = now
            if over:
                self.model.stop_training = True

    model.fit(_batches(data, cfg, model_cfg.out_stride), epochs=1_000_000, callbacks=[Clock()], verbose=0)
    model.save_weights(weights)
    record["steps"] = len(record["epochs"]) * cfg.steps_per_epoch
    record["images"] = record["steps"] * cfg.batch
    (out / f"{cfg.name}.json").write_text(json.dumps(record, indent=1) + "\n")
    return record


def export(weights: Path, out: Path) -> Path:
    """A ``fit`` run's weights as a training run folder (``training.train``'s
    layout: saved_model, final.keras, settings.json) for ``python -m convert``;
    needs the TensorFlow backend."""
    import keras

    from training.model import ModelConfig, build_model

    if keras.backend.backend() != "tensorflow":
        raise SystemExit("export writes a SavedModel: run it with KERAS_BACKEND=tensorflow (the default)")
    settings = weights.with_name(weights.name.replace(".weights.h5", ".json"))
    if not settings.is_file():
        raise FileNotFoundError(f"{settings}: fit writes the run's settings beside its weights; export needs both")
    record = json.loads(settings.read_text())
    m = record["model"]
    model = build_model(ModelConfig.from_json(m))
    model.load_weights(weights)
    out.mkdir(parents=True, exist_ok=True)
    model.export(str(out / "saved_model"), verbose=False)
    model.save(out / "final.keras")
    (out / "settings.json").write_text(json.dumps({"train_device": record["fit"], "model": m, "backend": record["backend"],
                                                   "steps": record.get("steps"), "images": record.get("images")},
                                                  indent=2) + "\n")
    return out / "saved_model"


def main(argv: list[str] | None = None) -> None:
    from training.camera import add_camera_flags, camera_from_flags
    from training.model import OUT_STRIDES, ModelConfig, four_ints
    from training.vocab import WORD_LIST

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="step", required=True)
    mk = sub.add_parser("make", help="draw the training frames into a cache")
    mk.add_argument("--fonts", required=True, help="a folder from python -m training.fonts --copy-to")
    mk.add_argument("--words", default=str(WORD_LIST), help="word list for the prose (default %(default)s)")
    mk.add_argument("--count", type=int, default=6000)
    mk.add_argument("--seed", type=int, default=0)
    mk.add_argument("--stride", type=int, default=2, help="the model's output stride")
    mk.add_argument("--workers", type=int, default=max(1, mp.cpu_count()))
    mk.add_argument("--cache", type=Path, required=True)
    add_camera_flags(mk)
    ft = sub.add_parser("fit", help="train on a cache for a wall-clock budget")
    for f, default in asdict(FitConfig("", "")).items():
        typ = type(default) if f not in ("cache", "out") else str
        ft.add_argument("--" + f.replace("_", "-"), type=typ, default=default, required=f in ("cache", "out"))
    d = ModelConfig()
    ft.add_argument("--widths", type=four_ints, default=d.widths)
    ft.add_argument("--repeats", type=four_ints, default=d.repeats)
    ft.add_argument("--fpn", type=int, default=d.fpn)
    ft.add_argument("--out-stride", type=int, choices=OUT_STRIDES, default=d.out_stride)
    ex = sub.add_parser("export", help="a fit's weights as a SavedModel run folder, here (TensorFlow)")
    ex.add_argument("--weights", type=Path, required=True, help="NAME.weights.h5 (NAME.json beside it)")
    ex.add_argument("--out", type=Path, required=True)
    args = vars(ap.parse_args(argv))
    logging.basicConfig(level=logging.INFO)
    step = args.pop("step")
    for name in ("weights", "cache", "fonts"):
        path = args.get(name)
        if path and not Path(path).exists():
            raise SystemExit(f"no such file or folder: {path}")
    if step == "export":
        try:
            print(f"saved model: {export(args['weights'], args['out'])}")
        except FileNotFoundError as exc:
            raise SystemExit(str(exc)) from None
        return
    if step == "make":
        camera = asdict(camera_from_flags(argparse.Namespace(**args)))
        make(args["fonts"], args["words"], args["count"], args["seed"], camera, args["stride"], args["cache"],
             args["workers"])
        return
    model_cfg = replace(d, widths=args.pop("widths"), repeats=args.pop("repeats"), fpn=args.pop("fpn"),
                        out_stride=args.pop("out_stride"))
    rec = fit(FitConfig(**args), model_cfg)
    print(f"{rec['steps']} steps, {rec['images']} crops in {rec['epochs'][-1]['seconds']} s "
          f"({rec['backend']}); weights: {Path(rec['fit']['out']) / (rec['fit']['name'] + '.weights.h5')}")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
