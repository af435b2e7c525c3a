"""EM fitting: agreement with scikit-learn, batched = one at a time, seeds, degenerate data."""

import warnings

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture as SkGM

from synthgain._rng import child_seed
from synthgain.exceptions import ConvergenceWarning, DegenerateDataWarning, ValidationError
from synthgain.mixture import fit_gmm, fit_gmm_batched, n_parameters, select_gmm


def clustered_data(k: int, d: int, n: int, seed: int) -> np.ndarray:
    """n points from k well-separated Gaussian clusters in d dimensions."""
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-1, 1, size=(k, d)) * 10 * np.sqrt(d)
    a = rng.normal(size=(k, d, d)) / np.sqrt(d)
    covs = a @ np.swapaxes(a, 1, 2) + 0.2 * np.eye(d)
    labels = rng.integers(0, k, size=n)
    z = rng.normal(size=(n, d))
    return centers[labels] + np.einsum("nij,nj->ni", np.linalg.cholesky(covs)[labels], z)


CASES = [(d, k) for d in (1, 2, 5, 20) for k in (1, 3, 8)]


@pytest.mark.parametrize(("d", "k"), CASES)
def test_loglik_matches_sklearn(d, k):
    """Within 1e-3 of scikit-learn's mean log-likelihood with the same n_init, or better."""
    n = 60 * k + 10 * d
    x = clustered_data(k, d, n, seed=100 * d + k)
    ours = fit_gmm(x, k, rng=0, n_init=3)
    sk = SkGM(k, n_init=3, random_state=0).fit(x)
    assert ours.converged
    assert ours.log_likelihood >= sk.score(x) - 1e-3
    np.testing.assert_allclose(ours.mixture.logpdf(x).mean(), ours.log_likelihood, rtol=1e-12)


def test_batched_equals_one_at_a_time():
    x = np.stack([clustered_data(3, 2, 150, seed=s) for s in range(6)])
    batch = fit_gmm_batched(x, 3, rng=11, n_init=2)
    children = np.random.SeedSequence(11).spawn(6)
    for b in range(6):
        one = fit_gmm(x[b], 3, rng=children[b], n_init=2)
        assert one.n_iter == batch.n_iter[b]
        assert one.converged == batch.converged[b]
        np.testing.assert_allclose(one.mixture.means, batch.means[b], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(one.mixture.covariances, batch.covariances[b], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(one.log_likelihood, batch.log_likelihood[b], rtol=1e-12)
    assert len(batch.mixtures) == 6


@pytest.mark.parametrize("d", [2, 20])
def test_same_seed_identical(d):
    x = np.stack([clustered_data(3, d, 200, seed=s) for s in range(3)])
    a = fit_gmm_batched(x, 3, rng=5)
    b = fit_gmm_batched(x, 3, rng=np.random.SeedSequence(5))
    for field in ("weights", "means", "covariances", "n_iter", "log_likelihood"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


@pytest.mark.parametrize("init", ["kmeans", "k-means++", "random", "random_from_data"])
def test_inits_fit_well(init):
    x = clustered_data(3, 2, 300, seed=1)
    ref = SkGM(3, n_init=5, random_state=0).fit(x).score(x)
    fit = fit_gmm(x, 3, rng=0, init=init, n_init=5, max_iter=500)
    assert fit.log_likelihood >= ref - 1e-2


def test_translation_equivariant():
    x = clustered_data(3, 2, 300, seed=2)
    a = fit_gmm(x, 3, rng=0)
    b = fit_gmm(x + 1e6, 3, rng=0)
    np.testing.assert_allclose(b.mixture.means - 1e6, a.mixture.means, atol=1e-6)
    np.testing.assert_allclose(b.mixture.covariances, a.mixture.covariances, rtol=1e-6, atol=1e-9)


def test_duplicate_points_warn_and_stay_finite():
    x = np.vstack([np.zeros((20, 2)), np.ones((20, 2)), [[5.0, 5.0]]])
    with pytest.warns(DegenerateDataWarning, match="fewer than 1.5 effective points"):
        fit = fit_gmm(x, 4, rng=0)
    m = fit.mixture
    assert np.all(np.isfinite(m.means)) and np.all(np.isfinite(m.covariances))
    assert np.isfinite(fit.log_likelihood)
    assert np.all(np.isfinite(m.logpdf(x)))


def test_all_points_identical():
    x = np.full((10, 3), 2.5)
    with pytest.warns(DegenerateDataWarning):
        fit = fit_gmm(x, 2, rng=0)
    assert np.all(np.isfinite(fit.mixture.covariances))
    assert np.isfinite(fit.log_likelihood)


def test_convergence_warning():
    x = clustered_data(3, 2, 300, seed=3)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        fit = fit_gmm(x, 3, rng=0, max_iter=1)
    assert not fit.converged and fit.n_iter == 1


def test_no_warnings_on_good_data():
    x = clustered_data(3, 2, 300, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_gmm(x, 3, rng=0)


@pytest.mark.parametrize(
    ("x", "kwargs", "match"),
    [
        (np.zeros((5, 2)), dict(n_components=6), r"at most the number of points \(5\). Got 6"),
        (np.zeros((5, 2)), dict(n_components=0), r"`n_components` must be an int in \[1, inf\). Got 0"),
        (np.zeros((5, 2)), dict(n_components=1.5), "must be an int"),
        ([[0.0, np.nan]] * 5, dict(n_components=1), "finite"),
        ([[0.0, np.inf]] * 5, dict(n_components=1), "finite"),
        (np.zeros(5), dict(n_components=1), r"2-D array.*reshape\(-1, 1\)"),
        (np.zeros((5, 2)), dict(n_components=1, tol=-1.0), "`tol`"),
        (np.zeros((5, 2)), dict(n_components=1, reg_covar=-1.0), "`reg_covar`"),
        (np.zeros((5, 2)), dict(n_components=1, n_init=0), "`n_init`"),
        (np.zeros((5, 2)), dict(n_components=1, init="kmeans+++"), "`init` must be one of"),
    ],
)
def test_bad_input(x, kwargs, match):
    with pytest.raises(ValidationError, match=match):
        fit_gmm(x, **kwargs)


def test_batched_bad_shape():
    with pytest.raises(ValidationError, match="3-D array"):
        fit_gmm_batched(np.zeros((5, 2)), 1)


def test_zero_reg_singular_error():
    x = np.vstack([np.zeros((10, 2)), np.ones((10, 2))])
    with pytest.raises(ValidationError, match="larger reg_covar"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit_gmm(x, 2, rng=0, reg_covar=0.0)


def test_batched_with_per_dataset_seeds():
    """A sequence of seeds makes each fit independent of its position in the batch."""
    x = np.stack([clustered_data(3, 2, 150, seed=s) for s in range(4)])
    seeds = [np.random.SeedSequence(100 + b) for b in range(4)]
    batch = fit_gmm_batched(x, 3, rng=seeds)
    reordered = fit_gmm_batched(x[::-1], 3, rng=seeds[::-1])
    for b in range(4):
        one = fit_gmm(x[b], 3, rng=seeds[b])
        np.testing.assert_allclose(batch.means[b], one.mixture.means, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(reordered.means[3 - b], one.mixture.means, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValidationError, match=r"one seed per dataset \(4\)"):
        fit_gmm_batched(x, 3, rng=[1, 2])
    with pytest.raises(ValidationError, match=r"`rng\[1\]` must be None"):
        fit_gmm_batched(x[:2], 3, rng=[1, "x"])


def test_fit_gmm_int_seed_equals_its_seed_sequence():
    x = clustered_data(3, 2, 150, seed=4)
    a, b = fit_gmm(x, 3, rng=7), fit_gmm(x, 3, rng=np.random.SeedSequence(7))
    np.testing.assert_array_equal(a.mixture.means, b.mixture.means)
    assert a.log_likelihood == b.log_likelihood


# --- tied covariances and the BIC choice ---------------------------------------------


@pytest.mark.parametrize("d", [2, 20])
def test_tied_covariance_matches_sklearn(d):
    """covariance_type="tied": one covariance for all components, EM as scikit-learn's
    (same log-likelihood within 1e-3 from the same kind of start, or better)."""
    x = clustered_data(3, d, 400, 5)
    fit = fit_gmm(x, 3, rng=0, n_init=3, covariance_type="tied")
    cov = fit.mixture.covariances
    assert np.allclose(cov, cov[0])  # shared
    sk = SkGM(3, covariance_type="tied", n_init=3, random_state=0, reg_covar=1e-6).fit(x)
    assert fit.log_likelihood >= sk.score(x) - 1e-3
    # the shared covariance is the pooled within-component covariance of the final fit
    resp = fit.mixture.predict_proba(x)
    pooled = sum(((resp[:, j, None] * (x - fit.mixture.means[j])).T
                  @ (x - fit.mixture.means[j])) for j in range(3)) / x.shape[0]
    assert np.allclose(cov[0], pooled + 1e-6 * np.eye(d), atol=1e-5)


def test_tied_batched_equals_one_at_a_time():
    xs = np.stack([clustered_data(2, 3, 120, s) for s in (1, 2)])
    seeds = [np.random.SeedSequence(s) for s in (7, 8)]
    batch = fit_gmm_batched(xs, 2, rng=seeds, covariance_type="tied")
    for b in range(2):
        one = fit_gmm(xs[b], 2, rng=seeds[b], covariance_type="tied")
        assert np.allclose(batch[b].mixture.covariances, one.mixture.covariances)


def test_n_parameters():
    # 3 components in 4-d: means 12, covariances 3 x 10 (full) or 10 (tied), weights 2
    assert n_parameters(3, 4) == 12 + 30 + 2
    assert n_parameters(3, 4, "tied") == 12 + 10 + 2
    assert n_parameters(1, 4) == n_parameters(1, 4, "tied") == 14
    with pytest.raises(ValidationError, match="covariance_type"):
        n_parameters(2, 4, "diag")


def test_select_gmm_chooses_the_number_of_components_by_bic():
    g = np.random.default_rng(0)
    assert select_gmm(g.normal(size=(400, 4)), 4, rng=0).mixture.n_components == 1
    x = clustered_data(3, 4, 600, 3)  # clusters of different covariances
    for types in (("full",), ("tied", "full")):
        fit = select_gmm(x, 6, rng=0, covariance_types=types)
        assert fit.mixture.n_components == 3, types
    # the choice is the lowest BIC over every candidate fitted with its own seed
    best = min((-2 * 600 * fit_gmm(x, k, rng=child_seed(0, k, "full")).log_likelihood
                + n_parameters(k, 4) * np.log(600), k) for k in range(1, 5))
    assert select_gmm(x, 4, rng=0).mixture.n_components == best[1]


def test_select_gmm_tied_where_the_components_share_a_shape():
    # two classes of one covariance in 8-d, 150 rows: per-component covariances cost more
    # parameters than the data pay for, one shared covariance does not
    g = np.random.default_rng(1)
    z = g.integers(0, 2, 150)
    x = g.normal(size=(150, 8)) + 5.0 * z[:, None] * np.eye(8)[0]
    assert select_gmm(x, 4, rng=0).mixture.n_components == 1
    tied = select_gmm(x, 4, rng=0, covariance_types=("tied", "full")).mixture
    assert tied.n_components == 2 and np.allclose(tied.covariances, tied.covariances[0])


def test_select_gmm_patience_stops_where_components_stop_helping(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # three clusters: with patience 2 the search tries 1 ... 5 components (4 and 5 do not
    # lower the BIC) and stops, with the same choice as the full search up to 12
    import synthgain.mixture._em as em

    x = clustered_data(3, 4, 600, 3)
    real, tried = em.fit_gmm, []

    def spy(x_: np.ndarray, k: int, **kw: object) -> object:
        tried.append(k)
        return real(x_, k, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(em, "fit_gmm", spy)
    fit = select_gmm(x, 12, rng=0, patience=2)
    assert fit.mixture.n_components == 3 and max(tried) == 5
    full = select_gmm(x, 12, rng=0).mixture
    assert full.n_components == 3 and np.allclose(full.means, fit.mixture.means)
    with pytest.raises(ValidationError, match="patience"):
        select_gmm(x, 4, patience=0)


def test_select_gmm_bad_input():
    x = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.raises(ValidationError, match="covariance_types"):
        select_gmm(x, 2, covariance_types=())
    with pytest.raises(ValidationError, match="covariance_types"):
        select_gmm(x, 2, covariance_types=("diagonal",))
    with pytest.raises(ValidationError, match="max_components"):
        select_gmm(x, 0)
    with pytest.raises(ValidationError, match="covariance_type"):
        fit_gmm(x, 2, covariance_type="spherical")
