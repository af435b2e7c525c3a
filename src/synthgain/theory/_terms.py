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

from .._rng import RNGLike, child_generator, seed_sequence
from .._validation import check_int, check_real
from ..exceptions import ValidationError
from ..measures import Estimate, Gaussian, entropy, total_variation
from ..mixture import GaussianMixture, MixtureStack
from ._chain import Chain, ChainDraws, embed_fits, simulate_chain
from ._information import (
    _conditional_mi_terms,
    _crossed_terms,
    _noisy_mi_terms,
    asymptotic_parameter_information,
    two_way_stderr,
)

__all__ = ["NOISE_REPS", "TheoryTerms", "Verdict", "check_inequalities", "compute_terms"]

#: Draws of W's noise ``Z`` per fitted model in the information estimates. Each MI is a
#: mean over the replicate fits (``B_p`` anchor fits, ``B_p x B_s`` synthetic fits) and
#: its standard error is taken over them, so the noise draws only shrink the part of the
#: variance that comes from ``Z``; 4 (as :func:`crossed_mutual_information`) keeps that
#: part small at 4 times the cost of one kernel matrix.
NOISE_REPS = 4

# Child streams of compute_terms' rng (task indices, as SeedSequence.spawn numbers them)
_SIMULATE, _MONTE_CARLO, _REFERENCE, _INFORMATION = 0, 1, 2, 3


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

    def stderr(self, se: dict[str, float], cells: dict[str, np.ndarray] | None = None) -> float:
        """First-order standard error.

        Base estimates named in ``cells`` are means of per-cell values of the crossed
        (prompt x stream) design, shape (B_p, B_s) or (B_p, 1) for per-prompt values;
        they are correlated through shared prompts and streams, so their combination is
        formed cell by cell and given the two-way error. The others are independent.
        """
        cells = cells or {}
        var = sum((v * se.get(k, 0.0)) ** 2 for k, v in self.grad.items() if k not in cells)
        shared = [v * cells[k] for k, v in self.grad.items() if k in cells and v != 0.0]
        if shared:
            shape = np.broadcast_shapes(*(a.shape for a in shared))
            total = np.zeros(shape)
            for a in shared:
                total = total + a
            var += two_way_stderr(total) ** 2
        return math.sqrt(var)


@dataclass(frozen=True)
class TheoryTerms:
    """Named estimates of the paper's quantities and the two sides of each bound.

    Attributes
    ----------
    terms : dict of str to Estimate
    bounds : dict of str to (Estimate, Estimate, Estimate, float)
        ``(lhs, rhs, rhs - lhs, width)`` per inequality. The right-hand side is known
        to lie in ``[rhs, rhs + width]``: ``width`` > 0 when a term is only bracketed
        (``delta_eps`` with curation noise), ``inf`` when it is only bounded below.
    params : dict
    """

    terms: dict[str, Estimate]
    bounds: dict[str, tuple[Estimate, Estimate, Estimate, float]]
    params: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> Any:
        """The terms as a pandas DataFrame: ``term``, ``value``, ``stderr``, ``method``,
        ``lower``, ``upper`` (one row per term)."""
        import pandas as pd

        rows = [
            {"term": k, "value": v.value, "stderr": v.stderr, "method": v.method,
             "lower": v.lower, "upper": v.upper}
            for k, v in self.terms.items()
        ]
        return pd.DataFrame(rows)


@dataclass(frozen=True)
class Verdict:
    """Whether one inequality holds: ``margin = rhs - lhs`` against ``z * stderr``.

    ``width`` is the uncertainty of the right-hand side from bracketed terms: the
    margin lies in ``[margin, margin + width]`` up to sampling error.
    """

    name: str
    lhs: float
    rhs: float
    margin: float
    stderr: float
    verdict: str  # "holds", "violated" or "undecided"
    width: float = 0.0


def check_inequalities(terms: TheoryTerms, *, z: float = 2.0) -> list[Verdict]:
    """Verdict per inequality.

    Holds if ``margin >= z se`` (the margin at the lower end of the right-hand side's
    bracket), violated if ``margin + width < -z se`` (even its upper end falls short),
    undecided otherwise. A margin of exactly 0 with no error (an identity) holds.
    """
    if not isinstance(terms, TheoryTerms):
        raise ValidationError(f"`terms` must be a TheoryTerms. Got {type(terms).__name__}.")
    z = check_real(z, "z", low=0.0)
    out = []
    for name, (lhs, rhs, margin, width) in terms.bounds.items():
        se = margin.stderr or 0.0
        scale = max(1.0, abs(lhs.value), abs(rhs.value))
        m = 0.0 if abs(margin.value) <= 1e-9 * scale else margin.value  # rounding of an identity
        se = 0.0 if se <= 1e-9 * scale else se
        if m + width + z * se < 0:
            v = "violated"
        elif m - z * se >= 0:
            v = "holds"
        else:
            v = "undecided"
        out.append(Verdict(name, lhs.value, rhs.value, m, se, v, width))
    return out


def _clipped_nll(logp: np.ndarray, c: float) -> np.ndarray:
    """The bounded loss of Lemma 3.1: ``min(max(-log p, 0), C)``."""
    return np.clip(-logp, 0.0, c)


def _batched_logpdf(fit: Any, x: np.ndarray) -> np.ndarray:
    """``log p_b(x_{b n})`` for B fits: x (B, n, d) or (n, d) -> (B, n)."""
    return MixtureStack.from_fit(fit).logpdf(x)


def compute_terms(
    chain: Chain,
    *,
    noise_scale: float = 1.0,
    loss_bound: float = 10.0,
    n_prompts: int = 24,
    n_streams: int = 24,
    n_samples: int = 4000,
    n_reference: int = 64,
    n_noise_draws: int = 2,
    noise_reps: int = NOISE_REPS,
    rng: RNGLike = None,
) -> TheoryTerms:
    """Compute every term for one setting.

    Parameters
    ----------
    chain : Chain
        The fixed parts of the setting (:func:`chain_from_setup`).
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
    n_noise_draws : int, default 2
        With curation noise: further noise draws fitted per generated dataset, which
        bracket ``delta_eps = -I(S_gen; W | M(p))``. 0 leaves it unestimated (only
        ``delta_eps <= 0`` is then used).
    noise_reps : int, default NOISE_REPS (4)
        Draws of W's noise ``Z`` per fitted model in every information estimate.
    rng : int, SeedSequence, Generator or None
        :func:`simulate_chain`, the Monte Carlo terms, the embedding's reference points
        and the information estimates use children 0, 1, 2 and 3 of ``rng``
        (:func:`synthgain._rng.child_seed`).

    Returns
    -------
    TheoryTerms
    """
    if not isinstance(chain, Chain):
        raise ValidationError(
            f"`chain` must be a Chain (see chain_from_setup). Got {type(chain).__name__}."
        )
    sigma = check_real(noise_scale, "noise_scale", low=0.0, closed="neither")
    c = check_real(loss_bound, "loss_bound", low=0.0, closed="neither")
    n_mc = check_int(n_samples, "n_samples", low=10)
    r = check_int(n_reference, "n_reference", low=2)
    reps = check_int(noise_reps, "noise_reps", low=1)
    root = seed_sequence(rng)
    g_sim, g_mc, g_ref, g_mi = (
        child_generator(root, key) for key in (_SIMULATE, _MONTE_CARLO, _REFERENCE, _INFORMATION)
    )
    draws = simulate_chain(chain, n_prompts=n_prompts, n_streams=n_streams,
                           n_noise_draws=n_noise_draws, rng=g_sim)
    base: dict[str, Estimate] = {}
    cells: dict[str, np.ndarray] = {}
    _divergences(chain, draws, c, n_mc, g_mc, base)
    _entropies(chain, draws, n_mc, g_mc, base, cells)
    _information(chain, draws, sigma, r, reps, g_ref, g_mi, base, cells)
    params = {
        "K": chain.setup.K, "J": chain.setup.J, "L": chain.setup.L, "dim": chain.dim, "noise_scale": sigma, "loss_bound": c, "n_prompts": n_prompts,
        "n_streams": n_streams, "n_samples": n_mc, "n_reference": r,
        "noise_reps": reps, "curation_noise": chain.setup.noise, "n_fit_warnings": draws.n_fit_warnings,
    }
    return _assemble(chain, base, cells, c, params)


def _divergences(
    chain: Chain, draws: ChainDraws, c: float, n_mc: int, gen: np.random.Generator,
    out: dict[str, Estimate],
) -> None:
    """TV terms and risks of the fitted synthetic models (Lemma 3.1, Theorem 4.7)."""
    m0 = chain.generator_for(draws.prompt_means[0], draws.prompt_covariances[0])
    s2 = chain.setup.noise**2
    dgen = GaussianMixture._from_trusted(m0.weights, m0.means, m0.covariances + s2 * np.eye(chain.dim))
    out["tv_task"] = total_variation(chain.ground_truth, m0, method="monte_carlo", n_samples=n_mc, rng=gen)
    out["tv_generation"] = (
        Estimate(0.0, 0.0, method="exact (no curation noise)")
        if s2 == 0
        else total_variation(m0, dgen, method="monte_carlo", n_samples=n_mc, rng=gen)
    )
    fits = draws.synthetic_fits
    xd = chain.ground_truth.sample(n_mc, rng=gen)[0]
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
    chain: Chain, draws: ChainDraws, n_mc: int, gen: np.random.Generator,
    out: dict[str, Estimate], cells: dict[str, np.ndarray],
) -> None:
    k, nk, n = chain.setup.K, chain.setup.n_anchor_per_component, chain.setup.n_synthetic
    h_g = (
        entropy(Gaussian(np.zeros(chain.dim), cv)).value
        for cv in chain.ground_truth.covariances[:k]
    )
    out["H_anchor"] = Estimate(nk * sum(h_g), method="closed_form")
    w, m, cv = chain._generator_arrays(draws.prompt_means, draws.prompt_covariances)
    names = {"dI": 0.0}
    if chain.setup.noise > 0:
        names["H_gen_given_prompt"] = chain.setup.noise**2
    for name, s2 in names.items():
        # one Monte Carlo entropy per prompt's mixture M_p (measures.entropy)
        hs = np.array([
            entropy(GaussianMixture._from_trusted(w, mb, cb + s2 * np.eye(chain.dim)),
                    method="monte_carlo", n_samples=n_mc, rng=gen).value
            for mb, cb in zip(m, cv, strict=True)
        ])
        out[name] = Estimate(n * float(hs.mean()), n * float(hs.std(ddof=1)) / math.sqrt(hs.size),
                             method="monte_carlo", n=(hs.size, n_mc))
        cells[name] = n * hs[:, None]  # per prompt
    info_m = info_s = h_ep = 0.0
    per = n / chain.n_generator_components
    for cov in chain.ground_truth.covariances[:k]:
        i_m, h = asymptotic_parameter_information(cov, nk, per)
        i_s, _ = asymptotic_parameter_information(cov, nk, per, noise_var=chain.setup.noise**2)
        info_m, info_s, h_ep = info_m + i_m, info_s + i_s, h_ep + h
    out["I_anchor_Mp"] = Estimate(info_m, method="asymptotic_normal")
    out["I_anchor_gen"] = Estimate(info_s, method="asymptotic_normal")
    out["H_ep"] = Estimate(h_ep, method="asymptotic_normal")


def _information(
    chain: Chain, draws: ChainDraws, sigma: float, r: int, reps: int, g_ref: np.random.Generator,
    g_mi: np.random.Generator, out: dict[str, Estimate], cells: dict[str, np.ndarray],
) -> None:
    g, m0 = chain.ground_truth, chain.nominal_generator()
    ref = np.concatenate([g.sample(r - r // 2, rng=g_ref)[0], m0.sample(r // 2, rng=g_ref)[0]])
    ref_logq = np.logaddexp(g.logpdf(ref), m0.logpdf(ref)) - math.log(2.0)

    def embed(fit: Any) -> np.ndarray:
        return embed_fits(fit, ref, ref_logq)

    s = sigma / math.sqrt(r)
    bp, bs = draws.generated.shape[:2]
    prm = {"noise_scale": sigma, "reps": reps}
    # I(S_anchor; W'): one anchor fit per prompt (row o of the crossed design)
    ta = _noisy_mi_terms(embed(draws.anchor_fits), None, s, reps, g_mi)
    out["I_anchor_Wprime"] = Estimate(float(ta.mean()), float(ta.std(ddof=1) / math.sqrt(bp)),
                                      method="sample_propagation", n=(bp,), params=prm)
    cells["I_anchor_Wprime"] = ta[:, None]
    ts = embed(draws.synthetic_fits).reshape(bp, bs, r)
    terms = _crossed_terms(ts, s, reps, g_mi)  # (3, B_p, B_s)
    for name, t in zip(("I_ep_W", "I_eM_W", "I_gen_W"), terms, strict=True):
        out[name] = Estimate(float(t.mean()), two_way_stderr(t), method="sample_propagation_crossed",
                             n=(bp, bs), params=prm)
        cells[name] = t
    if draws.noise_fits is not None:
        te = embed(draws.noise_fits).reshape(bp, bs, -1, r)
        lo, hi = _conditional_mi_terms(np.concatenate([ts[:, :, None], te], axis=2), s, reps, g_mi)
        out["I_gen_W_given_Mp"] = Estimate(
            float(lo.mean()), two_way_stderr(lo), method="infonce_loo_bracket", n=(bp, bs, te.shape[2] + 1),
            params=prm, lower=float(lo.mean()), upper=float(hi.mean()),
        )
        cells["I_gen_W_given_Mp"] = lo


def _sqrt(x: _Lin, scale: float) -> _Lin:
    """``scale * sqrt(max(x, 0))`` with its first-order dependence (0 at x <= 0)."""
    if x.value <= 0:
        return _Lin(0.0)
    root = math.sqrt(x.value)
    return _Lin(scale * root, {k: v * scale / (2 * root) for k, v in x.grad.items()})


def _noise_terms(chain: Chain, base: dict[str, Estimate], b: dict[str, _Lin]) -> tuple[_Lin, float]:
    """``-delta_eps = I(S_gen; W | M(p))`` at the lower end of its bracket, and the bracket width.

    ``M(p) -> S_gen -> W`` is a Markov chain, so ``I(S_gen; W) = I(M(p); W) +
    I(S_gen; W | M(p))`` and the paper's ``delta_eps = I(M(p); W) - I(S_gen; W)``
    (proof of Lemma 4.5, eq. 17) is ``-I(S_gen; W | M(p)) <= 0``.
    """
    if chain.setup.noise == 0:
        return _Lin(0.0), 0.0  # S_gen = M(p): exact
    if "I_gen_W_given_Mp" not in base:
        return _Lin(0.0), math.inf  # only -delta_eps >= 0 is known
    est = base["I_gen_W_given_Mp"]
    return b["I_gen_W_given_Mp"], float(est.upper) - float(est.lower)  # type: ignore[arg-type]


def _assemble(
    chain: Chain, base: dict[str, Estimate], cells: dict[str, np.ndarray], c: float,
    params: dict[str, Any],
) -> TheoryTerms:
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
    minus_delta, width = _noise_terms(chain, base, b)
    t["delta_eps"] = minus_delta * -1.0
    t["I_Mp_W"] = b["I_gen_W"] - minus_delta
    t["delta_eps_p"] = (lam - 1.0) * b["I_anchor_Mp"] + minus_delta
    t["lemma_4_5_rhs"] = b["dI"] * -1.0 + t["B_syn"] + t["H_eM"] + t["delta_eps_p"]
    t["theorem_4_10_rhs"] = (
        b["dI"] - (t["alpha"] + 1.0) * t["H_anchor_given_W"] + t["dH"] * 2.0
        + t["H_gen_given_W"] + t["eps_Wp"]
    )
    tv = (b["tv_task"] + b["tv_generation"]) * c
    t["lemma_3_1_rhs"] = tv + b["generation_error_term"]
    # Lemma 4.4 with contraction factor 1 and sigma_subG = C / 2 (loss in [0, C])
    scale = (c / 2) * math.sqrt(2 / chain.setup.n_synthetic)
    t["theorem_4_7_rhs"] = tv + _sqrt(t["lemma_4_5_rhs"], scale)
    width47 = (
        scale * math.sqrt(max(t["lemma_4_5_rhs"].value + width, 0.0)) - _sqrt(t["lemma_4_5_rhs"], scale).value
        if math.isfinite(width) else math.inf
    )
    terms = dict(base)
    for k, v in t.items():
        terms[k] = Estimate(v.value, v.stderr(se, cells), method="derived")
    if "I_gen_W_given_Mp" in base:
        est = base["I_gen_W_given_Mp"]
        terms["delta_eps"] = Estimate(
            -est.value, est.stderr, method="derived", lower=-float(est.upper),  # type: ignore[arg-type]
            upper=-float(est.lower),  # type: ignore[arg-type]
        )
    pairs = {
        "lemma_3_1": (b["generalization_error"], t["lemma_3_1_rhs"], 0.0),
        "lemma_4_5": (b["I_gen_W"], t["lemma_4_5_rhs"], width),
        "theorem_4_7": (b["expected_generalization_error"], t["theorem_4_7_rhs"], width47),
        "theorem_4_10": (t["GGMI"], t["theorem_4_10_rhs"], 0.0),
    }
    bounds = {}
    for name, (lhs, rhs, w) in pairs.items():
        margin = rhs - lhs
        bounds[name] = (
            Estimate(lhs.value, lhs.stderr(se, cells), method="derived"),
            Estimate(rhs.value, rhs.stderr(se, cells), method="derived"),
            Estimate(margin.value, margin.stderr(se, cells), method="derived"),
            w,
        )
    return TheoryTerms(terms, bounds, params)
