"""Rank correlation: rho against SciPy and a closed form, bootstrap interval, errors."""

import math

import numpy as np
import pytest
from scipy import stats

from synthgain.exceptions import ValidationError
from synthgain.measures import rank_correlation, spearman_rows


def test_rho_matches_scipy_with_ties():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, size=(20, 15)).astype(float)  # many ties
    y = x + rng.normal(size=x.shape)
    ours = spearman_rows(x, y)
    ref = [stats.spearmanr(a, b).statistic for a, b in zip(x, y, strict=True)]
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_monotone_relation_gives_one_and_a_degenerate_interval():
    x = np.arange(12.0)
    est = rank_correlation(x, np.exp(x), n_bootstrap=200, rng=0)
    assert est.value == pytest.approx(1.0)
    assert est.ci() == pytest.approx((1.0, 1.0))


def test_independent_pairs_interval_covers_zero_and_is_reproducible():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=40), rng.normal(size=40)
    a = rank_correlation(x, y, n_bootstrap=1000, rng=5)
    b = rank_correlation(x, y, n_bootstrap=1000, rng=5)
    lo, hi = a.ci()
    assert lo < 0 < hi
    assert (a.value, a.interval) == (b.value, b.interval)
    # the bootstrap sd is close to the large-sample sd of rho, about 1/sqrt(n - 1)
    assert 0.5 / np.sqrt(39) < a.stderr < 2.0 / np.sqrt(39)


def test_nan_pairs_dropped_and_constant_gives_nan():
    x = np.array([1.0, 2.0, np.nan, 4.0, 5.0])
    est = rank_correlation(x, x, n_bootstrap=50, nan_policy="omit", rng=0)
    assert est.n == (4,) and est.value == pytest.approx(1.0)
    assert np.isnan(rank_correlation(np.ones(6), np.arange(6.0), n_bootstrap=50).value)
    assert np.isnan(rank_correlation([1.0, np.nan], [1.0, 2.0], nan_policy="omit").value)


def test_length_mismatch_message():
    with pytest.raises(ValidationError, match=r"same length. Got lengths 3 and 4"):
        rank_correlation([1, 2, 3], [1, 2, 3, 4])
    with pytest.raises(ValidationError, match=r"1 pair\(s\) with a NaN or infinity among 3; "
                                              r"drop them or pass nan_policy='omit'"):
        rank_correlation([1, 2, np.nan], [1, 2, 3])
    with pytest.raises(ValidationError, match=r"at least 3 pairs\. Got 2"):
        rank_correlation([1, 2], [1, 2])
    with pytest.raises(ValidationError, match="`n_bootstrap` must be an int in"):
        rank_correlation([1, 2, 3], [1, 2, 3], n_bootstrap=1)
    with pytest.raises(ValidationError, match="`nan_policy` must be one of"):
        rank_correlation([1, 2, 3], [1, 2, 3], nan_policy="drop")


def test_rank_correlation_bivariate_normal():
    # population Spearman rho of a bivariate normal: (6 / pi) arcsin(r / 2)
    rng = np.random.default_rng(0)
    r, n = 0.6, 400
    x = rng.normal(size=n)
    y = r * x + math.sqrt(1 - r**2) * rng.normal(size=n)
    est = rank_correlation(x, y, n_bootstrap=1000, rng=1)
    truth = 6 / math.pi * math.asin(r / 2)
    assert abs(est.value - truth) < 4 * est.stderr
    lo, hi = est.ci(0.95)
    assert lo < est.value < hi and est.interval == (lo, hi)
    assert est.method == "spearman_bootstrap" and est.params["p_value"] < 1e-10


def test_rank_correlation_invariants():
    x = np.arange(10.0)
    assert rank_correlation(x, np.exp(x), rng=0).value == pytest.approx(1.0)
    neg = rank_correlation(x, -(x**3), rng=0)
    assert neg.value == pytest.approx(-1.0) and neg.interval == pytest.approx((-1.0, -1.0))
    a = rank_correlation(x, np.sin(x), rng=3)
    assert a == rank_correlation(x, np.sin(x), rng=3)  # reproducible from the seed
