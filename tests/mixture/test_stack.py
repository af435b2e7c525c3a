"""MixtureStack: the batched mixture log-density, log-ratio and draws."""

import numpy as np
import pytest
from scipy import stats

from synthgain.exceptions import ValidationError
from synthgain.mixture import GaussianMixture, MixtureStack, _fast, fit_gmm_batched

needs_numba = pytest.mark.skipif(not _fast.ENABLED, reason="numba not installed or disabled")
KERNELS = ["numpy", "exact", pytest.param("compiled", marks=needs_numba)]


def _mixtures(rng, b, k, d):
    out = []
    for _ in range(b):
        a = rng.normal(size=(k, d, d))
        out.append(GaussianMixture(rng.dirichlet(np.ones(k)), rng.uniform(-3, 3, (k, d)),
                                   a @ np.swapaxes(a, 1, 2) + 0.3 * np.eye(d)))
    return out


def _scipy_logpdf(m, x):
    dens = sum(w * stats.multivariate_normal(mu, c).pdf(x)
               for w, mu, c in zip(m.weights, m.means, m.covariances, strict=True))
    return np.log(dens)


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_logpdf_matches_scipy_mixture_sums(kernel, d):
    rng = np.random.default_rng(d)
    mixes = _mixtures(rng, 3, 4, d)
    x = rng.normal(scale=2.0, size=(3, 300, d))
    got = MixtureStack.from_mixtures(mixes).logpdf(x, kernel=kernel)
    assert got.shape == (3, 300)
    for b, m in enumerate(mixes):
        np.testing.assert_allclose(got[b], _scipy_logpdf(m, x[b]).reshape(-1), rtol=1e-10,
                                   atol=1e-10)


@needs_numba
def test_compiled_and_numpy_kernels_agree():
    rng = np.random.default_rng(1)
    stack = MixtureStack.from_mixtures(_mixtures(rng, 4, 6, 3))
    x = rng.normal(scale=3.0, size=(4, 1000, 3))
    a, b = stack.logpdf(x, kernel="compiled"), stack.logpdf(x, kernel="numpy")
    assert np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))) < 1e-12
    np.testing.assert_array_equal(stack.logpdf(x), a)  # "auto" is the compiled kernel


@pytest.mark.parametrize("kernel", KERNELS)
def test_log_ratio_is_the_difference_of_log_densities(kernel):
    rng = np.random.default_rng(2)
    p = MixtureStack.from_mixtures(_mixtures(rng, 2, 3, 2))
    q = MixtureStack.from_mixtures(_mixtures(rng, 2, 7, 2))
    x = rng.normal(scale=2.0, size=(2, 500, 2))
    want = p.logpdf(x, kernel=kernel) - q.logpdf(x, kernel=kernel)
    got = p.log_ratio(x, q, kernel=kernel)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_the_mixture_class_density_is_the_stacks_exact_kernel():
    rng = np.random.default_rng(8)
    (m,) = _mixtures(rng, 1, 3, 2)
    x = rng.normal(size=(100, 2))
    np.testing.assert_array_equal(m.logpdf(x), m.as_stack().logpdf(x[None], kernel="exact")[0])
    assert m.as_stack() is m.as_stack() and len(m.as_stack()) == 1


def test_points_of_shape_n_d_are_evaluated_under_every_mixture():
    rng = np.random.default_rng(3)
    mixes = _mixtures(rng, 3, 2, 2)
    x = rng.normal(size=(50, 2))
    got = MixtureStack.from_mixtures(mixes).logpdf(x)
    for b, m in enumerate(mixes):
        np.testing.assert_allclose(got[b], m.logpdf(x), rtol=1e-12)


def test_from_fit_take_and_indexing_give_the_same_mixtures():
    x = np.random.default_rng(4).normal(size=(3, 60, 2))
    fit = fit_gmm_batched(x, 2, rng=0)
    stack = MixtureStack.from_fit(fit)
    same = MixtureStack.from_mixtures(fit.mixtures)
    pts = np.random.default_rng(5).normal(size=(3, 40, 2))
    np.testing.assert_array_equal(stack.logpdf(pts), same.logpdf(pts))
    np.testing.assert_array_equal(stack.take(slice(1, 3)).logpdf(pts[1:]), stack.logpdf(pts)[1:])
    np.testing.assert_array_equal(stack[1].means, fit.means[1])
    assert len(stack) == 3 and stack.n_components == 2 and stack.dim == 2


def test_sample_streams_per_mixture_and_int_equals_seed_sequence():
    rng = np.random.default_rng(6)
    mixes = _mixtures(rng, 3, 3, 2)
    stack = MixtureStack.from_mixtures(mixes)
    a = stack.sample(200, rng=7)
    np.testing.assert_array_equal(a, stack.sample(200, rng=np.random.SeedSequence(7)))
    # mixture b's points come from child b alone: a smaller stack gives the same first rows
    np.testing.assert_array_equal(MixtureStack.from_mixtures(mixes[:2]).sample(200, rng=7), a[:2])
    assert a.shape == (3, 200, 2) and not np.array_equal(a, stack.sample(200, rng=8))


def test_draws_have_the_mixture_moments():
    gm = GaussianMixture([0.25, 0.75], [[0.0, 0.0], [4.0, -2.0]],
                         [np.eye(2), [[2.0, 0.6], [0.6, 1.0]]])
    x = MixtureStack.from_mixtures([gm]).sample(40_000, rng=0, group=1000)[0]
    se = np.sqrt(np.diag(gm.covariance()) / len(x))
    assert np.all(np.abs(x.mean(0) - gm.mean()) / se < 4)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: MixtureStack(np.ones((2, 3)), np.zeros((2, 2, 1)), np.ones((2, 2, 1, 1))),
         r"`weights` and `covariances` must have shapes \(B, k\) = \(2, 2\)"),
        (lambda: MixtureStack(np.ones((1, 1)), np.zeros((1, 1, 1)), -np.ones((1, 1, 1, 1))),
         r"`covariances` must be positive definite"),
        (lambda: MixtureStack.from_mixtures([]), r"non-empty list of GaussianMixture"),
        (lambda: MixtureStack.from_mixtures(
            [GaussianMixture([1.0], [[0.0]], [[[1.0]]]),
             GaussianMixture([0.5, 0.5], [[0.0], [1.0]], [[[1.0]], [[1.0]]])]),
         r"must share one number of components"),
        (lambda: MixtureStack(np.ones((1, 1)), np.zeros((1, 1, 2)), np.eye(2)[None, None])
         .logpdf(np.zeros((2, 5, 2))), r"`x` must have shape \(B, n, d\) = \(1, n, 2\)"),
        (lambda: MixtureStack(np.ones((1, 1)), np.zeros((1, 1, 1)), np.ones((1, 1, 1, 1)))
         .logpdf(np.zeros((1, 5, 1)), kernel="fast"), r"`kernel` must be one of"),
    ],
)
def test_bad_inputs_raise_clear_errors(call, match):
    with pytest.raises(ValidationError, match=match):
        call()


def test_compiled_kernel_without_numba_is_an_error(monkeypatch):
    monkeypatch.setattr(_fast, "ENABLED", False)
    stack = MixtureStack(np.ones((1, 1)), np.zeros((1, 1, 1)), np.ones((1, 1, 1, 1)))
    with pytest.raises(ValidationError, match="kernel='compiled' needs numba"):
        stack.logpdf(np.zeros((1, 3, 1)), kernel="compiled")
    assert stack.logpdf(np.zeros((1, 3, 1))).shape == (1, 3)  # "auto" falls back to NumPy
