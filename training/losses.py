"""The detector's training loss and metric, in backend-neutral Keras ops.

One definition for every trainer: ``training.train`` (TensorFlow on the CPU)
and ``training.train_device`` (JAX or torch on an accelerator) compile the
same functions.
"""

from __future__ import annotations

from keras import ops

from edge_app.model_spec import OutputSpec
from training.synth import IGNORE


def dice_loss(y, p):
    inter = ops.sum(y * p, axis=[1, 2])
    return 1.0 - (2.0 * inter + 1.0) / (ops.sum(y, axis=[1, 2]) + ops.sum(p, axis=[1, 2]) + 1.0)


def _bce(y, p):
    return -(y * ops.log(p) + (1 - y) * ops.log(1 - p))


def _link_target(y_true):
    """The link map with IGNORE pixels (look-alikes) zeroed, and the mask of
    the pixels that count."""
    keep = ops.cast(y_true[..., 0] < IGNORE, "float32")
    return y_true[..., 0] * keep, keep


def make_loss(text_weight: float, end_weight: float = 0.0, small_weight: float = 0.0):
    """BCE + dice on the link map (thin, sparse regions), BCE on the text map.

    With ``end_weight`` > 0, link-map BCE counts 1 + end_weight times in the
    end zone (y_true's channel after the model's maps); with ``small_weight``
    > 0, another small_weight over the small lines (the channel after that)."""
    n_maps = len(OutputSpec().channels)

    def loss(y_true, y_pred):
        p = ops.clip(y_pred, 1e-6, 1 - 1e-6)
        # Link-map pixels marked IGNORE (look-alikes) count neither way.
        y_link, keep = _link_target(y_true)
        weight = keep
        if end_weight and y_true.shape[-1] > n_maps:
            weight = weight + keep * end_weight * y_true[..., n_maps]
        if small_weight and y_true.shape[-1] > n_maps + 1:
            weight = weight + keep * small_weight * y_true[..., n_maps + 1]
        link = ops.mean(_bce(y_link, p[..., 0]) * weight, axis=[1, 2]) * 2.0 + dice_loss(y_link, p[..., 0] * keep)
        text = ops.mean(_bce(y_true[..., 1], p[..., 1]), axis=[1, 2])
        return link + text_weight * text

    return loss


def link_dice(y_true, y_pred):
    y_link, keep = _link_target(y_true)
    return 1.0 - ops.mean(dice_loss(y_link, ops.cast(y_pred[..., 0] > 0.5, "float32") * keep))
