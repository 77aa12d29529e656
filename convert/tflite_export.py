"""SavedModel -> .tflite in the three variants we compare."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import tensorflow as tf

log = logging.getLogger(__name__)

VARIANTS = ("int8", "fp16", "fp32")


def convert_saved_model(saved_model: Path, variant: str,
                        representative: Callable[[], Iterable[np.ndarray]] | None = None) -> bytes:
    """Convert; ``representative`` yields float32 (1, H, W, 1) raw-pixel frames (int8 only)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {VARIANTS}")
    conv = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    if variant == "fp16":
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.target_spec.supported_types = [tf.float16]
    elif variant == "int8":
        if representative is None:
            raise ValueError("full-integer int8 needs a representative dataset")
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = lambda: ([x] for x in representative())
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        # uint8 in: the model takes camera pixels as they are (scale 1, zero point 0).
        conv.inference_input_type = tf.uint8
        conv.inference_output_type = tf.uint8
    data = conv.convert()
    log.info("converted %s: %.1f KB", variant, len(data) / 1024)
    return data
