"""Lemma 4.5 and Theorem 4.10 on finite chains, computed exactly."""

import math

import numpy as np
import pytest

from synthgain.exceptions import ValidationError
from synthgain.theory import curation_counterexample, discrete_terms, z4_counterexample


def test_z4_counterexample_refutes_lemma_4_5():
    t = z4_counterexample()
    assert t["I_gen_W"] == pytest.approx(math.log(4), abs=1e-12)
    assert t["B_syn"] == pytest.approx(0.0, abs=1e-12)
    assert t["dI"] == pytest.approx(math.log(4)) and t["H_eM"] == pytest.approx(math.log(4))
    assert t["lambda"] == 1.0 and t["delta_eps"] == pytest.approx(0.0, abs=1e-12)
    assert t["lemma_4_5_rhs"] == pytest.approx(0.0, abs=1e-12)
    assert t["lemma_4_5_margin"] == pytest.approx(-math.log(4), abs=1e-12)
    assert t["lemma_4_5_reduced_rhs"] == pytest.approx(0.0, abs=1e-12)  # H(e_p | M) = 0
    assert t["theorem_4_10_margin"] == pytest.approx(0.0, abs=1e-12)  # no curation noise


def test_curation_counterexample_refutes_theorem_4_10():
    t = curation_counterexample()
    assert t["theorem_4_10_margin"] == pytest.approx(t["H_Mp"] - t["H_gen"], abs=1e-12)
    assert t["theorem_4_10_margin"] == pytest.approx(-0.5 * math.log(2), abs=1e-12)
    assert t["delta_eps"] == pytest.approx(-math.log(2), abs=1e-12)  # <= 0, not >= 0


def _random_chain(rng, noisy):
    # additive in Z_n (Definition 4.1), e_M recoverable from (M, e_p); independent
    # additive curation noise S_gen = M + eps mod n; random training
    n = 5
    p_ep, p_em = rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(n))
    z = np.arange(n)
    m_of = (z[:, None] + z[None, :]) % n
    s_given_m = None
    if noisy:
        p_eps = rng.dirichlet(np.ones(n))
        s_given_m = np.zeros((n, n))
        s_given_m[z[:, None], (z[:, None] + z[None, :]) % n] = p_eps[None, :]
    w_given_s = rng.dirichlet(np.ones(3) * 0.5, size=n)
    w_prime = rng.dirichlet(np.ones(3) * 0.5, size=n)
    return discrete_terms(p_ep, p_em, m_of, w_given_s, s_given_m=s_given_m,
                          w_prime_given_anchor=w_prime)


@pytest.mark.parametrize("seed", range(5))
def test_theorem_4_10_margin_is_the_entropy_difference(seed):
    # docs/theory.md: RHS - GGMI = [H(M) - H(S_gen)] + I(S_a; M | h), and h = e_p here
    for noisy in (False, True):
        t = _random_chain(np.random.default_rng(seed), noisy)
        assert t["theorem_4_10_margin"] == pytest.approx(t["H_Mp"] - t["H_gen"], abs=1e-10)
    assert t["H_gen"] >= t["H_Mp"] - 1e-12  # independent noise in a group raises entropy


@pytest.mark.parametrize("seed", range(5))
def test_lemma_4_5_reduces_to_its_unit_free_form(seed):
    # H(e_M) = H(M | e_p) (a shift in Z_n is invertible) and lambda I(e_p; M) = H(e_p):
    # the right-hand side is B_syn + H(e_p | M) - delta_eps
    t = _random_chain(np.random.default_rng(seed), True)
    assert t["H_ep"] >= t["I_ep_Mp"]
    assert t["lemma_4_5_rhs"] == pytest.approx(t["lemma_4_5_reduced_rhs"], abs=1e-10)
    assert t["delta_eps"] <= 1e-12  # M -> S_gen -> W: I(M; W) <= I(S_gen; W)


def test_errors():
    with pytest.raises(ValidationError, match="`p_ep` must be a pmf"):
        discrete_terms([0.5, 0.6], [1.0], np.array([[0], [1]]), np.eye(2))
    with pytest.raises(ValidationError, match=r"`m_of` must be an array of non-negative int"):
        discrete_terms([0.5, 0.5], [1.0], np.array([[0.0], [1.0]]), np.eye(2))
    with pytest.raises(ValidationError, match="`w_given_s` must be a stochastic matrix with 2"):
        discrete_terms([0.5, 0.5], [1.0], np.array([[0], [1]]), np.eye(3))
