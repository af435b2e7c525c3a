"""Expectation-maximisation for Gaussian mixtures, batched over datasets.

``fit_gmm_batched`` fits B datasets of one shape ``(B, n, d)`` at once: every E and M
step is a handful of stacked array operations over all datasets and all ``n_init``
restarts, with no Python loop over datasets. A dataset stops updating as soon as it
meets its tolerance, so each fit follows exactly the iterations it would follow alone:
``fit_gmm(X[b], rng=children[b])`` equals ``fit_gmm_batched(X, rng=root)[b]`` where
``children = SeedSequence(root).spawn(B)``.

The updates are the standard ones (Dempster, Laird & Rubin 1977; Bishop 2006, eq.
9.23-9.27), with scikit-learn's conventions so that results are comparable: a ridge
``reg_covar * I`` on every covariance, ``10 * eps`` added to component counts, and
convergence when the change of the mean log-likelihood is below ``tol``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from .._rng import RNGLike, check_rng, child_seed, seed_sequence
from .._validation import check_array, check_choice, check_int, check_real
from ..exceptions import ConvergenceWarning, DegenerateDataWarning, ValidationError
from . import _kernels
from ._gaussian_mixture import GaussianMixture

__all__ = ["BatchFit", "BicCandidate", "MixtureFit", "fit_gmm", "fit_gmm_batched", "gmm_bic_path",
           "n_parameters", "select_gmm"]

INITS = ("kmeans", "k-means++", "random", "random_from_data")
COVARIANCE_TYPES = ("full", "tied")
_KMEANS_MAX_ITER = 100
_KMEANS_TOL = 1e-4
_MIN_EFFECTIVE_POINTS = 1.5
_MOMENT_MAX_DIM = 16  # above this, E and M steps use differences instead of x x^T features


@dataclass(frozen=True)
class MixtureFit:
    """The result of fitting one Gaussian mixture by EM.

    Attributes
    ----------
    mixture : GaussianMixture
    converged : bool
        Whether the best restart met ``tol`` before ``max_iter``.
    n_iter : int
        EM iterations of the best restart.
    log_likelihood : float
        Mean log-likelihood per point of the data under ``mixture``.
    """

    mixture: GaussianMixture
    converged: bool
    n_iter: int
    log_likelihood: float


@dataclass(frozen=True)
class BatchFit:
    """The result of :func:`fit_gmm_batched`: B fitted mixtures as stacked arrays.

    Attributes
    ----------
    weights : ndarray, shape (B, k)
    means : ndarray, shape (B, k, d)
    covariances : ndarray, shape (B, k, d, d)
    converged : ndarray of bool, shape (B,)
    n_iter : ndarray of int, shape (B,)
    log_likelihood : ndarray, shape (B,)
        Mean log-likelihood per point of each dataset under its fitted mixture.
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    converged: np.ndarray
    n_iter: np.ndarray
    log_likelihood: np.ndarray

    def __len__(self) -> int:
        return int(self.weights.shape[0])

    def __getitem__(self, b: int) -> MixtureFit:
        return MixtureFit(
            mixture=GaussianMixture._from_trusted(
                self.weights[b], self.means[b], self.covariances[b]
            ),
            converged=bool(self.converged[b]),
            n_iter=int(self.n_iter[b]),
            log_likelihood=float(self.log_likelihood[b]),
        )

    @property
    def mixtures(self) -> list[GaussianMixture]:
        """The fitted mixtures as a list of :class:`GaussianMixture`."""
        return [self[b].mixture for b in range(len(self))]


# --- private kernels (no argument checking) -------------------------------------------


def _nearest(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Index of the nearest center, x (B, n, d), c (B, k, d) -> (B, n).

    ``argmin_j |x - c_j|^2 = argmin_j (|c_j|^2 - 2 x.c_j)``: the point's own norm is
    constant over j and is not computed. Scores are laid out (B, k, n) and reduced slice
    by slice (ties go to the lowest index, as with ``argmin``), which is much faster in
    NumPy than an ``argmin`` along a short last axis.
    """
    score = c @ np.swapaxes(x, 1, 2)  # (B, k, n)
    score *= -2.0
    score += np.einsum("bkd,bkd->bk", c, c)[..., None]
    best = score[:, 0].copy()
    labels = np.zeros(best.shape, dtype=np.int64)
    for j in range(1, c.shape[1]):
        closer = score[:, j] < best
        labels[closer] = j
        np.minimum(best, score[:, j], out=best)
    return labels


def _sq_dist(x: np.ndarray, c: np.ndarray, xx: np.ndarray | None = None) -> np.ndarray:
    """Squared distances, x (B, n, d), c (B, k, d) -> (B, n, k).

    Expanded as ``|x|^2 - 2 x.c + |c|^2`` (one product per dataset) and clipped at 0
    against rounding; ``xx`` is ``|x|^2`` (B, n) when the caller has it already.
    """
    if xx is None:
        xx = np.einsum("bnd,bnd->bn", x, x)
    d2 = xx[..., None] - 2.0 * (x @ np.swapaxes(c, 1, 2))
    d2 += np.einsum("bkd,bkd->bk", c, c)[:, None, :]
    return np.maximum(d2, 0.0, out=d2)


def _cluster_sums(x: np.ndarray, labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Points per cluster (B, k) and their coordinate sums (B, k, d).

    ``bincount`` over (dataset, cluster) indices adds each dataset's points in index
    order, so a dataset's sums do not depend on the rest of the batch.
    """
    b, _, d = x.shape
    flat = (labels + (np.arange(b) * k)[:, None]).ravel()
    counts = np.bincount(flat, minlength=b * k).reshape(b, k)
    sums = np.empty((b, k, d))
    for a in range(d):
        sums[..., a] = np.bincount(flat, weights=x[..., a].ravel(), minlength=b * k).reshape(b, k)
    return counts, sums


def _n_local_trials(k: int) -> int:
    """Candidates per center in greedy k-means++ (Arthur & Vassilvitskii 2007, sec. 5)."""
    return 2 + int(np.log(k))


def _kmeans_pp(x: np.ndarray, k: int, u: np.ndarray) -> np.ndarray:
    """Greedy k-means++ seeding from pre-drawn uniforms.

    Each new center is the best of ``2 + log k`` candidates drawn with probability
    proportional to the squared distance to the nearest chosen center (the potential
    it leaves is smallest), as in Arthur & Vassilvitskii (2007) and scikit-learn.
    ``u`` has shape (B, k, n_local_trials); returns centers (B, k, d).
    """
    nb, n, _ = x.shape
    b_idx = np.arange(nb)
    centers = np.empty((nb, k, x.shape[2]))
    first = np.minimum((u[:, 0, 0] * n).astype(np.int64), n - 1)
    centers[:, 0] = x[b_idx, first]
    xx = np.einsum("bnd,bnd->bn", x, x)
    closest = _sq_dist(x, centers[:, :1], xx)[..., 0]
    for j in range(1, k):
        cum = np.cumsum(closest, axis=1)
        total = cum[:, -1:]
        # candidate indices by inverse CDF: (B, trials)
        cand = np.sum(cum[:, None, :] <= (u[:, j, :] * total)[:, :, None], axis=2)
        # all points already at a center (duplicates): fall back to uniform draws
        cand = np.where(total > 0, cand, (u[:, j, :] * n).astype(np.int64))
        cand = np.minimum(cand, n - 1)
        cand_x = np.take_along_axis(x, cand[..., None], axis=1)  # (B, trials, d)
        d_cand = np.minimum(closest[:, :, None], _sq_dist(x, cand_x, xx))  # (B, n, trials)
        best = np.argmin(d_cand.sum(axis=1), axis=1)
        centers[:, j] = cand_x[b_idx, best]
        closest = d_cand[b_idx, :, best]
    return centers


def _kmeans_resp(x: np.ndarray, k: int, u: np.ndarray) -> np.ndarray:
    """Hard responsibilities from k-means++ seeding followed by Lloyd iterations.

    A dataset stops when its labels no longer change or its centers move by less than
    ``1e-4`` times the mean feature variance (squared shift, summed over centers), the
    two stopping rules of scikit-learn's Lloyd implementation.
    """
    centers = _kmeans_pp(x, k, u)
    labels = _nearest(x, centers)
    tol = _KMEANS_TOL * x.var(axis=1).mean(axis=1)
    active = np.arange(x.shape[0])  # datasets whose labels still move
    for _ in range(_KMEANS_MAX_ITER):
        xa, la, ca = x[active], labels[active], centers[active]
        counts, sums = _cluster_sums(xa, la, k)
        new_c = np.where(counts[..., None] > 0, sums / np.maximum(counts, 1)[..., None], ca)
        new = _nearest(xa, new_c)
        shift = np.sum((new_c - ca) ** 2, axis=(1, 2))
        moving = np.any(new != la, axis=1) & (shift > tol[active])
        centers[active], labels[active] = new_c, new
        active = active[moving]
        if active.size == 0:
            break
    return (labels[..., None] == np.arange(k)).astype(np.float64)


def _features(x: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Sufficient statistics phi(x) = [1, x, vec(x x^T)] as (B, n, F) and (B, F, n).

    With them the M-step is one product ``resp^T phi`` (counts, sums, second moments)
    and the E-step one product ``coef phi^T``, per dataset. Returns None when d is
    large (F = 1 + d + d^2 grows too fast); the kernels then use differences.
    """
    if x.shape[2] > _MOMENT_MAX_DIM:
        return None
    phi = _kernels.quadratic_features(x)
    return phi, np.ascontiguousarray(np.swapaxes(phi, 1, 2))


def _m_step(
    x: np.ndarray, feats: tuple[np.ndarray, np.ndarray] | None, resp_t: np.ndarray,
    reg_covar: float, tied: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights (B, k), means (B, k, d), covariances (B, k, d, d) from resp_t (B, k, n).

    ``tied``: every component gets the pooled within-component covariance
    ``sum_j (n_j / n) Sigma_j`` (one covariance shared by all)."""
    b, _, d = x.shape
    tiny = 10 * np.finfo(np.float64).eps
    if feats is not None:
        # counts, sums and second moments in one product. The data are centred per
        # dataset (see _fit), which keeps E[xx^T] - mu mu^T accurate.
        stats = resp_t @ feats[0]  # (B, k, F)
        nk = stats[..., 0] + tiny
        means = stats[..., 1 : 1 + d] / nk[..., None]
        second = stats[..., 1 + d :].reshape(b, -1, d, d) / nk[..., None, None]
        cov = second - means[..., :, None] * means[..., None, :]
        cov = 0.5 * (cov + np.swapaxes(cov, 2, 3))
    else:
        nk = resp_t.sum(axis=2) + tiny
        means = (resp_t @ x) / nk[..., None]
        diff = x[:, None, :, :] - means[:, :, None, :]  # (B, k, n, d)
        cov = np.swapaxes(resp_t[..., None] * diff, 2, 3) @ diff / nk[..., None, None]
    if tied:
        shared = np.einsum("bk,bkij->bij", nk / nk.sum(axis=1, keepdims=True), cov)
        cov = np.repeat(shared[:, None], nk.shape[1], axis=1)
    cov[..., np.arange(d), np.arange(d)] += reg_covar
    return nk / nk.sum(axis=1, keepdims=True), means, cov


def _e_step(
    x: np.ndarray, feats: tuple[np.ndarray, np.ndarray] | None, weights: np.ndarray,
    means: np.ndarray, cov: np.ndarray, out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-point log-likelihood (B, n) and responsibilities (B, k, n).

    ``out`` (B, k, n), if given, receives the responsibilities: the loop reuses one
    buffer because fresh temporaries of this size cost page faults on every iteration.
    """
    _, prec_chol, logdet = _kernels.cholesky_factors(cov)
    with np.errstate(divide="ignore"):
        logw = np.log(weights)
    if feats is None:
        lp, weighted = _kernels.mixture_logpdf(x, logw, means, prec_chol, logdet)
        resp = np.swapaxes(weighted - lp[..., None], 1, 2)
        return lp, np.exp(resp, out=out if out is not None else None)
    # log w_j + log N(x | mu_j, Sigma_j) = coef_j . phi(x), the component log-density
    # kernel of MixtureStack's NumPy path; kept as (B, k, n) so that reductions over k
    # run along a non-last axis.
    coef = _kernels.quadratic_coefficients(logw, means, prec_chol, logdet)
    weighted = np.matmul(coef, feats[1], out=out)  # (B, k, n)
    # log-sum-exp over k fused with the responsibilities, in place. Weights are > 0
    # (counts carry 10 eps), so every entry is finite.
    top = weighted.max(axis=1)
    weighted -= top[:, None, :]
    np.maximum(weighted, _kernels.EXP_FLOOR, out=weighted)
    np.exp(weighted, out=weighted)
    total = weighted.sum(axis=1)
    weighted /= total[:, None, :]
    return np.log(total) + top, weighted


def _initial_resp(
    x: np.ndarray, k: int, init: str, gens: list[np.random.Generator], n_init: int
) -> np.ndarray:
    """Initial responsibilities for every (dataset, restart), shape (B * n_init, n, k).

    Dataset b's restarts draw only from ``gens[b]``, so a dataset's fit does not depend
    on the other datasets in the batch.
    """
    n = x.shape[1]
    xr = np.repeat(x, n_init, axis=0)
    if init in ("kmeans", "k-means++"):
        u = np.concatenate([g.random((n_init, k, _n_local_trials(k))) for g in gens])
        if init == "kmeans":
            return _kmeans_resp(xr, k, u)
        centers = _kmeans_pp(xr, k, u)
        labels = _nearest(xr, centers)
        return (labels[..., None] == np.arange(k)).astype(np.float64)
    if init == "random":
        r = np.concatenate([g.random((n_init, n, k)) for g in gens])
        return r / r.sum(axis=2, keepdims=True)
    # random_from_data: k distinct points as means, hard assignment to the nearest
    picks = np.stack([g.choice(n, size=k, replace=False) for g in gens for _ in range(n_init)])
    centers = np.take_along_axis(xr, picks[..., None], axis=1)
    labels = _nearest(xr, centers)
    return (labels[..., None] == np.arange(k)).astype(np.float64)


def _run_em(
    x: np.ndarray, resp: np.ndarray, max_iter: int, tol: float, reg_covar: float,
    tied: bool = False,
) -> tuple[np.ndarray, ...]:
    """EM from initial responsibilities; each dataset stops at its own convergence.

    The loop runs on a working set of datasets. A dataset that meets ``tol`` has its
    parameters written out at once (later updates of its working copy are ignored), and
    the working arrays are compacted only when half of them are finished, which keeps
    array copies rare without changing any dataset's iterations.
    """
    nb = x.shape[0]
    feats = _features(x)
    weights, means, cov = _m_step(x, feats, np.swapaxes(resp, 1, 2), reg_covar, tied)
    n_iter = np.zeros(nb, dtype=np.int64)
    converged = np.zeros(nb, dtype=bool)
    work = np.arange(nb)
    xw, fw, ww, mw, cw = x, feats, weights.copy(), means.copy(), cov.copy()
    lower = np.full(nb, -np.inf)
    running = np.ones(nb, dtype=bool)
    buf = np.empty((nb, means.shape[1], x.shape[1]))  # responsibilities, reused
    for it in range(1, max_iter + 1):
        lp, resp_t = _e_step(xw, fw, ww, mw, cw, out=buf[: xw.shape[0]])
        ww, mw, cw = _m_step(xw, fw, resp_t, reg_covar, tied)
        lb = lp.mean(axis=1)
        done = running & (np.abs(lb - lower) < tol)
        lower = lb
        n_iter[work[running]] = it
        fin = np.flatnonzero(done)
        weights[work[fin]], means[work[fin]], cov[work[fin]] = ww[fin], mw[fin], cw[fin]
        converged[work[fin]] = True
        running &= ~done
        n_run = int(running.sum())
        if n_run == 0:
            break
        if 2 * n_run <= running.size:
            keep = np.flatnonzero(running)
            work, xw, ww, mw, cw, lower = work[keep], xw[keep], ww[keep], mw[keep], cw[keep], lower[keep]
            fw = None if fw is None else (fw[0][keep], fw[1][keep])
            running = np.ones(keep.size, dtype=bool)
    rest = np.flatnonzero(running)  # stopped at max_iter
    weights[work[rest]], means[work[rest]], cov[work[rest]] = ww[rest], mw[rest], cw[rest]
    lp, _ = _e_step(x, feats, weights, means, cov, out=buf)
    nk = weights * x.shape[1]
    return weights, means, cov, converged, n_iter, lp.mean(axis=1), nk


def _check_fit_args(
    n_components: Any, n: int, n_init: Any, max_iter: Any, tol: Any, reg_covar: Any, init: Any,
    covariance_type: Any = "full",
) -> tuple[int, int, int, float, float, str, bool]:
    k = check_int(n_components, "n_components", low=1)
    if k > n:
        raise ValidationError(
            f"`n_components` must be at most the number of points ({n}). Got {k} instead; "
            "use fewer components or more data."
        )
    return (
        k,
        check_int(n_init, "n_init", low=1),
        check_int(max_iter, "max_iter", low=1),
        check_real(tol, "tol", low=0.0),
        check_real(reg_covar, "reg_covar", low=0.0),
        check_choice(init, "init", INITS),
        check_choice(covariance_type, "covariance_type", COVARIANCE_TYPES) == "tied",
    )


def fit_gmm_batched(
    X: Any,
    n_components: int,
    *,
    rng: RNGLike | Sequence[RNGLike] = None,
    n_init: int = 1,
    max_iter: int = 100,
    tol: float = 1e-3,
    reg_covar: float = 1e-6,
    init: str = "kmeans",
    covariance_type: str = "full",
) -> BatchFit:
    """Fit one Gaussian mixture (full covariances: one per component, or one shared) to
    each of B datasets at once.

    Parameters
    ----------
    X : array_like, shape (B, n, d)
        B datasets of ``n`` points in ``d`` dimensions.
    n_components : int
        Components per mixture, in ``[1, n]``.
    rng : int, SeedSequence, Generator, None, or a sequence of B of these
        Root of randomness; dataset ``b`` uses child ``b`` of ``SeedSequence(rng).spawn(B)``.
        A sequence gives each dataset its own seed instead (``rng[b]`` for dataset ``b``),
        so that a dataset's fit does not depend on its position in the batch:
        ``fit_gmm_batched(X, k, rng=seeds)[b]`` equals ``fit_gmm(X[b], k, rng=seeds[b])``.
    n_init : int, default 1
        Restarts per dataset; the one with the highest final log-likelihood is kept.
    max_iter : int, default 100
    tol : float, default 1e-3
        Convergence threshold on the change of the mean log-likelihood.
    reg_covar : float, default 1e-6
        Ridge added to every covariance diagonal.
    init : {"kmeans", "k-means++", "random", "random_from_data"}, default "kmeans"
        "kmeans" runs Lloyd's algorithm from k-means++ seeds, as scikit-learn does.
    covariance_type : {"full", "tied"}, default "full"
        "full": a covariance per component; "tied": one full covariance shared by all
        components (scikit-learn's ``covariance_type="tied"``), far fewer parameters
        when the components differ mainly in their means.

    Returns
    -------
    BatchFit

    Warns
    -----
    ConvergenceWarning
        If some fits stop at ``max_iter``.
    DegenerateDataWarning
        If a fitted component rests on fewer than two effective points (duplicate
        points, a cluster of one point): its covariance is then essentially
        ``reg_covar * I``.
    """
    x = check_array(X, "X", ndim=3)
    nb, n, d = x.shape
    if nb == 0 or n == 0 or d == 0:
        raise ValidationError(f"`X` must have shape (B, n, d) with all sizes >= 1. Got {x.shape}.")
    k, n_init, max_iter, tol, reg_covar, init, tied = _check_fit_args(
        n_components, n, n_init, max_iter, tol, reg_covar, init, covariance_type
    )
    if isinstance(rng, Sequence):
        if len(rng) != nb:
            raise ValidationError(
                f"`rng` must be one seed per dataset ({nb}) when given as a sequence. "
                f"Got {len(rng)} instead."
            )
        gens = [check_rng(r, name=f"rng[{b}]") for b, r in enumerate(rng)]
    else:
        gens = [np.random.default_rng(s) for s in seed_sequence(rng).spawn(nb)]
    return _fit(x, k, gens, n_init, max_iter, tol, reg_covar, init, tied)


def _fit(
    x: np.ndarray,
    k: int,
    gens: list[np.random.Generator],
    n_init: int,
    max_iter: int,
    tol: float,
    reg_covar: float,
    init: str,
    tied: bool = False,
) -> BatchFit:
    nb = x.shape[0]
    shift = x.mean(axis=1, keepdims=True)  # EM is translation equivariant: fit centred data
    x = x - shift
    resp = _initial_resp(x, k, init, gens, n_init)
    xr = np.repeat(x, n_init, axis=0)
    try:
        w, m, c, conv, it, ll, nk = _run_em(xr, resp, max_iter, tol, reg_covar, tied)
    except np.linalg.LinAlgError:
        raise ValidationError(
            f"A component covariance became singular during EM with `reg_covar`={reg_covar:g}. "
            "Use a larger reg_covar (e.g. 1e-6 times the data's variance) or fewer components."
        ) from None
    best = np.argmax(ll.reshape(nb, n_init), axis=1) + np.arange(nb) * n_init
    fit = BatchFit(w[best], m[best] + shift, c[best], conv[best], it[best], ll[best])
    # a shared covariance does not collapse on a component of few points: no warning then
    _warn_fit(fit, None if tied else nk[best], max_iter, tol, reg_covar)
    return fit


def _warn_fit(fit: BatchFit, nk: np.ndarray | None, max_iter: int, tol: float,
              reg_covar: float) -> None:
    n_bad = int(np.sum(~fit.converged))
    if n_bad:
        warnings.warn(
            f"{n_bad} of {len(fit)} EM fits did not converge within max_iter={max_iter} "
            f"(tol={tol:g}); raise max_iter or tol.",
            ConvergenceWarning,
            stacklevel=3,
        )
    if nk is None:
        return
    weak = nk < _MIN_EFFECTIVE_POINTS
    if np.any(weak):
        warnings.warn(
            f"{int(weak.sum())} fitted component(s) in {int(np.any(weak, axis=1).sum())} of "
            f"{len(fit)} fits rest on fewer than {_MIN_EFFECTIVE_POINTS:g} effective points "
            "(duplicate points or a cluster of one point); their covariances are regularised "
            f"to about reg_covar * I (reg_covar={reg_covar:g}). Use fewer components or more data.",
            DegenerateDataWarning,
            stacklevel=3,
        )


def fit_gmm(
    X: Any,
    n_components: int,
    *,
    rng: RNGLike = None,
    n_init: int = 1,
    max_iter: int = 100,
    tol: float = 1e-3,
    reg_covar: float = 1e-6,
    init: str = "kmeans",
    covariance_type: str = "full",
) -> MixtureFit:
    """Fit a Gaussian mixture with full covariances (one per component, or one shared) to
    one dataset by EM.

    Parameters
    ----------
    X : array_like, shape (n, d)
    n_components, n_init, max_iter, tol, reg_covar, init, covariance_type
        As in :func:`fit_gmm_batched`.
    rng : int, SeedSequence, Generator or None
        The fit's randomness (its restarts' initialisations).

    Returns
    -------
    MixtureFit

    Examples
    --------
    >>> import numpy as np
    >>> from synthgain.mixture import fit_gmm
    >>> X = np.random.default_rng(0).normal(size=(200, 2))
    >>> fit = fit_gmm(X, 2, rng=0)
    >>> fit.mixture.n_components
    2
    """
    x = check_array(X, "X", ndim=2, min_rows=1)
    if x.shape[1] == 0:
        raise ValidationError(f"`X` must have at least one column. Got shape {x.shape}.")
    k, n_init, max_iter, tol, reg_covar, init, tied = _check_fit_args(
        n_components, x.shape[0], n_init, max_iter, tol, reg_covar, init, covariance_type
    )
    gens = [check_rng(rng)]
    return _fit(x[None], k, gens, n_init, max_iter, tol, reg_covar, init, tied)[0]


def n_parameters(n_components: int, d: int, covariance_type: str = "full") -> int:
    """Free parameters of a ``n_components``-component mixture in ``d`` dimensions: the
    means, the covariances (one per component, or one shared when "tied") and the
    weights less one."""
    cov = d * (d + 1) // 2
    n_cov = cov if check_choice(covariance_type, "covariance_type",
                                COVARIANCE_TYPES) == "tied" else n_components * cov
    return n_components * d + n_cov + n_components - 1


def select_gmm(
    X: Any,
    max_components: int,
    *,
    rng: RNGLike = None,
    n_init: int = 1,
    max_iter: int = 100,
    tol: float = 1e-3,
    reg_covar: float = 1e-6,
    covariance_types: Sequence[str] = ("full",),
    patience: int | None = None,
) -> MixtureFit:
    """Fit mixtures of 1 to ``max_components`` components and keep the one of lowest BIC.

    Parameters
    ----------
    X : array_like, shape (n, d)
    max_components : int
        Largest number of components tried (capped at ``n``).
    rng : int, SeedSequence, Generator or None
        The fit with ``k`` components and covariance type ``t`` draws from
        ``child_seed(rng, k, t)``, so a fit does not depend on which others are tried.
    n_init, max_iter, tol, reg_covar
        As in :func:`fit_gmm`.
    covariance_types : sequence of {"full", "tied"}, default ("full",)
        The covariance structures tried for each ``k`` (one component: one fit).
    patience : int, optional
        Stop once ``patience`` successive component counts have not lowered the BIC
        (so ``max_components`` can be a generous cap and the search ends where more
        components stop helping). None: try every count up to ``max_components``.

    Returns
    -------
    MixtureFit
        The fit of lowest ``BIC = -2 n loglik + p log n`` (Schwarz 1978), with ``p`` the
        free parameters (:func:`n_parameters`); the first on ties. Warnings of the
        discarded fits are not shown.

    Examples
    --------
    >>> import numpy as np
    >>> from synthgain.mixture import select_gmm
    >>> g = np.random.default_rng(0)
    >>> X = np.concatenate([g.normal(-5, 1, (100, 2)), g.normal(5, 1, (100, 2))])
    >>> select_gmm(X, 4, rng=0).mixture.n_components
    2
    """
    path = gmm_bic_path(X, max_components, rng=rng, n_init=n_init, max_iter=max_iter, tol=tol,
                        reg_covar=reg_covar, covariance_types=covariance_types,
                        patience=patience)
    return min(path, key=lambda c: c.bic).fit  # min keeps the first on ties


class BicCandidate(NamedTuple):
    """One fit of :func:`gmm_bic_path`: its component count, covariance structure, BIC
    (``-2 n loglik + p log n``) and the fit."""

    n_components: int
    covariance_type: str
    bic: float
    fit: MixtureFit


def gmm_bic_path(
    X: Any,
    max_components: int,
    *,
    rng: RNGLike = None,
    n_init: int = 1,
    max_iter: int = 100,
    tol: float = 1e-3,
    reg_covar: float = 1e-6,
    covariance_types: Sequence[str] = ("full",),
    patience: int | None = None,
) -> list[BicCandidate]:
    """Every mixture :func:`select_gmm` tries, in the order tried, each with its BIC.

    The parameters are those of :func:`select_gmm`, whose choice is the candidate of
    lowest BIC; the others tell which fits the data do not rule out (for instance those
    within 10 of the lowest BIC, Kass & Raftery 1995), so that a quantity computed from
    the chosen fit can be given with the spread between reasonable fits.

    Returns
    -------
    list of BicCandidate
        ``(n_components, covariance_type, bic, fit)``; one component is fitted once.

    References
    ----------
    .. [1] Schwarz, G. (1978). Estimating the dimension of a model. Annals of
           Statistics 6(2), 461-464. https://doi.org/10.1214/aos/1176344136
    .. [2] Kass, R. E. & Raftery, A. E. (1995). Bayes factors. Journal of the American
           Statistical Association 90(430), 773-795.
           https://doi.org/10.1080/01621459.1995.10476572

    Examples
    --------
    >>> import numpy as np
    >>> from synthgain.mixture import gmm_bic_path, select_gmm
    >>> g = np.random.default_rng(0)
    >>> X = np.concatenate([g.normal(-5, 1, (100, 2)), g.normal(5, 1, (100, 2))])
    >>> path = gmm_bic_path(X, 4, rng=0)
    >>> [c.n_components for c in path]
    [1, 2, 3, 4]
    >>> best = min(path, key=lambda c: c.bic)
    >>> best.n_components, best.fit.log_likelihood == select_gmm(X, 4, rng=0).log_likelihood
    (2, True)
    """
    x = check_array(X, "X", ndim=2, min_rows=1)
    k_max = min(check_int(max_components, "max_components", low=1), x.shape[0])
    types = [check_choice(t, "covariance_types", COVARIANCE_TYPES) for t in covariance_types]
    if not types:
        raise ValidationError("`covariance_types` must name at least one of "
                              f"{', '.join(COVARIANCE_TYPES)}. Got none.")
    n, d = x.shape
    root = seed_sequence(rng)
    if patience is not None:
        patience = check_int(patience, "patience", low=1)
    path: list[BicCandidate] = []
    best, best_k = math.inf, 0
    for k in range(1, k_max + 1):
        if patience is not None and k - best_k > patience:
            break
        # one component: "full" and "tied" are the same model, fitted once
        for kind in (dict.fromkeys(types) if k > 1 else ["full"]):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                warnings.simplefilter("ignore", DegenerateDataWarning)
                fit = fit_gmm(x, k, rng=child_seed(root, k, kind), n_init=n_init,
                              max_iter=max_iter, tol=tol, reg_covar=reg_covar,
                              covariance_type=kind)
            bic = -2.0 * n * fit.log_likelihood + n_parameters(k, d, kind) * math.log(n)
            path.append(BicCandidate(k, kind, bic, fit))
            if bic < best:
                best, best_k = bic, k
    return path
