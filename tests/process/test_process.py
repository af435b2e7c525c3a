"""The generation process matches its definition (Gan & Liu 2025, Appendix B)."""

import warnings

import numpy as np
import pytest

from synthgain.exceptions import ValidationError
from synthgain.process import (
    ANCHOR,
    GENERATOR_RIDGE,
    IRRELEVANT,
    UNSAMPLED,
    Setup,
    random_covariances,
    reestimate_components,
    simulate,
)


@pytest.mark.parametrize("covariance", ["random_spd", "seed_effective", "isotropic"])
def test_components_groups_and_counts(covariance):
    s = Setup(K=3, J=4, L=2, d=2, n_anchor_per_component=20, n_synthetic=90,
              covariance=covariance)
    sim = simulate(s, rng=1)
    assert sim.ground_truth.n_components == 7
    assert sim.generator.n_components == 9
    np.testing.assert_allclose(sim.ground_truth.weights, 1 / 7)
    np.testing.assert_allclose(sim.generator.weights, 1 / 9)
    assert sim.anchors.shape == (60, 2)
    np.testing.assert_array_equal(np.bincount(sim.anchor_labels), [20, 20, 20])
    assert sim.synthetic.shape == (90, 2)
    np.testing.assert_array_equal(sim.generator_groups, [0, 0, 0, 1, 1, 1, 1, 2, 2])
    np.testing.assert_array_equal(sim.ground_truth_groups, [0, 0, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal(sim.synthetic_groups, sim.generator_groups[sim.synthetic_labels])
    assert {ANCHOR, UNSAMPLED, IRRELEVANT} >= set(sim.synthetic_groups.tolist())


def test_generator_anchor_part_is_reestimated_and_unsampled_part_copied():
    s = Setup(K=3, J=2, L=1, d=3)
    sim = simulate(s, rng=7)
    for k in range(3):
        pts = sim.anchors[sim.anchor_labels == k]
        np.testing.assert_allclose(sim.generator.means[k], pts.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(
            sim.generator.covariances[k],
            np.cov(pts, rowvar=False) + GENERATOR_RIDGE * np.eye(3), rtol=1e-10, atol=1e-14,
        )
    np.testing.assert_array_equal(sim.generator.means[3:5], sim.ground_truth.means[3:5])
    np.testing.assert_array_equal(sim.generator.covariances[3:5], sim.ground_truth.covariances[3:5])


def test_anchors_come_from_the_anchor_components():
    # many anchors: per-component sample means within 5 standard errors of G's means
    s = Setup(K=2, J=1, L=1, n_anchor_per_component=4000)
    sim = simulate(s, rng=3)
    for k in range(2):
        pts = sim.anchors[sim.anchor_labels == k]
        se = np.sqrt(np.diag(sim.ground_truth.covariances[k]) / pts.shape[0])
        assert np.all(np.abs(pts.mean(axis=0) - sim.ground_truth.means[k]) < 5 * se)


def test_means_range_and_gap():
    s = Setup(K=2, J=3, L=4, d=2, mean_low=-1.0, mean_high=1.0, gap=100.0)
    sim = simulate(s, rng=0)
    offsets = 100.0 * np.arange(5)[:, None]
    g = sim.ground_truth.means - offsets
    assert np.all((g >= -1) & (g <= 1))
    irr = sim.generator.means[5:]
    assert np.all((irr >= -1) & (irr <= 1))


def test_curation_noise_is_added_to_generator_output():
    s = Setup(K=1, J=0, L=0, d=2, n_synthetic=20000, covariance="isotropic",
              covariance_scale=1.0)
    clean = simulate(s, rng=5)
    noisy = simulate(s.replace(noise=2.0), rng=5)
    # same draws up to the noise: the difference is N(0, 4 I)
    diff = noisy.synthetic - clean.synthetic
    assert abs(diff.var(axis=0).mean() - 4.0) < 5 * 4.0 * np.sqrt(2 / diff.size)
    np.testing.assert_array_equal(noisy.synthetic_labels, clean.synthetic_labels)


def test_seed_reproduces_and_setup_seed_is_default():
    s = Setup(seed=11)
    a, b = simulate(s), simulate(s, rng=11)
    np.testing.assert_array_equal(a.synthetic, b.synthetic)
    np.testing.assert_array_equal(a.anchors, b.anchors)
    c = simulate(s, rng=12)
    assert not np.array_equal(a.anchors, c.anchors)


def test_rng_int_equals_its_seed_sequence():
    s = Setup(K=2, J=1, L=1)
    a, b = simulate(s, rng=3), simulate(s, rng=np.random.SeedSequence(3))
    np.testing.assert_array_equal(a.synthetic, b.synthetic)
    np.testing.assert_array_equal(a.generator.covariances, b.generator.covariances)
    for model in ("random_spd", "seed_effective"):
        np.testing.assert_array_equal(
            random_covariances(4, 2, model=model, rng=5),
            random_covariances(4, 2, model=model, rng=np.random.SeedSequence(5)),
        )


def test_reestimate_components_batched_equals_one_by_one():
    # the theory's replicated prompts use the batched form: bit for bit the same as simulate
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 20)
    anchors = rng.normal(size=(4, 60, 2))
    means, covs = reestimate_components(anchors, labels, 3)
    assert means.shape == (4, 3, 2) and covs.shape == (4, 3, 2, 2)
    for b in range(4):
        m1, c1 = reestimate_components(anchors[b], labels, 3)
        np.testing.assert_array_equal(means[b], m1)
        np.testing.assert_array_equal(covs[b], c1)
    np.testing.assert_allclose(
        covs[2, 1], np.cov(anchors[2, 20:40], rowvar=False) + GENERATOR_RIDGE * np.eye(2),
        rtol=1e-12,
    )
    sim = simulate(Setup(K=3, J=1, L=1), rng=2)
    m, c = reestimate_components(sim.anchors, sim.anchor_labels, 3)
    np.testing.assert_array_equal(m, sim.generator.means[:3])
    np.testing.assert_array_equal(c, sim.generator.covariances[:3])


def test_random_spd_covariances_are_spd_and_symmetric():
    c = random_covariances(500, 3, model="random_spd", ridge=1e-6, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(c, np.swapaxes(c, 1, 2))
    assert np.all(np.linalg.eigvalsh(c) > 0)


def test_seed_effective_is_what_numpy_samples_from():
    """Legacy ``multivariate_normal(0, A B^T)`` (the authors' ``np.random`` and scikit-learn's
    ``GaussianMixture.sample``) draws with covariance ``sqrtm((A B^T)^T (A B^T))``."""
    rng = np.random.default_rng(4)
    cov = random_covariances(1, 2, model="seed_effective", ridge=0.0, rng=rng)[0]
    rng = np.random.default_rng(4)
    a, b = rng.random((2, 2)), rng.random((2, 2))
    c = a @ b.T
    assert not np.allclose(c, c.T)  # the authors' matrix is not a covariance
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "not symmetric positive-semidefinite"
        x = np.random.RandomState(9).multivariate_normal(np.zeros(2), c, size=200_000)
    emp = np.cov(x, rowvar=False)
    se = np.sqrt((cov[0, 0] * cov[1, 1] + cov**2) / x.shape[0])  # sd of a sample covariance
    assert np.all(np.abs(emp - cov) < 5 * se)


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"K": 0}, r"`K` must be an int in \[1, inf\)\. Got 0 instead"),
        ({"d": 0}, r"`d` must be an int in \[1, inf\)\. Got 0 instead"),
        ({"noise": -0.5}, r"`noise` must be a finite real number in \[0, inf\)\. Got -0.5"),
        ({"n_synthetic": 5}, r"`n_synthetic` must be at least the synthetic fit's component "
                             r"count \(K\+J\+L = 6\)\. Got 5 instead; raise n_synthetic"),
        ({"covariance": "wishart"}, r"`covariance` must be one of 'random_spd', "
                                    r"'seed_effective', 'isotropic'\. Got 'wishart'"),
        ({"J": -1}, r"`J` must be an int in \[0, inf\)"),
        ({"K": 2.5}, r"`K` must be an int .* Got 2.5 of type float"),
        ({"n_anchor_per_component": 1}, r"`n_anchor_per_component` must be an int in \[2, inf\)"),
        ({"anchor_fit_components": "K+L"}, r"`anchor_fit_components` must be one of"),
        ({"mean_low": 5.0, "mean_high": 1.0}, r"`mean_low` must be below `mean_high`"),
        ({"anchor_fit_components": "K+J+L", "K": 1, "J": 5, "L": 0,
          "n_anchor_per_component": 3}, r"asks for 6 components but there are only 3 anchor"),
        ({"covariance_scale": 0.0}, r"`covariance_scale` must be a finite real number in \(0"),
        ({"seed": -1}, r"`seed` must be an int in \[0, inf\)"),
    ],
)
def test_bad_setups_raise_clear_errors(fields, match):
    with pytest.raises(ValidationError, match=match):
        Setup(**fields)


def test_setup_roundtrip_and_replace_validates():
    s = Setup(K=3, covariance="isotropic", covariance_scale=0.5)
    assert Setup(**s.to_dict()) == s
    assert s.replace(J=7).J == 7
    with pytest.raises(ValidationError, match="`L` must be an int"):
        s.replace(L=-2)
    assert s.k_anchor_fit == 3 and s.k_synthetic_fit == 7 and s.n_anchor == 150
    assert "covariance" in Setup.field_names()


def test_simulate_rejects_non_setup():
    with pytest.raises(ValidationError, match=r"`setup` must be a synthgain\.process\.Setup"):
        simulate({"K": 2})  # type: ignore[arg-type]
