"""Private kernels: log-sum-exp against SciPy, including the clipped-exp fast path."""

import numpy as np
import pytest
from scipy.special import logsumexp as scipy_logsumexp

from synthgain.mixture._kernels import logsumexp


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
