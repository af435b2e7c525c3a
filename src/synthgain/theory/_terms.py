"""Every term of Lemma 3.1, Lemma 4.5, Theorem 4.7 and Theorem 4.10, and their checks.

Definitions (dataset level, nats; docs/theory.md says why each is faithful):

* ``e_p`` = the prompt's re-estimated K components; ``e_M`` = the generator's random
  stream (component labels and normals), independent of ``e_p``.
* ``dI = H(M(p)) - I(e_p; M(p)) = H(M(p) | e_p) = n E_p h(M_p)`` (Def 4.2).
* ``H(e_M) := H(M(p) | e_p)``, the least entropy a discrete factor ``e_M`` with
  ``M(p) = f(e_p, e_M)`` can have.
* ``W = T(fit) + noise_scale * Z`` with ``T`` the Hellinger embedding of the fit.

Units. Every mutual information, TV, risk and the GGMI are unit-free; a differential
entropy of ``m`` coordinates moves by ``m log c`` when every coordinate is multiplied by
``c`` (:func:`unit_dependence`). Lemma 4.5 is therefore checked in a unit-free form
(its reduction with ``e_p`` quantised, and its proof's step (21)); the literal reading
with differential entropies is reported as depending on units, with its margin as a
function of the scale (:func:`differential_margin`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .._rng import RNGLike, child_generator, seed_sequence
from .._validation import check_choice, check_int, check_real
from ..exceptions import ValidationError
from ..measures import Estimate, Gaussian, entropy, total_variation
from ..mixture import GaussianMixture, MixtureStack
from ..process import Setup
from ._chain import Chain, ChainDraws, embed_fits, simulate_chain
from ._information import (
    _conditional_mi_terms,
    _crossed_terms,
    _noisy_mi_terms,
    asymptotic_parameter_information,
    two_way_stderr,
)

__all__ = [
    "BASES",
    "NOISE_REPS",
    "REFERENCES",
    "TheoryTerms",
    "Verdict",
    "check_inequalities",
    "compute_terms",
    "differential_margin",
    "unit_dependence",
]

#: Draws of W's noise ``Z`` per fitted model in the information estimates. Each MI is a
#: mean over the replicate fits (``B_p`` anchor fits, ``B_p x B_s`` synthetic fits) and
#: its standard error is taken over them, so the noise draws only shrink the part of the
#: variance that comes from ``Z``; 4 (as :func:`crossed_mutual_information`) keeps that
#: part small at 4 times the cost of one kernel matrix.
NOISE_REPS = 4

# Child streams of compute_terms' rng (task indices, as SeedSequence.spawn numbers them)
_SIMULATE, _MONTE_CARLO, _REFERENCE, _INFORMATION = 0, 1, 2, 3

#: Reference distributions ``q`` of W's embedding: ``(G + M_nominal) / 2`` or ``G``.
REFERENCES = ("mixture", "ground_truth")

#: What a verdict is evidence of (``Verdict.basis``).
BASES = {
    "measured": "evidence: rests on the estimated terms",
    "theorem": "check of the code: a theorem for every loss in [0, C]",
    "identity": "check of the code: both sides are one number by construction",
    "derived": "check of the code: the sign of the margin follows from the definitions",
    "units": "depends on units: the sign of the margin changes with the scale",
}

_HALF_LOG_2PIE = 0.5 * math.log(2 * math.pi * math.e)


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
        The options of the run, and per inequality its ``bases`` and ``notes``.
    embeddings : dict of str to ndarray
        ``"anchor"`` (B_p, R) and ``"synthetic"`` (B_p, B_s, R): the embeddings ``T`` of
        the fits, before W's noise (for checks of the information estimators).
    """

    terms: dict[str, Estimate]
    bounds: dict[str, tuple[Estimate, Estimate, Estimate, float]]
    params: dict[str, Any] = field(default_factory=dict)
    embeddings: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

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
    margin lies in ``[margin, margin + width]`` up to sampling error. ``basis`` says
    what the verdict is evidence of (a key of :data:`BASES`: ``"measured"``, or a check
    of the code: ``"theorem"``, ``"identity"``, ``"derived"``; ``"units"`` when the
    sign of the margin depends on the units), ``note`` anything the margin alone does
    not say (where the verdict changes).
    """

    name: str
    lhs: float
    rhs: float
    margin: float
    stderr: float
    verdict: str  # "holds", "violated", "undecided" or "depends on units"
    width: float = 0.0
    basis: str = "measured"
    note: str = ""


def check_inequalities(terms: TheoryTerms, *, z: float = 2.0) -> list[Verdict]:
    """Verdict per inequality.

    Holds if ``margin >= z se`` (the margin at the lower end of the right-hand side's
    bracket), violated if ``margin + width < -z se`` (even its upper end falls short),
    undecided otherwise. A margin of exactly 0 with no error (an identity) holds.

    ``lemma_4_5_differential`` (Lemma 4.5 read with differential entropies) has the
    margin ``A + max(0, B + slope log(c / c0))`` at scale ``c``
    (:func:`differential_margin`), whose infimum over scales is ``A``, the margin of
    ``lemma_4_5_step_21``: it holds at every scale when that step holds, and otherwise
    its verdict is ``"depends on units"`` (violated at small scales, holding at large
    ones), with the scale where it changes in ``note``.
    """
    if not isinstance(terms, TheoryTerms):
        raise ValidationError(f"`terms` must be a TheoryTerms. Got {type(terms).__name__}.")
    z = check_real(z, "z", low=0.0)
    bases = terms.params.get("bases", {})
    notes = terms.params.get("notes", {})
    out = {}
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
        out[name] = Verdict(name, lhs.value, rhs.value, m, se, v, width,
                            bases.get(name, "measured"), notes.get(name, ""))
    diff, step = out.get("lemma_4_5_differential"), out.get("lemma_4_5_step_21")
    if diff is not None and step is not None:
        if step.verdict == "holds":
            out[diff.name] = replace(diff, verdict="holds", basis="measured",
                                     note="holds at every scale (its step (21) holds)")
        else:
            out[diff.name] = replace(diff, verdict="depends on units")
    return list(out.values())


def differential_margin(terms: TheoryTerms, scale: Any) -> np.ndarray:
    """The margin of Lemma 4.5 read with differential entropies, at other scales.

    Parameters
    ----------
    terms : TheoryTerms
        Computed at ``Setup.scale = c0``.
    scale : float or array_like
        Values of ``Setup.scale`` (same draws, other units).

    Returns
    -------
    ndarray
        ``A + max(0, B + slope * log(scale / c0))``: ``A`` the margin of
        ``lemma_4_5_step_21`` (unit-free), ``B = H(e_p | M(p))`` (differential, at
        ``c0``), ``slope = K d (d + 2)`` (``H(e_p)`` has ``K d`` mean and ``K d(d+1)/2``
        covariance coordinates; a covariance coordinate scales by ``c^2``).

    Notes
    -----
    With ``H(e_M) = H(M(p) | e_p)`` and the smallest admissible
    ``lambda = max(1, H(e_p) / I(e_p; M(p)))``, the right-hand side minus
    ``I(S_gen; W)`` is ``B_syn - I(M(p); W) + max(0, H(e_p) - I(e_p; M(p)))``; only
    ``H(e_p)`` depends on the units.
    """
    if not isinstance(terms, TheoryTerms) or "lemma_4_5_units" not in terms.params:
        raise ValidationError(
            "`terms` must be a TheoryTerms from compute_terms (it needs params"
            "['lemma_4_5_units'])."
        )
    u = terms.params["lemma_4_5_units"]
    c = np.asarray(scale, dtype=np.float64)
    if not np.all(np.isfinite(c)) or np.any(c <= 0):
        raise ValidationError(f"`scale` must be positive and finite. Got {scale!r} instead.")
    return u["A"] + np.maximum(0.0, u["B"] + u["slope"] * np.log(c / u["scale"]))


def unit_dependence(setup: Any) -> dict[str, float | None]:
    """How each term of :func:`compute_terms` moves with ``Setup.scale``.

    Returns
    -------
    dict of str to float or None
        For each unit-dependent term, ``coef`` with
        ``term(c) = term(1) + coef * log(c)``, or None where the dependence is not of
        that form (``lambda``, ``alpha``, ``delta_eps_p`` and the differential
        ``lemma_4_5_rhs``). Terms not listed are unit-free.

    Notes
    -----
    A differential entropy of ``m`` coordinates gains ``m log c``: ``H(S_anchor)`` has
    ``K N_k d`` coordinates, ``H(M(p))``, ``H(S_gen)`` and ``dI`` have ``n d``,
    ``H(e_p)`` has ``K d(d+2)`` (its covariance coordinates count twice). Mutual
    informations, TV, the risks (the loss uses the density per unit volume of the
    setting's own length, ``scale``) and every margin but the differential Lemma 4.5's
    are unit-free.
    """
    if not isinstance(setup, Setup):
        raise ValidationError(f"`setup` must be a Setup. Got {type(setup).__name__}.")
    a, g = setup.K * setup.n_anchor_per_component * setup.d, setup.n_synthetic * setup.d
    shifts: dict[str, float | None] = {
        "H_anchor": a, "dI": g, "H_gen_given_prompt": g, "H_ep": setup.K * setup.d * (setup.d + 2),
        "H_Mp": g, "H_gen": g, "dH": a - g, "H_eM": g, "H_anchor_given_Wprime": a,
        "H_anchor_given_W": a, "H_gen_given_W": g,
        "H_ep_given_Mp": setup.K * setup.d * (setup.d + 2),
        "alpha": None, "lambda": None, "delta_eps_p": None, "lemma_4_5_rhs": None,
    }
    return shifts


def _clipped_nll(logp: np.ndarray, c: float, log_unit: float = 0.0) -> np.ndarray:
    """The bounded loss of Lemma 3.1: ``min(max(-log p, 0), C)``.

    ``log_unit = d log(scale)`` expresses the density per unit volume of the setting's
    own length (``scale``), so that the loss does not depend on the units; it is 0 at
    scale 1 (and then not added, so the loss is bit for bit ``-log p`` clipped).
    """
    return np.clip(-(logp + log_unit) if log_unit else -logp, 0.0, c)


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
    reference: str = "mixture",
    resolution: float = 1.0,
    rng: RNGLike = None,
) -> TheoryTerms:
    r"""Compute every term for one setting.

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
    reference : {"mixture", "ground_truth"}, default "mixture"
        The distribution ``q`` of the embedding's reference points:
        ``(G + M_nominal) / 2`` or ``G``.
    resolution : float, default 1
        ``delta``: the unit-free Lemma 4.5 quantises ``e_p`` on a grid of ``delta``
        standard deviations of its sampling distribution (in whitened coordinates), so
        ``H(e_p | M(p))`` is a discrete entropy (see Notes).
    rng : int, SeedSequence, Generator or None
        :func:`simulate_chain`, the Monte Carlo terms, the embedding's reference points
        and the information estimates use children 0, 1, 2 and 3 of ``rng``
        (:func:`synthgain._rng.child_seed`).

    Returns
    -------
    TheoryTerms

    Notes
    -----
    Lemma 4.5 reduces, for discrete variables and at its tightest admissible
    ``H(e_M) = H(M(p) | e_p)`` and ``lambda I(e_p; M(p)) = H(e_p)``, to

    .. math:: I(S_{gen}; W) \le I(e_p; W) + I(e_M; W) + H(e_p \mid M(p)) - \delta_\epsilon

    (docs/theory.md). Every term is unit-free once ``e_p`` is discrete. With ``e_p``
    whitened (``u``, unit sampling covariance, ``m = K (d + d(d+1)/2)`` coordinates)
    and quantised at ``delta``, ``H([u]_delta | M) >= h(u | M) - m log(delta)``
    (the entropy of a variable is at least its differential entropy minus the log of
    the cell volume) and ``h(u | M) = m/2 log(2 pi e) - I(e_p; M(p))`` (asymptotic
    normality); ``H_ep_given_Mp_discrete`` is that lower bound (at least 0), so the
    check ``lemma_4_5`` is conservative.
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
    reference = check_choice(reference, "reference", REFERENCES)
    delta = check_real(resolution, "resolution", low=0.0, closed="neither")
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
    emb = _information(chain, draws, sigma, r, reps, reference, g_ref, g_mi, base, cells)
    params = {
        "K": chain.setup.K, "J": chain.setup.J, "L": chain.setup.L, "dim": chain.dim,
        "scale": chain.setup.scale, "noise_scale": sigma, "loss_bound": c,
        "n_prompts": n_prompts, "n_streams": n_streams, "n_samples": n_mc, "n_reference": r,
        "reference": reference, "resolution": delta, "noise_reps": reps,
        "curation_noise": chain.setup.noise, "n_fit_warnings": draws.n_fit_warnings,
    }
    out = _assemble(chain, base, cells, c, params)
    return replace(out, embeddings=emb)


def _divergences(
    chain: Chain, draws: ChainDraws, c: float, n_mc: int, gen: np.random.Generator,
    out: dict[str, Estimate],
) -> None:
    """TV terms and risks of the fitted synthetic models (Lemma 3.1, Theorem 4.7)."""
    m0 = chain.generator_for(draws.prompt_means[0], draws.prompt_covariances[0])
    s2 = chain.setup.noise_sd**2
    u = chain.dim * math.log(chain.setup.scale)  # 0.0 at scale 1
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
    risk_d = _clipped_nll(_batched_logpdf(fits, xd), c, u)  # (B, n_mc)
    emp = _clipped_nll(_batched_logpdf(fits, draws.synthetic.reshape(nb, -1, chain.dim)), c,
                       u).mean(1)
    err = np.abs(risk_d.mean(1) - emp)
    se0 = risk_d[0].std(ddof=1) / math.sqrt(n_mc)
    out["generalization_error"] = Estimate(float(err[0]), float(se0), method="monte_carlo", n=(n_mc,))
    out["expected_generalization_error"] = Estimate(
        float(err.mean()), float(err.std(ddof=1) / math.sqrt(nb)), method="replicates", n=(nb,)
    )
    risk_g = _clipped_nll(_batched_logpdf(fits, xg)[:1], c, u)[0]
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
        names["H_gen_given_prompt"] = chain.setup.noise_sd**2
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
        i_s, _ = asymptotic_parameter_information(cov, nk, per,
                                                  noise_var=chain.setup.noise_sd**2)
        info_m, info_s, h_ep = info_m + i_m, info_s + i_s, h_ep + h
    out["I_anchor_Mp"] = Estimate(info_m, method="asymptotic_normal")
    out["I_anchor_gen"] = Estimate(info_s, method="asymptotic_normal")
    out["H_ep"] = Estimate(h_ep, method="asymptotic_normal")


def _information(
    chain: Chain, draws: ChainDraws, sigma: float, r: int, reps: int, reference: str,
    g_ref: np.random.Generator, g_mi: np.random.Generator, out: dict[str, Estimate],
    cells: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    g, m0 = chain.ground_truth, chain.nominal_generator()
    if reference == "mixture":
        ref = np.concatenate([g.sample(r - r // 2, rng=g_ref)[0], m0.sample(r // 2, rng=g_ref)[0]])
        ref_logq = np.logaddexp(g.logpdf(ref), m0.logpdf(ref)) - math.log(2.0)
    else:  # "ground_truth"
        ref = g.sample(r, rng=g_ref)[0]
        ref_logq = g.logpdf(ref)

    def embed(fit: Any) -> np.ndarray:
        return embed_fits(fit, ref, ref_logq)

    s = sigma / math.sqrt(r)
    bp, bs = draws.generated.shape[:2]
    prm = {"noise_scale": sigma, "reps": reps}
    # I(S_anchor; W'): one anchor fit per prompt (row o of the crossed design)
    t_anchor = embed(draws.anchor_fits)
    ta = _noisy_mi_terms(t_anchor, None, s, reps, g_mi)
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
    _matched(t_anchor, ta, ts, s, reps, g_mi, prm, out)
    return {"anchor": t_anchor, "synthetic": ts}


def _matched(
    t_anchor: np.ndarray, ta: np.ndarray, ts: np.ndarray, s: float, reps: int,
    g_mi: np.random.Generator, prm: dict[str, Any], out: dict[str, Estimate],
) -> None:
    """``I(S_gen; W)`` and the GGMI with the design of ``I(S_anchor; W')``.

    The cells ``(o, o)`` of the crossed design (prompt ``o``, stream ``o``) are
    ``m = min(B_p, B_s)`` independent synthetic datasets; the estimator is the one of
    the anchor side (:func:`noisy_mutual_information` with ``m`` replicates, leave one
    out), and the GGMI is the mean of the per-prompt differences (on the first ``m``
    prompts, the anchor side re-estimated on them when ``m < B_p``).
    """
    m = min(ts.shape[0], ts.shape[1])
    tg = _noisy_mi_terms(ts[np.arange(m), np.arange(m)], None, s, reps, g_mi)
    tam = ta if m == ta.size else _noisy_mi_terms(t_anchor[:m], None, s, reps, g_mi)
    diff = tam - tg
    out["I_gen_W_matched"] = Estimate(float(tg.mean()), float(tg.std(ddof=1) / math.sqrt(m)),
                                      method="sample_propagation", n=(m,), params=prm)
    out["GGMI_matched"] = Estimate(float(diff.mean()), float(diff.std(ddof=1) / math.sqrt(m)),
                                   method="sample_propagation", n=(m,), params=prm)


def _bases_and_notes(
    chain: Chain, terms: dict[str, Estimate], step: float, m_ep: int, c_tv: float,
) -> dict[str, Any]:
    """What each verdict is evidence of, where it changes, and the differential Lemma 4.5's
    margin as a function of the scale (:func:`differential_margin`)."""
    s = chain.setup
    noisy = s.noise > 0
    bases = {"lemma_3_1": "theorem", "theorem_4_10": "derived" if noisy else "identity",
             "lemma_4_5_step_21": "derived", "lemma_4_5_differential": "units"}
    notes: dict[str, str] = {
        "lemma_4_5_step_21": "margin <= 0 for independent e_p, e_M: I(M(p); W) = I(e_p, e_M; W) "
                             ">= I(e_p; W) + I(e_M; W); its size (the synergy) is measured",
    }
    if noisy:
        notes["theorem_4_10"] = "margin = H(M(p)) - H(S_gen) = -I(S_gen; eps) < 0"
    i_ep = terms["I_anchor_Mp"].value
    if step < 0:  # the discrete reduction fails where H([e_p] | M) < -step
        crit = math.exp(_HALF_LOG_2PIE - (i_ep - step) / m_ep)
        notes["lemma_4_5"] = (f"holds for every resolution below {crit:.3g} sampling standard "
                              "deviations of e_p (by the lower bound on H(e_p | M(p)))")
    slope = float(s.K * s.d * (s.d + 2))
    b_diff = terms["H_ep_given_Mp"].value
    units = {"A": step, "B": b_diff, "slope": slope, "scale": s.scale}
    if step < 0:
        c_star = s.scale * math.exp(-(step + b_diff) / slope)
        notes["lemma_4_5_differential"] = (f"margin < 0 below scale {c_star:.3g}, > 0 above: "
                                           f"{step:.3g} + max(0, {b_diff:.3g} + "
                                           f"{slope:g} log(scale / {s.scale:g}))")
    if c_tv >= terms["expected_generalization_error"].value:
        notes["theorem_4_7"] = "C TV alone exceeds the left-hand side"
    return {"bases": bases, "notes": notes, "lemma_4_5_units": units}


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
    # the unit-free reduction: B_syn + H([e_p]_delta | M(p)) - delta_eps (see compute_terms)
    s = chain.setup
    m_ep = s.K * (s.d + s.d * (s.d + 1) // 2)
    t["H_ep_given_Mp"] = b["H_ep"] - b["I_anchor_Mp"]
    h_disc = m_ep * (_HALF_LOG_2PIE - math.log(params["resolution"])) - base["I_anchor_Mp"].value
    t["H_ep_given_Mp_discrete"] = _Lin(max(0.0, h_disc))
    t["lemma_4_5_rhs_discrete"] = t["B_syn"] + t["H_ep_given_Mp_discrete"] + minus_delta
    t["theorem_4_10_rhs"] = (
        b["dI"] - (t["alpha"] + 1.0) * t["H_anchor_given_W"] + t["dH"] * 2.0
        + t["H_gen_given_W"] + t["eps_Wp"]
    )
    tv = (b["tv_task"] + b["tv_generation"]) * c
    t["lemma_3_1_rhs"] = tv + b["generation_error_term"]
    # Lemma 4.4 with contraction factor 1 and sigma_subG = C / 2 (loss in [0, C]), with
    # Lemma 4.5's unit-free right-hand side
    rhs45 = t["lemma_4_5_rhs_discrete"]
    scale = (c / 2) * math.sqrt(2 / chain.setup.n_synthetic)
    t["theorem_4_7_rhs"] = tv + _sqrt(rhs45, scale)
    width47 = (
        scale * math.sqrt(max(rhs45.value + width, 0.0)) - _sqrt(rhs45, scale).value
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
        "lemma_4_5": (b["I_gen_W"], t["lemma_4_5_rhs_discrete"], width),
        "lemma_4_5_step_21": (t["I_Mp_W"], t["B_syn"], width),
        "lemma_4_5_differential": (b["I_gen_W"], t["lemma_4_5_rhs"], width),
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
    step = bounds["lemma_4_5_step_21"][2].value
    params = {**params, **_bases_and_notes(chain, terms, step, m_ep, tv.value)}
    return TheoryTerms(terms, bounds, params)
