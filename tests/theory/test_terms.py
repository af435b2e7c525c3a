"""compute_terms and check_inequalities on settings with known answers."""

import numpy as np
import pytest

from synthgain.exceptions import ValidationError
from synthgain.mixture import GaussianMixture
from synthgain.theory import Chain, check_inequalities, compute_terms, make_chain
from synthgain.theory._terms import _Lin

SMALL = {"n_prompts": 8, "n_streams": 8, "n_samples": 1000, "n_reference": 16}


@pytest.fixture(scope="module")
def clean_terms():
    chain = make_chain(2, 1, 1, anchors_per_component=30, n_synthetic=80, rng=0)
    return compute_terms(chain, rng=1, **SMALL)


def test_no_noise_generation_divergence_is_zero(clean_terms):
    assert clean_terms.terms["tv_generation"].value == 0.0


def test_task_divergence_zero_when_generator_is_truth():
    # L = 0 and M's K part equal to G's: TV(D, D_M) = 0 exactly, whatever the prompt
    chain = make_chain(1, 1, 0, rng=3)
    m = chain.nominal_generator()
    from synthgain.measures import total_variation

    assert total_variation(chain.truth, m, method="monte_carlo", rng=0).value == 0.0
    assert np.allclose(m.means, chain.truth.means)


def test_one_component_entropy_closed_form():
    # K = 1, J = L = 0: H(S_anchor) = N h(G_1) and dI = n E h(M_p), M_p Gaussian
    cov = np.array([[1.0, 0.2], [0.2, 0.5]])
    truth = GaussianMixture([1.0], [[0.0, 0.0]], [cov])
    chain = Chain(truth, 1, 0, 0, np.zeros((0, 2)), np.zeros((0, 2, 2)), 40, 50)
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


def test_theorem_4_10_fails_with_curation_noise():
    chain = make_chain(2, 1, 1, anchors_per_component=30, n_synthetic=80, curation_noise=0.5, rng=0)
    terms = compute_terms(chain, rng=1, **SMALL)
    v = {x.name: x for x in check_inequalities(terms)}["theorem_4_10"]
    gap = terms.terms["H_Mp"].value - terms.terms["H_gen"].value
    assert v.margin == pytest.approx(gap)
    assert v.verdict == "violated"


def test_derived_identities(clean_terms):
    t = {k: v.value for k, v in clean_terms.terms.items()}
    assert t["GGMI"] == pytest.approx(t["I_anchor_Wprime"] - t["I_gen_W"])
    assert t["H_anchor_given_W"] == pytest.approx(t["H_anchor"] - t["I_ep_W"])
    assert t["alpha"] == pytest.approx(t["H_anchor_given_Wprime"] / t["H_anchor_given_W"])
    assert t["eps_Wp"] == pytest.approx(t["I_anchor_Mp"] - t["I_anchor_W"])
    assert 0.0 <= t["tv_task"] <= 1.0


def test_reproducible():
    chain = make_chain(1, 1, 1, anchors_per_component=20, n_synthetic=40, rng=0)
    a = compute_terms(chain, rng=5, **SMALL).terms
    b = compute_terms(chain, rng=5, **SMALL).terms
    assert {k: v.value for k, v in a.items()} == {k: v.value for k, v in b.items()}


def test_lin_delta_method():
    a, b = _Lin(2.0, {"a": 1.0}), _Lin(4.0, {"b": 1.0})
    q = a / b
    assert q.value == 0.5
    assert q.grad == pytest.approx({"a": 0.25, "b": -0.125})
    assert (a * b).grad == pytest.approx({"a": 4.0, "b": 2.0})


def test_errors():
    with pytest.raises(ValidationError, match="`chain` must be a Chain"):
        compute_terms("setup")
    chain = make_chain(1, 1, 1, rng=0)
    with pytest.raises(ValidationError, match="`noise_scale` must be a finite real number"):
        compute_terms(chain, noise_scale=-1.0)
    with pytest.raises(ValidationError, match="`n_anchor_components` must be an int in"):
        make_chain(0)
    with pytest.raises(ValidationError, match="`terms` must be a TheoryTerms"):
        check_inequalities({})
