"""The KL Gap of Gan & Liu (2025, Section 4.4): estimators and the per-setting computation.

For one setting of the generation process (:class:`synthgain.process.Setup`) the KL Gap
is

    gap = D(pi_anchor, G) - D(pi_gen, G),

where ``G`` is the ground truth, ``pi_anchor`` the mixture fitted to the anchors and
``pi_gen`` the mixture fitted to the synthetic data; a larger gap means more gain from
the synthetic data. The paper's divergence is ``D(pi, G) = KL(pi || G)`` ("kl"); this
module also gives the reverse direction ``KL(G || pi)`` ("kl_reverse"), the Jensen-Shannon
divergence ("js") and the total variation distance ("tv").

Estimators, chosen by name:

``"monte_carlo"``
    Exact log-densities of the three mixtures at points drawn from them; the paper's
    ``rounds`` x ``n_eval`` re-sampling (100 x 1000). Unbiased for every measure.
``"histogram"``
    Two samples binned on *shared* edges over the union of their ranges (``bins`` per
    axis), with an additive ``pseudocount`` on every bin either sample occupies as the
    floor.
``"histogram_per_sample"``
    The authors' estimator, kept to replay their numbers and to show why they mislead
    (defective): each sample is binned on its own edges (``numpy.histogramdd(bins=50,
    density=True)`` over its own range), empty bins are floored at ``1e-10`` and the two
    flattened arrays are compared bin index by bin index, although bin ``i`` covers a
    different region in each. Two samples of one distribution get a KL of about 8 in
    ``d = 2``; a sample and its copy shifted by 100 get 0.
``"knn"``
    The Wang-Kulkarni-Verdu k-nearest-neighbour estimator of KL from the two samples
    (:func:`synthgain.measures.kl_divergence`), per round; "kl" and "kl_reverse" only.

Each round draws ``n_eval`` points from each of ``G``, ``pi_anchor`` and ``pi_gen`` (the
component counts from a multinomial, then the points of each component), each mixture
from its own random stream; the same draws serve every estimator and measure, and one
draw from ``G`` serves both terms of a round's gap (common random numbers). ``G``'s
points are drawn only when an estimate needs them (not for Monte Carlo KL alone), which
changes no other draw. A setting's value is the mean over rounds, its standard error the
standard deviation of the round values over ``sqrt(rounds)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._rng import RNGLike, check_rng, child_generator, spawn_generators
from .._validation import check_array, check_choice, check_int, check_real
from ..exceptions import ValidationError
from ..measures import (
    Estimate,
    binned_density_per_sample,
    binned_probabilities,
    discrete_divergence,
    kl_divergence,
    mc_divergence_rows,
)
from ..mixture import GaussianMixture, MixtureFit, MixtureStack
from ..process import Setup
from ._mc import (
    _EVAL,
    _simulate_and_fit,
    fit_simulation,
    setting_seed,
)

__all__ = [
    "ESTIMATORS",
    "MEASURES",
    "fit_simulation",
    "histogram_divergence",
    "kl_gap",
    "monte_carlo_divergence",
    "per_sample_histogram_kl",
    "run_settings",
    "setting_seed",
]

MEASURES = ("kl", "kl_reverse", "js", "tv")
_SUPPORTED = {
    "monte_carlo": MEASURES,
    "histogram": MEASURES,
    "histogram_per_sample": ("kl", "kl_reverse"),
    "knn": ("kl", "kl_reverse"),
}
ESTIMATORS = tuple(_SUPPORTED)
_DEFAULTS = {"bins": 10, "pseudocount": 0.5, "per_sample_bins": 50, "floor": 1e-10, "knn_k": 1}


# --- public estimators for two distributions or samples ----------------------------------


def histogram_divergence(xp: Any, xq: Any, *, measure: str = "kl", bins: int = 10,
                         pseudocount: float = 0.5) -> float:
    """Divergence ``D(p, q)`` of two samples binned on shared edges.

    Parameters
    ----------
    xp, xq : array_like, shape (n_p, d) and (n_q, d)
    measure : {"kl", "kl_reverse", "js", "tv"}
        ``KL(p || q)``, ``KL(q || p)``, Jensen-Shannon (nats), total variation.
    bins : int, default 10
        Equal bins per axis over the union of the two samples' ranges.
    pseudocount : float, default 0.5
        Added to the count of every bin that either sample occupies (the floor).

    Returns
    -------
    float

    Notes
    -----
    With ``c_i``, ``c'_i`` the counts in bin ``i`` and ``m`` the number of bins either
    sample occupies, ``p_i = (c_i + a) / (n_p + a m)`` and ``q_i = (c'_i + a) / (n_q + a m)``,
    and ``KL = sum_i p_i log(p_i / q_i)``. Two samples of one distribution give a small
    positive value (the plug-in bias, of order ``m / n``), identical samples give 0.
    The binning and smoothing are those of ``synthgain.measures.kl_divergence(xp, xq,
    method="histogram", bins=bins, alpha=pseudocount)``, which gives the same KL; JS and
    TV here are of the smoothed distributions (the measures' are unsmoothed).
    """
    a = check_array(xp, "xp", ndim=2, min_rows=1)
    b = check_array(xq, "xq", ndim=2, min_rows=1, dim=a.shape[1])
    measure = check_choice(measure, "measure", MEASURES)
    nb = _check_bins(bins, a.shape[1], "bins")
    pc = check_real(pseudocount, "pseudocount", low=0.0, closed="neither")
    return float(discrete_divergence(*binned_probabilities(a, b, nb, pc), measure))


def per_sample_histogram_kl(xp: Any, xq: Any, *, bins: int = 50, floor: float = 1e-10) -> float:
    """The authors' histogram KL (defective): each sample binned on its own edges.

    Kept to replay published numbers. It compares bin ``i`` of ``p`` with bin ``i`` of
    ``q`` although the two bins cover different regions, so it is blind to location:
    ``per_sample_histogram_kl(x, x + 100)`` is 0, while two samples of one distribution
    get about 8 in ``d = 2``. Use :func:`histogram_divergence` or Monte Carlo instead.

    Parameters
    ----------
    xp, xq : array_like, shape (n_p, d) and (n_q, d)
    bins : int, default 50
    floor : float, default 1e-10
        Empty density bins are set to ``floor`` before renormalising.

    Returns
    -------
    float

    Notes
    -----
    Equals ``scipy.stats.entropy(np.maximum(hp, floor).ravel(), np.maximum(hq, floor).ravel())``
    with ``hp, _ = numpy.histogramdd(xp, bins=bins, density=True)`` (and ``hq`` likewise).
    """
    a = check_array(xp, "xp", ndim=2, min_rows=1)
    b = check_array(xq, "xq", ndim=2, min_rows=1, dim=a.shape[1])
    nb = _check_bins(bins, a.shape[1], "bins")
    fl = check_real(floor, "floor", low=0.0, closed="neither")
    hp, hq = (binned_density_per_sample(x, nb, fl) for x in (a, b))
    return float(discrete_divergence(hp, hq, "kl"))


# dense histograms: bins**d cells per sample and round, held for a chunk of settings
_MAX_CELLS = 2**20


def _check_bins(bins: Any, d: int, name: str) -> int:
    b = check_int(bins, name, low=1)
    if b**d > _MAX_CELLS:
        raise ValidationError(
            f"`{name}`={b} gives {b}**{d} = {b**d} cells in d = {d}, more than {_MAX_CELLS}; "
            "use fewer bins or the 'monte_carlo' estimator."
        )
    return b


def _knn_values(xp: np.ndarray, xq: np.ndarray, measure: str, k: int) -> np.ndarray:
    """Wang-Kulkarni-Verdu (2009) kNN estimate of KL per (setting, round): (c, R, n, d) -> (c, R).

    Delegates to :func:`synthgain.measures.kl_divergence` (ties, if any, are broken by a
    fixed-seed jitter, so the result is deterministic) in the raw coordinates
    (``standardize=False``), as the protocol's recorded values were computed.
    """
    if measure == "kl_reverse":
        xp, xq = xq, xp
    out = np.empty(xp.shape[:2])
    for b, r in np.ndindex(*out.shape):
        out[b, r] = kl_divergence(xp[b, r], xq[b, r], method="wang_kulkarni_verdu", k=k,
                                  standardize=False, rng=0).value
    return out


def _check_mixture(m: Any, name: str) -> GaussianMixture:
    if isinstance(m, MixtureFit):
        return m.mixture
    if not isinstance(m, GaussianMixture):
        raise ValidationError(
            f"`{name}` must be a synthgain GaussianMixture (or MixtureFit). "
            f"Got {type(m).__name__} instead."
        )
    return m


def monte_carlo_divergence(p: Any, q: Any, *, measure: str = "kl", n_samples: int = 1000,
                           rounds: int = 100, rng: RNGLike = None) -> Estimate:
    """Monte Carlo estimate of ``D(p, q)`` for two Gaussian mixtures, with its standard error.

    Parameters
    ----------
    p, q : GaussianMixture
    measure : {"kl", "kl_reverse", "js", "tv"}
    n_samples : int, default 1000
        Points drawn from each mixture per round.
    rounds : int, default 100
        Independent rounds (>= 2); the standard error is their standard deviation over
        ``sqrt(rounds)``.
    rng : int, SeedSequence, Generator or None

    Returns
    -------
    Estimate

    Notes
    -----
    With exact log-densities at ``x ~ p`` and ``y ~ q``:
    ``KL(p || q) = E[log p(x) - log q(x)]``; ``kl_reverse`` swaps the roles;
    ``JS = (E[log 2p(x) / (p(x) + q(x))] + E[log 2q(y) / (p(y) + q(y))]) / 2``;
    ``TV = (E[(1 - q(x)/p(x))_+] + E[(1 - p(y)/q(y))_+]) / 2`` (each expectation
    equals TV; their mean has the smaller variance).
    """
    pm, qm = _check_mixture(p, "p"), _check_mixture(q, "q")
    if pm.dim != qm.dim:
        raise ValidationError(f"`p` and `q` must have one dimension. Got {pm.dim} and {qm.dim}.")
    measure = check_choice(measure, "measure", MEASURES)
    n = check_int(n_samples, "n_samples", low=1)
    r = check_int(rounds, "rounds", low=2)
    gen = check_rng(rng)
    sp, sq = MixtureStack.from_mixtures([pm]), MixtureStack.from_mixtures([qm])
    xp, xq = sp.draw(0, gen, r * n, group=n)[None], sq.draw(0, gen, r * n, group=n)[None]
    shape = (r, n)
    vals = mc_divergence_rows(measure, sp.logpdf(xp).reshape(shape), sq.logpdf(xp).reshape(shape),
                              sp.logpdf(xq).reshape(shape), sq.logpdf(xq).reshape(shape))
    return Estimate(float(vals.mean()), float(vals.std(ddof=1) / math.sqrt(r)),
                    method="monte_carlo", n=(r * n, r * n),
                    params={"measure": measure, "rounds": r, "n_samples": n})


# --- the KL gap of fitted settings, batched ----------------------------------------------


#: The estimator that reads each option.
_OPTION_OF = {"bins": "histogram", "pseudocount": "histogram",
              "per_sample_bins": "histogram_per_sample", "floor": "histogram_per_sample",
              "knn_k": "knn"}


def _check_options(options: dict[str, Any], estimators: Sequence[str]) -> dict[str, Any]:
    unknown = sorted(set(options) - set(_DEFAULTS))
    if unknown:
        raise ValidationError(
            f"Unknown estimator option(s) {unknown}. Known options: {sorted(_DEFAULTS)}."
        )
    out = {**_DEFAULTS, **options}
    check_int(out["bins"], "bins", low=1)
    check_int(out["per_sample_bins"], "per_sample_bins", low=1)
    check_real(out["pseudocount"], "pseudocount", low=0.0, closed="neither")
    check_real(out["floor"], "floor", low=0.0, closed="neither")
    check_int(out["knn_k"], "knn_k", low=1)
    for name, value in options.items():
        if _OPTION_OF[name] not in estimators and value != _DEFAULTS[name]:
            raise ValidationError(
                f"`{name}`={value!r} is read only by the {_OPTION_OF[name]!r} estimator, "
                f"which is not among the estimators {list(estimators)}; remove `{name}` or "
                f"add {_OPTION_OF[name]!r}."
            )
    return out


def _check_estimators(estimators: Any, measures: Any) -> dict[str, tuple[str, ...]]:
    """The measures to compute under each estimator, in MEASURES order."""
    if isinstance(estimators, str) or not estimators:
        raise ValidationError(
            f"`estimators` must be a non-empty list of names from {list(ESTIMATORS)}. "
            f"Got {estimators!r} instead."
        )
    wanted = MEASURES if measures is None else tuple(
        check_choice(m, "measures", MEASURES) for m in measures
    )
    plan = {}
    for est in estimators:
        check_choice(est, "estimators", ESTIMATORS)
        plan[est] = tuple(m for m in MEASURES if m in wanted and m in _SUPPORTED[est])
        if not plan[est]:
            raise ValidationError(
                f"Estimator {est!r} computes none of the measures {list(wanted)}; "
                f"it supports {list(_SUPPORTED[est])}."
            )
    return plan


# Coordinates of evaluation points held at once (three samples of R * n_eval points in d
# dimensions per setting, about 4.8 MB): settings are evaluated in chunks of this budget
# so that memory stays flat whatever the number of settings of one shape.
POINTS_PER_CHUNK = 600_000


def _chunk_size(n_points: int, d: int) -> int:
    """Settings per chunk: ``POINTS_PER_CHUNK`` coordinates over the 3 samples of each."""
    return max(1, POINTS_PER_CHUNK // (3 * n_points * d))


def _evaluate(gt: MixtureStack, fa: MixtureStack, fs: MixtureStack,
              gens: Sequence[Sequence[np.random.Generator]],
              plan: dict[str, tuple[str, ...]], rounds: int, n_eval: int,
              opts: dict[str, Any]) -> dict[tuple[str, str], np.ndarray]:
    """Round values for B settings of one shape: {(estimator, measure): (B, 2, R)}.

    Axis 1 holds ``D(pi_anchor, G)`` then ``D(pi_gen, G)``. Setting b draws the points of
    G, pi_anchor and pi_gen from ``gens[b][0]``, ``gens[b][1]`` and ``gens[b][2]``, so its
    values depend neither on the other settings nor on the estimators and measures
    requested (G's points are drawn only when some estimate needs them).
    """
    nb, d, npts = len(gt), gt.dim, rounds * n_eval
    out = {(e, m): np.empty((nb, 2, rounds)) for e, ms in plan.items() for m in ms}
    step = _chunk_size(npts, d)
    # G's points serve every estimator but Monte Carlo KL(., G)
    need_g = any(e != "monte_carlo" or m != "kl" for e, ms in plan.items() for m in ms)
    for lo in range(0, nb, step):
        sl = slice(lo, min(nb, lo + step))
        c = sl.stop - sl.start
        xg = np.empty((c, npts if need_g else 0, d))
        xa, xs = np.empty((c, npts, d)), np.empty((c, npts, d))
        for i, b in enumerate(range(sl.start, sl.stop)):
            if need_g:
                gt.draw(b, gens[b][0], npts, group=n_eval, out=xg[i])
            fa.draw(b, gens[b][1], npts, group=n_eval, out=xa[i])
            fs.draw(b, gens[b][2], npts, group=n_eval, out=xs[i])
        chunk = (gt.take(sl), fa.take(sl), fs.take(sl))
        for est, measures in plan.items():
            vals = _estimate_chunk(est, measures, xg, xa, xs, chunk, rounds, n_eval, opts)
            for m, v in vals.items():
                out[(est, m)][sl] = v
    return out


def _estimate_chunk(est: str, measures: tuple[str, ...], xg: np.ndarray, xa: np.ndarray,
                    xs: np.ndarray, stacks: Sequence[MixtureStack], rounds: int,
                    n_eval: int, opts: dict[str, Any]) -> dict[str, np.ndarray]:
    """{measure: (c, 2, R)} for one chunk of c settings with samples (c, R * n_eval, d);
    ``stacks`` are G, pi_anchor and pi_gen of the chunk (read by Monte Carlo)."""
    c, _, d = xg.shape
    shape = (c, rounds, n_eval)
    res: dict[str, np.ndarray] = {}
    if est == "monte_carlo":
        sg, sa, ss = stacks
        if measures == ("kl",):  # KL(pi || G) = E_pi[log pi - log G]: one fused pass
            ra = sa.log_ratio(xa, sg).reshape(shape)
            rs = ss.log_ratio(xs, sg).reshape(shape)
            return {"kl": np.stack([ra.mean(axis=-1), rs.mean(axis=-1)], axis=1)}
        lg_a, la_a = sg.logpdf(xa).reshape(shape), sa.logpdf(xa).reshape(shape)
        lg_s, ls_s = sg.logpdf(xs).reshape(shape), ss.logpdf(xs).reshape(shape)
        need_g = any(m != "kl" for m in measures)
        lg_g = sg.logpdf(xg).reshape(shape) if need_g else lg_a
        la_g = sa.logpdf(xg).reshape(shape) if need_g else lg_a
        ls_g = ss.logpdf(xg).reshape(shape) if need_g else lg_a
        for m in measures:
            res[m] = np.stack([mc_divergence_rows(m, la_a, lg_a, la_g, lg_g),
                               mc_divergence_rows(m, ls_s, lg_s, ls_g, lg_g)], axis=1)
        return res
    pts = (c, rounds, n_eval, d)
    xg4, xa4, xs4 = xg.reshape(pts), xa.reshape(pts), xs.reshape(pts)
    if est == "histogram":
        b = _check_bins(opts["bins"], d, "bins")
        probs = [binned_probabilities(x, xg4, b, opts["pseudocount"]) for x in (xa4, xs4)]
        for m in measures:
            res[m] = np.stack([discrete_divergence(p, q, m) for p, q in probs], axis=1)
        return res
    if est == "knn":
        for m in measures:
            res[m] = np.stack([_knn_values(x, xg4, m, opts["knn_k"]) for x in (xa4, xs4)], axis=1)
        return res
    b = _check_bins(opts["per_sample_bins"], d, "per_sample_bins")
    hg = binned_density_per_sample(xg4, b, opts["floor"])
    hx = [binned_density_per_sample(x, b, opts["floor"]) for x in (xa4, xs4)]
    for m in measures:  # "kl": KL(pi || G); "kl_reverse": KL(G || pi), bin index by index
        res[m] = np.stack([discrete_divergence(h, hg, m) for h in hx], axis=1)
    return res


def _summary(v: np.ndarray) -> tuple[float, float, float, float, float, float]:
    """(anchor, synthetic, gap) means and standard errors from round values (2, R)."""
    r = v.shape[-1]
    gap = v[0] - v[1]
    se = [float(np.std(x, ddof=1) / math.sqrt(r)) for x in (v[0], v[1], gap)]
    return float(v[0].mean()), float(v[1].mean()), float(gap.mean()), se[0], se[1], se[2]


def kl_gap(anchor_fit: Any, synthetic_fit: Any, ground_truth: Any, *,
           estimator: str = "monte_carlo", measure: str = "kl", rounds: int = 100,
           n_eval: int = 1000, rng: RNGLike = None, **options: Any) -> Estimate:
    """KL Gap ``D(pi_anchor, G) - D(pi_gen, G)`` of one setting, with its standard error.

    Parameters
    ----------
    anchor_fit, synthetic_fit, ground_truth : GaussianMixture or MixtureFit
        ``pi_anchor``, ``pi_gen`` and ``G``.
    estimator : {"monte_carlo", "histogram", "histogram_per_sample", "knn"}
    measure : {"kl", "kl_reverse", "js", "tv"}
        "histogram_per_sample" and "knn" support only "kl" and "kl_reverse".
    rounds : int, default 100
        Rounds of re-sampling (>= 2).
    n_eval : int, default 1000
        Points drawn from each of the three mixtures per round.
    rng : int, SeedSequence, Generator or None
    **options
        ``bins`` (10) and ``pseudocount`` (0.5) of "histogram"; ``per_sample_bins``
        (50) and ``floor`` (1e-10) of "histogram_per_sample"; ``knn_k`` (1) of "knn".

    Returns
    -------
    Estimate
        ``value`` the gap; ``params`` holds ``anchor_divergence`` = D(pi_anchor, G),
        ``synthetic_divergence`` = D(pi_gen, G) and their standard errors.

    Notes
    -----
    Gan & Liu (2025), Section 4.4: ``KL Gap = KL(pi^{S_anchor} || G) - KL(pi^{S_gen} || G)``.
    Round ``r`` gives ``g_r = D_r(pi_anchor, G) - D_r(pi_gen, G)``; the estimate is
    ``mean(g_r)`` with standard error ``std(g_r) / sqrt(rounds)``.
    """
    mixes = [_check_mixture(m, n) for m, n in
             ((ground_truth, "ground_truth"), (anchor_fit, "anchor_fit"),
              (synthetic_fit, "synthetic_fit"))]
    if len({m.dim for m in mixes}) != 1:
        raise ValidationError("`anchor_fit`, `synthetic_fit` and `ground_truth` must share one dimension.")
    plan = _check_estimators([estimator], [measure])
    r = check_int(rounds, "rounds", low=2)
    n = check_int(n_eval, "n_eval", low=1)
    opts = _check_options(options, [estimator])
    gens = spawn_generators(rng, 3)
    sg, sa, ss = (MixtureStack.from_mixtures([m]) for m in mixes)
    vals = _evaluate(sg, sa, ss, [gens], plan, r, n, opts)
    a, s, g, se_a, se_s, se_g = _summary(vals[(estimator, measure)][0])
    return Estimate(g, se_g, method=estimator, n=(r * n, r * n, r * n),
                    params={"measure": measure, "rounds": r, "n_eval": n,
                            "anchor_divergence": a, "synthetic_divergence": s,
                            "anchor_divergence_stderr": se_a,
                            "synthetic_divergence_stderr": se_s})


def _group_key(s: Setup) -> tuple[float, ...]:
    return (s.d, s.K, s.J, s.L, s.n_anchor, s.n_synthetic, s.k_anchor_fit, s.k_synthetic_fit,
            s.scale)


def run_settings(setups: Sequence[Setup], seeds: Sequence[np.random.SeedSequence], *,
                 estimators: Sequence[str] = ("monte_carlo",), rounds: int = 100,
                 n_eval: int = 1000, measures: Sequence[str] | None = None,
                 **estimator_options: Any) -> list[dict[str, Any]]:
    """Simulate, fit and measure the KL Gap of many settings; one tidy row per result.

    Parameters
    ----------
    setups : sequence of Setup
    seeds : sequence of numpy.random.SeedSequence
        One per setup. Setting i uses children 0..3 of ``seeds[i]`` for the process,
        the anchor fit, the synthetic fit and the evaluation draws (children 0, 1, 2 of
        the last for the points of G, pi_anchor and pi_gen), so its rows do not depend
        on which other settings share the call or their order, nor on the estimators
        and measures requested.
    estimators : sequence of str, default ("monte_carlo",)
        From ``ESTIMATORS``; all see the same evaluation draws.
    rounds, n_eval : int
        Rounds of re-sampling and points per mixture per round (the paper: 100, 1000).
    measures : sequence of str, optional
        Subset of ``MEASURES``; default all that each estimator supports.
    **estimator_options
        ``bins``, ``pseudocount``, ``per_sample_bins``, ``floor``, ``knn_k`` (see
        :func:`kl_gap`).

    Returns
    -------
    list of dict
        One row per (setting, estimator, measure), in the order of ``setups``: the
        setup's fields as ``param_<name>``, ``seed``, ``estimator``, ``measure``,
        ``anchor_divergence`` = D(pi_anchor, G) and ``synthetic_divergence`` = D(pi_gen, G)
        under that
        measure, ``gap``, their ``*_stderr``, ``rounds``, ``n_eval`` and the fits'
        ``*_converged`` / ``*_n_iter``. JSON-serialisable scalars only.

    Notes
    -----
    Settings of one shape (same K, J, L, d, sample sizes and fitted component counts)
    are fitted together by batched EM and evaluated with batched log-densities.
    """
    setups, seeds = list(setups), list(seeds)
    if len(setups) != len(seeds):
        raise ValidationError(
            f"`seeds` must have one SeedSequence per setup. Got {len(seeds)} seeds for "
            f"{len(setups)} setups."
        )
    for i, (s, ss) in enumerate(zip(setups, seeds, strict=True)):
        if not isinstance(s, Setup):
            raise ValidationError(f"`setups[{i}]` must be a Setup. Got {type(s).__name__}.")
        if not isinstance(ss, np.random.SeedSequence):
            raise ValidationError(
                f"`seeds[{i}]` must be a numpy SeedSequence. Got {type(ss).__name__}; "
                "derive them with numpy.random.SeedSequence(root).spawn(n)."
            )
    plan = _check_estimators(estimators, measures)
    r = check_int(rounds, "rounds", low=2)
    n = check_int(n_eval, "n_eval", low=1)
    opts = _check_options(estimator_options, list(plan))
    groups: dict[tuple[float, ...], list[int]] = {}
    for i, s in enumerate(setups):
        groups.setdefault(_group_key(s), []).append(i)
    rows: list[list[dict[str, Any]]] = [[] for _ in setups]
    for idx in groups.values():
        for i, rr in zip(idx, _run_group([setups[i] for i in idx], [seeds[i] for i in idx],
                                         plan, r, n, opts), strict=True):
            rows[i] = rr
    return [row for rr in rows for row in rr]


def _run_group(setups: list[Setup], seeds: list[np.random.SeedSequence],
               plan: dict[str, tuple[str, ...]], rounds: int, n_eval: int,
               opts: dict[str, Any]) -> list[list[dict[str, Any]]]:
    sims, fa, fs = _simulate_and_fit(setups, seeds)
    gens = [[child_generator(ss, _EVAL, i) for i in range(3)]
            for ss in seeds]
    vals = _evaluate(MixtureStack.from_mixtures([m.ground_truth for m in sims]),
                     MixtureStack.from_mixtures([f.mixture for f in fa]),
                     MixtureStack.from_mixtures([f.mixture for f in fs]),
                     gens, plan, rounds, n_eval, opts)
    out = []
    for b, (s, ss) in enumerate(zip(setups, seeds, strict=True)):
        base = {f"param_{k}": v for k, v in s.to_dict().items()}
        base.update(seed=setting_seed(ss), rounds=rounds, n_eval=n_eval,
                    anchor_fit_converged=fa[b].converged, anchor_fit_n_iter=fa[b].n_iter,
                    synthetic_fit_converged=fs[b].converged, synthetic_fit_n_iter=fs[b].n_iter)
        rows = []
        for (est, m), v in vals.items():
            a, sy, g, se_a, se_s, se_g = _summary(v[b])
            rows.append({**base, "estimator": est, "measure": m, "anchor_divergence": a,
                         "synthetic_divergence": sy, "gap": g,
                         "anchor_divergence_stderr": se_a,
                         "synthetic_divergence_stderr": se_s, "gap_stderr": se_g,
                         "estimator_params": _est_params(est, opts)})
        out.append(rows)
    return out


def _est_params(est: str, opts: dict[str, Any]) -> str:
    if est == "histogram":
        return f"bins={opts['bins']},pseudocount={opts['pseudocount']:g}"
    if est == "histogram_per_sample":
        return f"bins={opts['per_sample_bins']},floor={opts['floor']:g}"
    if est == "knn":
        return f"k={opts['knn_k']}"
    return ""
