"""The training loss: ignored pixels and the weighting of link ends."""

import numpy as np
import pytest

from training.synth import IGNORE


@pytest.mark.slow
def test_loss_does_not_see_ignored_pixels() -> None:
    tf = pytest.importorskip("tensorflow")
    from training.losses import make_loss

    rng = np.random.default_rng(0)
    y = np.zeros((2, 16, 16, 2), np.float32)
    y[:, 4:6, 2:12, 0] = 1.0
    y[:, 10:12, 2:12, 0] = IGNORE
    y[..., 1] = (y[..., 0] > 0).astype(np.float32)
    p = rng.uniform(0.05, 0.95, y.shape).astype(np.float32)
    q = p.copy()
    q[:, 10:12, 2:12, 0] = rng.uniform(0.05, 0.95, (2, 2, 10))  # anything under the ignored pixels
    loss = make_loss(0.5)
    a, b = loss(tf.constant(y), tf.constant(p)).numpy(), loss(tf.constant(y), tf.constant(q)).numpy()
    assert np.allclose(a, b)
    y_neg = y.copy()
    y_neg[:, 10:12, 2:12, 0] = 0.0  # the same pixels as negatives do count
    assert not np.allclose(loss(tf.constant(y_neg), tf.constant(p)).numpy(), loss(tf.constant(y_neg), tf.constant(q)).numpy())


@pytest.mark.slow
def test_end_zone_weighs_link_map_errors_more_and_only_when_asked() -> None:
    tf = pytest.importorskip("tensorflow")
    from training.losses import make_loss

    rng = np.random.default_rng(0)
    y = np.zeros((2, 16, 16, 3), np.float32)
    y[:, 6:9, 2:14, 0] = 1.0
    y[..., 1] = y[..., 0]
    y[:, 5:10, 1:4, 2] = 1.0  # the left end's zone
    p = rng.uniform(0.05, 0.95, (2, 16, 16, 2)).astype(np.float32)

    def with_error(rows: slice, cols: slice) -> np.ndarray:
        q = p.copy()
        q[:, rows, cols, 0] = 0.02  # the link map misses these link pixels
        return q

    in_zone, outside = with_error(slice(6, 9), slice(2, 4)), with_error(slice(6, 9), slice(8, 10))  # same count
    y2 = tf.constant(y[..., :2])
    y3 = tf.constant(y)
    plain, weighted = make_loss(0.5), make_loss(0.5, end_weight=3.0)
    # Without a weight the zone channel changes nothing.
    for q in (p, in_zone, outside):
        assert np.allclose(plain(y3, tf.constant(q)).numpy(), plain(y2, tf.constant(q)).numpy())
    base = weighted(y3, tf.constant(p)).numpy()
    cost_in = weighted(y3, tf.constant(in_zone)).numpy() - base
    cost_out = weighted(y3, tf.constant(outside)).numpy() - base
    assert np.all(cost_out > 0) and np.all(cost_in > 2.0 * cost_out)


@pytest.mark.slow
def test_small_line_zone_weighs_its_errors_more_and_only_when_asked() -> None:
    tf = pytest.importorskip("tensorflow")
    from training.losses import make_loss

    rng = np.random.default_rng(1)
    y = np.zeros((2, 16, 16, 4), np.float32)
    y[:, 3, 2:14, 0] = 1.0  # a small line's one-cell band
    y[:, 11:13, 2:14, 0] = 1.0  # a larger line's band
    y[..., 1] = y[..., 0]
    y[:, 2:5, 1:15, 3] = 1.0  # the small line's zone: the whole line, gaps included
    p = rng.uniform(0.05, 0.95, (2, 16, 16, 2)).astype(np.float32)

    def with_error(row: int) -> np.ndarray:
        q = p.copy()
        q[:, row, 4:10, 0] = 0.02  # the link map misses six link pixels
        return q

    small, large = with_error(3), with_error(11)
    y3, y4 = tf.constant(y[..., :3]), tf.constant(y)
    plain, weighted = make_loss(0.5, end_weight=3.0), make_loss(0.5, end_weight=3.0, small_weight=2.0)
    for q in (p, small, large):
        assert np.allclose(plain(y4, tf.constant(q)).numpy(), plain(y3, tf.constant(q)).numpy())
    base = weighted(y4, tf.constant(p)).numpy()
    cost_small = weighted(y4, tf.constant(small)).numpy() - base
    cost_large = weighted(y4, tf.constant(large)).numpy() - base
    plain_small = plain(y4, tf.constant(small)).numpy() - plain(y4, tf.constant(p)).numpy()
    assert np.all(cost_large > 0) and np.all(cost_small > cost_large) and np.all(cost_small > plain_small)
