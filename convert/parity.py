"""Parity of an exported model against the float SavedModel: map error and F1."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from edge_app.model_spec import ModelSpec
from edge_app.preprocess import preprocess
from training.evaluate import EvalItem, evaluate, keras_prob_fn


@dataclass
class Parity:
    map_mae: float  # mean |p_export - p_float| over link maps
    map_max: float
    f1_float: float
    f1_export: float

    @property
    def f1_drop(self) -> float:
        return self.f1_float - self.f1_export


def tflite_serve(path: str, threads: int = 2) -> Callable[[np.ndarray], np.ndarray]:
    """A .tflite export called like the SavedModel's ``serve``: (1, H, W, 1)
    float pixels -> (1, h, w, C) dequantized maps, straight through LiteRT.
    The fp32 export stands in for the SavedModel where that is gone (its
    maps matched the SavedModel's exactly at conversion)."""
    from convert.latency import _interpreter

    it = _interpreter(path, threads)
    inp, outd = it.get_input_details()[0], it.get_output_details()[0]

    def serve(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        it.resize_tensor_input(inp["index"], list(x.shape))
        it.allocate_tensors()
        s, z = inp["quantization"]
        if inp["dtype"] != np.float32:
            x = np.clip(np.round(x / (s or 1.0) + z), np.iinfo(inp["dtype"]).min, np.iinfo(inp["dtype"]).max)
        it.set_tensor(inp["index"], x.astype(inp["dtype"]))
        it.invoke()
        o = it.get_tensor(outd["index"]).astype(np.float32)
        s, z = outd["quantization"]
        return (o - z) * s if outd["dtype"] != np.float32 else o

    return serve


def tflite_maps(path: str, images: list[np.ndarray], threads: int = 2) -> list[np.ndarray]:
    """(H, W) gray uint8 images -> dequantized (h, w, C) maps, straight through LiteRT."""
    serve = tflite_serve(path, threads)
    return [serve(img[None, :, :, None])[0] for img in images]


@dataclass
class FloatReference:
    """The float SavedModel's maps and F1 on a parity set, computed once for
    all the variants compared against it."""

    images: list[np.ndarray]  # preprocessed model inputs
    maps: list[np.ndarray]
    f1: float


def float_reference(serve, items: list[EvalItem], spec: ModelSpec) -> FloatReference:
    images = [preprocess(it.image, spec.input).image for it in items]
    maps = [np.asarray(serve(im[None, :, :, None].astype(np.float32)))[0] for im in images]
    f1 = evaluate(iter(items), keras_prob_fn(serve, spec), spec, progress=False).f1
    return FloatReference(images=images, maps=maps, f1=f1)


def check(serve, tflite_path: str, items: list[EvalItem], spec: ModelSpec,
          reference: FloatReference | None = None) -> Parity:
    ref = reference or float_reference(serve, items, spec)
    got = tflite_maps(tflite_path, ref.images)
    err = np.concatenate([np.abs(a[..., 0] - b[..., 0]).ravel() for a, b in zip(ref.maps, got)])
    lookup = {id(it.image): g for it, g in zip(items, got)}

    def export_fn(frame: np.ndarray):
        mi = preprocess(frame, spec.input)
        return lookup[id(frame)][..., spec.output.link_channel], mi

    f_export = evaluate(iter(items), export_fn, spec, progress=False).f1
    return Parity(map_mae=float(err.mean()), map_max=float(err.max()), f1_float=ref.f1, f1_export=f_export)
