"""GaussianMixture: densities against scipy, sampling moments, validation, sklearn interop."""

import numpy as np
import pytest
from scipy import stats
from sklearn.mixture import GaussianMixture as SkGM

from synthgain.exceptions import ValidationError
from synthgain.mixture import GaussianMixture


def random_mixture(k: int, d: int, seed: int) -> GaussianMixture:
    rng = np.random.default_rng(seed)
    w = rng.dirichlet(np.ones(k))
    means = rng.uniform(-5, 5, size=(k, d))
    a = rng.normal(size=(k, d, d))
    covs = a @ np.swapaxes(a, 1, 2) + 0.1 * np.eye(d)
    return GaussianMixture(w, means, covs)


@pytest.mark.parametrize(("k", "d"), [(1, 1), (3, 1), (1, 2), (3, 2), (4, 5), (2, 10)])
def test_logpdf_matches_scipy(k, d):
    gm = random_mixture(k, d, seed=10 * k + d)
    x = np.random.default_rng(1).normal(scale=4, size=(50, d))
    ref = sum(
        w * stats.multivariate_normal(m, c).pdf(x)
        for w, m, c in zip(gm.weights, gm.means, gm.covariances, strict=True)
    )
    np.testing.assert_allclose(gm.pdf(x), ref, rtol=1e-10)
    np.testing.assert_allclose(gm.logpdf(x), np.log(ref), rtol=1e-10)


def test_logpdf_finite_far_away():
    gm = random_mixture(3, 2, seed=0)
    # 50 standard deviations from every component along the largest-variance axis
    sd = np.sqrt(np.max(np.linalg.eigvalsh(gm.covariances)))
    x = gm.means + 50 * sd
    lp = gm.logpdf(x)
    assert np.all(np.isfinite(lp))
    assert np.all(lp < -1000 / (2 * sd**2))  # far below any density near the modes


def test_single_point_and_1d_input():
    gm1 = GaussianMixture([1.0], [[0.0]], [[[2.0]]])
    np.testing.assert_allclose(gm1.logpdf([0.0, 1.0]), stats.norm(0, np.sqrt(2)).logpdf([0, 1]))
    gm2 = random_mixture(2, 3, seed=1)
    assert gm2.logpdf(np.zeros(3)).shape == (1,)


def test_sample_moments_match():
    gm = random_mixture(3, 2, seed=3)
    n = 40_000
    x, labels = gm.sample(n, rng=123)
    assert x.shape == (n, 2) and labels.shape == (n,)
    # component frequencies: binomial z-scores
    freq = np.bincount(labels, minlength=3) / n
    z = (freq - gm.weights) / np.sqrt(gm.weights * (1 - gm.weights) / n)
    assert np.all(np.abs(z) < 4)
    # mean: z-score with the mixture's own variance
    mu, cov = gm.mean(), gm.covariance()
    z = (x.mean(0) - mu) / np.sqrt(np.diag(cov) / n)
    assert np.all(np.abs(z) < 4)
    # covariance entries: standard error of the mean of centred products
    c = x - mu
    prods = c[:, :, None] * c[:, None, :]
    se = prods.std(axis=0) / np.sqrt(n)
    z = (prods.mean(axis=0) - cov) / se
    assert np.all(np.abs(z) < 4)
    # each component's points have that component's mean
    for j in range(3):
        xj = x[labels == j]
        zj = (xj.mean(0) - gm.means[j]) / np.sqrt(np.diag(gm.covariances[j]) / len(xj))
        assert np.all(np.abs(zj) < 4)


def test_sample_reproducible_from_seed():
    gm = random_mixture(3, 2, seed=3)
    a, la = gm.sample(100, rng=5)
    b, lb = gm.sample(100, rng=np.random.SeedSequence(5))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    c, _ = gm.sample(100, rng=6)
    assert not np.array_equal(a, c)


def test_subset_renormalises():
    gm = GaussianMixture([0.2, 0.3, 0.5], np.arange(6.0).reshape(3, 2), np.tile(np.eye(2), (3, 1, 1)))
    sub = gm.subset([0, 2])
    np.testing.assert_allclose(sub.weights, [0.2 / 0.7, 0.5 / 0.7])
    np.testing.assert_array_equal(sub.means, gm.means[[0, 2]])
    with pytest.raises(ValidationError, match=r"indices in \[0, 3\)"):
        gm.subset([5])
    with pytest.raises(ValidationError, match="non-empty"):
        gm.subset([])


def test_sklearn_round_trip_scores():
    gm = random_mixture(4, 3, seed=7)
    sk = gm.to_sklearn()
    x = np.random.default_rng(0).normal(size=(30, 3))
    np.testing.assert_allclose(sk.score_samples(x), gm.logpdf(x), rtol=1e-12)
    back = GaussianMixture.from_sklearn(sk)
    np.testing.assert_allclose(back.covariances, gm.covariances)
    np.testing.assert_allclose(back.logpdf(x), gm.logpdf(x), rtol=1e-12)


@pytest.mark.parametrize("kind", ["full", "diag", "spherical", "tied"])
def test_from_fitted_sklearn(kind):
    x = np.random.default_rng(0).normal(size=(200, 2))
    sk = SkGM(2, covariance_type=kind, random_state=0).fit(x)
    gm = GaussianMixture.from_sklearn(sk)
    np.testing.assert_allclose(gm.logpdf(x), sk.score_samples(x), rtol=1e-8)


def test_from_sklearn_unfitted():
    with pytest.raises(ValidationError, match="Call its fit"):
        GaussianMixture.from_sklearn(SkGM(2))


def test_arrays_are_read_only():
    gm = random_mixture(2, 2, seed=0)
    with pytest.raises(ValueError, match="read-only"):
        gm.means[0, 0] = 1.0


EYE2 = np.eye(2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(weights=[0.5, 0.6], means=[[0, 0], [1, 1]], covariances=[EYE2, EYE2]), "sum to 1"),
        (dict(weights=[-0.5, 1.5], means=[[0, 0], [1, 1]], covariances=[EYE2, EYE2]), r"weights\[0\] = -0.5"),
        (dict(weights=[1.0], means=[[0, 0], [1, 1]], covariances=[EYE2, EYE2]), "one entry per component"),
        (dict(weights=[1.0], means=[[np.nan, 0]], covariances=[EYE2]), "finite"),
        (dict(weights=[1.0], means=[[np.inf, 0]], covariances=[EYE2]), "finite"),
        (dict(weights=[1.0], means=[0.0, 0.0], covariances=[EYE2]), "2-D array"),
        (dict(weights=[1.0], means=[[0, 0]], covariances=[np.eye(3)]), r"shape \(n_components, dim, dim\)"),
        (dict(weights=[1.0], means=[[0, 0]], covariances=[[[1, 2], [0, 1]]]), r"covariances\[0\]` must be symmetric"),
        (
            dict(weights=[0.5, 0.5], means=[[0, 0], [1, 1]], covariances=[EYE2, [[1, 2], [2, 1]]]),
            r"covariances\[1\]` must be positive definite. Its smallest eigenvalue is -1",
        ),
        (dict(weights=[1.0], means=[["a", 0]], covariances=[EYE2]), "array of numbers"),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        GaussianMixture(**kwargs)


def test_normalize_option():
    gm = GaussianMixture([1.0, 3.0], [[0.0], [1.0]], [[[1.0]], [[1.0]]], normalize=True)
    np.testing.assert_allclose(gm.weights, [0.25, 0.75])


def test_bad_points():
    gm = random_mixture(2, 3, seed=0)
    with pytest.raises(ValidationError, match="must have 3 columns"):
        gm.logpdf(np.zeros((4, 2)))
    with pytest.raises(ValidationError, match="finite"):
        gm.logpdf([[np.nan, 0, 0]])
    with pytest.raises(ValidationError, match=r"`n` must be an int in \[0, inf\)"):
        gm.sample(-1)
    with pytest.raises(ValidationError, match="`rng` must be None"):
        gm.sample(3, rng="seed")


def test_sample_components_draws_the_given_components():
    gm = GaussianMixture([0.5, 0.5], [[0.0, 0.0], [100.0, 0.0]], [np.eye(2), np.eye(2)])
    labels = np.repeat([0, 1, 0], [300, 200, 100])
    x = gm.sample_components(labels, rng=3)
    np.testing.assert_array_equal(np.rint(x[:, 0] / 100.0), labels)
    np.testing.assert_array_equal(x, gm.sample_components(labels, rng=np.random.SeedSequence(3)))
    with pytest.raises(ValidationError, match=r"component indices in \[0, 2\)"):
        gm.sample_components([0, 2], rng=0)
