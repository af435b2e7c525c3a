"""chain_from_setup and sweep_terms (with the KL Gap)."""


import numpy as np
import pytest

from synthgain.exceptions import ValidationError
from synthgain.experiments.klgap import fit_simulation, run_settings
from synthgain.process import Setup, simulate
from synthgain.theory import chain_from_setup, simulate_chain, sweep_terms
from synthgain.theory._sweep import _child

SMALL = {"n_prompts": 4, "n_streams": 4, "n_samples": 300, "n_reference": 8}


def test_chain_honours_fit_components():
    setup = Setup(K=2, J=1, L=1, anchor_fit_components="K+J+L", synthetic_fit_components="K")
    chain = chain_from_setup(setup, rng=0)
    assert (chain.k_anchor_fit, chain.k_synthetic_fit) == (4, 2)
    draws = simulate_chain(chain, n_prompts=3, n_streams=3, rng=1)
    assert draws.anchor_fits.means.shape == (3, 4, 2)
    assert draws.synthetic_fits.means.shape == (9, 2, 2)
    default = chain_from_setup(Setup(K=2, J=1, L=1), rng=0)
    assert (default.k_anchor_fit, default.k_synthetic_fit) == (2, 4)


def test_sweep_shares_g_with_klgap():
    # a setting's theory chain and its KL Gap (run_settings) use the same G and M
    ss = np.random.SeedSequence(5).spawn(1)[0].spawn(2)[1]
    setup = Setup(J=3)
    sim = simulate(setup, rng=_child(ss, 0))
    chain = chain_from_setup(setup, rng=_child(ss, 0))
    np.testing.assert_array_equal(chain.truth.means, sim.ground_truth.means)
    np.testing.assert_array_equal(chain.irrelevant_means, sim.generator.means[5:])
    a, _ = fit_simulation(sim, rng=ss)
    assert a.mixture.n_components == 2


def test_sweep_terms_with_klgap():
    df = sweep_terms("J", [1, 3], settings=2, klgap=True, klgap_rounds=4, klgap_n_eval=100,
                     rng=7, **SMALL)
    assert list(df["param_J"]) == [1, 1, 3, 3] and list(df["setting"]) == [0, 1, 0, 1]
    # the KL Gap column is run_settings' value for the same setting seed
    ss = np.random.SeedSequence(7).spawn(2)[1].spawn(2)[0]
    row = run_settings([Setup(J=3)], [ss], rounds=4, n_eval=100, measures=("kl",))[0]
    assert df["kl_gap"].iloc[2] == row["gap"]
    assert df["stderr_kl_gap"].iloc[2] == row["gap_stderr"]
    assert {"GGMI", "verdict_lemma_4_5", "margin_theorem_4_10"} <= set(df.columns)
    again = sweep_terms("J", [1, 3], settings=2, rng=7, **SMALL)
    assert again["GGMI"].tolist() == df["GGMI"].tolist()  # reproducible; KL Gap optional


def test_sweep_errors():
    with pytest.raises(ValidationError, match="`param` must be one of"):
        sweep_terms("d", [2])
    with pytest.raises(ValidationError, match=r"`setup` must be a synthgain\.process\.Setup"):
        sweep_terms("J", [2], setup={"K": 2})
