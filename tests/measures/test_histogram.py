"""Histogram estimators: one binning and one smoothing for the measures and the protocol."""

import math

import numpy as np
import pytest

from synthgain.experiments.klgap import histogram_divergence
from synthgain.measures import (
    entropy,
    js_divergence,
    kl_divergence,
    mutual_information,
    total_variation,
)


def _shared_freqs(x, y, bins):
    """Independent reference: numpy.histogramdd counts on the union of the two ranges."""
    z = np.vstack([x, y])
    edges = [np.linspace(z[:, j].min(), z[:, j].max(), bins + 1) for j in range(z.shape[1])]
    cx = np.histogramdd(x, bins=edges)[0].ravel()
    cy = np.histogramdd(y, bins=edges)[0].ravel()
    return cx, cy


def test_kl_smooths_only_the_occupied_cells():
    # 1-d, range [0, 3], 3 bins of width 1: x in cell 0 twice; y in cells 0 and 2 (3.0
    # closes the last bin); cell 1 is empty and gets no pseudocount
    x, y = np.array([[0.0], [0.1]]), np.array([[0.2], [3.0]])
    a = 0.5
    p = np.array([2 + a, 0 + a]) / (2 + 2 * a)  # occupied cells 0 and 2
    q = np.array([1 + a, 1 + a]) / (2 + 2 * a)
    got = kl_divergence(x, y, method="histogram", bins=3, alpha=a).value
    assert got == pytest.approx(float(np.sum(p * np.log(p / q))), rel=1e-14)
    # smoothing every cell (the former measures kernel) gives another value
    pe, qe = np.array([2, 0, 0]) + a, np.array([1, 0, 1]) + a
    pe, qe = pe / pe.sum(), qe / qe.sum()
    assert abs(got - float(np.sum(pe * np.log(pe / qe)))) > 1e-3


@pytest.mark.parametrize("d", [1, 2, 3])
def test_measures_kl_equals_the_protocol_histogram(d):
    g = np.random.default_rng(d)
    x, y = g.normal(size=(700, d)), 1.2 * g.normal(size=(900, d)) + 0.3
    for bins, a in ((10, 0.5), (4, 0.1)):
        got = kl_divergence(x, y, method="histogram", bins=bins, alpha=a).value
        assert got == histogram_divergence(x, y, bins=bins, pseudocount=a)
        rev = kl_divergence(y, x, method="histogram", bins=bins, alpha=a).value
        assert rev == histogram_divergence(x, y, measure="kl_reverse", bins=bins, pseudocount=a)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_js_and_tv_are_those_of_the_raw_shared_frequencies(d):
    g = np.random.default_rng(10 + d)
    x, y = g.normal(size=(500, d)), g.normal(size=(800, d)) + 0.5
    cx, cy = _shared_freqs(x, y, 6)
    p, q = cx / cx.sum(), cy / cy.sum()
    m = 0.5 * (p + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        js = 0.5 * np.nansum(p * np.log(p / m)) + 0.5 * np.nansum(q * np.log(q / m))
    assert js_divergence(x, y, method="histogram", bins=6).value == pytest.approx(js, rel=1e-12)
    tv = 0.5 * np.abs(p - q).sum()
    assert total_variation(x, y, method="histogram", bins=6).value == pytest.approx(tv, rel=1e-12)
    # disjoint samples: the unsmoothed distance is exactly at its bound
    far = x + 100.0
    assert total_variation(x, far, method="histogram", bins=6).value == 1.0
    assert js_divergence(x, far, method="histogram", bins=6).value == pytest.approx(math.log(2))


def test_entropy_and_mutual_information_match_numpy_histograms():
    g = np.random.default_rng(3)
    x = g.normal(size=(2000, 2))
    h, edges = np.histogramdd(x, bins=8)
    p = h.ravel() / x.shape[0]
    vol = np.prod([e[1] - e[0] for e in edges])
    want = -np.sum(p[p > 0] * np.log(p[p > 0])) + np.log(vol)
    assert entropy(x, method="histogram", bins=8).value == pytest.approx(want, rel=1e-12)
    a, b = x[:, :1], x[:, :1] + 0.3 * x[:, 1:]
    pxy = np.histogramdd(np.hstack([a, b]), bins=5)[0] / x.shape[0]
    px, py = pxy.sum(axis=1, keepdims=True), pxy.sum(axis=0, keepdims=True)
    nz = pxy > 0
    mi = float(np.sum(pxy[nz] * np.log(pxy[nz] / (px * py)[nz])))
    got = mutual_information(a, b, method="histogram", bins=5).value
    assert got == pytest.approx(mi, rel=1e-12) and got > 0.5


def test_auto_bins_is_the_documented_rate_and_the_protocol_passes_ten():
    g = np.random.default_rng(4)
    x, y = g.normal(size=(1000, 2)), g.normal(size=(1000, 2))
    est = kl_divergence(x, y, method="histogram")
    assert est.params["bins"] == math.ceil(2 * 1000 ** (1 / 4))
    assert kl_divergence(x, y, method="histogram", bins=10).value == histogram_divergence(x, y)
