"""KL-gap estimators: Monte Carlo against closed forms and quadrature, histogram defects,
determinism of run_settings, input errors."""

import json

import numpy as np
import pytest
from scipy import stats

from synthgain.exceptions import ValidationError
from synthgain.experiments.klgap import (
    ESTIMATORS,
    fit_simulation,
    histogram_divergence,
    kl_gap,
    monte_carlo_divergence,
    per_sample_histogram_kl,
    run_settings,
)
from synthgain.mixture import GaussianMixture
from synthgain.process import Setup, simulate

P = GaussianMixture([0.3, 0.7], [[0.0, 0.0], [2.5, 1.0]],
                    [[[1.0, 0.3], [0.3, 0.8]], [[0.6, -0.2], [-0.2, 1.2]]])
Q = GaussianMixture([0.5, 0.2, 0.3], [[0.5, 0.0], [3.0, 2.0], [1.0, -1.5]],
                    [np.eye(2), [[0.5, 0.1], [0.1, 0.5]], [[1.5, 0.0], [0.0, 0.7]]])


def _quadrature(p, q, measure):
    """D(p, q) by a 2-D Riemann sum with scipy's densities (an independent reference)."""
    g = np.linspace(-9, 12, 1401)
    xx, yy = np.meshgrid(g, g)
    pts = np.column_stack([xx.ravel(), yy.ravel()])

    def dens(m):
        return sum(w * stats.multivariate_normal(mu, c).pdf(pts)
                   for w, mu, c in zip(m.weights, m.means, m.covariances, strict=True))

    fp, fq, da = dens(p), dens(q), (g[1] - g[0]) ** 2
    fp, fq = np.maximum(fp, 1e-300), np.maximum(fq, 1e-300)
    if measure == "kl":
        return np.sum(fp * np.log(fp / fq)) * da
    if measure == "kl_reverse":
        return np.sum(fq * np.log(fq / fp)) * da
    if measure == "js":
        fm = 0.5 * (fp + fq)
        return 0.5 * np.sum(fp * np.log(fp / fm) + fq * np.log(fq / fm)) * da
    return 0.5 * np.sum(np.abs(fp - fq)) * da


def test_kl_of_a_mixture_with_itself_is_zero_within_3_se():
    # the same distribution with its components in another order: log-densities differ
    # only by rounding
    g = simulate(Setup(K=3, J=2), rng=0).ground_truth
    perm = g.subset([4, 2, 0, 3, 1])
    est = monte_carlo_divergence(g, perm, measure="kl", n_samples=500, rounds=20, rng=1)
    assert abs(est.value) <= 3 * est.stderr + 1e-12
    assert abs(est.value) < 1e-10
    same = kl_gap(g, g, g, rounds=10, n_eval=200, rng=2)
    assert same.value == 0.0 and same.params["anchor_divergence"] == 0.0


def test_monte_carlo_kl_matches_gaussian_closed_form():
    m0, m1 = np.array([0.0, 1.0]), np.array([1.0, -0.5])
    c0, c1 = np.array([[1.0, 0.4], [0.4, 2.0]]), np.array([[0.7, 0.0], [0.0, 1.5]])
    p, q = GaussianMixture([1.0], [m0], [c0]), GaussianMixture([1.0], [m1], [c1])
    ic1 = np.linalg.inv(c1)
    truth = 0.5 * (np.trace(ic1 @ c0) + (m1 - m0) @ ic1 @ (m1 - m0) - 2
                   + np.log(np.linalg.det(c1) / np.linalg.det(c0)))
    est = monte_carlo_divergence(p, q, rounds=50, n_samples=1000, rng=3)
    assert abs(est.value - truth) < 4 * est.stderr


@pytest.mark.parametrize("measure", ["kl", "kl_reverse", "js", "tv"])
def test_monte_carlo_measures_match_quadrature(measure):
    est = monte_carlo_divergence(P, Q, measure=measure, rounds=40, n_samples=1000, rng=4)
    truth = _quadrature(P, Q, measure)
    assert abs(est.value - truth) < 4 * est.stderr + 1e-4  # + quadrature error
    assert est.stderr > 0 and est.method == "monte_carlo"


def test_bounded_measures_stay_in_range():
    far = GaussianMixture([1.0], [[50.0, 50.0]], [np.eye(2)])
    tv = monte_carlo_divergence(P, far, measure="tv", rounds=5, n_samples=200, rng=0)
    js = monte_carlo_divergence(P, far, measure="js", rounds=5, n_samples=200, rng=0)
    assert 0.999 < tv.value <= 1.0
    assert np.log(2) - 1e-6 < js.value <= np.log(2) + 1e-12
    x = P.sample(1000, rng=1)[0]
    y = far.sample(1000, rng=2)[0]
    # disjoint samples: only the pseudocounts overlap
    assert 0.99 < histogram_divergence(x, y, measure="tv") <= 1.0
    assert histogram_divergence(x, y, measure="js") <= np.log(2) + 1e-12


def test_shared_histogram_is_about_zero_for_one_distribution():
    x, y = P.sample(1000, rng=5)[0], P.sample(1000, rng=6)[0]
    assert histogram_divergence(x, x) == 0.0
    # the plug-in bias with 10 x 10 bins and 1000 points is a few hundredths
    vals = [histogram_divergence(P.sample(1000, rng=s)[0], P.sample(1000, rng=s + 100)[0])
            for s in range(10)]
    assert 0 <= np.mean(vals) < 0.1
    # and it sees a location change that the per-sample estimator misses
    assert histogram_divergence(x, x + 100.0) > 5
    assert histogram_divergence(x, y, measure="tv") < 0.15


def test_per_sample_histogram_replays_the_authors_estimator():
    x, y = P.sample(1000, rng=7)[0], Q.sample(1000, rng=8)[0]
    hp, _ = np.histogramdd(x, bins=50, density=True)
    hq, _ = np.histogramdd(y, bins=50, density=True)
    ref = stats.entropy(np.maximum(hp, 1e-10).ravel(), np.maximum(hq, 1e-10).ravel())
    assert per_sample_histogram_kl(x, y) == pytest.approx(ref, rel=1e-9)


def test_per_sample_histogram_shows_its_known_defect():
    x, y = P.sample(1000, rng=9)[0], P.sample(1000, rng=10)[0]
    # blind to a shift of 100 ...
    assert abs(per_sample_histogram_kl(x, x + 100.0)) < 1e-9
    # ... while two samples of one distribution look far apart (about 8 in d = 2)
    assert per_sample_histogram_kl(x, y) > 5


def test_knn_gap_agrees_with_monte_carlo():
    """Wang-Kulkarni-Verdu kNN gap vs the exact one: KL(P||P) - KL(Q||P) = -KL(Q||P).
    The kNN estimator's bias at n = 1000 in d = 2 is a few hundredths (docs/estimators.md)."""
    mc = kl_gap(P, Q, P, rounds=20, n_eval=1000, rng=0)
    knn = kl_gap(P, Q, P, estimator="knn", rounds=20, n_eval=1000, rng=0)
    assert abs(knn.value - mc.value) < 0.1 + 4 * np.hypot(knn.stderr, mc.stderr)
    rev = kl_gap(P, Q, P, estimator="knn", measure="kl_reverse", rounds=5, n_eval=500, rng=0)
    assert rev.method == "knn" and rev.stderr > 0


def _rows_by_key(rows):
    return {(r["seed"], r["estimator"], r["measure"]): r for r in rows}


def test_run_settings_is_deterministic_and_independent_of_the_batch():
    setups = [Setup(K=2, J=2, L=2), Setup(K=2, J=2, L=2), Setup(K=3, J=2, L=2),
              Setup(K=2, J=2, L=2, covariance="seed_effective")]
    seeds = np.random.SeedSequence(42).spawn(4)
    opts = {"estimators": list(ESTIMATORS), "rounds": 4, "n_eval": 300}
    all_rows = run_settings(setups, seeds, **opts)
    again = run_settings(setups, seeds, **opts)
    assert all_rows == again
    alone = run_settings([setups[1]], [seeds[1]], **opts)
    reordered = run_settings(setups[::-1], seeds[::-1], **opts)
    by_key = _rows_by_key(reordered)
    for r in alone:
        assert by_key[(r["seed"], r["estimator"], r["measure"])] == r
    assert {r["seed"] for r in all_rows} == {f"42:{i}" for i in range(4)}
    # 4 + 4 + 2 + 2 measures per setting
    assert len(all_rows) == 4 * 12


def test_run_settings_rows_are_tidy_json_scalars():
    rows = run_settings([Setup(J=3)], [np.random.SeedSequence(1)], rounds=3, n_eval=100,
                        estimators=["monte_carlo", "histogram"], measures=["kl", "tv"])
    assert [(r["estimator"], r["measure"]) for r in rows] == [
        ("monte_carlo", "kl"), ("monte_carlo", "tv"), ("histogram", "kl"), ("histogram", "tv")]
    r = rows[0]
    json.dumps(rows)
    assert r["param_J"] == 3 and r["param_covariance"] == "random_spd"
    assert r["gap"] == pytest.approx(r["anchor_divergence"] - r["synthetic_divergence"], abs=1e-12)
    assert r["gap_stderr"] > 0 and r["rounds"] == 3 and r["n_eval"] == 100
    assert isinstance(r["anchor_fit_converged"], bool)
    assert rows[2]["estimator_params"] == "bins=10,pseudocount=0.5"


def test_kl_gap_and_fit_simulation_agree_with_run_settings():
    setup, ss = Setup(K=2, J=3, L=1), np.random.SeedSequence(5, spawn_key=(1, 2))
    row = run_settings([setup], [ss], rounds=5, n_eval=200, measures=["kl"])[0]
    sim = simulate(setup, rng=np.random.SeedSequence(5, spawn_key=(1, 2, 0)))
    fa, fs = fit_simulation(sim, rng=ss)
    assert fa.mixture.n_components == 2 and fs.mixture.n_components == 6
    # the setting's evaluation seed: children 0, 1, 2 draw G, pi_anchor and pi_gen
    est = kl_gap(fa, fs, sim.ground_truth, rounds=5, n_eval=200,
                 rng=np.random.SeedSequence(5, spawn_key=(1, 2, 3)))
    assert est.value == pytest.approx(row["gap"], rel=1e-12)
    assert est.stderr == pytest.approx(row["gap_stderr"], rel=1e-12)


def test_monte_carlo_gap_stderr_is_honest():
    """Across independent evaluations of one fitted setting, the gap's spread matches
    its reported standard error (ratio within the chi-square 99.9 % range for 30 draws)."""
    sim = simulate(Setup(), rng=0)
    fa, fs = fit_simulation(sim, rng=0)
    ests = [kl_gap(fa, fs, sim.ground_truth, rounds=10, n_eval=200, rng=s) for s in range(30)]
    sd = np.std([e.value for e in ests], ddof=1)
    se = np.sqrt(np.mean([e.stderr**2 for e in ests]))
    assert 0.5 < sd / se < 1.6


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: run_settings([Setup()], [], rounds=3), r"`seeds` must have one SeedSequence per setup"),
        (lambda: run_settings([Setup()], [0]), r"`seeds\[0\]` must be a numpy SeedSequence"),
        (lambda: run_settings([{"K": 2}], [np.random.SeedSequence(0)]), r"`setups\[0\]` must be a Setup"),
        (lambda: run_settings([], [], estimators=["kde"]), r"`estimators` must be one of 'monte_carlo'"),
        (lambda: run_settings([], [], estimators="monte_carlo"), r"`estimators` must be a non-empty list"),
        (lambda: run_settings([], [], rounds=1), r"`rounds` must be an int in \[2, inf\)\. Got 1"),
        (lambda: run_settings([], [], bandwidth=2), r"Unknown estimator option\(s\) \['bandwidth'\]"),
        (lambda: run_settings([], [], estimators=["histogram_per_sample"], measures=["tv"]),
         r"Estimator 'histogram_per_sample' computes none of the measures \['tv'\]"),
        (lambda: run_settings([], [], measures=["hellinger"]), r"`measures` must be one of 'kl'"),
        (lambda: histogram_divergence(np.zeros((5, 8)), np.zeros((5, 8)), bins=20),
         r"`bins`=20 gives 20\*\*8 = 25600000000 cells in d = 8"),
        (lambda: histogram_divergence(np.zeros((5, 2)), np.zeros((5, 3))), r"`xq` must have 2 columns"),
        (lambda: monte_carlo_divergence(P, "Q"), r"`q` must be a synthgain GaussianMixture"),
        (lambda: kl_gap(P, Q, P, measure="tv", estimator="histogram_per_sample"),
         r"computes none of the measures \['tv'\]"),
    ],
)
def test_bad_inputs_raise_clear_errors(call, match):
    with pytest.raises(ValidationError, match=match):
        call()


@pytest.mark.parametrize("covariance", ["random_spd", "seed_effective"])
def test_batched_log_densities_match_the_mixture_class(covariance):
    """The quadratic-feature kernel behind the Monte Carlo estimator agrees with
    GaussianMixture.logpdf, thin components (ridge 1e-6) and distant points included."""
    from synthgain.mixture import MixtureStack

    sims = [simulate(Setup(K=15, J=3, L=4, covariance=covariance), rng=s) for s in range(3)]
    mixes = [s.generator for s in sims]
    x = np.stack([np.random.default_rng(s).uniform(-20, 30, size=(2000, 2)) for s in range(3)])
    got = MixtureStack.from_mixtures(mixes).logpdf(x)
    for b, m in enumerate(mixes):
        want = m.logpdf(x[b])
        np.testing.assert_allclose(got[b], want, rtol=1e-9, atol=1e-6)


def test_kl_rows_do_not_depend_on_the_other_measures_requested():
    """G's points have their own stream: drawing them or not changes no other draw."""
    setups = [Setup(K=3, J=2, L=2), Setup(K=2, J=3, L=1)]
    seeds = np.random.SeedSequence(11).spawn(2)
    alone = run_settings(setups, seeds, rounds=4, n_eval=150, measures=["kl"])
    every = run_settings(setups, seeds, estimators=["monte_carlo", "histogram"], rounds=4,
                         n_eval=150)
    kl = [r for r in every if r["estimator"] == "monte_carlo" and r["measure"] == "kl"]
    assert len(alone) == len(kl) == 2
    for a, b in zip(alone, kl, strict=True):
        for key in ("anchor_divergence", "synthetic_divergence", "gap", "gap_stderr"):
            assert a[key] == pytest.approx(b[key], rel=1e-12, abs=1e-13), key


def test_fit_simulation_int_seed_equals_its_seed_sequence():
    """rng=s and rng=SeedSequence(s) give the same fits (an int went through a Generator)."""
    sim = simulate(Setup(K=2, J=2, L=1), rng=1)
    for a, b in zip(fit_simulation(sim, rng=4), fit_simulation(sim, rng=np.random.SeedSequence(4)),
                    strict=True):
        np.testing.assert_array_equal(a.mixture.means, b.mixture.means)
        np.testing.assert_array_equal(a.mixture.covariances, b.mixture.covariances)


@pytest.mark.parametrize("measure", ["kl", "js", "tv"])
def test_kl_gap_and_monte_carlo_divergence_int_seed_equals_its_seed_sequence(measure):
    assert (kl_gap(P, Q, P, measure=measure, rounds=3, n_eval=50, rng=2)
            == kl_gap(P, Q, P, measure=measure, rounds=3, n_eval=50, rng=np.random.SeedSequence(2)))
    assert (monte_carlo_divergence(P, Q, measure=measure, rounds=3, n_samples=50, rng=2)
            == monte_carlo_divergence(P, Q, measure=measure, rounds=3, n_samples=50,
                                      rng=np.random.SeedSequence(2)))


def test_an_option_no_chosen_estimator_reads_is_rejected():
    from synthgain.experiments.config import parse_config
    from synthgain.experiments.klgap import run_settings

    with pytest.raises(ValidationError, match=r"`bins`=20 is read only by the 'histogram'"):
        run_settings([], [], estimators=("monte_carlo",), bins=20)
    with pytest.raises(ValidationError, match=r"`knn_k`=3 is read only by the 'knn'"):
        run_settings([], [], estimators=("histogram",), knn_k=3)
    run_settings([], [], estimators=("histogram",), bins=20)  # read by histogram
    run_settings([], [], estimators=("monte_carlo",), bins=10)  # the default: not a choice
    with pytest.raises(ValidationError, match=r"`floor`=0.001 is read only"):
        parse_config({"sweep": {"protocol": "klgap"},
                      "params": {"estimators": ["monte_carlo"], "floor": 1e-3}})
