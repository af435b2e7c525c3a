"""Mixture measures against numerical integration in 1-D and closed forms."""

import math

import numpy as np
import pytest

from synthgain.exceptions import ValidationError
from synthgain.measures import (
    Gaussian,
    entropy,
    js_divergence,
    kl_divergence,
    label_mutual_information,
    mutual_information,
    total_variation,
)
from synthgain.mixture import GaussianMixture

F = GaussianMixture([0.5, 0.5], [[0.0], [3.0]], [[[1.0]], [[1.0]]])
G = GaussianMixture([0.3, 0.7], [[0.5], [2.0]], [[[1.0]], [[2.0]]])
GRID = np.linspace(-20.0, 25.0, 200_001)


def quad(fn):
    return float(np.trapezoid(fn(GRID), GRID))


def logpdfs():
    x = GRID[:, None]
    return F.logpdf(x), G.logpdf(x)


def test_monte_carlo_kl_entropy_js_tv_against_quadrature():
    lf, lg = logpdfs()
    pf, pg = np.exp(lf), np.exp(lg)
    lm = np.logaddexp(lf, lg) - math.log(2)
    ref = {
        "kl": quad(lambda _: pf * (lf - lg)),
        "h": quad(lambda _: -pf * lf),
        "js": quad(lambda _: 0.5 * pf * (lf - lm) + 0.5 * pg * (lg - lm)),
        "tv": quad(lambda _: 0.5 * np.abs(pf - pg)),
    }
    ests = {
        "kl": kl_divergence(F, G, n_samples=20_000, rng=0),
        "h": entropy(F, n_samples=20_000, rng=1),
        "js": js_divergence(F, G, n_samples=20_000, rng=2),
        "tv": total_variation(F, G, n_samples=20_000, rng=3),
    }
    for key, est in ests.items():
        assert est.method == "monte_carlo" and est.n == (20_000,)
        assert abs(est.value - ref[key]) < 4 * est.stderr, key
    # the attached bounds hold
    assert ests["kl"].lower <= ref["kl"] <= ests["kl"].upper
    assert ests["h"].lower <= ref["h"] <= ests["h"].upper


def test_target_stderr_sets_sample_count():
    est = kl_divergence(F, G, n_samples=1000, target_stderr=0.003, rng=4)
    assert est.params["n_samples"] > 1000
    assert est.stderr < 0.003 * 1.15
    capped = kl_divergence(F, G, n_samples=1000, target_stderr=1e-6, max_samples=5000, rng=4)
    assert capped.n == (5000,)


def test_monte_carlo_reproducible_from_seed():
    a = kl_divergence(F, G, n_samples=500, rng=np.random.SeedSequence(7))
    b = kl_divergence(F, G, n_samples=500, rng=np.random.SeedSequence(7))
    assert a.value == b.value and a.stderr == b.stderr


def test_hershey_olsen_and_durrieu():
    lf, lg = logpdfs()
    ref = quad(lambda _: np.exp(lf) * (lf - lg))
    dur = kl_divergence(F, G, method="durrieu")
    assert dur.lower <= ref <= dur.upper
    assert dur.value == pytest.approx(0.5 * (dur.lower + dur.upper))
    var = kl_divergence(F, G, method="hershey_olsen")
    prod = kl_divergence(F, G, method="hershey_olsen_product")
    assert math.isfinite(var.value) and math.isfinite(prod.value)
    # single Gaussians: the variational approximation is exact, the bounds pinch... from outside
    p, q = Gaussian([0.0, 1.0], [[1.0, 0.2], [0.2, 2.0]]), Gaussian([1.0, 0.0], np.eye(2))
    exact = float(kl_divergence(p, q))
    assert float(kl_divergence(p, q, method="hershey_olsen")) == pytest.approx(exact, rel=1e-10)
    d = kl_divergence(p, q, method="durrieu")
    assert d.lower <= exact <= d.upper
    # identical mixtures: the variational approximation gives 0
    assert float(kl_divergence(F, F, method="hershey_olsen")) == pytest.approx(0.0, abs=1e-12)


def test_mixture_entropy_bounds_contain_monte_carlo_in_2d():
    m = GaussianMixture(
        [0.2, 0.5, 0.3],
        [[0.0, 0.0], [2.0, 1.0], [-1.0, 3.0]],
        [np.eye(2), [[1.0, 0.5], [0.5, 1.0]], 0.5 * np.eye(2)],
    )
    mc = entropy(m, n_samples=20_000, rng=5)
    b = entropy(m, method="bounds")
    assert b.lower - 4 * mc.stderr <= mc.value <= b.upper + 4 * mc.stderr


def test_label_mutual_information():
    # far-apart components: the label is recoverable, I = H(Z)
    far = GaussianMixture([0.25, 0.75], [[0.0], [100.0]], [[[1.0]], [[1.0]]])
    est = label_mutual_information(far, n_samples=2000, rng=0)
    h_z = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    assert est.value == pytest.approx(h_z, abs=1e-9) and est.upper == pytest.approx(h_z)
    # identical components: the point says nothing about the label
    same = GaussianMixture([0.5, 0.5], [[0.0], [0.0]], [[[1.0]], [[1.0]]])
    assert label_mutual_information(same, n_samples=500, rng=0).value == pytest.approx(0, abs=1e-12)
    # one group holding every component: I = 0 exactly
    assert float(label_mutual_information(F, [[0, 1]], n_samples=500, rng=0)) == pytest.approx(0)
    # against quadrature: I = H(X) - sum_j w_j H(X | Z=j)
    lf, _ = logpdfs()
    h_x = quad(lambda _: -np.exp(lf) * lf)
    ref = h_x - 0.5 * math.log(2 * math.pi * math.e)
    mi = label_mutual_information(F, n_samples=20_000, rng=1)
    assert abs(mi.value - ref) < 4 * mi.stderr


def test_label_mutual_information_groups_and_errors():
    m = GaussianMixture(np.full(4, 0.25), [[0.0], [0.1], [10.0], [10.1]], np.ones((4, 1, 1)))
    grouped = label_mutual_information(m, [[0, 1], [2, 3]], n_samples=2000, rng=0)
    assert grouped.value == pytest.approx(math.log(2), abs=1e-6)
    with pytest.raises(ValidationError, match=r"`groups` must partition the component indices 0\.\.3"):
        label_mutual_information(m, [[0, 1], [2]])
    with pytest.raises(ValidationError, match="`groups` must partition"):
        label_mutual_information(m, [[0, 1], [1, 2, 3]])
    with pytest.raises(ValidationError, match="`mixture` must be a GaussianMixture"):
        label_mutual_information(np.zeros((3, 1)))


def test_mixture_block_mutual_information_matches_gaussian():
    g = Gaussian([0.0, 0.0], [[1.0, 0.6], [0.6, 1.0]])
    est = mutual_information(g.to_mixture(), [1], n_samples=20_000, rng=6)
    assert abs(est.value - float(mutual_information(g, [1]))) < 4 * est.stderr
