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

Each round draws ``n_eval`` points from each of ``G``, ``pi_anchor`` and ``pi_gen``; the
same draws serve every estimator and measure, and one draw from ``G`` serves both terms
of a round's gap (common random numbers). A setting's value is the mean over rounds, its
standard error the standard deviation of the round values over ``sqrt(rounds)``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._rng import RNGLike, check_rng
from .._validation import check_array, check_choice, check_int, check_real
from ..exceptions import ValidationError
from ..measures import Estimate, kl_divergence
from ..mixture import GaussianMixture, MixtureFit, _kernels
from ..mixture._em import _fit as _fit_batch
from ..process import Setup, Simulation, simulate

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
_MAX_BINS = 2**20  # dense histograms: bins**d cells per sample
_POINT_BUDGET = 4_000_000  # floats per batched log-density block
_LOG2 = math.log(2.0)

# children of a setting's SeedSequence
_SIM, _FIT_ANCHOR, _FIT_SYN, _EVAL = range(4)


# --- seeds ------------------------------------------------------------------------------


def _child(ss: np.random.SeedSequence, i: int) -> np.random.SeedSequence:
    """Child ``i`` of ``ss``, the same whatever ``ss.spawn`` was called before."""
    return np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, i), pool_size=ss.pool_size)


def setting_seed(ss: np.random.SeedSequence) -> str:
    """A setting's seed as text, ``"<entropy>:<spawn key>"`` (recorded in every row)."""
    return f"{ss.entropy}:{'.'.join(str(k) for k in ss.spawn_key)}"


# --- fits -------------------------------------------------------------------------------


def _fit_stack(x: np.ndarray, k: int, seeds: Sequence[np.random.SeedSequence]) -> list[MixtureFit]:
    """Fit B datasets (B, n, d) at once, dataset b seeded by ``seeds[b]`` alone.

    scikit-learn's defaults, as the authors used them: full covariances, one k-means
    initialisation, ``tol = 1e-3``, ``reg_covar = 1e-6``, ``max_iter = 100``.
    """
    gens = [np.random.default_rng(s) for s in seeds]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reported per setting as *_converged
        fit = _fit_batch(x, k, gens, 1, 100, 1e-3, 1e-6, "kmeans")
    return [fit[b] for b in range(len(fit))]


def fit_simulation(sim: Simulation, *, rng: RNGLike = None) -> tuple[MixtureFit, MixtureFit]:
    """Fit ``pi_anchor`` to the anchors and ``pi_gen`` to the synthetic data.

    With ``rng`` a setting's SeedSequence, the fits equal those :func:`run_settings`
    makes for that setting.

    Returns
    -------
    anchor_fit, synthetic_fit : MixtureFit
    """
    ss = rng if isinstance(rng, np.random.SeedSequence) else np.random.SeedSequence(
        check_rng(rng).integers(0, 2**63 - 1, size=2, dtype=np.int64).tolist()
    )
    s = sim.setup
    a = _fit_stack(sim.anchors[None], s.k_anchor_fit, [_child(ss, _FIT_ANCHOR)])[0]
    g = _fit_stack(sim.synthetic[None], s.k_synthetic_fit, [_child(ss, _FIT_SYN)])[0]
    return a, g


# --- batched mixtures and sampling -------------------------------------------------------


@dataclass(frozen=True)
class _Stack:
    """B mixtures with the same number of components, as stacked arrays."""

    log_w: np.ndarray  # (B, k)
    means: np.ndarray  # (B, k, d)
    chol: np.ndarray  # (B, k, d, d)
    prec: np.ndarray  # (B, k, d, d)
    logdet: np.ndarray  # (B, k)

    @classmethod
    def of(cls, mixtures: Sequence[GaussianMixture]) -> _Stack:
        with np.errstate(divide="ignore"):
            log_w = np.log(np.stack([m.weights for m in mixtures]))
        means = np.stack([m.means for m in mixtures])
        chol, prec, logdet = _kernels.cholesky_factors(np.stack([m.covariances for m in mixtures]))
        return cls(log_w, means, chol, prec, logdet)

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        """Log-density of x (B, N, d) under mixture b, in point blocks; returns (B, N).

        One matrix product per block: with quadratic features ``f(x) = (1, x_i, x_i x_j)``
        (``i <= j``), ``log w_k + log N(x | mu_k, Sigma_k) = f(x) . c_k`` (see
        :meth:`_coefficients`), then a log-sum-exp over components. Points are centred
        on the mixture's mean component location first, which keeps the expansion of
        ``(x - mu)^T Lambda (x - mu)`` accurate.
        """
        b, n, d = x.shape
        shift = self.means.mean(axis=1, keepdims=True)  # (B, 1, d)
        coef = np.ascontiguousarray(np.swapaxes(self._coefficients(shift), 1, 2))  # (B, k, F)
        iu, ju = np.triu_indices(d)
        step = max(1, _POINT_BUDGET // max(1, b * (coef.shape[1] + coef.shape[2])))
        out = np.empty((b, n))
        for lo in range(0, n, step):
            xc = x[:, lo : lo + step] - shift  # (B, m, d)
            feats = np.empty((b, coef.shape[2], xc.shape[1]))  # (B, F, m)
            feats[:, 0] = 1.0
            cols = [np.ascontiguousarray(xc[..., i]) for i in range(d)]
            for a in range(d):
                feats[:, 1 + a] = cols[a]
            for f, (a, c) in enumerate(zip(iu.tolist(), ju.tolist(), strict=True)):
                np.multiply(cols[a], cols[c], out=feats[:, 1 + d + f])
            w = coef @ feats  # (B, k, m): reductions over k run along a non-last axis
            top = w.max(axis=1)
            np.exp(w - top[:, None, :], out=w)
            out[:, lo : lo + step] = np.log(w.sum(axis=1)) + top
        return out

    def _coefficients(self, shift: np.ndarray) -> np.ndarray:
        """Coefficients (B, 1 + d + d(d+1)/2, k) of the quadratic features.

        ``log N(x | mu, Sigma) = -d/2 log 2pi + log det P - (x - mu)^T Lam (x - mu) / 2``
        with ``Lam = P P^T``; expanded: constant ``-mu^T Lam mu / 2``, linear ``Lam mu``,
        quadratic ``-Lam_ii / 2`` and ``-Lam_ij`` for ``i < j``.
        """
        d = self.means.shape[2]
        lam = self.prec @ np.swapaxes(self.prec, 2, 3)  # (B, k, d, d)
        mu = self.means - shift  # (B, k, d)
        lam_mu = np.einsum("bkij,bkj->bki", lam, mu)
        const = (self.log_w + self.logdet - 0.5 * d * _kernels.LOG_2PI
                 - 0.5 * np.einsum("bki,bki->bk", mu, lam_mu))
        iu, ju = np.triu_indices(d)
        quad = -lam[..., iu, ju] * np.where(iu == ju, 0.5, 1.0)  # (B, k, d(d+1)/2)
        return np.swapaxes(np.concatenate([const[..., None], lam_mu, quad], axis=2), 1, 2)


def _draw(gen: np.random.Generator, m: GaussianMixture, n: int) -> np.ndarray:
    labels = gen.choice(m.n_components, size=n, p=m.weights)
    return _kernels.sample_gaussians(gen, m.means, m.cholesky, labels)


# --- measure kernels (no argument checking) ----------------------------------------------


def _mc_round_values(lp_p: np.ndarray, lq_p: np.ndarray, lp_q: np.ndarray, lq_q: np.ndarray,
                     measure: str) -> np.ndarray:
    """Per-round Monte Carlo estimate of D(p, q); inputs (..., R, n) log-densities.

    ``lp_p = log p(x)``, ``lq_p = log q(x)`` at ``x ~ p``; ``lp_q``, ``lq_q`` at ``x ~ q``.
    KL(p||q) = E_p[log p - log q]; JS = (E_p[log 2p/(p+q)] + E_q[log 2q/(p+q)]) / 2;
    TV = (E_p[(1 - q/p)_+] + E_q[(1 - p/q)_+]) / 2 (both expectations equal TV).
    """
    if measure == "kl":
        return np.mean(lp_p - lq_p, axis=-1)
    if measure == "kl_reverse":
        return np.mean(lq_q - lp_q, axis=-1)
    if measure == "js":
        m_p = np.logaddexp(lp_p, lq_p) - _LOG2
        m_q = np.logaddexp(lp_q, lq_q) - _LOG2
        return 0.5 * (np.mean(lp_p - m_p, axis=-1) + np.mean(lq_q - m_q, axis=-1))
    tv_p = np.maximum(0.0, -np.expm1(np.minimum(lq_p - lp_p, 0.0)))
    tv_q = np.maximum(0.0, -np.expm1(np.minimum(lp_q - lq_q, 0.0)))
    return 0.5 * (np.mean(tv_p, axis=-1) + np.mean(tv_q, axis=-1))


def _coords(x: np.ndarray) -> np.ndarray:
    """Coordinate-major copy (d, ..., n) of points (..., n, d): every per-axis operation
    below then runs on contiguous memory."""
    return np.ascontiguousarray(np.moveaxis(x, -1, 0))


def _bin_index(xt: np.ndarray, lo: np.ndarray, hi: np.ndarray, bins: int, *,
               exact: bool = False) -> np.ndarray:
    """Flat bin index of each point on ``bins`` equal bins per axis over ``[lo, hi]``.

    xt (d, ..., n) coordinate-major points, lo/hi (d, ..., 1); returns (..., n). The
    right edge of the last bin is included. With ``exact``, the assignment is
    ``numpy.histogramdd``'s to the last bit: edges are ``numpy.linspace(lo, hi, bins + 1)``
    and an arithmetic first guess is moved by one bin where rounding put it on the wrong
    side of an edge. The flat index is row-major, as ``numpy.histogramdd(...).ravel()``.
    """
    flat = np.zeros(xt.shape[1:], dtype=np.int64)
    for x, lo_j, hi_j in zip(xt, lo, hi, strict=True):
        width = np.where(hi_j > lo_j, hi_j - lo_j, 1.0)
        t = x - lo_j
        t *= bins / width
        idx = t.astype(np.int64)  # t >= 0: truncation is floor
        np.clip(idx, 0, bins - 1, out=idx)
        if exact:
            step = width / bins
            left = lo_j + idx * step
            right = np.where(idx + 1 == bins, hi_j, lo_j + (idx + 1) * step)
            idx -= x < left
            idx += (x >= right) & (idx + 1 < bins)
            np.clip(idx, 0, bins - 1, out=idx)
        flat *= bins
        flat += idx
    return flat


def _counts(flat: np.ndarray, n_cells: int) -> np.ndarray:
    """Counts of flat bin indices (..., n) per leading index; returns (..., n_cells)."""
    lead = flat.shape[:-1]
    rows = np.arange(math.prod(lead), dtype=np.int64).reshape(lead)[..., None]
    c = np.bincount((rows * n_cells + flat).ravel(), minlength=math.prod(lead) * n_cells)
    return c.reshape(*lead, n_cells).astype(np.float64)


def _shared_hist_probs(xp: np.ndarray, xq: np.ndarray, bins: int, pseudocount: float
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bin probabilities on shared edges of coordinate-major samples (d, ..., n):
    p, q, used, each (..., bins**d).

    p_i = (c_i + a) / (n_p + a m) over the m bins occupied by either sample, 0 elsewhere.
    """
    lo = np.minimum(xp.min(axis=-1, keepdims=True), xq.min(axis=-1, keepdims=True))
    hi = np.maximum(xp.max(axis=-1, keepdims=True), xq.max(axis=-1, keepdims=True))
    cells = bins ** xp.shape[0]
    cp = _counts(_bin_index(xp, lo, hi, bins), cells)
    cq = _counts(_bin_index(xq, lo, hi, bins), cells)
    used = (cp + cq) > 0
    m = used.sum(axis=-1, keepdims=True)
    p = np.where(used, (cp + pseudocount) / (xp.shape[-1] + pseudocount * m), 0.0)
    q = np.where(used, (cq + pseudocount) / (xq.shape[-1] + pseudocount * m), 0.0)
    return p, q, used


def _discrete(p: np.ndarray, q: np.ndarray, used: np.ndarray, measure: str) -> np.ndarray:
    """Divergence of two probability vectors on the cells ``used`` (both > 0 there)."""
    sp, sq = np.where(used, p, 1.0), np.where(used, q, 1.0)
    if measure == "kl":
        return np.sum(p * np.log(sp / sq), axis=-1)
    if measure == "kl_reverse":
        return np.sum(q * np.log(sq / sp), axis=-1)
    if measure == "js":
        mid = 0.5 * (sp + sq)
        return 0.5 * np.sum(p * np.log(sp / mid) + q * np.log(sq / mid), axis=-1)
    return 0.5 * np.sum(np.abs(p - q), axis=-1)


def _per_sample_hist(xt: np.ndarray, bins: int, floor: float) -> np.ndarray:
    """The authors' ``histogramdd(x, bins, density=True)`` floored at ``floor`` and
    renormalised to sum 1 (as ``scipy.stats.entropy`` does); (d, ..., n) -> (..., bins**d)."""
    lo, hi = xt.min(axis=-1, keepdims=True), xt.max(axis=-1, keepdims=True)
    c = _counts(_bin_index(xt, lo, hi, bins, exact=True), bins ** xt.shape[0])
    width = np.where(hi > lo, hi - lo, 1.0)[..., 0]  # (d, ...)
    vol = width[0] / bins
    for w in width[1:]:
        vol = vol * (w / bins)
    dens = np.maximum(c / (xt.shape[-1] * vol[..., None]), floor)
    return dens / dens.sum(axis=-1, keepdims=True)


def _per_sample_values(xp: np.ndarray, xq: np.ndarray, measure: str, bins: int,
                       floor: float, hq: np.ndarray | None = None) -> np.ndarray:
    """The authors' KL between coordinate-major samples (d, ..., n); returns (...,)."""
    hp = _per_sample_hist(xp, bins, floor)
    hq = _per_sample_hist(xq, bins, floor) if hq is None else hq
    if measure == "kl_reverse":
        hp, hq = hq, hp
    return np.sum(hp * np.log(hp / hq), axis=-1)


def _knn_values(xp: np.ndarray, xq: np.ndarray, measure: str, k: int) -> np.ndarray:
    """Wang-Kulkarni-Verdu (2009) kNN estimate of KL per (setting, round): (c, R, n, d) -> (c, R).

    Delegates to :func:`synthgain.measures.kl_divergence` (ties, if any, are broken by a
    fixed-seed jitter, so the result is deterministic).
    """
    if measure == "kl_reverse":
        xp, xq = xq, xp
    out = np.empty(xp.shape[:2])
    for b, r in np.ndindex(*out.shape):
        out[b, r] = kl_divergence(xp[b, r], xq[b, r], method="wang_kulkarni_verdu", k=k,
                                  rng=0).value
    return out


def _check_bins(bins: Any, d: int, name: str) -> int:
    b = check_int(bins, name, low=1)
    if b**d > _MAX_BINS:
        raise ValidationError(
            f"`{name}`={b} gives {b}**{d} = {b**d} cells in d = {d}, more than {_MAX_BINS}; "
            "use fewer bins or the 'monte_carlo' estimator."
        )
    return b


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
    """
    a = check_array(xp, "xp", ndim=2, min_rows=1)
    b = check_array(xq, "xq", ndim=2, min_rows=1, dim=a.shape[1])
    measure = check_choice(measure, "measure", MEASURES)
    nb = _check_bins(bins, a.shape[1], "bins")
    pc = check_real(pseudocount, "pseudocount", low=0.0, closed="neither")
    return float(_discrete(*_shared_hist_probs(_coords(a), _coords(b), nb, pc), measure))


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
    return float(_per_sample_values(_coords(a), _coords(b), "kl", nb, fl))


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
    xp, xq = _draw(gen, pm, r * n)[None], _draw(gen, qm, r * n)[None]
    sp, sq = _Stack.of([pm]), _Stack.of([qm])
    shape = (r, n)
    vals = _mc_round_values(sp.logpdf(xp).reshape(shape), sq.logpdf(xp).reshape(shape),
                            sp.logpdf(xq).reshape(shape), sq.logpdf(xq).reshape(shape), measure)
    return Estimate(float(vals.mean()), float(vals.std(ddof=1) / math.sqrt(r)),
                    method="monte_carlo", n=(r * n, r * n),
                    params={"measure": measure, "rounds": r, "n_samples": n})


# --- the KL gap of fitted settings, batched ----------------------------------------------


def _check_options(options: dict[str, Any]) -> dict[str, Any]:
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


def _chunk_size(n_points: int, d: int) -> int:
    return max(1, 6_000_000 // (3 * n_points * d))


def _evaluate(gt: Sequence[GaussianMixture], fa: Sequence[GaussianMixture],
              fs: Sequence[GaussianMixture], gens: Sequence[np.random.Generator],
              plan: dict[str, tuple[str, ...]], rounds: int, n_eval: int,
              opts: dict[str, Any]) -> dict[tuple[str, str], np.ndarray]:
    """Round values for B settings of one shape: {(estimator, measure): (B, 2, R)}.

    Axis 1 holds ``D(pi_anchor, G)`` then ``D(pi_gen, G)``. Setting b draws its points
    from ``gens[b]`` alone (G, then pi_anchor, then pi_gen), so its values do not
    depend on the other settings.
    """
    nb, d, npts = len(gt), gt[0].dim, rounds * n_eval
    out = {(e, m): np.empty((nb, 2, rounds)) for e, ms in plan.items() for m in ms}
    step = _chunk_size(npts, d)
    for lo in range(0, nb, step):
        sl = slice(lo, min(nb, lo + step))
        xg, xa, xs = (np.stack([_draw(gens[b], mix[b], npts) for b in range(sl.start, sl.stop)])
                      for mix in (gt, fa, fs))
        for est, measures in plan.items():
            vals = _estimate_chunk(est, measures, xg, xa, xs, gt[sl], fa[sl], fs[sl],
                                   rounds, n_eval, opts)
            for m, v in vals.items():
                out[(est, m)][sl] = v
    return out


def _estimate_chunk(est: str, measures: tuple[str, ...], xg: np.ndarray, xa: np.ndarray,
                    xs: np.ndarray, gt: Sequence[GaussianMixture], fa: Sequence[GaussianMixture],
                    fs: Sequence[GaussianMixture], rounds: int, n_eval: int,
                    opts: dict[str, Any]) -> dict[str, np.ndarray]:
    """{measure: (c, 2, R)} for one chunk of c settings with samples (c, R * n_eval, d)."""
    c, _, d = xg.shape
    shape = (c, rounds, n_eval)
    res: dict[str, np.ndarray] = {}
    if est == "monte_carlo":
        sg, sa, ss = _Stack.of(gt), _Stack.of(fa), _Stack.of(fs)
        lg_a, la_a = sg.logpdf(xa).reshape(shape), sa.logpdf(xa).reshape(shape)
        lg_s, ls_s = sg.logpdf(xs).reshape(shape), ss.logpdf(xs).reshape(shape)
        need_g = any(m != "kl" for m in measures)
        lg_g = sg.logpdf(xg).reshape(shape) if need_g else lg_a
        la_g = sa.logpdf(xg).reshape(shape) if need_g else lg_a
        ls_g = ss.logpdf(xg).reshape(shape) if need_g else lg_a
        for m in measures:
            res[m] = np.stack([_mc_round_values(la_a, lg_a, la_g, lg_g, m),
                               _mc_round_values(ls_s, lg_s, ls_g, lg_g, m)], axis=1)
        return res
    pts = (c, rounds, n_eval, d)
    xg4, xa4, xs4 = xg.reshape(pts), xa.reshape(pts), xs.reshape(pts)
    if est == "histogram":
        b = _check_bins(opts["bins"], d, "bins")
        cg = _coords(xg4)
        probs = [_shared_hist_probs(_coords(x), cg, b, opts["pseudocount"]) for x in (xa4, xs4)]
        for m in measures:
            res[m] = np.stack([_discrete(*pq, m) for pq in probs], axis=1)
        return res
    if est == "knn":
        for m in measures:
            res[m] = np.stack([_knn_values(x, xg4, m, opts["knn_k"]) for x in (xa4, xs4)], axis=1)
        return res
    b = _check_bins(opts["per_sample_bins"], d, "per_sample_bins")
    cg = _coords(xg4)
    hg = _per_sample_hist(cg, b, opts["floor"])
    for m in measures:
        res[m] = np.stack([_per_sample_values(_coords(x), cg, m, b, opts["floor"], hq=hg)
                           for x in (xa4, xs4)], axis=1)
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
        ``value`` the gap; ``params`` holds ``kl_anchor``, ``kl_synthetic`` and their
        standard errors.

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
    opts = _check_options(options)
    vals = _evaluate([mixes[0]], [mixes[1]], [mixes[2]], [check_rng(rng)], plan, r, n, opts)
    a, s, g, se_a, se_s, se_g = _summary(vals[(estimator, measure)][0])
    return Estimate(g, se_g, method=estimator, n=(r * n, r * n, r * n),
                    params={"measure": measure, "rounds": r, "n_eval": n, "kl_anchor": a,
                            "kl_synthetic": s, "kl_anchor_stderr": se_a,
                            "kl_synthetic_stderr": se_s})


def _group_key(s: Setup) -> tuple[int, ...]:
    return (s.d, s.K, s.J, s.L, s.n_anchor, s.n_synthetic, s.k_anchor_fit, s.k_synthetic_fit)


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
        the anchor fit, the synthetic fit and the evaluation draws, so its rows do not
        depend on which other settings share the call or their order.
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
        ``kl_anchor`` = D(pi_anchor, G) and ``kl_synthetic`` = D(pi_gen, G) under that
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
    opts = _check_options(estimator_options)
    groups: dict[tuple[int, ...], list[int]] = {}
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
    sims = [simulate(s, rng=_child(ss, _SIM)) for s, ss in zip(setups, seeds, strict=True)]
    s0 = setups[0]
    fa = _fit_stack(np.stack([m.anchors for m in sims]), s0.k_anchor_fit,
                    [_child(ss, _FIT_ANCHOR) for ss in seeds])
    fs = _fit_stack(np.stack([m.synthetic for m in sims]), s0.k_synthetic_fit,
                    [_child(ss, _FIT_SYN) for ss in seeds])
    gens = [np.random.default_rng(_child(ss, _EVAL)) for ss in seeds]
    vals = _evaluate([m.ground_truth for m in sims], [f.mixture for f in fa],
                     [f.mixture for f in fs], gens, plan, rounds, n_eval, opts)
    out = []
    for b, (s, ss) in enumerate(zip(setups, seeds, strict=True)):
        base = {f"param_{k}": v for k, v in s.to_dict().items()}
        base.update(seed=setting_seed(ss), rounds=rounds, n_eval=n_eval,
                    anchor_fit_converged=fa[b].converged, anchor_fit_n_iter=fa[b].n_iter,
                    synthetic_fit_converged=fs[b].converged, synthetic_fit_n_iter=fs[b].n_iter)
        rows = []
        for (est, m), v in vals.items():
            a, sy, g, se_a, se_s, se_g = _summary(v[b])
            rows.append({**base, "estimator": est, "measure": m, "kl_anchor": a,
                         "kl_synthetic": sy, "gap": g, "kl_anchor_stderr": se_a,
                         "kl_synthetic_stderr": se_s, "gap_stderr": se_g,
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
