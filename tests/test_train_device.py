"""Training away from this machine: the fonts carried in a folder, the same
frames as the shards, a wall-clock fit, and its weights back as a run folder."""

from __future__ import annotations

import filecmp
import json
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from training.dataset import load  # noqa: E402
from training.fonts import copy_fonts, discover_fonts, families_from_folder  # noqa: E402
from training.train_device import FitConfig, export, fit, make  # noqa: E402
from training.vocab import WORD_LIST  # noqa: E402

TINY = dict(stem=8, widths=(8, 12, 16, 16), repeats=(1, 1, 1, 1), expand=2, fpn=8, head=8, out_stride=2)
CAMERA = dict(tilt_p=0.5, sharpen_p=0.5)


@pytest.fixture(scope="module")
def fonts(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fonts")
    copy_fonts(discover_fonts(), folder)
    return folder


def test_copied_fonts_are_the_discovered_ones(fonts: Path) -> None:
    found, copied = discover_fonts(), families_from_folder(fonts)
    assert [(f.name, f.role) for f in copied] == [(f.name, f.role) for f in found]
    for a, b in zip(found, copied):
        for face in ("regular", "italic", "bold"):
            fa, fb = getattr(a, face), getattr(b, face)
            assert (fa is None) == (fb is None)
            if fa is not None:
                assert (fb.italic, fb.bold) == (fa.italic, fa.bold)
                assert Path(fb.path).parent == fonts and filecmp.cmp(fa.path, fb.path, shallow=False)


@pytest.fixture(scope="module")
def cache(fonts: Path, tmp_path_factory) -> Path:
    from training.camera import CameraConfig

    path = tmp_path_factory.mktemp("frames") / "frames.pkl"
    make(str(fonts), str(WORD_LIST), 3, 0, asdict(CameraConfig(**CAMERA)), 2, path, workers=1)
    return path


def test_made_frames_are_the_shards_frames(cache: Path, tmp_path: Path) -> None:
    import pickle

    from training.camera import CameraConfig
    from training.shards import build
    from training.synth import SynthConfig

    build(tmp_path / "shards", 3, 0, 1, 500, config=SynthConfig(camera=CameraConfig(**CAMERA)), progress=False)
    want = load(tmp_path / "shards", progress=False, stride=2)
    with cache.open("rb") as f:
        got = pickle.load(f)
    assert len(got) == 3
    for a, b, ma, mb in zip(want.images, got.images, want.maps, got.maps):
        assert np.array_equal(a, b) and np.array_equal(ma, mb)
    assert any(m[..., 0].any() for m in got.maps)  # the frames have link lines to learn


@pytest.mark.slow
def test_fit_for_a_budget_and_export(cache: Path, tmp_path: Path) -> None:
    import keras

    from training.model import ModelConfig, build_model

    cfg = FitConfig(str(cache), str(tmp_path / "out"), name="t", minutes=0.001, crop=64, batch=2,
                    steps_per_epoch=2, workers=1, end_weight=3.0)
    record = fit(cfg, ModelConfig(**TINY))
    # The budget is spent in the first epoch: one epoch, then the weights and the record.
    assert record["steps"] == 2 and record["images"] == 4
    assert len(record["epochs"]) == 1 and np.isfinite(record["epochs"][0]["loss"])
    weights = tmp_path / "out" / "t.weights.h5"
    assert json.loads((tmp_path / "out" / "t.json").read_text())["model"]["widths"] == list(TINY["widths"])
    run = tmp_path / "run"
    assert export(weights, run) == run / "saved_model" and (run / "saved_model" / "saved_model.pb").is_file()
    again = build_model(ModelConfig(**TINY))
    again.load_weights(weights)
    final = keras.models.load_model(run / "final.keras", compile=False)
    x = np.random.default_rng(0).uniform(0, 255, (1, 64, 96, 1)).astype(np.float32)
    assert np.allclose(np.asarray(final(x)), np.asarray(again(x)), atol=1e-6)
    assert json.loads((run / "settings.json").read_text())["steps"] == 2


@pytest.mark.slow
def test_fit_for_a_number_of_steps(cache: Path, tmp_path: Path) -> None:
    from training.model import ModelConfig

    cfg = FitConfig(str(cache), str(tmp_path), name="s", minutes=60.0, steps=6, crop=64, batch=2,
                    steps_per_epoch=2, workers=1)
    record = fit(cfg, ModelConfig(**TINY))
    lrs = [e["lr"] for e in record["epochs"]]
    # Three epochs on a cosine over the steps, not over the hour's budget.
    assert record["steps"] == 6 and len(lrs) == 3
    assert lrs[0] == pytest.approx(cfg.lr) and lrs[0] > lrs[1] > lrs[2] > cfg.lr * cfg.lr_floor


def test_fit_refuses_maps_of_another_stride(cache: Path, tmp_path: Path) -> None:
    from training.model import ModelConfig

    with pytest.raises(ValueError, match="--stride 4"):
        fit(FitConfig(str(cache), str(tmp_path)), ModelConfig(**{**TINY, "out_stride": 4}))
