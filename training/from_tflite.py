"""A trainable Keras detector recovered from a float TFLite file.

    python -m training.from_tflite --tflite models/variants/links_detector_fp32.tflite \\
        --data data/synth_cam/check --out runs/shipped_init.keras

The shipped detector's Keras weights are not in git (``runs/`` is not); its fp32
TFLite variant is, with every batch norm folded into the convolution before it
and the input's rescaling folded into the first one. This builds the network
that the sidecar's ``info.training.model`` describes and puts each folded
kernel and bias back. Each batch norm then gets the mean and variance of its
convolution's output measured on training crops, with gamma and beta set so
that inference is unchanged (gamma = sqrt(var + eps), beta = bias + mean): a
fine-tune (``python -m training.train --init``), whose batch norms run on batch
statistics, starts where the shipped model is instead of from a normalisation
it never saw.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from pathlib import Path
from typing import Iterable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from ai_edge_litert.interpreter import Interpreter  # noqa: E402
from keras import layers  # noqa: E402

from edge_app.errors import ModelError  # noqa: E402
from training.model import ModelConfig, build_model  # noqa: E402


def model_config(sidecar: Path) -> ModelConfig:
    """The network a detector's sidecar records (``info.training.model``)."""
    try:
        rec = json.loads(sidecar.read_text())["info"]["training"]["model"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ModelError(f"{sidecar}: no network recorded under info.training.model ({exc})") from exc
    return ModelConfig.from_json(rec)


def _constants(interp: Interpreter) -> dict[str, np.ndarray]:
    """The file's constant tensors by name (activations have no data yet)."""
    out = {}
    for d in interp.get_tensor_details():
        try:
            out[d["name"]] = interp.get_tensor(d["index"])
        except ValueError:
            continue
    return out


def _one(consts: dict[str, np.ndarray], layer: str, ndim: int, suffix: str = "") -> np.ndarray:
    # The converter names a fused constant after every op folded into it,
    # "model_1/<layer>_1/convolution;model_1/<layer>bn_1/batchnorm/mul_1;...".
    pat = re.compile(rf"/{re.escape(layer)}(_\d+)?/{re.escape(suffix)}")
    hits = [a for n, a in consts.items() if a.ndim == ndim and pat.search(n)]
    if len(hits) != 1:
        raise ModelError(f"expected one {ndim}-D constant for layer {layer!r} in the TFLite file, found {len(hits)}"
                         " (not a float export of this network?)")
    return hits[0]


def _batch_norm_after(layer: layers.Layer) -> layers.BatchNormalization | None:
    # From the graph, not from training.model's naming: the layer that reads
    # this conv's output is the one the converter folded into it.
    for node in layer._outbound_nodes:
        if isinstance(node.operation, layers.BatchNormalization):
            return node.operation
    return None


def unfold(tflite: Path, cfg: ModelConfig) -> keras.Model:
    """``cfg``'s network with the weights of a float TFLite export of it; its
    batch norms are identities (mean 0, variance 1), so it computes exactly
    what the file computes."""
    try:
        interp = Interpreter(model_path=str(tflite))
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"cannot load {tflite}: {exc}") from exc
    if interp.get_input_details()[0]["dtype"] != np.float32:
        raise ModelError(f"{tflite} is not a float model: its weights are quantized (use the fp32 variant)")
    consts = _constants(interp)
    model = build_model(cfg)
    norm = model.get_layer("normalise").get_config()
    if norm["offset"] != 0.0:
        raise ModelError("the network's input rescaling has an offset; only a scale folds into the first conv")
    convs = [layer for layer in model.layers if isinstance(layer, (layers.Conv2D, layers.DepthwiseConv2D))]
    for i, conv in enumerate(convs):
        # TFLite kernels are (out, kh, kw, in) and depthwise ones (1, kh, kw,
        # channels); Keras wants (kh, kw, in, out) and (kh, kw, channels, 1).
        kernel = np.transpose(_one(consts, conv.name, 4), (1, 2, 3, 0))
        if i == 0:
            kernel = kernel / norm["scale"]
        if kernel.shape != tuple(conv.kernel.shape):
            raise ModelError(f"layer {conv.name}: the file's kernel is {kernel.shape}, the network's "
                             f"{tuple(conv.kernel.shape)} (another network than the sidecar records?)")
        bn = _batch_norm_after(conv)
        if bn is None:
            conv.set_weights([kernel, _one(consts, conv.name, 1)] if conv.use_bias else [kernel])
            continue
        conv.set_weights([kernel])
        bias = _one(consts, bn.name, 1, "batchnorm/add_1")
        bn.set_weights([np.ones_like(bias), bias, np.zeros_like(bias), np.full_like(bias, 1.0 - bn.epsilon)])
    return model


def fit_batch_norms(model: keras.Model, batches: Iterable) -> None:
    """Give each batch norm of an ``unfold``-ed model the statistics of its
    input over ``batches`` (float32 (N, H, W, 1) crops), keeping what the
    model computes in inference."""
    bns = [layer for layer in model.layers if isinstance(layer, layers.BatchNormalization)]
    probe = keras.Model(model.inputs, [bn.input for bn in bns])
    sums = [np.zeros(bn.input.shape[-1]) for bn in bns]
    squares = [np.zeros(bn.input.shape[-1]) for bn in bns]
    counts = [0] * len(bns)  # values per channel: each level has its own resolution
    for x in batches:
        for k, o in enumerate(probe(x, training=False)):
            o = np.asarray(o, np.float64).reshape(-1, o.shape[-1])
            sums[k] += o.sum(0)
            squares[k] += (o ** 2).sum(0)
            counts[k] += len(o)
    if not counts[0]:
        raise ValueError("no batches to measure the batch norms on")
    for bn, s, s2, count in zip(bns, sums, squares, counts):
        gamma, beta, mean0, var0 = bn.get_weights()
        # The input was scaled by gamma / sqrt(var0 + eps) and shifted by
        # beta - mean0 * that; keep the same affine map over new statistics.
        scale = gamma / np.sqrt(var0 + bn.epsilon)
        shift = beta - mean0 * scale
        mean = s / count
        var = np.maximum(s2 / count - mean ** 2, 1e-6)
        new_gamma = scale * np.sqrt(var + bn.epsilon)
        bn.set_weights([new_gamma.astype(np.float32), (shift + mean * scale).astype(np.float32),
                        mean.astype(np.float32), var.astype(np.float32)])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tflite", type=Path, default=Path("models/variants/links_detector_fp32.tflite"))
    ap.add_argument("--sidecar", type=Path, default=Path("models/links_detector.json"),
                    help="the detector's sidecar, for the network it records")
    ap.add_argument("--data", required=True, help="training shards (comma-separated) for the batch-norm statistics")
    ap.add_argument("--frames", type=int, default=400, help="frames of --data to load")
    ap.add_argument("--batches", type=int, default=30, help="batches of 16 crops of 256 px to measure on")
    ap.add_argument("--out", type=Path, required=True, help=".keras file for python -m training.train --init")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from training.dataset import load_many, make_dataset

    try:
        cfg = model_config(args.sidecar)
        model = unfold(args.tflite, cfg)
    except ModelError as exc:
        sys.exit(f"error: {exc}")
    try:
        data = load_many(args.data, limit=args.frames, progress=True, long_side=None, stride=cfg.out_stride)
    except FileNotFoundError as exc:
        sys.exit(f"error: {exc}")
    ds = make_dataset(data, 256, 16, 0, cfg.out_stride)
    fit_batch_norms(model, (x for x, _ in ds.take(args.batches)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    print(f"wrote {args.out} ({model.count_params()} parameters) from {args.tflite}")


if __name__ == "__main__":
    main()
