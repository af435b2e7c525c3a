"""Bad input raises ValidationError naming the argument, the value and the remedy."""

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

X = np.random.default_rng(0).standard_normal((50, 2))
Y = np.random.default_rng(1).standard_normal((40, 2))


@pytest.mark.parametrize("fn", [kl_divergence, js_divergence, total_variation])
def test_divergence_input_errors(fn):
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValidationError, match=r"`p` must contain only finite values. Found nan at index \(3, 1\)"):
        fn(bad, Y)
    inf = Y.copy()
    inf[0, 0] = np.inf
    with pytest.raises(ValidationError, match=r"`q` must contain only finite values\. Found inf"):
        fn(X, inf)
    with pytest.raises(ValidationError, match=r"`p` and `q` must have the same dimension. Got samples with 2 and 3"):
        fn(X, np.zeros((40, 3)))
    with pytest.raises(ValidationError, match=r"`p` must be a 1-D or 2-D array. Got an array of shape \(2, 3, 4\)"):
        fn(np.zeros((2, 3, 4)), Y)
    with pytest.raises(ValidationError, match="`p` must have at least 2 points"):
        fn(X[:1], Y)
    with pytest.raises(ValidationError, match=r"both distributions .* or both samples"):
        fn(Gaussian([0, 0], np.eye(2)), Y)
    with pytest.raises(ValidationError, match=r"`p` and `q` must have the same dimension\. Got 2 and 1"):
        fn(Gaussian([0, 0], np.eye(2)), Gaussian(0, 1))
    with pytest.raises(ValidationError, match="`method` must be one of"):
        fn(X, Y, method="kl")


def test_k_errors():
    with pytest.raises(ValidationError, match=r"`k` must be an int in \[1, 40\] \(at most n - 1 and m\). Got 41"):
        kl_divergence(X, Y, k=41)
    with pytest.raises(ValidationError, match=r"`k` must be an int in \[1, 49\].*Got 50 instead; use a smaller k"):
        entropy(X, k=50)
    with pytest.raises(ValidationError, match=r"`k` must be an int in \[1, inf\). Got 0"):
        entropy(X, k=0)
    with pytest.raises(ValidationError, match=r"`k` must be an int in \[1, 49\]"):
        mutual_information(X[:, 0], X[:, 1], k=50)
    with pytest.raises(ValidationError, match="`k` must be one of 'auto'"):
        js_divergence(X, Y, k="big")


def test_option_errors():
    with pytest.raises(ValidationError, match="`ties` must be one of 'jitter', 'remove', 'raise'"):
        entropy(X, ties="drop")
    with pytest.raises(ValidationError, match="`bias_correction` must be one of 'permutation'"):
        kl_divergence(X, Y, bias_correction="yes")
    with pytest.raises(ValidationError, match=r"`n_samples` must be an int in \[2, inf\)"):
        entropy(Gaussian(0, 1), method="monte_carlo", n_samples=1)
    with pytest.raises(ValidationError, match=r"`target_stderr` must be a finite real number in \(0, inf\)"):
        kl_divergence(Gaussian(0, 1), Gaussian(1, 1), method="monte_carlo", target_stderr=0)
    with pytest.raises(ValidationError, match="`rng` must be None, a non-negative int"):
        entropy(Gaussian(0, 1), method="monte_carlo", rng="seed")
    with pytest.raises(ValidationError, match="needs 1-D Gaussians or equal covariances"):
        total_variation(Gaussian([0, 0], np.eye(2)), Gaussian([0, 0], 2 * np.eye(2)),
                        method="closed_form")
    with pytest.raises(ValidationError, match="`method` must be one of 'auto', 'monte_carlo', 'bounds'"):
        entropy(GaussianMixture([1.0], [[0.0]], [[[1.0]]]), method="closed_form")


def test_mutual_information_errors():
    with pytest.raises(ValidationError, match="`x` and `y` must have the same number of rows"):
        mutual_information(X, Y)
    with pytest.raises(ValidationError, match=r"`y` must list the coordinates of Y, a non-empty proper subset of 0\.\.1"):
        mutual_information(Gaussian([0, 0], np.eye(2)), [0, 1])
    with pytest.raises(ValidationError, match="`y` must list the coordinates"):
        mutual_information(Gaussian([0, 0], np.eye(2)), [5])
