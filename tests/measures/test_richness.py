"""Unseen-cell (richness) estimators: closed forms on small count vectors, the known
expected occupancy of a Zipf-like population, invariances and argument errors."""

import math

import numpy as np
import pytest

from synthgain.exceptions import ValidationError
from synthgain.measures import chao1, good_turing_unseen, richness_forecast
from synthgain.measures._richness import _assemblage

# n = 7 draws in S_obs = 4 cells: f1 = 2 singletons, f2 = 1 doubleton
SMALL = [1, 1, 2, 3]


def test_good_turing_closed_forms():
    est = good_turing_unseen(SMALL)
    # 1 - C = (f1 / n) (n-1) f1 / ((n-1) f1 + 2 f2) = (2/7)(12/14)
    assert est.value == pytest.approx(2 / 7 * 12 / 14, rel=1e-12)
    assert est.params == {"n": 7, "observed": 4, "f1": 2, "f2": 1,
                          "coverage": pytest.approx(1 - 2 / 7 * 12 / 14)}
    # Esty (1983): sqrt(f1 (1 - f1/n) + 2 f2) / n
    assert est.stderr == pytest.approx((2 * (1 - 2 / 7) + 2) ** 0.5 / 7, rel=1e-12)
    assert est.n == (7,)
    lo, hi = est.ci()
    assert 0.0 <= lo < est.value < hi <= 1.0
    # f2 = 0: the factor is (n-1)(f1-1) / ((n-1)(f1-1) + 2); n = 6, f1 = 3
    assert good_turing_unseen([1, 1, 1, 3]).value == pytest.approx(3 / 6 * 10 / 12, rel=1e-12)
    # a single singleton and no doubleton: (f1 - 1) = 0, nothing unseen; no singletons too
    assert good_turing_unseen([1, 4]).value == 0.0
    assert good_turing_unseen([2, 2, 5]).value == 0.0
    assert good_turing_unseen([1]).value == 0.0  # n = 1: (n - 1) = 0


def test_chao1_closed_forms_variance_and_interval():
    est = chao1(SMALL)
    a = 6 / 7  # (n - 1) / n
    f0 = a * 2 * 1 / (2 * 2)  # f1 (f1 - 1) / (2 (f2 + 1))
    assert est.value == pytest.approx(4 + f0, rel=1e-12)
    assert est.params == {"observed": 4, "f0": pytest.approx(f0), "f1": 2, "f2": 1, "n": 7}
    # EstimateS's variance of the bias-corrected Chao1, g = f2 + 1 = 2
    var = a * 2 * 1 / (2 * 2) + a**2 * 2 * 3**2 / (4 * 2**2) + a**2 * 2**2 * 1 * 1**2 / (4 * 2**4)
    assert est.stderr == pytest.approx(math.sqrt(var), rel=1e-12)
    k = math.exp(1.959963984540054 * math.sqrt(math.log(1 + var / f0**2)))
    assert est.ci() == pytest.approx((4 + f0 / k, 4 + f0 * k), rel=1e-12)
    assert est.lower == 4.0 and est.upper is None
    # f2 = 0 gives f1 (f1 - 1) / 2: n = 6, S_obs = 4, f1 = 3
    assert chao1([1, 1, 1, 3]).value == pytest.approx(4 + 5 / 6 * 3 * 2 / 2, rel=1e-12)


def test_chao1_without_singletons_uses_the_estimates_special_case():
    x = np.array([2, 3, 5, 2])
    est = chao1(x)
    assert est.value == 4.0 and est.params["f0"] == 0.0
    e = np.exp(-x)
    var = np.sum(e - e**2) - np.sum(x * e) ** 2 / x.sum()
    p = e.sum() / 4
    assert est.stderr == pytest.approx(math.sqrt(var), rel=1e-12)
    assert est.ci() == pytest.approx((4.0, 4 / (1 - p) + 1.959963984540054 * math.sqrt(var) / (1 - p)))
    assert chao1([1, 5]).ci()[0] == 2.0  # one singleton: f0 = 0 as well


def test_chao1_cap_at_max_cells():
    free = chao1([1, 1, 1, 1, 2])  # n = 6, f1 = 4, f2 = 1: f0 = 5/6 * 12 / 4 = 2.5
    assert free.value == pytest.approx(7.5)
    est = chao1([1, 1, 1, 1, 2], max_cells=6)
    assert est.value == 6.0 and est.params["capped"] is True and est.params["f0"] == 1.0
    assert est.ci()[1] == 6.0 and est.upper == 6.0
    roomy = chao1([1, 1, 1, 1, 2], max_cells=100)
    assert roomy.value == free.value and roomy.params["capped"] is False
    assert roomy.ci() == free.ci()


def test_forecast_closed_form_monotone_and_limit():
    f0 = 6 / 7 * 2**2 / (2 * 1)  # Chao1's unseen estimate, n = 7, f1 = 2, f2 = 1
    assert richness_forecast(SMALL, 0, rng=0).value == 4.0
    q = 2 / (7 * f0 + 2)
    est = richness_forecast(SMALL, 7, rng=0)
    assert est.value == pytest.approx(4 + f0 * (1 - (1 - q) ** 7), rel=1e-12)
    assert est.params == {"observed": 4, "extra": 7, "f0": pytest.approx(f0), "n": 7, "n_boot": 200}
    values = [richness_forecast(SMALL, m, n_boot=10, rng=0).value for m in range(0, 60, 3)]
    assert np.all(np.diff(values) > 0) and values[-1] < 4 + f0
    assert richness_forecast(SMALL, 10**9, n_boot=10, rng=0).value == pytest.approx(4 + f0)
    # with f2 = 0 the limit is the bias-corrected Chao1 itself
    assert (richness_forecast([1, 1, 1, 3], 10**9, n_boot=10, rng=0).value
            == pytest.approx(chao1([1, 1, 1, 3]).value, rel=1e-12))
    # nothing unseen: no new cell, however many draws
    assert richness_forecast([2, 3, 3], 50, n_boot=10, rng=0).value == 3.0


def test_bootstrap_assemblage_holds_coverage_and_ceil_f0_unseen_cells():
    x = np.array([1, 1, 1, 2, 2, 3, 5, 8])
    probs, u = _assemblage(x, None)
    unseen = good_turing_unseen(x).value
    f0 = richness_forecast(x, 0, n_boot=2, rng=0).params["f0"]
    assert u == math.ceil(f0) and probs.sum() == pytest.approx(1.0)
    assert probs[:-1].sum() == pytest.approx(1 - unseen, rel=1e-12)  # seen cells sum to C
    assert probs[-1] == pytest.approx(unseen) and np.all(probs >= 0)
    _, u_capped = _assemblage(x, 10)
    assert u_capped == 2  # at most max_cells - S_obs unseen cells


def test_forecast_with_max_cells():
    est = richness_forecast([1, 1, 1, 1, 1, 2, 3], 20, max_cells=9, rng=0)
    assert est.value == 9.0 and est.params["capped"] is True
    assert 7.0 <= est.ci()[0] and est.ci()[1] == 9.0
    full = richness_forecast([1, 1, 1, 1, 1, 2, 3], 10**6, max_cells=7, rng=0)
    assert full.value == 7.0 and full.ci() == (7.0, 7.0)
    # n + extra draws occupy at most n + extra cells: all singletons come close
    assert richness_forecast(np.ones(200), 200, rng=0).ci()[1] <= 400.0
    free = richness_forecast([1, 1, 1, 1, 1, 2, 3], 3, rng=0)
    assert richness_forecast([1, 1, 1, 1, 1, 2, 3], 3, max_cells=10**6, rng=0).value == free.value


def test_permuting_and_zero_cells_change_nothing():
    x = np.array([5, 1, 0, 2, 1, 1, 9, 2, 3, 1])
    y = np.concatenate([np.random.default_rng(1).permutation(x), np.zeros(7, dtype=int)])
    assert chao1(x) == chao1(y)
    assert good_turing_unseen(x) == good_turing_unseen(y)
    a = richness_forecast(x, 30, n_boot=50, rng=3)
    b = richness_forecast(y.astype(float), 30, n_boot=50, rng=3)
    assert a == b  # the bootstrap too: the counts are sorted before drawing
    assert a == richness_forecast(x, 30, n_boot=50, rng=np.random.SeedSequence(3))
    assert a.stderr > 0 and a.ci()[0] < a.value < a.ci()[1]


def test_rng_int_equals_its_seed_sequence():
    x = np.array([5, 1, 0, 2, 1, 1, 9, 2, 3, 1])
    a = richness_forecast(x, 40, n_boot=30, rng=7)
    assert a == richness_forecast(x, 40, n_boot=30, rng=np.random.SeedSequence(7))
    assert a != richness_forecast(x, 40, n_boot=30, rng=8)  # the seed reaches the bootstrap


def _zipf_population():
    p = 1.0 / np.arange(1, 401) ** 0.8  # 400 cells, fixed Zipf-like probabilities
    return p / p.sum()


def test_forecast_and_unseen_mass_against_a_known_population():
    """Doubling a sample of n = 300 from 400 Zipf-like cells, 200 seeded repetitions.

    The exact expected occupancy of n + m draws is sum_i 1 - (1 - p_i)^(n + m) (229.33
    at m = n). Measured with 2,000 repetitions (n_boot = 100): mean relative bias of the
    forecast -0.9% (sd 6.3%, so 0.45% standard error for a mean of 200), coverage of the
    95% interval 92.5% (binomial sd 1.9% for 200); mean bootstrap stderr 13.4 against a
    spread of the forecasts of 14.5; Good-Turing's unseen mass minus the true one -0.0007
    (sd 0.037, standard error 0.0026 for 200). With these seeds: -0.44%, 95.5% and
    +0.0019. The bounds below sit about 2 to 5 standard errors outside the measured means.
    """
    p = _zipf_population()
    n = m = 300
    truth = float(np.sum(-np.expm1((n + m) * np.log1p(-p))))
    rel, covered, se, gt_err, gt_cov = [], [], [], [], []
    for r in range(200):
        counts = np.bincount(np.random.default_rng(r).choice(p.size, size=n, p=p),
                             minlength=p.size)
        est = richness_forecast(counts, m, n_boot=100, rng=r)
        lo, hi = est.ci()
        rel.append(est.value / truth - 1)
        covered.append(lo <= truth <= hi)
        se.append(est.stderr)
        gt = good_turing_unseen(counts)
        gt_err.append(gt.value - p[counts == 0].sum())
        gt_cov.append(gt.ci()[0] <= p[counts == 0].sum() <= gt.ci()[1])
    assert abs(np.mean(rel)) < 0.03
    assert 0.88 <= np.mean(covered) <= 0.995
    assert 0.75 < np.mean(se) / (np.std(rel, ddof=1) * truth) < 1.25
    assert abs(np.mean(gt_err)) < 0.01
    # Esty's interval for this sample's unseen mass: 95.1% over 2,000 repetitions, 96.0%
    # with these 200 seeds (binomial sd 1.5%)
    assert 0.90 <= np.mean(gt_cov) <= 0.99


@pytest.mark.parametrize("fn", [good_turing_unseen, chao1,
                                lambda c: richness_forecast(c, 5, n_boot=10, rng=0)])
def test_counts_errors(fn):
    with pytest.raises(ValidationError, match=r"`counts` must hold finite non-negative integers "
                                              r"\(draws per cell\)\. Found -1 at index 1; pass "
                                              r"occupancy counts, e\.g\. np\.bincount"):
        fn([3, -1, 2])
    with pytest.raises(ValidationError, match=r"`counts` .* Found 1\.5 at index 2"):
        fn([3, 1, 1.5])
    with pytest.raises(ValidationError, match=r"`counts` .* Found nan at index 0"):
        fn([np.nan, 1])
    with pytest.raises(ValidationError, match=r"`counts` must be a 1-D array, one count per "
                                              r"cell\. Got an array of shape \(2, 2\)"):
        fn([[1, 2], [3, 4]])
    with pytest.raises(ValidationError, match=r"`counts` must hold at least one draw\. Got 0 "
                                              r"cell\(s\)"):
        fn([])
    with pytest.raises(ValidationError, match=r"Got 3 cell\(s\) with a total count of 0"):
        fn(np.zeros(3))
    with pytest.raises(ValidationError, match="`counts` must be a 1-D array of non-negative"):
        fn(["a", "b"])
    assert fn([3.0, 1.0, 0.0]).n == (4,)  # floats equal to integers are counts


def test_option_errors():
    with pytest.raises(ValidationError, match=r"`extra` must be an int in \[0, inf\)\. Got -1"):
        richness_forecast(SMALL, -1)
    with pytest.raises(ValidationError, match=r"`extra` must be an int .* Got 2\.5 of type float"):
        richness_forecast(SMALL, 2.5)
    with pytest.raises(ValidationError, match=r"`n_boot` must be an int in \[2, inf\)"):
        richness_forecast(SMALL, 3, n_boot=1)
    with pytest.raises(ValidationError, match=r"`max_cells` must be at least the 4 occupied "
                                              r"cells of `counts`\. Got 3 instead"):
        richness_forecast(SMALL, 3, max_cells=3)
    with pytest.raises(ValidationError, match=r"`max_cells` must be at least the 4 occupied"):
        chao1(SMALL, max_cells=2)
    with pytest.raises(ValidationError, match="`rng` must be None, a non-negative int"):
        richness_forecast(SMALL, 3, rng="seed")
