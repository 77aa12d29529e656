"""The detector's output stride: 4 by default, 2 on request, measured (not
assumed) wherever a model's maps are decoded; training crops and targets at
the model's stride."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow

TINY = dict(stem=8, widths=(8, 12, 16, 16), repeats=(1, 1, 1, 1), expand=2, fpn=8, head=8)


@pytest.mark.parametrize("stride, extra", [(4, {}), (2, {}), (2, {"s2_width": 4}), (2, {"s2_lite": True}),
                                           (2, {"head_dw": False})])
def test_map_size_follows_the_configured_stride(stride: int, extra: dict) -> None:
    pytest.importorskip("tensorflow")
    from training.model import ModelConfig, build_model, probe_stride

    model = build_model(ModelConfig(**TINY, out_stride=stride, **extra))
    out = np.asarray(model(np.zeros((1, 96, 160, 1), np.float32)))
    assert out.shape == (1, 96 // stride, 160 // stride, 2)
    assert probe_stride(model) == stride


def test_head_without_its_depthwise() -> None:
    pytest.importorskip("tensorflow")
    from training.model import ModelConfig, build_model

    names = {layer.name for layer in build_model(ModelConfig(**TINY, out_stride=2, head_dw=False)).layers}
    assert "head1_conv" in names and "head2_dw" not in names
    assert "head2_dw" in {layer.name for layer in build_model(ModelConfig(**TINY, out_stride=2)).layers}


def test_other_strides_are_refused() -> None:
    pytest.importorskip("tensorflow")
    from training.model import ModelConfig, build_model

    with pytest.raises(ValueError, match="out_stride"):
        build_model(ModelConfig(**TINY, out_stride=8))


def test_training_crops_and_targets_at_stride_two() -> None:
    pytest.importorskip("tensorflow")
    from training.dataset import InMemoryData, crop_generator
    from training.synth import SynthConfig, Synthesizer, targets

    sample = Synthesizer(SynthConfig()).make_sample(3)
    maps = {}
    for stride in (4, 2):
        img, m = targets(sample.image, sample.links, sample.text_quads, stride, end_zones=True, small_lines=True)
        assert m.shape[:2] == (img.shape[0] // stride, img.shape[1] // stride)
        maps[stride] = m
        im, mm = next(crop_generator(InMemoryData([img], [m]), 128, 0, stride))
        assert mm.shape[:2] == (128 // stride, 128 // stride) and im.shape[:2] == (128, 128)
    # The same link pixels, twice as finely: at least as many link cells per
    # image pixel at stride 2 (a thin band rounds away at stride 4).
    links4 = (maps[4][..., 0] == 1).sum() * 16
    links2 = (maps[2][..., 0] == 1).sum() * 4
    assert links4 > 0 and links2 >= 0.8 * links4
