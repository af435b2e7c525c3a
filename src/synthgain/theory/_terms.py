"""Every term of Lemma 3.1, Lemma 4.5, Theorem 4.7 and Theorem 4.10, and their checks.

Definitions (dataset level, nats; docs/theory.md says why each is faithful):

* ``e_p`` = the prompt's re-estimated K components; ``e_M`` = the generator's random
  stream (component labels and normals), independent of ``e_p``.
* ``dI = H(M(p)) - I(e_p; M(p)) = H(M(p) | e_p) = n E_p h(M_p)`` (Def 4.2).
* ``H(e_M) := H(M(p) | e_p)``, the least entropy a factor ``e_M`` with
  ``M(p) = f(e_p, e_M)`` can have, so Lemma 4.5 is tested in its tightest form.
* ``W = T(fit) + noise_scale * Z`` with ``T`` the Hellinger embedding of the fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._rng import RNGLike, spawn_generators
from .._validation import check_int, check_real
from ..exceptions import ValidationError
from ..measures import Estimate, Gaussian, entropy, total_variation
from ..mixture import GaussianMixture
from ._chain import Chain, ChainDraws, embed_fits, simulate_chain
from ._information import (
    asymptotic_parameter_information,
    crossed_mutual_information,
    noisy_mutual_information,
)

__all__ = ["TheoryTerms", "Verdict", "check_inequalities", "compute_terms"]


class _Lin:
    """A value with its first-order dependence on independent base estimates."""

    def __init__(self, value: float, grad: dict[str, float] | None = None) -> None:
        self.value, self.grad = float(value), dict(grad or {})

    def __add__(self, o: _Lin | float) -> _Lin:
        o = o if isinstance(o, _Lin) else _Lin(o)
        g = dict(self.grad)
        for k, v in o.grad.items():
            g[k] = g.get(k, 0.0) + v
        return _Lin(self.value + o.value, g)

    def __mul__(self, c: _Lin | float) -> _Lin:
        if isinstance(c, _Lin):  # product rule
            return self * c.value + c * self.value - self.value * c.value
        return _Lin(self.value * c, {k: v * c for k, v in self.grad.items()})

    __rmul__ = __mul__

    def __sub__(self, o: _Lin | float) -> _Lin:
        return self + (o if isinstance(o, _Lin) else _Lin(o)) * -1.0

    def __truediv__(self, o: _Lin) -> _Lin:  # delta method
        q = self.value / o.value
        return _Lin(q, (self * (1 / o.value) - o * (q / o.value)).grad)

    def stderr(self, se: dict[str, float]) -> float:
        return math.sqrt(sum((v * se.get(k, 0.0)) ** 2 for k, v in self.grad.items()))


@dataclass(frozen=True)
class TheoryTerms:
    """Named estimates of the paper's quantities and the two sides of each bound.

    Attributes
    ----------
    terms : dict of str to Estimate
    bounds : dict of str to (Estimate, Estimate, Estimate, bool)
        ``(lhs, rhs, rhs - lhs, rhs_is_upper)`` per inequality; ``rhs_is_upper`` marks a
        right-hand side evaluated at an upper value of an unestimated term.
    params : dict
    """

    terms: dict[str, Estimate]
    bounds: dict[str, tuple[Estimate, Estimate, Estimate, bool]]
    params: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> Any:
        """The terms as a pandas DataFrame (one row per term)."""
        import pandas as pd

        rows = [{"term": k, **v.to_dict()} for k, v in self.terms.items()]
        return pd.DataFrame(rows).drop(columns=["params", "n"])


@dataclass(frozen=True)
class Verdict:
    """Whether one inequality holds: ``margin = rhs - lhs`` against ``z * stderr``."""

    name: str
    lhs: float
    rhs: float
    margin: float
    stderr: float
    verdict: str  # "holds", "violated" or "undecided"


def check_inequalities(terms: TheoryTerms, *, z: float = 2.0) -> list[Verdict]:
    """Verdict per inequality: holds if ``margin >= z se``, violated if ``margin < -z se``.

    A margin of exactly 0 with no error (an identity) holds. When the right-hand side is
    only an upper value (``rhs_is_upper``), "holds" is reported as "undecided".
    """
    if not isinstance(terms, TheoryTerms):
        raise ValidationError(f"`terms` must be a TheoryTerms. Got {type(terms).__name__}.")
    z = check_real(z, "z", low=0.0)
    out = []
    for name, (lhs, rhs, margin, upper) in terms.bounds.items():
        se = margin.stderr or 0.0
        scale = max(1.0, abs(lhs.value), abs(rhs.value))
        m = 0.0 if abs(margin.value) <= 1e-9 * scale else margin.value  # rounding of an identity
        se = 0.0 if se <= 1e-9 * scale else se
        if m + z * se < 0:
            v = "violated"
        elif m - z * se >= 0 and not upper:
            v = "holds"
        else:
            v = "undecided"
        out.append(Verdict(name, lhs.value, rhs.value, m, se, v))
    return out


def _clipped_nll(logp: np.ndarray, c: float) -> np.ndarray:
    """The bounded loss of Lemma 3.1: ``min(max(-log p, 0), C)``."""
    return np.clip(-logp, 0.0, c)


def _batched_logpdf(fit: Any, x: np.ndarray) -> np.ndarray:
    """``log p_b(x_{b n})`` for B fits: x (B, n, d) or (n, d) -> (B, n)."""
    from ..mixture import _kernels

    _, prec, logdet = _kernels.cholesky_factors(fit.covariances)
    with np.errstate(divide="ignore"):
        logw = np.log(fit.weights)
    xb = x if x.ndim == 3 else np.broadcast_to(x, (len(fit), *x.shape))
    return _kernels.mixture_logpdf(xb, logw, fit.means, prec, logdet)[0]


def compute_terms(
    chain: Chain,
    *,
    noise_scale: float = 1.0,
    loss_bound: float = 10.0,
    n_prompts: int = 24,
    n_streams: int = 24,
    n_samples: int = 4000,
    n_reference: int = 64,
    rng: RNGLike = None,
) -> TheoryTerms:
    """Compute every term for one setting.

    Parameters
    ----------
    chain : Chain
        The fixed parts of the setting (:func:`make_chain` or :func:`chain_from_setup`).
    noise_scale : float, default 1.0
        ``sigma``: ``W = T(fit) + sigma Z / sqrt(R)``, so the noise has norm about
        ``sigma`` in Hellinger-embedding units (``|T - T'|^2 ~ 2 H^2``).
    loss_bound : float, default 10
        ``C``: the loss is the clipped negative log-likelihood ``min(max(-log p, 0), C)``.
    n_prompts, n_streams : int
        Crossed replicates of the prompt ``e_p`` and the generator stream ``e_M``.
    n_samples : int
        Monte Carlo points per entropy, risk and TV evaluation.
    n_reference : int
        ``R``, reference points of the embedding (drawn from ``(G + M_nominal) / 2``).
    rng : int, SeedSequence, Generator or None

    Returns
    -------
    TheoryTerms
    """
    if not isinstance(chain, Chain):
        raise ValidationError(f"`chain` must be a Chain (see make_chain). Got {type(chain).__name__}.")
    sigma = check_real(noise_scale, "noise_scale", low=0.0, closed="neither")
    c = check_real(loss_bound, "loss_bound", low=0.0, closed="neither")
    n_mc = check_int(n_samples, "n_samples", low=10)
    r = check_int(n_reference, "n_reference", low=2)
    g_sim, g_mc, g_ref, g_mi = spawn_generators(rng, 4)
    draws = simulate_chain(chain, n_prompts=n_prompts, n_streams=n_streams, rng=g_sim)
    base: dict[str, Estimate] = {}
    _divergences(chain, draws, c, n_mc, g_mc, base)
    _entropies(chain, draws, n_mc, g_mc, base)
    _information(chain, draws, sigma, r, g_ref, g_mi, base)
    params = {
        "K": chain.n_anchor_components, "J": chain.n_unsampled, "L": chain.n_irrelevant,
        "dim": chain.dim, "noise_scale": sigma, "loss_bound": c, "n_prompts": n_prompts,
        "n_streams": n_streams, "n_samples": n_mc, "n_reference": r,
        "curation_noise": chain.curation_noise, "n_fit_warnings": draws.n_fit_warnings,
    }
    return _assemble(chain, base, c, params)


def _divergences(
    chain: Chain, draws: ChainDraws, c: float, n_mc: int, gen: np.random.Generator,
    out: dict[str, Estimate],
) -> None:
    """TV terms and risks of the fitted synthetic models (Lemma 3.1, Theorem 4.7)."""
    m0 = chain.generator(draws.prompt_means[0], draws.prompt_covariances[0])
    s2 = chain.curation_noise**2
    dgen = GaussianMixture._from_trusted(m0.weights, m0.means, m0.covariances + s2 * np.eye(chain.dim))
    out["tv_task"] = total_variation(chain.truth, m0, method="monte_carlo", n_samples=n_mc, rng=gen)
    out["tv_generation"] = (
        Estimate(0.0, 0.0, method="exact (no curation noise)")
        if s2 == 0
        else total_variation(m0, dgen, method="monte_carlo", n_samples=n_mc, rng=gen)
    )
    fits = draws.synthetic_fits
    xd = chain.truth.sample(n_mc, rng=gen)[0]
    xg = dgen.sample(n_mc, rng=gen)[0]
    nb = len(fits)  # type: ignore[arg-type]
    risk_d = _clipped_nll(_batched_logpdf(fits, xd), c)  # (B, n_mc)
    emp = _clipped_nll(_batched_logpdf(fits, draws.synthetic.reshape(nb, -1, chain.dim)), c).mean(1)
    err = np.abs(risk_d.mean(1) - emp)
    se0 = risk_d[0].std(ddof=1) / math.sqrt(n_mc)
    out["generalization_error"] = Estimate(float(err[0]), float(se0), method="monte_carlo", n=(n_mc,))
    out["expected_generalization_error"] = Estimate(
        float(err.mean()), float(err.std(ddof=1) / math.sqrt(nb)), method="replicates", n=(nb,)
    )
    risk_g = _clipped_nll(_batched_logpdf(fits, xg)[:1], c)[0]
    out["generation_error_term"] = Estimate(
        float(abs(risk_g.mean() - emp[0])), float(risk_g.std(ddof=1) / math.sqrt(n_mc)),
        method="monte_carlo", n=(n_mc,),
    )


def _entropies(
    chain: Chain, draws: ChainDraws, n_mc: int, gen: np.random.Generator, out: dict[str, Estimate]
) -> None:
    k, nk, n = chain.n_anchor_components, chain.anchors_per_component, chain.n_synthetic
    h_g = (
        entropy(Gaussian(np.zeros(chain.dim), cv)).value
        for cv in chain.truth.covariances[:k]
    )
    out["H_anchor"] = Estimate(nk * sum(h_g), method="closed_form")
    w, m, cv = chain._generator_arrays(draws.prompt_means, draws.prompt_covariances)
    names = {"dI": 0.0}
    if chain.curation_noise > 0:
        names["H_gen_given_prompt"] = chain.curation_noise**2
    for name, s2 in names.items():
        # one Monte Carlo entropy per prompt's mixture M_p (measures.entropy)
        hs = np.array([
            entropy(GaussianMixture._from_trusted(w, mb, cb + s2 * np.eye(chain.dim)),
                    method="monte_carlo", n_samples=n_mc, rng=gen).value
            for mb, cb in zip(m, cv, strict=True)
        ])
        out[name] = Estimate(n * float(hs.mean()), n * float(hs.std(ddof=1)) / math.sqrt(hs.size),
                             method="monte_carlo", n=(hs.size, n_mc))
    info_m = info_s = h_ep = 0.0
    per = n / chain.n_generator_components
    for cov in chain.truth.covariances[:k]:
        i_m, h = asymptotic_parameter_information(cov, nk, per)
        i_s, _ = asymptotic_parameter_information(cov, nk, per, noise_var=chain.curation_noise**2)
        info_m, info_s, h_ep = info_m + i_m, info_s + i_s, h_ep + h
    out["I_anchor_Mp"] = Estimate(info_m, method="asymptotic_normal")
    out["I_anchor_gen"] = Estimate(info_s, method="asymptotic_normal")
    out["H_ep"] = Estimate(h_ep, method="asymptotic_normal")


def _information(
    chain: Chain, draws: ChainDraws, sigma: float, r: int, g_ref: np.random.Generator,
    g_mi: np.random.Generator, out: dict[str, Estimate],
) -> None:
    g, m0 = chain.truth, chain.nominal_generator()
    ref = np.concatenate([g.sample(r - r // 2, rng=g_ref)[0], m0.sample(r // 2, rng=g_ref)[0]])
    ref_logq = np.logaddexp(g.logpdf(ref), m0.logpdf(ref)) - math.log(2.0)
    fa, fs = draws.anchor_fits, draws.synthetic_fits
    ta = embed_fits(fa.weights, fa.means, fa.covariances, ref, ref_logq)  # type: ignore[attr-defined]
    ts = embed_fits(fs.weights, fs.means, fs.covariances, ref, ref_logq)  # type: ignore[attr-defined]
    s = sigma / math.sqrt(r)
    out["I_anchor_Wprime"] = noisy_mutual_information(ta, s, rng=g_mi)
    bp, bs = draws.generated.shape[:2]
    rows, cols, cells = crossed_mutual_information(ts.reshape(bp, bs, r), s, rng=g_mi)
    out["I_ep_W"], out["I_eM_W"], out["I_gen_W"] = rows, cols, cells


def _assemble(chain: Chain, base: dict[str, Estimate], c: float, params: dict[str, Any]) -> TheoryTerms:
    se = {k: (v.stderr or 0.0) for k, v in base.items()}
    b = {k: _Lin(v.value, {k: 1.0}) for k, v in base.items()}
    h_gen_p = b.get("H_gen_given_prompt", b["dI"])
    t: dict[str, _Lin] = {}
    t["H_Mp"] = b["dI"] + b["I_anchor_Mp"]
    t["H_gen"] = h_gen_p + b["I_anchor_gen"]
    t["dH"] = b["H_anchor"] - t["H_gen"]
    t["H_eM"] = b["dI"]
    t["B_syn"] = b["I_ep_W"] + b["I_eM_W"]
    t["I_anchor_W"] = b["I_ep_W"]  # W depends on S_anchor only through e_p
    t["H_anchor_given_Wprime"] = b["H_anchor"] - b["I_anchor_Wprime"]
    t["H_anchor_given_W"] = b["H_anchor"] - b["I_ep_W"]
    t["H_gen_given_W"] = t["H_gen"] - b["I_gen_W"]
    t["alpha"] = t["H_anchor_given_Wprime"] / t["H_anchor_given_W"]
    t["eps_Wp"] = b["I_anchor_Mp"] - b["I_ep_W"]
    t["GGMI"] = b["I_anchor_Wprime"] - b["I_gen_W"]
    lam = max(1.0, base["H_ep"].value / base["I_anchor_Mp"].value)
    t["lambda"] = _Lin(lam)
    t["delta_eps_p"] = (lam - 1.0) * b["I_anchor_Mp"]  # delta_eps = 0 (exact without noise)
    t["lemma_4_5_rhs"] = b["dI"] * -1.0 + t["B_syn"] + t["H_eM"] + t["delta_eps_p"]
    t["theorem_4_10_rhs"] = (
        b["dI"] - (t["alpha"] + 1.0) * t["H_anchor_given_W"] + t["dH"] * 2.0
        + t["H_gen_given_W"] + t["eps_Wp"]
    )
    t["lemma_3_1_rhs"] = (b["tv_task"] + b["tv_generation"]) * c + b["generation_error_term"]
    # Lemma 4.4 with contraction factor 1 and sigma_subG = C / 2 (loss in [0, C])
    i45 = max(t["lemma_4_5_rhs"].value, 0.0)
    n = chain.n_synthetic
    t["theorem_4_7_rhs"] = (b["tv_task"] + b["tv_generation"]) * c + math.sqrt(2 * (c / 2) ** 2 * i45 / n)
    terms = dict(base)
    for k, v in t.items():
        terms[k] = Estimate(v.value, v.stderr(se), method="derived")
    noisy = chain.curation_noise > 0
    pairs = {
        "lemma_3_1": (b["generalization_error"], t["lemma_3_1_rhs"], False),
        "lemma_4_5": (b["I_gen_W"], t["lemma_4_5_rhs"], noisy),
        "theorem_4_7": (b["expected_generalization_error"], t["theorem_4_7_rhs"], noisy),
        "theorem_4_10": (t["GGMI"], t["theorem_4_10_rhs"], False),
    }
    bounds = {}
    for name, (lhs, rhs, upper) in pairs.items():
        margin = rhs - lhs
        bounds[name] = (
            Estimate(lhs.value, lhs.stderr(se), method="derived"),
            Estimate(rhs.value, rhs.stderr(se), method="derived"),
            Estimate(margin.value, margin.stderr(se), method="derived"),
            upper,
        )
    return TheoryTerms(terms, bounds, params)
