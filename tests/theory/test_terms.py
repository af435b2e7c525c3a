"""compute_terms and check_inequalities on settings with known answers."""

import numpy as np
import pytest

from synthgain.exceptions import ValidationError
from synthgain.mixture import GaussianMixture
from synthgain.process import Setup
from synthgain.theory import Chain, chain_from_setup, check_inequalities, compute_terms
from synthgain.theory._terms import _Lin

SMALL = {"n_prompts": 8, "n_streams": 8, "n_samples": 1000, "n_reference": 16}


def setup_chain(k, j, ll, *, rng, **fields):
    return chain_from_setup(Setup(K=k, J=j, L=ll, **fields), rng=rng)


@pytest.fixture(scope="module")
def clean_terms():
    chain = setup_chain(2, 1, 1, n_anchor_per_component=30, n_synthetic=80, rng=0)
    return compute_terms(chain, rng=1, **SMALL)


def test_no_noise_generation_divergence_is_zero(clean_terms):
    assert clean_terms.terms["tv_generation"].value == 0.0


def test_task_divergence_zero_when_generator_is_truth():
    # L = 0 and M's K part equal to G's: TV(D, D_M) = 0 exactly, whatever the prompt
    chain = setup_chain(1, 1, 0, rng=3)
    m = chain.nominal_generator()
    from synthgain.measures import total_variation

    assert total_variation(chain.ground_truth, m, method="monte_carlo", rng=0).value == 0.0
    assert np.allclose(m.means, chain.ground_truth.means)


def test_one_component_entropy_closed_form():
    # K = 1, J = L = 0: H(S_anchor) = N h(G_1) and dI = n E h(M_p), M_p Gaussian
    cov = np.array([[1.0, 0.2], [0.2, 0.5]])
    truth = GaussianMixture([1.0], [[0.0, 0.0]], [cov])
    chain = Chain(Setup(K=1, J=0, L=0, n_anchor_per_component=40, n_synthetic=50), truth, truth)
    terms = compute_terms(chain, rng=2, **SMALL)
    h = 0.5 * np.log(np.linalg.det(2 * np.pi * np.e * cov))
    assert terms.terms["H_anchor"].value == pytest.approx(40 * h)
    # the re-estimated covariance is unbiased; E log det of a sample covariance is below
    # log det cov by sum_j psi((N - 1 - j) / 2) - log((N - 1) / 2), about -0.05 here
    di = terms.terms["dI"]
    from scipy.special import digamma

    bias = 0.5 * sum(digamma((39 - j) / 2) - np.log(39 / 2) for j in range(2))
    assert abs(di.value - 50 * (h + bias)) < 4 * di.stderr + 1e-9


def test_theorem_4_10_is_an_identity_without_curation_noise(clean_terms):
    # RHS - GGMI = H(M(p)) - H(S_gen), which is 0 when S_gen = M(p)
    verdicts = {v.name: v for v in check_inequalities(clean_terms)}
    assert verdicts["theorem_4_10"].margin == 0.0
    assert verdicts["theorem_4_10"].verdict == "holds"
    assert verdicts["lemma_3_1"].verdict == "holds"  # a theorem for losses in [0, C]
    assert clean_terms.terms["delta_eps"].value == 0.0  # S_gen = M(p)


def test_lemma_4_5_stderr_accounts_for_shared_prompts_and_streams(clean_terms):
    # noise-free: dI cancels, the margin is I(e_p; W) + I(e_M; W) - I(S_gen; W) + const,
    # three means over the same crossed cells; its error is that of the cell-wise sum
    t = clean_terms.terms
    margin = clean_terms.bounds["lemma_4_5"][2]
    naive = np.sqrt(sum(t[k].stderr ** 2 for k in ("I_ep_W", "I_eM_W", "I_gen_W")))
    assert 0 < margin.stderr < naive


@pytest.fixture(scope="module")
def noisy_terms():
    chain = setup_chain(2, 1, 1, n_anchor_per_component=30, n_synthetic=80, noise=0.5, rng=0)
    return compute_terms(chain, rng=1, **SMALL)


def test_theorem_4_10_fails_with_curation_noise(noisy_terms):
    v = {x.name: x for x in check_inequalities(noisy_terms)}["theorem_4_10"]
    gap = noisy_terms.terms["H_Mp"].value - noisy_terms.terms["H_gen"].value
    assert v.margin == pytest.approx(gap)
    assert v.verdict == "violated"


def test_delta_eps_is_bracketed_and_nonpositive(noisy_terms):
    # M(p) -> S_gen -> W: delta_eps = I(M(p); W) - I(S_gen; W) = -I(S_gen; W | M(p)) <= 0
    t = noisy_terms.terms
    d = t["delta_eps"]
    assert d.lower < d.upper <= 0.0 and d.value == d.upper
    assert t["I_Mp_W"].value == pytest.approx(t["I_gen_W"].value + d.value)
    _, rhs, _, width = noisy_terms.bounds["lemma_4_5_differential"]
    assert width == pytest.approx(d.upper - d.lower)
    assert rhs.value == pytest.approx(t["lemma_4_5_rhs"].value)
    _, rhs, _, width = noisy_terms.bounds["lemma_4_5"]  # the unit-free reduction
    assert width == pytest.approx(d.upper - d.lower)
    assert rhs.value == pytest.approx(t["B_syn"].value + t["H_ep_given_Mp_discrete"].value
                                      - d.value)


def test_unestimated_delta_eps_never_violates_lemma_4_5():
    # without extra noise draws only -delta_eps >= 0 is known: the RHS is a lower value
    chain = setup_chain(2, 1, 1, n_anchor_per_component=30, n_synthetic=80, noise=0.5, rng=0)
    terms = compute_terms(chain, rng=1, n_noise_draws=0, **SMALL)
    v = {x.name: x for x in check_inequalities(terms)}
    assert "I_gen_W_given_Mp" not in terms.terms
    assert v["lemma_4_5"].width == np.inf and v["lemma_4_5"].verdict in ("holds", "undecided")
    assert v["theorem_4_7"].verdict in ("holds", "undecided")


def test_verdict_rules():
    from synthgain.measures import Estimate
    from synthgain.theory import TheoryTerms

    def one(margin, se, width):
        e = Estimate(0.0, 0.0)
        return TheoryTerms({}, {"b": (e, Estimate(margin), Estimate(margin, se), width)})

    def verdict(*a):
        return check_inequalities(one(*a))[0].verdict

    assert verdict(1.0, 0.4, 0.0) == "holds"
    assert verdict(1.0, 0.6, 0.0) == "undecided"
    assert verdict(-1.0, 0.4, 0.0) == "violated"
    assert verdict(-1.0, 0.4, 0.5) == "undecided"  # the bracket's top could still hold
    assert verdict(-1.0, 0.1, 0.7) == "violated"
    assert verdict(0.5, 0.1, np.inf) == "holds"


def test_to_frame(clean_terms):
    df = clean_terms.to_frame()
    assert list(df.columns) == ["term", "value", "stderr", "method", "lower", "upper"]
    assert len(df) == len(clean_terms.terms)
    row = df.set_index("term").loc["GGMI"]
    assert row["value"] == clean_terms.terms["GGMI"].value and row["method"] == "derived"


def test_derived_identities(clean_terms):
    t = {k: v.value for k, v in clean_terms.terms.items()}
    assert t["GGMI"] == pytest.approx(t["I_anchor_Wprime"] - t["I_gen_W"])
    assert t["H_anchor_given_W"] == pytest.approx(t["H_anchor"] - t["I_ep_W"])
    assert t["alpha"] == pytest.approx(t["H_anchor_given_Wprime"] / t["H_anchor_given_W"])
    assert t["eps_Wp"] == pytest.approx(t["I_anchor_Mp"] - t["I_anchor_W"])
    assert 0.0 <= t["tv_task"] <= 1.0


def test_reproducible_and_int_rng_equals_its_seed_sequence():
    chain = setup_chain(1, 1, 1, n_anchor_per_component=20, n_synthetic=40, rng=0)
    a = compute_terms(chain, rng=5, **SMALL).terms
    b = compute_terms(chain, rng=5, **SMALL).terms
    c = compute_terms(chain, rng=np.random.SeedSequence(5), **SMALL).terms
    values = {k: v.value for k, v in a.items()}
    assert values == {k: v.value for k, v in b.items()} == {k: v.value for k, v in c.items()}
    assert values != {k: v.value for k, v in compute_terms(chain, rng=6, **SMALL).terms.items()}


def test_noise_reps_is_a_parameter():
    chain = setup_chain(1, 1, 1, n_anchor_per_component=20, n_synthetic=40, rng=0)
    default = compute_terms(chain, rng=5, **SMALL)
    assert default.params["noise_reps"] == 4
    assert default.terms["I_gen_W"].params["reps"] == 4
    one = compute_terms(chain, rng=5, noise_reps=1, **SMALL)
    assert one.terms["I_gen_W"].params["reps"] == 1
    assert one.terms["I_gen_W"].value != default.terms["I_gen_W"].value
    assert one.terms["dI"].value == default.terms["dI"].value  # only W's noise draws change
    with pytest.raises(ValidationError, match="`noise_reps` must be an int"):
        compute_terms(chain, noise_reps=0, **SMALL)


def test_lin_delta_method():
    a, b = _Lin(2.0, {"a": 1.0}), _Lin(4.0, {"b": 1.0})
    q = a / b
    assert q.value == 0.5
    assert q.grad == pytest.approx({"a": 0.25, "b": -0.125})
    assert (a * b).grad == pytest.approx({"a": 4.0, "b": 2.0})


def test_errors():
    with pytest.raises(ValidationError, match="`chain` must be a Chain"):
        compute_terms("setup")
    chain = setup_chain(1, 1, 1, rng=0)
    with pytest.raises(ValidationError, match="`noise_scale` must be a finite real number"):
        compute_terms(chain, noise_scale=-1.0)
    with pytest.raises(ValidationError, match="`K` must be an int in"):
        setup_chain(0, 1, 1, rng=0)
    with pytest.raises(ValidationError, match="`ground_truth` must be a GaussianMixture with 2"):
        Chain(Setup(K=1, J=1, L=1), chain.generator, chain.generator)
    with pytest.raises(ValidationError, match=r"`setup` must be a synthgain\.process\.Setup"):
        Chain({"K": 1}, chain.ground_truth, chain.generator)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="`terms` must be a TheoryTerms"):
        check_inequalities({})
