"""The compiled batched mixture log-density against the NumPy kernels."""

import importlib
import math

import numpy as np
import pytest

from synthgain.mixture import GaussianMixture, MixtureStack, _fast, _kernels

pytestmark = pytest.mark.skipif(not _fast.ENABLED, reason="numba not installed or disabled")


def _random_stack(rng, b, k, d, *, min_eig=0.05, weights=None):
    means = rng.uniform(0, 10, (b, k, d))
    a = rng.uniform(size=(b, k, d, d))
    cov = a @ np.swapaxes(a, -1, -2) + min_eig * np.eye(d)
    w = rng.dirichlet(np.ones(k), size=b) if weights is None else np.broadcast_to(weights, (b, k))
    _, prec, logdet = _kernels.cholesky_factors(cov)
    with np.errstate(divide="ignore"):
        log_w = np.log(w)
    return log_w, means, prec, logdet


def _close(a, b):
    return np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))


@pytest.mark.parametrize("d", [1, 2, 3, 5])
@pytest.mark.parametrize("k", [1, 4, 17])
def test_matches_numpy_difference_form(d, k):
    rng = np.random.default_rng(10 * d + k)
    log_w, means, prec, logdet = _random_stack(rng, 3, k, d)
    # points near and far from the components (far: terms hundreds of nats apart)
    x = np.concatenate([rng.uniform(-2, 12, (3, 500, d)), rng.uniform(-40, 50, (3, 300, d))],
                       axis=1)
    ref, _ = _kernels.mixture_logpdf(x, log_w, means, prec, logdet)
    out = _fast.mixture_logpdf(x, log_w, means, prec, logdet)
    assert out.shape == (3, 800)
    assert _close(out, ref) < 1e-12


def test_matches_gaussian_mixture_logpdf_nearly_singular():
    # covariances with eigenvalues down to 1e-6 (the process's A A^T + 1e-6 I)
    rng = np.random.default_rng(1)
    log_w, means, prec, logdet = _random_stack(rng, 2, 6, 2, min_eig=1e-6)
    gm = [GaussianMixture(np.exp(log_w[b]), means[b],
                          np.linalg.inv(prec[b] @ np.swapaxes(prec[b], -1, -2)),
                          normalize=True) for b in range(2)]
    x = np.stack([g.sample(2000, rng=b)[0] for b, g in enumerate(gm)])
    ref = np.stack([g.logpdf(x[b]) for b, g in enumerate(gm)])
    out = _fast.mixture_logpdf(x, log_w, means, prec, logdet)
    assert _close(out, ref) < 1e-9  # ref's own precision matrix inversion limits this


def test_exp_is_accurate_over_the_whole_range():
    # one component per t: log(sum_j w_j N_j) with all but one term far below -> exact t
    t = np.linspace(-45.0, 0.0, 4001)
    # two 1-d unit Gaussians at the same point: log p = log(w1 + w2) + log N(0 | 0, 1)
    log_w = np.stack([np.zeros_like(t), t], axis=1)  # (B, 2), unnormalised
    means = np.zeros((t.size, 2, 1))
    prec = np.ones((t.size, 2, 1, 1))
    logdet = np.zeros((t.size, 2))
    out = _fast.mixture_logpdf(np.zeros((t.size, 1, 1)), log_w, means, prec, logdet)[:, 0]
    exact = np.log1p(np.exp(t)) - 0.5 * math.log(2 * math.pi)
    assert np.max(np.abs(out - exact)) < 2 * np.finfo(float).eps
    # clamped terms (t < -40) change the result by less than exp(-40)
    assert np.all(np.abs(out[t < -40] - exact[t < -40]) <= math.exp(-40))


def test_zero_weight_component_is_ignored():
    rng = np.random.default_rng(3)
    log_w, means, prec, logdet = _random_stack(rng, 1, 3, 2, weights=np.array([0.5, 0.0, 0.5]))
    x = rng.uniform(0, 10, (1, 300, 2))
    keep = [0, 2]
    ref, _ = _kernels.mixture_logpdf(x, log_w[:, keep], means[:, keep], prec[:, keep],
                                     logdet[:, keep])
    out = _fast.mixture_logpdf(x, log_w, means, prec, logdet)
    assert np.all(np.isfinite(out))
    assert _close(out, ref) < 1e-12


def test_block_boundaries_and_non_contiguous_input():
    rng = np.random.default_rng(4)
    log_w, means, prec, logdet = _random_stack(rng, 2, 5, 2)
    x = rng.uniform(0, 10, (2, 2 * 257 + 3, 4))[..., ::2]  # strided view, N not a block multiple
    ref, _ = _kernels.mixture_logpdf(np.ascontiguousarray(x), log_w, means, prec, logdet)
    out = _fast.mixture_logpdf(x, log_w, means, prec, logdet)
    assert _close(out, ref) < 1e-12


def test_disabled_by_environment(monkeypatch):
    monkeypatch.setenv("SYNTHGAIN_DISABLE_NUMBA", "1")
    mod = importlib.reload(_fast)
    try:
        assert mod.ENABLED is False
    finally:
        monkeypatch.delenv("SYNTHGAIN_DISABLE_NUMBA")
        importlib.reload(_fast)
    assert _fast.ENABLED is True


def _draw_numpy(monkeypatch, gen, gm, n, group):
    with monkeypatch.context() as mp:
        mp.setattr(_fast, "ENABLED", False)
        return MixtureStack.from_mixtures([gm]).draw(0, gen, n, group=group)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_draw_mixture_equals_the_numpy_draw_bit_for_bit(monkeypatch, d):
    """Per round: Generator.multinomial counts, then Generator.standard_normal; the compiled
    draw gives the same points from the same stream (bit for bit in d <= 2), and leaves the
    stream where NumPy does."""
    rng = np.random.default_rng(d)
    for k in (1, 2, 7, 19):
        w = rng.dirichlet(np.ones(k) * 0.5)
        a = rng.uniform(size=(k, d, d))
        gm = GaussianMixture(w, rng.uniform(0, 10, (k, d)), a @ np.swapaxes(a, 1, 2) + 0.1 * np.eye(d))
        g1, g2 = np.random.default_rng(11 + k), np.random.default_rng(11 + k)
        want = _draw_numpy(monkeypatch, g1, gm, 2500, 1000)  # last round shorter
        got = MixtureStack.from_mixtures([gm]).draw(0, g2, 2500, group=1000)
        if d <= 2:  # the product L z has at most two terms: the same sums
            np.testing.assert_array_equal(got, want)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-14)
        assert g1.random() == g2.random()  # the streams stay aligned


def test_draw_rounds_have_multinomial_counts_and_component_moments():
    """Counts per round ~ Multinomial(n, w); each component's points ~ N(mu_j, Sigma_j);
    a round's points in component order. Components 100 apart, so labels are exact;
    z-scores of counts, means and covariance entries < 4 (fixed seed)."""
    w = np.array([0.1, 0.3, 0.6])
    means = np.array([[0.0, 0.0], [100.0, 1.0], [200.0, 4.0]])
    covs = np.stack([np.eye(2), [[2.0, 0.5], [0.5, 1.0]], 0.5 * np.eye(2)])
    gm = GaussianMixture(w, means, covs)
    rounds, n = 400, 250
    x = MixtureStack.from_mixtures([gm]).draw(0, np.random.default_rng(5), rounds * n,
                                              group=n).reshape(rounds, n, 2)
    labels = np.rint(x[..., 0] / 100.0).astype(int)
    assert np.all(np.diff(labels, axis=1) >= 0)  # component order within each round
    counts = np.stack([(labels == j).sum(1) for j in range(3)], axis=1)
    assert np.all(counts.sum(1) == n)
    sd = np.sqrt(n * w * (1 - w) / rounds)  # standard error of the mean count
    assert np.all(np.abs(counts.mean(0) - n * w) / sd < 4)
    var_ratio = counts.var(0, ddof=1) / (n * w * (1 - w))  # multinomial variance
    assert np.all(np.abs(var_ratio - 1) < 4 * np.sqrt(2 / (rounds - 1)))
    for j in range(3):
        pts = x[labels == j]
        se = np.sqrt(np.diag(covs[j]) / len(pts))
        assert np.all(np.abs(pts.mean(0) - means[j]) / se < 4)
        c = pts - means[j]
        prod = c[:, [0, 0, 1]] * c[:, [0, 1, 1]]
        z = (prod.mean(0) - covs[j][[0, 0, 1], [0, 1, 1]]) / (prod.std(0) / np.sqrt(len(pts)))
        assert np.all(np.abs(z) < 4)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_log_ratio_is_the_difference_of_log_densities(d):
    rng = np.random.default_rng(20 + d)
    p = _random_stack(rng, 3, 4, d)
    q = _random_stack(rng, 3, 11, d, weights=np.r_[np.zeros(1), np.full(10, 0.1)])
    x = np.concatenate([rng.uniform(-2, 12, (3, 500, d)), rng.uniform(-40, 50, (3, 140, d))],
                       axis=1)
    out = _fast.mixture_log_ratio(x, p, q)
    ref = _kernels.mixture_logpdf(x, *p)[0] - _kernels.mixture_logpdf(x, *q)[0]
    assert out.shape == (3, 640)
    assert _close(out, ref) < 1e-12
