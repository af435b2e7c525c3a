"""Lemma 4.5 and Theorem 4.10 computed exactly on finite chains (no units, no estimates).

A discrete chain is ``S_anchor = e_p`` (the prompt a reversible transform of the anchors,
``h(e_p)`` a function of it), an independent generator factor ``e_M``,
``M(p) = f(e_p, e_M)``, curation ``S_gen | M(p)`` and training ``W | S_gen``,
``W' | S_anchor`` as stochastic matrices. Every entropy is a discrete (Shannon) entropy
in nats, so every term is unit-free and exact. :func:`z4_counterexample` and
:func:`curation_counterexample` are the two chains that refute Lemma 4.5 and
Theorem 4.10 in general.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import check_array
from ..exceptions import ValidationError

__all__ = ["curation_counterexample", "discrete_terms", "z4_counterexample"]


def _h(p: np.ndarray) -> float:
    """Shannon entropy (nats) of a pmf of any shape."""
    q = p[p > 0]
    return float(-(q * np.log(q)).sum()) + 0.0  # no negative zero


def _mi(pxy: np.ndarray) -> float:
    """``I(X; Y)`` from a joint pmf of shape (n_x, n_y)."""
    return _h(pxy.sum(1)) + _h(pxy.sum(0)) - _h(pxy)


def _stochastic(a: Any, name: str, rows: int) -> np.ndarray:
    m = check_array(a, name, ndim=2)
    if m.shape[0] != rows or np.any(m < 0) or not np.allclose(m.sum(1), 1.0, atol=1e-12):
        raise ValidationError(
            f"`{name}` must be a stochastic matrix with {rows} rows (non-negative, each row "
            f"summing to 1). Got shape {m.shape} instead."
        )
    return m


def _pmf(p: Any, name: str) -> np.ndarray:
    v = check_array(p, name, ndim=1)
    if np.any(v < 0) or not math.isclose(float(v.sum()), 1.0, abs_tol=1e-12):
        raise ValidationError(f"`{name}` must be a pmf (non-negative, summing to 1). Got {v}.")
    return v


def discrete_terms(
    p_ep: Any,
    p_eM: Any,
    m_of: Any,
    w_given_s: Any,
    *,
    s_given_m: Any = None,
    w_prime_given_anchor: Any = None,
    h_of: Any = None,
) -> dict[str, float]:
    """Every term of Lemma 4.5 and Theorem 4.10 for a finite chain, exactly.

    Parameters
    ----------
    p_ep : array_like, shape (a,)
        pmf of the prompt factor ``e_p``; ``S_anchor = e_p`` (a reversible prompt).
    p_eM : array_like, shape (b,)
        pmf of the generator factor ``e_M``, independent of ``e_p``.
    m_of : array_like of int, shape (a, b)
        ``M(p) = f(e_p, e_M)`` as codes ``0..n_M - 1``.
    w_given_s : array_like, shape (n_S, n_W)
        Training: ``P(W | S_gen)``.
    s_given_m : array_like, shape (n_M, n_S), optional
        Curation: ``P(S_gen | M(p))``; default ``S_gen = M(p)``.
    w_prime_given_anchor : array_like, shape (a, n_W'), optional
        Training on the anchors: ``P(W' | S_anchor)``; default ``W' = S_anchor``.
    h_of : array_like of int, shape (a,), optional
        ``h(e_p)`` as codes; default ``h(e_p) = e_p``.

    Returns
    -------
    dict of str to float
        ``I_gen_W``, ``I_Mp_W``, ``I_ep_W``, ``I_eM_W``, ``B_syn``, ``dI``, ``H_eM``
        (the entropy of ``e_M``), ``H_ep``, ``I_ep_Mp``, ``lambda`` (the smallest
        admissible, ``inf`` when none is), ``delta_eps``, ``delta_eps_p``,
        ``lemma_4_5_rhs``, ``lemma_4_5_margin``, ``H_ep_given_Mp``,
        ``lemma_4_5_reduced_rhs`` (``B_syn + H(e_p | M(p)) - delta_eps``),
        ``GGMI``, ``alpha``, ``theorem_4_10_rhs``, ``theorem_4_10_margin``, ``H_Mp``,
        ``H_gen``.

    Notes
    -----
    Lemma 4.5: ``I(S_gen; W) <= -dI + B_syn + H(e_M) + (lambda - 1) I(e_p; M(p)) -
    delta_eps`` with ``dI = H(M(p)) - I(h(e_p); M(p))``, ``B_syn = I(e_M; W) +
    I(e_p; W)``, ``H(e_p) <= lambda I(e_p; M(p))``, ``delta_eps = I(M(p); W) -
    I(S_gen; W)``. Theorem 4.10: ``GGMI = I(S_anchor; W') - I(S_gen; W) <= dI -
    (alpha + 1) H(S_anchor | W) + 2 dH + H(S_gen | W) + eps_{W,p}`` with
    ``alpha = H(S_anchor | W') / H(S_anchor | W)``, ``dH = H(S_anchor) - H(S_gen)``,
    ``eps_{W,p} = H(S_anchor | W) - H(S_anchor | M(p))``.
    """
    pe, pm = _pmf(p_ep, "p_ep"), _pmf(p_eM, "p_eM")
    a, b = pe.size, pm.size
    codes = np.asarray(m_of)
    if codes.shape != (a, b) or not np.issubdtype(codes.dtype, np.integer) or codes.min() < 0:
        raise ValidationError(
            f"`m_of` must be an array of non-negative int codes of shape ({a}, {b}). "
            f"Got {codes.dtype} array of shape {codes.shape} instead."
        )
    n_m = int(codes.max()) + 1
    sm = np.eye(n_m) if s_given_m is None else _stochastic(s_given_m, "s_given_m", n_m)
    ws = _stochastic(w_given_s, "w_given_s", sm.shape[1])
    wa = np.eye(a) if w_prime_given_anchor is None else _stochastic(
        w_prime_given_anchor, "w_prime_given_anchor", a)
    hc = np.arange(a) if h_of is None else np.asarray(h_of)
    if hc.shape != (a,) or not np.issubdtype(hc.dtype, np.integer) or hc.min() < 0:
        raise ValidationError(f"`h_of` must be {a} non-negative int codes. Got {hc!r}.")
    # joint[i, j, s, w] = p(e_p = i) p(e_M = j) P(S = s | M = f(i, j)) P(W = w | S = s)
    pij = pe[:, None] * pm[None, :]
    joint = pij[..., None, None] * sm[codes][..., None] * ws[None, None]
    p_mw = np.zeros((n_m, ws.shape[1]))
    np.add.at(p_mw, codes, joint.sum(2))
    p_m = p_mw.sum(1)
    p_im = np.zeros((a, n_m))  # (e_p, M)
    np.add.at(p_im, (np.repeat(np.arange(a), b), codes.ravel()), pij.ravel())
    p_hm = np.zeros((int(hc.max()) + 1, n_m))
    np.add.at(p_hm, hc, p_im)
    p_sw = joint.sum((0, 1))
    p_iw = joint.sum((1, 2))  # (e_p, W): S_anchor = e_p
    out: dict[str, float] = {}
    out["I_gen_W"] = _mi(p_sw)
    out["I_Mp_W"] = _mi(p_mw)
    out["I_ep_W"] = _mi(p_iw)
    out["I_eM_W"] = _mi(joint.sum((0, 2)))
    out["B_syn"] = out["I_ep_W"] + out["I_eM_W"]
    out["H_Mp"] = _h(p_m)
    out["H_gen"] = _h(p_sw.sum(1))
    out["dI"] = out["H_Mp"] - _mi(p_hm)
    out["H_eM"] = _h(pm)
    out["H_ep"] = _h(pe)
    out["I_ep_Mp"] = _mi(p_im)
    out["H_ep_given_Mp"] = out["H_ep"] - out["I_ep_Mp"]
    i_ep = out["I_ep_Mp"]
    lam = 1.0 if out["H_ep"] <= i_ep * (1 + 1e-12) else (out["H_ep"] / i_ep if i_ep > 0 else math.inf)
    out["lambda"] = lam
    out["delta_eps"] = out["I_Mp_W"] - out["I_gen_W"]
    out["delta_eps_p"] = (lam - 1.0) * i_ep - out["delta_eps"] if math.isfinite(lam) else math.inf
    out["lemma_4_5_rhs"] = -out["dI"] + out["B_syn"] + out["H_eM"] + out["delta_eps_p"]
    out["lemma_4_5_margin"] = out["lemma_4_5_rhs"] - out["I_gen_W"]
    out["lemma_4_5_reduced_rhs"] = out["B_syn"] + out["H_ep_given_Mp"] - out["delta_eps"]
    # Theorem 4.10
    p_iwp = pe[:, None] * wa  # (S_anchor, W')
    h_a = out["H_ep"]
    h_a_w = h_a - out["I_ep_W"]
    h_a_wp = h_a - _mi(p_iwp)
    alpha = h_a_wp / h_a_w if h_a_w > 0 else math.nan
    h_a_m = h_a - i_ep
    out["GGMI"] = _mi(p_iwp) - out["I_gen_W"]
    out["alpha"] = alpha
    d_h = h_a - out["H_gen"]
    out["theorem_4_10_rhs"] = (out["dI"] - (alpha + 1.0) * h_a_w + 2.0 * d_h
                               + (out["H_gen"] - out["I_gen_W"]) + (h_a_w - h_a_m))
    out["theorem_4_10_margin"] = out["theorem_4_10_rhs"] - out["GGMI"]
    return out


def z4_counterexample() -> dict[str, float]:
    """Lemma 4.5 is false: ``e_p, e_M`` uniform on Z_4, ``M = (e_p, e_M)``, ``W = e_p + e_M mod 4``.

    ``M(p) = (e_p, 0) + (0, e_M)`` is additive (Definition 4.1) and ``W`` is a function
    of ``S_gen = M(p)``. ``I(S_gen; W) = log 4`` while ``I(e_p; W) = I(e_M; W) = 0``,
    ``dI = H(e_M) = log 4``, ``lambda = 1`` and ``delta_eps = 0``, so the right-hand
    side is 0: the margin is ``-log 4``. Every term is a discrete entropy.

    Returns
    -------
    dict of str to float
        :func:`discrete_terms` of the chain.
    """
    z = np.arange(4)
    m_of = 4 * z[:, None] + z[None, :]  # the pair (e_p, e_M)
    w_given_s = np.zeros((16, 4))
    w_given_s[np.arange(16), (np.arange(16) // 4 + np.arange(16) % 4) % 4] = 1.0
    return discrete_terms(np.full(4, 0.25), np.full(4, 0.25), m_of, w_given_s)


def curation_counterexample() -> dict[str, float]:
    """Theorem 4.10 is false with curation noise: ``M(p) = e_p`` uniform on {0, 1} in Z_4,
    ``S_gen = M(p) + eps mod 4`` with ``eps`` uniform on {0, 1}, ``W = S_gen``, ``W' = S_anchor``.

    Under Definition 4.1 the theorem's margin is ``H(M(p)) - H(S_gen)``
    (docs/theory.md): here ``log 2 - 1.5 log 2 = -0.5 log 2``.

    Returns
    -------
    dict of str to float
        :func:`discrete_terms` of the chain.
    """
    s_given_m = np.zeros((2, 4))
    for m in range(2):
        s_given_m[m, [m, (m + 1) % 4]] = 0.5
    return discrete_terms([0.5, 0.5], [1.0], np.array([[0], [1]]), np.eye(4),
                          s_given_m=s_given_m)
