"""The link detector: a small fully convolutional network (DBNet/EAST-like).

Grayscale input of any size that is a multiple of 32, raw 0..255 pixels
(normalised inside, so a uint8 model takes camera pixels as they are).
Output at stride 4 (or 2, ``ModelConfig.out_stride``): sigmoid maps for
(link, text). Only ops that full-integer TFLite runs well: Conv2D,
DepthwiseConv2D, Add, ReLU6, nearest-neighbour resize, Concatenate.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import keras
import numpy as np
from keras import layers

from edge_app.model_spec import OutputSpec


OUT_STRIDES = (2, 4)  # output map strides build_model can make


@dataclass(frozen=True)
class ModelConfig:
    stem: int = 16
    widths: tuple[int, int, int, int] = (24, 32, 64, 96)  # at strides 4, 8, 16, 32
    repeats: tuple[int, int, int, int] = (1, 2, 3, 2)
    expand: int = 3
    fpn: int = 40
    head: int = 32
    wide_kernel: int = 9  # horizontal depthwise kernel in the neck: links are long
    # 2 adds one more FPN level fed by the stem: a 12 px line is a 3 px band
    # at stride 2, 1.5 px at stride 4, where neighbouring small lines merge.
    out_stride: int = 4
    # Channels of the stride-2 level (None: the stem's).
    s2_width: int | None = None
    # With out_stride 2: the head at stride 4, see build_model.
    s2_lite: bool = False
    # The head's depthwise 3x3 after its 1x1. Off: at stride 2, where every
    # op costs four times what it does at stride 4, the level's own smoothing
    # depthwise already gives the head its neighbourhood.
    head_dw: bool = True
    out_channels: int = len(OutputSpec().channels)

    @classmethod
    def from_json(cls, d: dict) -> "ModelConfig":
        """A config as ``asdict`` recorded it in a JSON file (its tuples read back as lists)."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def four_ints(text: str) -> tuple[int, int, int, int]:
    """A command line's "24,32,64,96": one value per stride 4, 8, 16, 32."""
    values = tuple(int(v) for v in text.split(","))
    if len(values) != 4 or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected four positive integers such as 24,48,96,160, got {text!r}")
    return values  # type: ignore[return-value]


def _cbr(x, filters: int, k: int = 3, s: int = 1, name: str = ""):
    x = layers.Conv2D(filters, k, strides=s, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(6.0, name=f"{name}_relu")(x)


def _dw(x, k, s: int = 1, name: str = ""):
    x = layers.DepthwiseConv2D(k, strides=s, padding="same", use_bias=False, name=f"{name}_dw")(x)
    x = layers.BatchNormalization(name=f"{name}_dwbn")(x)
    return layers.ReLU(6.0, name=f"{name}_dwrelu")(x)


def _inverted_residual(x, out: int, s: int, expand: int, name: str):
    inp = x
    c_in = x.shape[-1]
    h = _cbr(x, c_in * expand, 1, name=f"{name}_exp") if expand > 1 else x
    h = _dw(h, 3, s, name=name)
    h = layers.Conv2D(out, 1, use_bias=False, name=f"{name}_proj")(h)
    h = layers.BatchNormalization(name=f"{name}_projbn")(h)
    if s == 1 and c_in == out:
        h = layers.Add(name=f"{name}_add")([inp, h])
    return h


def _up_to_stem(x, stem, cfg: ModelConfig):
    """Stride 4 -> 2: narrowed first (every pixel at stride 2 costs four at
    stride 4, and the map only has to say where a line's band is), then the
    stem's detail added."""
    width = cfg.s2_width or cfg.stem
    x = _cbr(x, width, 1, name="narrow_stem")
    up = layers.UpSampling2D(2, interpolation="nearest", name="up_stem")(x)
    lat = stem if width == cfg.stem else _cbr(stem, width, 1, name="lat_stem")
    return layers.Add(name="fuse_stem")([up, lat])


def build_model(cfg: ModelConfig | None = None) -> keras.Model:
    cfg = cfg or ModelConfig()
    inp = keras.Input((None, None, 1), name="image")
    x = layers.Rescaling(1.0 / 255.0, name="normalise")(inp)
    if cfg.out_stride not in OUT_STRIDES:
        raise ValueError(f"out_stride must be one of {OUT_STRIDES}, got {cfg.out_stride}")
    x = _cbr(x, cfg.stem, 3, 2, name="stem")  # 1/2
    stem = x
    feats = []
    for level, (w, n) in enumerate(zip(cfg.widths, cfg.repeats)):
        for i in range(n):
            x = _inverted_residual(x, w, 2 if i == 0 else 1, cfg.expand if (level or i) else 1, name=f"b{level}_{i}")
        feats.append(x)
    # FPN back to stride 4.
    p = _cbr(feats[-1], cfg.fpn, 1, name="lat3")
    for level in (2, 1, 0):
        up = layers.UpSampling2D(2, interpolation="nearest", name=f"up{level}")(p)
        lat = _cbr(feats[level], cfg.fpn, 1, name=f"lat{level}")
        p = layers.Add(name=f"fuse{level}")([up, lat])
        if level == 1:
            # A wide horizontal view at stride 8 tells a link (no spaces,
            # dots and slashes) from the words around it.
            p = _dw(p, (1, cfg.wide_kernel), name="wide")
        p = _dw(p, 3, name=f"smooth{level}")
    # Stride 2 in full: a level of its own, the head on it. Lite: the head at
    # stride 4, then only the stem's detail and the logits at stride 2.
    lite = cfg.out_stride == 2 and cfg.s2_lite
    head = cfg.head
    if cfg.out_stride == 2 and not lite:
        p = _dw(_up_to_stem(p, stem, cfg), 3, name="smooth_stem")
        head = cfg.s2_width or cfg.stem
    h = _cbr(p, head, 1, name="head1")
    if cfg.head_dw:
        h = _dw(h, 3, name="head2")
    if lite:
        h = _up_to_stem(h, stem, cfg)
    h = layers.Conv2D(cfg.out_channels, 1, name="logits")(h)
    out = layers.Activation("sigmoid", name="maps")(h)
    return keras.Model(inp, out, name="links_detector")


def probe_stride(model) -> int:  # noqa: ANN001 (a Keras model or a SavedModel's serve function)
    """The output stride of a model, measured: one 64x64 input, the map's size."""
    out = model(np.zeros((1, 64, 64, 1), np.float32))
    return 64 // int(out.shape[1])
