"""Private kernels: log-sum-exp against SciPy, including the clipped-exp fast path."""

import numpy as np
import pytest
from scipy.special import logsumexp as scipy_logsumexp

from synthgain.mixture import logsumexp


@pytest.mark.parametrize(("shape", "axis"), [((5, 6, 7), 1), ((5, 6, 7), -1), ((5, 40), 1), ((40, 3), 0), ((3, 2), 0)])
@pytest.mark.parametrize("scale", [1.0, 800.0])
def test_logsumexp_matches_scipy(shape, axis, scale):
    """Short (slice loop) and long axes; a large scale puts most terms below exp's floor."""
    a = np.random.default_rng(0).normal(size=shape) * scale
    np.testing.assert_allclose(logsumexp(a, axis), scipy_logsumexp(a, axis=axis), rtol=1e-13)


@pytest.mark.parametrize("k", [4, 40])
def test_logsumexp_infinite_entries(k):
    a = np.full((3, k), -np.inf)
    a[0, 1] = 2.0
    a[1, :2] = [-1e6, 0.0]  # a term far below the floor leaves the result exact
    out = logsumexp(a, 1)
    assert out[0] == 2.0 and out[1] == 0.0 and out[2] == -np.inf


@pytest.mark.parametrize("triangle", [False, True])
@pytest.mark.parametrize("transpose", [False, True])
def test_quadratic_features_give_the_weighted_component_log_densities(triangle, transpose):
    """coef . phi(x) = log w_j + log N(x | mu_j, Sigma_j), the difference form's value."""
    from synthgain.mixture import _kernels

    rng = np.random.default_rng(0)
    b, k, d, n = 2, 3, 3, 40
    a = rng.normal(size=(b, k, d, d))
    _, prec, logdet = _kernels.cholesky_factors(a @ np.swapaxes(a, -1, -2) + np.eye(d))
    means, logw = rng.normal(size=(b, k, d)), np.log(rng.dirichlet(np.ones(k), size=b))
    x = rng.normal(size=(b, n, d))
    coef = _kernels.quadratic_coefficients(logw, means, prec, logdet, triangle=triangle)
    phi = _kernels.quadratic_features(x, triangle=triangle, transpose=transpose)
    got = coef @ (phi if transpose else np.swapaxes(phi, 1, 2))  # (B, k, n)
    want = _kernels.component_logpdf(x, means, prec, logdet) + logw[:, None, :]
    np.testing.assert_allclose(np.swapaxes(got, 1, 2), want, rtol=1e-10, atol=1e-10)
