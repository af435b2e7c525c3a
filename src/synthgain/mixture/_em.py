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

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._rng import RNGLike, check_rng, seed_sequence
from .._validation import check_array, check_choice, check_int, check_real
from ..exceptions import ConvergenceWarning, DegenerateDataWarning, ValidationError
from . import _kernels
from ._gaussian_mixture import GaussianMixture

__all__ = ["BatchFit", "MixtureFit", "fit_gmm", "fit_gmm_batched"]

INITS = ("kmeans", "k-means++", "random", "random_from_data")
_KMEANS_MAX_ITER = 100
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


def _sq_dist(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Squared distances up to a per-point constant, x (B, n, d), c (B, k, d) -> (B, n, k).

    ``|c|^2 - 2 x.c`` ranks centers exactly as ``|x - c|^2`` does; ``|x|^2`` is added back
    so that the values are distances (clipped at 0 against rounding).
    """
    xc = x @ np.swapaxes(c, 1, 2)
    d2 = np.einsum("bnd,bnd->bn", x, x)[..., None] - 2.0 * xc + np.einsum("bkd,bkd->bk", c, c)[:, None, :]
    return np.maximum(d2, 0.0)


def _kmeans_pp(x: np.ndarray, k: int, u: np.ndarray) -> np.ndarray:
    """k-means++ seeding (Arthur & Vassilvitskii 2007) from pre-drawn uniforms.

    ``u`` has shape (B, k); returns centers (B, k, d).
    """
    b_idx = np.arange(x.shape[0])
    n = x.shape[1]
    centers = np.empty((x.shape[0], k, x.shape[2]))
    first = np.minimum((u[:, 0] * n).astype(np.int64), n - 1)
    centers[:, 0] = x[b_idx, first]
    closest = _sq_dist(x, centers[:, :1])[..., 0]
    for j in range(1, k):
        cum = np.cumsum(closest, axis=1)
        total = cum[:, -1]
        idx = np.sum(cum <= (u[:, j] * total)[:, None], axis=1)
        # all points already at a center (duplicates): fall back to a uniform draw
        idx = np.where(total > 0, idx, (u[:, j] * n).astype(np.int64))
        idx = np.minimum(idx, n - 1)
        centers[:, j] = x[b_idx, idx]
        closest = np.minimum(closest, _sq_dist(x, centers[:, j : j + 1])[..., 0])
    return centers


def _kmeans_resp(x: np.ndarray, k: int, u: np.ndarray) -> np.ndarray:
    """Hard responsibilities from k-means++ seeding followed by Lloyd iterations."""
    centers = _kmeans_pp(x, k, u)
    labels = np.argmin(_sq_dist(x, centers), axis=2)
    active = np.arange(x.shape[0])  # datasets whose labels still move
    for _ in range(_KMEANS_MAX_ITER):
        xa, la, ca = x[active], labels[active], centers[active]
        onehot = (la[..., None] == np.arange(k)).astype(np.float64)
        counts = onehot.sum(axis=1)
        sums = np.swapaxes(onehot, 1, 2) @ xa
        ca = np.where(counts[..., None] > 0, sums / np.maximum(counts, 1)[..., None], ca)
        new = np.argmin(_sq_dist(xa, ca), axis=2)
        moved = np.any(new != la, axis=1)
        centers[active], labels[active] = ca, new
        active = active[moved]
        if active.size == 0:
            break
    return (labels[..., None] == np.arange(k)).astype(np.float64)


def _outer(x: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Flattened outer products x x^T as (B, n, d*d) and (B, d*d, n), or None for large d."""
    b, n, d = x.shape
    if d > _MOMENT_MAX_DIM:
        return None
    outer = (x[..., :, None] * x[..., None, :]).reshape(b, n, d * d)
    return outer, np.ascontiguousarray(np.swapaxes(outer, 1, 2))


def _m_step(
    x: np.ndarray, outer: tuple[np.ndarray, np.ndarray] | None, resp_t: np.ndarray,
    reg_covar: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights (B, k), means (B, k, d), covariances (B, k, d, d) from resp_t (B, k, n)."""
    b, _, d = x.shape
    nk = resp_t.sum(axis=2) + 10 * np.finfo(np.float64).eps
    means = (resp_t @ x) / nk[..., None]
    if outer is not None:
        # Second moments: one (k, n) @ (n, d*d) product per dataset. The data are
        # centred per dataset (see _fit), which keeps E[xx^T] - mu mu^T accurate.
        second = (resp_t @ outer[0]).reshape(b, -1, d, d) / nk[..., None, None]
        cov = second - means[..., :, None] * means[..., None, :]
        cov = 0.5 * (cov + np.swapaxes(cov, 2, 3))
    else:
        diff = x[:, None, :, :] - means[:, :, None, :]  # (B, k, n, d)
        cov = np.swapaxes(resp_t[..., None] * diff, 2, 3) @ diff / nk[..., None, None]
    cov[..., np.arange(d), np.arange(d)] += reg_covar
    return nk / nk.sum(axis=1, keepdims=True), means, cov


def _e_step(
    x: np.ndarray, outer: tuple[np.ndarray, np.ndarray] | None, weights: np.ndarray,
    means: np.ndarray, cov: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-point log-likelihood (B, n) and log-responsibilities (B, k, n)."""
    _, prec_chol, logdet = _kernels.cholesky_factors(cov)
    with np.errstate(divide="ignore"):
        logw = np.log(weights)
    if outer is None:
        lp, weighted = _kernels.mixture_logpdf(x, logw, means, prec_chol, logdet)
        return lp, np.swapaxes(weighted - lp[..., None], 1, 2)
    b, _, d = x.shape
    # |(x - mu) P|^2 = x^T Lam x - 2 (Lam mu).x + mu^T Lam mu, with Lam = P P^T;
    # kept as (B, k, n) so that reductions over k run along a non-last axis.
    lam = prec_chol @ np.swapaxes(prec_chol, 2, 3)  # (B, k, d, d)
    lam_mu = np.einsum("bkij,bkj->bki", lam, means)
    sq = lam.reshape(b, -1, d * d) @ outer[1]  # (B, k, n)
    sq -= 2.0 * (lam_mu @ np.swapaxes(x, 1, 2))
    sq += np.einsum("bki,bki->bk", means, lam_mu)[..., None]
    np.maximum(sq, 0.0, out=sq)
    weighted = (logdet + logw)[..., None] - 0.5 * (d * _kernels.LOG_2PI + sq)
    lp = _kernels.logsumexp(weighted, axis=1)
    return lp, weighted - lp[:, None, :]


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
        u = np.concatenate([g.random((n_init, k)) for g in gens])
        if init == "kmeans":
            return _kmeans_resp(xr, k, u)
        centers = _kmeans_pp(xr, k, u)
        labels = np.argmin(_sq_dist(xr, centers), axis=2)
        return (labels[..., None] == np.arange(k)).astype(np.float64)
    if init == "random":
        r = np.concatenate([g.random((n_init, n, k)) for g in gens])
        return r / r.sum(axis=2, keepdims=True)
    # random_from_data: k distinct points as means, hard assignment to the nearest
    picks = np.stack([g.choice(n, size=k, replace=False) for g in gens for _ in range(n_init)])
    centers = np.take_along_axis(xr, picks[..., None], axis=1)
    labels = np.argmin(_sq_dist(xr, centers), axis=2)
    return (labels[..., None] == np.arange(k)).astype(np.float64)


def _run_em(
    x: np.ndarray, resp: np.ndarray, max_iter: int, tol: float, reg_covar: float
) -> tuple[np.ndarray, ...]:
    """EM from initial responsibilities; each dataset stops at its own convergence."""
    nb = x.shape[0]
    outer = _outer(x)
    weights, means, cov = _m_step(x, outer, np.swapaxes(resp, 1, 2), reg_covar)
    lower = np.full(nb, -np.inf)
    n_iter = np.zeros(nb, dtype=np.int64)
    converged = np.zeros(nb, dtype=bool)
    active = np.arange(nb)
    for it in range(1, max_iter + 1):
        xa = x[active]
        oa = None if outer is None else (outer[0][active], outer[1][active])
        lp, log_resp = _e_step(xa, oa, weights[active], means[active], cov[active])
        weights[active], means[active], cov[active] = _m_step(xa, oa, np.exp(log_resp), reg_covar)
        lb = lp.mean(axis=1)
        done = np.abs(lb - lower[active]) < tol
        lower[active] = lb
        n_iter[active] = it
        converged[active[done]] = True
        active = active[~done]
        if active.size == 0:
            break
    lp, _ = _e_step(x, outer, weights, means, cov)
    nk = weights * x.shape[1]
    return weights, means, cov, converged, n_iter, lp.mean(axis=1), nk


def _check_fit_args(
    n_components: Any, n: int, n_init: Any, max_iter: Any, tol: Any, reg_covar: Any, init: Any
) -> tuple[int, int, int, float, float, str]:
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
    )


def fit_gmm_batched(
    X: Any,
    n_components: int,
    *,
    rng: RNGLike = None,
    n_init: int = 1,
    max_iter: int = 100,
    tol: float = 1e-3,
    reg_covar: float = 1e-6,
    init: str = "kmeans",
) -> BatchFit:
    """Fit one Gaussian mixture (full covariances) to each of B datasets at once.

    Parameters
    ----------
    X : array_like, shape (B, n, d)
        B datasets of ``n`` points in ``d`` dimensions.
    n_components : int
        Components per mixture, in ``[1, n]``.
    rng : int, SeedSequence, Generator or None
        Root of randomness; dataset ``b`` uses child ``b`` of ``SeedSequence(rng).spawn(B)``.
    n_init : int, default 1
        Restarts per dataset; the one with the highest final log-likelihood is kept.
    max_iter : int, default 100
    tol : float, default 1e-3
        Convergence threshold on the change of the mean log-likelihood.
    reg_covar : float, default 1e-6
        Ridge added to every covariance diagonal.
    init : {"kmeans", "k-means++", "random", "random_from_data"}, default "kmeans"
        "kmeans" runs Lloyd's algorithm from k-means++ seeds, as scikit-learn does.

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
    k, n_init, max_iter, tol, reg_covar, init = _check_fit_args(
        n_components, n, n_init, max_iter, tol, reg_covar, init
    )
    gens = [np.random.default_rng(s) for s in seed_sequence(rng).spawn(nb)]
    return _fit(x, k, gens, n_init, max_iter, tol, reg_covar, init)


def _fit(
    x: np.ndarray,
    k: int,
    gens: list[np.random.Generator],
    n_init: int,
    max_iter: int,
    tol: float,
    reg_covar: float,
    init: str,
) -> BatchFit:
    nb = x.shape[0]
    shift = x.mean(axis=1, keepdims=True)  # EM is translation equivariant: fit centred data
    x = x - shift
    resp = _initial_resp(x, k, init, gens, n_init)
    xr = np.repeat(x, n_init, axis=0)
    try:
        w, m, c, conv, it, ll, nk = _run_em(xr, resp, max_iter, tol, reg_covar)
    except np.linalg.LinAlgError:
        raise ValidationError(
            f"A component covariance became singular during EM with `reg_covar`={reg_covar:g}. "
            "Use a larger reg_covar (e.g. 1e-6 times the data's variance) or fewer components."
        ) from None
    best = np.argmax(ll.reshape(nb, n_init), axis=1) + np.arange(nb) * n_init
    fit = BatchFit(w[best], m[best] + shift, c[best], conv[best], it[best], ll[best])
    _warn_fit(fit, nk[best], max_iter, tol, reg_covar)
    return fit


def _warn_fit(fit: BatchFit, nk: np.ndarray, max_iter: int, tol: float, reg_covar: float) -> None:
    n_bad = int(np.sum(~fit.converged))
    if n_bad:
        warnings.warn(
            f"{n_bad} of {len(fit)} EM fits did not converge within max_iter={max_iter} "
            f"(tol={tol:g}); raise max_iter or tol.",
            ConvergenceWarning,
            stacklevel=3,
        )
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
) -> MixtureFit:
    """Fit a Gaussian mixture with full covariances to one dataset by EM.

    Parameters
    ----------
    X : array_like, shape (n, d)
    n_components, n_init, max_iter, tol, reg_covar, init
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
    k, n_init, max_iter, tol, reg_covar, init = _check_fit_args(
        n_components, x.shape[0], n_init, max_iter, tol, reg_covar, init
    )
    gens = [check_rng(rng)]
    return _fit(x[None], k, gens, n_init, max_iter, tol, reg_covar, init)[0]
