"""chain_from_setup, simulate_chain, sweep_settings and sweep_terms; the sweep with the KL Gap."""

import numpy as np
import pytest

from synthgain._rng import child_seed
from synthgain.exceptions import ValidationError
from synthgain.experiments.klgap import fit_simulation, run_settings
from synthgain.experiments.theory_sweep import sweep_terms_klgap
from synthgain.process import Setup, reestimate_components, simulate
from synthgain.theory import (
    PROCESS_STREAM,
    chain_from_setup,
    simulate_chain,
    sweep_settings,
    sweep_terms,
)

SMALL = {"n_prompts": 4, "n_streams": 4, "n_samples": 300, "n_reference": 8}


def test_chain_honours_fit_components():
    setup = Setup(K=2, J=1, L=1, anchor_fit_components="K+J+L", synthetic_fit_components="K")
    chain = chain_from_setup(setup, rng=0)
    assert (chain.setup.k_anchor_fit, chain.setup.k_synthetic_fit) == (4, 2)
    draws = simulate_chain(chain, n_prompts=3, n_streams=3, rng=1)
    assert draws.anchor_fits.means.shape == (3, 4, 2)
    assert draws.synthetic_fits.means.shape == (9, 2, 2)


def test_chain_is_the_process_draw():
    # G and M's own components are simulate's; the covariance model is the setup's
    setup = Setup(K=2, J=1, L=2, covariance="isotropic", covariance_scale=0.5)
    sim = simulate(setup, rng=3)
    chain = chain_from_setup(setup, rng=3)
    np.testing.assert_array_equal(chain.ground_truth.covariances, sim.ground_truth.covariances)
    np.testing.assert_array_equal(chain.generator.means, sim.generator.means)
    np.testing.assert_array_equal(chain.ground_truth.covariances[0], 0.5 * np.eye(2))
    # every replicate prompt's components are the process's re-estimate of its anchors
    draws = simulate_chain(chain, n_prompts=3, n_streams=3, rng=1)
    m, c = reestimate_components(draws.anchors, sim.anchor_labels, 2)
    np.testing.assert_array_equal(draws.prompt_means, m)
    np.testing.assert_array_equal(draws.prompt_covariances, c)
    m1 = chain.generator_for(m[1], c[1])
    np.testing.assert_array_equal(m1.means[2:], sim.generator.means[2:])


def test_rng_int_equals_its_seed_sequence():
    setup = Setup(K=1, J=1, L=1)
    a = chain_from_setup(setup, rng=4)
    b = chain_from_setup(setup, rng=np.random.SeedSequence(4))
    np.testing.assert_array_equal(a.generator.covariances, b.generator.covariances)
    da = simulate_chain(a, n_prompts=3, n_streams=3, rng=2)
    db = simulate_chain(a, n_prompts=3, n_streams=3, rng=np.random.SeedSequence(2))
    np.testing.assert_array_equal(da.synthetic, db.synthetic)
    np.testing.assert_array_equal(da.synthetic_fits.means, db.synthetic_fits.means)
    sa = sweep_settings("L", [1, 2], settings=2, rng=9)
    sb = sweep_settings("L", [1, 2], settings=2, rng=np.random.SeedSequence(9))
    assert [s.seed.spawn_key for s in sa] == [s.seed.spawn_key for s in sb]
    assert [s.seed.entropy for s in sa] == [s.seed.entropy for s in sb]
    ta = sweep_terms("L", [1], settings=1, rng=9, **SMALL)
    tb = sweep_terms("L", [1], settings=1, rng=np.random.SeedSequence(9), **SMALL)
    assert ta.equals(tb)


def test_sweep_settings_seeds_are_named_children():
    plan = sweep_settings("J", [1, 3], settings=2, rng=7)
    assert [(s.value, s.setting, s.setup.J) for s in plan] == [
        (1, 0, 1), (1, 1, 1), (3, 0, 3), (3, 1, 3)]
    # setting s of value i: child s of child i (SeedSequence.spawn's numbering)
    legacy = np.random.SeedSequence(7).spawn(2)[1].spawn(2)[0]
    assert plan[2].seed.spawn_key == legacy.spawn_key == child_seed(7, 1, 0).spawn_key


def test_sweep_shares_g_with_klgap():
    # a setting's theory chain and its KL Gap (run_settings) use the same G and M
    ss = child_seed(5, 0, 1)
    setup = Setup(J=3)
    sim = simulate(setup, rng=child_seed(ss, 0))
    chain = chain_from_setup(setup, rng=child_seed(ss, PROCESS_STREAM))
    np.testing.assert_array_equal(chain.ground_truth.means, sim.ground_truth.means)
    np.testing.assert_array_equal(chain.generator.means[5:], sim.generator.means[5:])
    a, _ = fit_simulation(sim, rng=ss)
    assert a.mixture.n_components == 2


def test_sweep_terms_with_klgap():
    df = sweep_terms_klgap("J", [1, 3], settings=2, klgap_rounds=4, klgap_n_eval=100,
                           rng=7, **SMALL)
    assert list(df["param_J"]) == [1, 1, 3, 3] and list(df["setting"]) == [0, 1, 0, 1]
    # the KL Gap column is run_settings' value for the same setting seed
    ss = np.random.SeedSequence(7).spawn(2)[1].spawn(2)[0]
    row = run_settings([Setup(J=3)], [ss], rounds=4, n_eval=100, measures=("kl",))[0]
    assert df["kl_gap"].iloc[2] == row["gap"]
    assert df["stderr_kl_gap"].iloc[2] == row["gap_stderr"]
    assert {"GGMI", "verdict_lemma_4_5", "margin_theorem_4_10"} <= set(df.columns)
    plain = sweep_terms("J", [1, 3], settings=2, rng=7, **SMALL)
    assert "kl_gap" not in plain.columns
    assert plain["GGMI"].tolist() == df["GGMI"].tolist()  # the same terms, KL Gap beside them
    gen = sweep_terms_klgap("J", [1], settings=1, klgap_rounds=2, klgap_n_eval=50,
                            rng=np.random.default_rng(0), **SMALL)
    assert np.isfinite(gen["kl_gap"]).all()


def test_sweep_errors():
    with pytest.raises(ValidationError, match="`param` must be one of"):
        sweep_terms("d", [2])
    with pytest.raises(ValidationError, match=r"`setup` must be a synthgain\.process\.Setup"):
        sweep_terms("J", [2], setup={"K": 2})
    with pytest.raises(ValidationError, match=r"`setup` must be a synthgain\.process\.Setup"):
        chain_from_setup({"K": 2})
    with pytest.raises(ValidationError, match="`klgap_rounds` must be an int"):
        sweep_terms_klgap("J", [2], klgap_rounds=1)


def test_ggmi_robustness():
    from synthgain.experiments.theory_sweep import ggmi_robustness

    variants = {"sigma=1": {"noise_scale": 1.0}, "q=G": {"reference": "ground_truth"}}
    kw = {"settings": 2, "variants": variants, "klgap_rounds": 3, "klgap_n_eval": 100,
          "n_boot": 50, **SMALL}
    rows, summary = ggmi_robustness(("J",), (1, 3), rng=7, **kw)
    assert len(rows) == 2 * 4 and set(rows["variant"]) == set(variants)
    # every variant sees the same settings and KL Gap; sigma = 1 is sweep_terms_klgap's row
    ref = sweep_terms_klgap("J", [1, 3], settings=2, klgap_rounds=3, klgap_n_eval=100, rng=7,
                            noise_scale=1.0, **SMALL)
    one = rows[rows["variant"] == "sigma=1"]
    assert one["GGMI"].tolist() == ref["GGMI"].tolist()
    assert one["kl_gap"].tolist() == ref["kl_gap"].tolist()
    assert rows[rows["variant"] == "q=G"]["kl_gap"].tolist() == ref["kl_gap"].tolist()
    assert rows[rows["variant"] == "q=G"]["GGMI"].tolist() != ref["GGMI"].tolist()
    assert set(summary["estimate"]) == {"GGMI", "GGMI_matched"}
    assert set(summary["sweep"]) == {"J", "all"}
    again = ggmi_robustness(("J",), (1, 3), rng=np.random.SeedSequence(7), **kw)[1]
    assert summary.equals(again)  # rng=s equals rng=SeedSequence(s)
