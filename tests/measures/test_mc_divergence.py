"""The one Monte Carlo divergence kernel: measures.mc_divergence_rows."""

import numpy as np
import pytest

from synthgain import measures
from synthgain.measures import Gaussian, mc_divergence_rows
from synthgain.mixture import GaussianMixture

F = GaussianMixture([0.3, 0.7], [[0.0, 0.0], [2.0, 1.0]], [np.eye(2), [[1.0, 0.3], [0.3, 0.5]]])
G = GaussianMixture([0.5, 0.5], [[0.5, 0.0], [1.0, 2.0]],
                    [2 * np.eye(2), [[1.0, -0.2], [-0.2, 0.8]]])


def _logs(n, seed):
    x = F.sample(n, rng=seed)[0]
    y = G.sample(n, rng=seed + 1)[0]
    return F.logpdf(x), G.logpdf(x), F.logpdf(y), G.logpdf(y)


def test_rows_are_the_per_row_estimates():
    """Batched over leading axes: each row is the estimate from its own points."""
    logs = [t.reshape(4, 500) for t in _logs(2000, 0)]
    for m in ("kl", "kl_reverse", "js", "tv"):
        rows = mc_divergence_rows(m, *logs)
        assert rows.shape == (4,)
        for r in range(4):
            assert rows[r] == mc_divergence_rows(m, *(t[r] for t in logs))


def test_rows_agree_with_the_closed_form_gaussian_kl():
    p, q = Gaussian([0.0, 0.0], np.eye(2)), Gaussian([1.0, 0.5], 2 * np.eye(2))
    fm, gm = p.to_mixture(), q.to_mixture()
    x, y = fm.sample(200_000, rng=0)[0], gm.sample(200_000, rng=1)[0]
    lp_p, lq_p, lp_q, lq_q = fm.logpdf(x), gm.logpdf(x), fm.logpdf(y), gm.logpdf(y)
    exact = measures.kl_divergence(p, q).value
    reverse = measures.kl_divergence(q, p).value
    assert mc_divergence_rows("kl", lp_p, lq_p) == pytest.approx(exact, abs=0.01)
    assert mc_divergence_rows("kl_reverse", lp_p, lq_p, lp_q, lq_q) == pytest.approx(reverse, abs=0.01)
    # both one-sided TV halves and their mean estimate the same TV
    one = mc_divergence_rows("tv", lp_p, lq_p)
    both = mc_divergence_rows("tv", lp_p, lq_p, lp_q, lq_q)
    assert both == pytest.approx(one, abs=0.01)


def test_the_measures_use_the_same_kernel():
    """kl_divergence / js_divergence / total_variation(method="monte_carlo") are the
    kernel's value at the points they draw (same generator stream)."""
    n = 3000
    gen = np.random.default_rng(np.random.SeedSequence(5))
    x = F.sample(n, rng=gen)[0]
    kl = mc_divergence_rows("kl", F.logpdf(x), G.logpdf(x))
    got = measures.kl_divergence(F, G, method="monte_carlo", n_samples=n, rng=5).value
    assert got == kl
    gen = np.random.default_rng(np.random.SeedSequence(5))
    x, y = F.sample(n, rng=gen)[0], G.sample(n, rng=gen)[0]
    js = mc_divergence_rows("js", F.logpdf(x), G.logpdf(x), F.logpdf(y), G.logpdf(y))
    assert measures.js_divergence(F, G, method="monte_carlo", n_samples=n, rng=5).value == js


def test_a_measure_needing_points_of_q_says_so():
    with pytest.raises(ValueError, match="needs the log-densities at points of q"):
        mc_divergence_rows("js", np.zeros(3), np.zeros(3))
