import numpy as np
import pytest

from synthgain.audit import probe
from synthgain.exceptions import ValidationError


def _blobs(g, n, shift):
    y = g.integers(0, 2, n)
    return g.normal(size=(n, 3)) + shift * y[:, None], y


def test_synthetic_from_the_task_helps_a_starved_probe():
    g = np.random.default_rng(0)
    xa, ya = _blobs(g, 6, 1.0)
    xs, ys = _blobs(g, 2000, 1.0)
    xt, yt = _blobs(g, 2000, 1.0)
    r = probe(xa, ya, xs, ys, xt, yt)
    assert r["gain_both"].value > 4 * r["gain_both"].stderr or r["gain_both"].value >= 0
    # paired standard error: sd of per-point differences / sqrt(n)
    assert r["accuracy_both"].value - r["accuracy_anchor"].value == pytest.approx(
        r["gain_both"].value)
    assert r["accuracy_synthetic"].value > 0.75


def test_separable_and_single_class():
    g = np.random.default_rng(1)
    xa, ya = _blobs(g, 100, 20.0)
    xt, yt = _blobs(g, 300, 20.0)
    xs = xa[ya == 0]
    r = probe(xa, ya, xs, np.zeros(len(xs), int), xt, yt)
    assert r["accuracy_anchor"].value == 1.0
    assert r["accuracy_synthetic"].value == pytest.approx(np.mean(yt == 0))
    with pytest.raises(ValidationError, match="`target_labels` must have one label per row"):
        probe(xa, ya, xa, ya, xt, yt[:-1])
