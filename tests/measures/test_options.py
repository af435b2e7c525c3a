"""Options that the chosen method does not read are rejected, naming the option and the
method; options it reads, and options left at their defaults, pass."""

import numpy as np
import pytest

from synthgain.exceptions import ValidationError
from synthgain.measures import (
    Gaussian,
    entropy,
    js_divergence,
    kl_divergence,
    mutual_information,
    total_variation,
)
from synthgain.mixture import GaussianMixture

G0 = Gaussian(np.zeros(2), np.eye(2))
G1 = Gaussian(np.ones(2), np.eye(2))
MIX = GaussianMixture([0.5, 0.5], [[0.0, 0.0], [3.0, 0.0]], [np.eye(2), np.eye(2)])
X = np.random.default_rng(0).normal(size=(200, 2))
Y = np.random.default_rng(1).normal(size=(200, 2))


@pytest.mark.parametrize("call, option, method", [
    (lambda: entropy(G0, method="closed_form", n_samples=50), "n_samples", "closed_form"),
    (lambda: entropy(X, bins=5), "bins", "kozachenko_leonenko"),
    (lambda: entropy(X, method="histogram", k=5), "k", "histogram"),
    (lambda: kl_divergence(X, Y, alpha=1.0), "alpha", "wang_kulkarni_verdu"),
    (lambda: kl_divergence(MIX, MIX, method="durrieu", n_samples=10), "n_samples", "durrieu"),
    (lambda: kl_divergence(MIX, MIX, k=4), "k", "monte_carlo"),
    (lambda: js_divergence(X, Y, n_samples=100), "n_samples", "knn_ratio"),
    (lambda: total_variation(G0, G1, method="bounds", standardize=True), "standardize", "bounds"),
    (lambda: mutual_information(X[:, :1], X[:, 1:], method="histogram", n_bootstrap=9),
     "n_bootstrap", "histogram"),
])  # fmt: skip
def test_an_option_the_method_does_not_read_is_rejected(call, option, method):
    with pytest.raises(ValidationError, match=rf"`{option}`=.* does not apply to .*{method}"):
        call()


def test_options_the_method_reads_and_defaults_pass():
    assert entropy(X, method="histogram", bins=5).method == "histogram"
    assert kl_divergence(X, Y, method="histogram", alpha=1.0, bins=4).value >= 0
    assert kl_divergence(G0, G1, k=1).method == "closed_form"  # k left at its default
    est = kl_divergence(MIX, MIX, n_samples=500, rng=0)  # auto -> Monte Carlo reads it
    assert est.method == "monte_carlo"
    assert entropy(G0, rng=3).method == "closed_form"  # rng is accepted everywhere
