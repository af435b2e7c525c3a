import numpy as np
import pytest
from scipy import stats

from synthgain.exceptions import ValidationError
from synthgain.study import spearman_bootstrap
from synthgain.study._correlate import _spearman_rows


def test_rho_matches_scipy_with_ties():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, size=(20, 15)).astype(float)  # many ties
    y = x + rng.normal(size=x.shape)
    ours = _spearman_rows(x, y)
    ref = [stats.spearmanr(a, b).statistic for a, b in zip(x, y, strict=True)]
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_monotone_relation_gives_one_and_a_degenerate_interval():
    x = np.arange(12.0)
    est = spearman_bootstrap(x, np.exp(x), n_boot=200, rng=0)
    assert est.value == pytest.approx(1.0)
    assert est.ci() == pytest.approx((1.0, 1.0))


def test_independent_pairs_interval_covers_zero_and_is_reproducible():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=40), rng.normal(size=40)
    a = spearman_bootstrap(x, y, n_boot=1000, rng=5)
    b = spearman_bootstrap(x, y, n_boot=1000, rng=5)
    lo, hi = a.ci()
    assert lo < 0 < hi
    assert (a.value, a.interval) == (b.value, b.interval)
    # the bootstrap sd is close to the large-sample sd of rho, about 1/sqrt(n - 1)
    assert 0.5 / np.sqrt(39) < a.stderr < 2.0 / np.sqrt(39)


def test_nan_pairs_dropped_and_constant_gives_nan():
    x = np.array([1.0, 2.0, np.nan, 4.0, 5.0])
    est = spearman_bootstrap(x, x, n_boot=50, rng=0)
    assert est.n == (4,) and est.value == pytest.approx(1.0)
    assert np.isnan(spearman_bootstrap(np.ones(6), np.arange(6.0), n_boot=50).value)


def test_length_mismatch_message():
    with pytest.raises(ValidationError, match=r"`x` and `y` must have the same length. Got 3 "
                                              r"and 4"):
        spearman_bootstrap([1, 2, 3], [1, 2, 3, 4])
