"""Closed forms for Gaussians, checked against Monte Carlo and numerical integration."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from synthgain.exceptions import ValidationError
from synthgain.measures import (
    Gaussian,
    entropy,
    kl_divergence,
    mutual_information,
    total_variation,
)


def random_gaussian(rng, d):
    a = rng.standard_normal((d, d))
    return Gaussian(rng.standard_normal(d), a @ a.T + 0.5 * np.eye(d))


def test_entropy_matches_scipy_and_monte_carlo():
    rng = np.random.default_rng(0)
    g = random_gaussian(rng, 4)
    exact = entropy(g)
    assert exact.method == "closed_form" and exact.stderr is None
    assert float(exact) == pytest.approx(stats.multivariate_normal(g.mean, g.cov).entropy(), rel=1e-12)
    mc = entropy(g, method="monte_carlo", n_samples=20_000, rng=1)
    assert abs(mc.value - exact.value) < 4 * mc.stderr


def test_kl_closed_form_against_monte_carlo_and_zero_on_self():
    rng = np.random.default_rng(1)
    p, q = random_gaussian(rng, 3), random_gaussian(rng, 3)
    exact = float(kl_divergence(p, q))
    mc = kl_divergence(p, q, method="monte_carlo", n_samples=40_000, rng=2)
    assert abs(mc.value - exact) < 4 * mc.stderr
    assert float(kl_divergence(p, p)) == pytest.approx(0.0, abs=1e-12)


def test_kl_1d_reference_value():
    # KL(N(0,1) || N(1,4)) = log 2 + (1 + 1)/8 - 1/2
    assert float(kl_divergence(Gaussian(0, 1), Gaussian(1, 4))) == pytest.approx(
        math.log(2) + 0.25 - 0.5, rel=1e-12
    )


def test_mutual_information_of_correlated_pair():
    rho = 0.8
    g = Gaussian([0, 0, 0], [[1, rho, 0], [rho, 1, 0], [0, 0, 2]])
    assert float(mutual_information(g, [1])) == pytest.approx(-0.5 * math.log(1 - rho**2))
    # the independent third coordinate adds nothing
    assert float(mutual_information(g, [1, 2])) == pytest.approx(-0.5 * math.log(1 - rho**2))
    mc = mutual_information(g, [1], method="monte_carlo", n_samples=20_000, rng=3)
    assert abs(mc.value - (-0.5 * math.log(1 - rho**2))) < 4 * mc.stderr


@pytest.mark.parametrize(("m1", "s1", "m2", "s2"), [(0, 1, 1, 1), (0, 1, 1, 2), (0, 3, 0, 1), (2, 0.5, 0, 1.5)])
def test_tv_1d_exact_against_quadrature(m1, s1, m2, s2):
    def half_abs(x):
        return 0.5 * abs(stats.norm.pdf(x, m1, s1) - stats.norm.pdf(x, m2, s2))

    ref, _ = integrate.quad(half_abs, -40, 40, points=[m1, m2], limit=400)
    est = total_variation(Gaussian(m1, s1**2), Gaussian(m2, s2**2))
    assert est.method == "closed_form"
    assert float(est) == pytest.approx(ref, abs=1e-8)


def test_tv_equal_covariance_is_exact_and_symmetric():
    rng = np.random.default_rng(4)
    a = rng.standard_normal((3, 3))
    cov = a @ a.T + np.eye(3)
    p, q = Gaussian([0, 0, 0], cov), Gaussian([1, -1, 0.5], cov)
    est = total_variation(p, q)
    assert est.method == "closed_form"
    mc = total_variation(p, q, method="monte_carlo", n_samples=40_000, rng=5)
    assert abs(mc.value - est.value) < 4 * mc.stderr
    assert float(total_variation(q, p)) == pytest.approx(est.value, rel=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_tv_bounds_contain_monte_carlo(seed):
    rng = np.random.default_rng(10 + seed)
    d = int(rng.integers(2, 6))
    p, q = random_gaussian(rng, d), random_gaussian(rng, d)
    if seed % 2:  # same mean: Devroye-Mehrabian-Reddad Theorem 1.2 branch
        q = Gaussian(p.mean, q.cov)
    est = total_variation(p, q, n_samples=20_000, rng=seed)
    assert est.method == "monte_carlo"
    assert 0.0 <= est.lower <= est.upper <= 1.0
    assert est.lower - 4 * est.stderr <= est.value <= est.upper + 4 * est.stderr
    b = total_variation(p, q, method="bounds")
    assert (b.lower, b.upper) == (est.lower, est.upper)


def test_sample_shapes_and_logpdf():
    g = Gaussian([1.0, 2.0], [[2.0, 0.5], [0.5, 1.0]])
    x = g.sample(5, rng=0)
    assert x.shape == (5, 2)
    ref = stats.multivariate_normal(g.mean, g.cov).logpdf(x)
    np.testing.assert_allclose(g.logpdf(x), ref, rtol=1e-12)
    np.testing.assert_array_equal(g.sample(5, rng=0), x)
    assert g.dim == 2 and g.to_mixture().n_components == 1


@pytest.mark.parametrize(
    ("mean", "cov", "match"),
    [
        ([0, 0], [[1, 0], [0, -1]], "positive definite"),
        ([0, 0], [[1, 0.5], [0, 1]], "symmetric"),
        ([0, 0], np.eye(3), r"shape \(d, d\) = \(2, 2\)"),
        ([0, np.nan], np.eye(2), "finite"),
        ([0, 0], [[1, np.inf], [np.inf, 1]], "finite"),
    ],
)
def test_gaussian_validation(mean, cov, match):
    with pytest.raises(ValidationError, match=match):
        Gaussian(mean, cov)
