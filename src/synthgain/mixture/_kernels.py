"""Batched Gaussian kernels shared by :class:`GaussianMixture` and EM.

These private functions do no argument checking: callers pass float64 arrays of the
documented shapes. Every function accepts any number of leading batch axes ``...``.
"""

from __future__ import annotations

import numpy as np

LOG_2PI = float(np.log(2.0 * np.pi))


def cholesky_factors(covariances: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cholesky factors of SPD matrices.

    Parameters
    ----------
    covariances : ndarray, shape (..., k, d, d)

    Returns
    -------
    chol : ndarray, shape (..., k, d, d)
        Lower factors, ``covariances = chol @ chol^T``.
    prec_chol : ndarray, shape (..., k, d, d)
        Upper factors of the precisions, ``inv(covariances) = prec_chol @ prec_chol^T``
        (scikit-learn's ``precisions_cholesky_`` convention: ``prec_chol = inv(chol)^T``).
    log_det_prec_chol : ndarray, shape (..., k)
        ``sum(log(diag(prec_chol)))`` = ``-0.5 * log det covariances``.

    Raises
    ------
    numpy.linalg.LinAlgError
        If a matrix is not positive definite.
    """
    chol = np.linalg.cholesky(covariances)
    d = covariances.shape[-1]
    eye = np.broadcast_to(np.eye(d), chol.shape)
    prec_chol = np.swapaxes(np.linalg.solve(chol, eye), -1, -2)
    log_det = -np.sum(np.log(np.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
    return chol, prec_chol, log_det


def component_logpdf(
    x: np.ndarray, means: np.ndarray, prec_chol: np.ndarray, log_det_prec_chol: np.ndarray
) -> np.ndarray:
    """Log-density of every point under every Gaussian component.

    Parameters
    ----------
    x : ndarray, shape (..., n, d)
    means : ndarray, shape (..., k, d)
    prec_chol : ndarray, shape (..., k, d, d)
    log_det_prec_chol : ndarray, shape (..., k)

    Returns
    -------
    ndarray, shape (..., n, k)
        ``log N(x_i | mu_j, Sigma_j) = -d/2 log(2 pi) + log det P_j - |(x_i - mu_j) P_j|^2 / 2``.
    """
    d = x.shape[-1]
    # y[..., j, i, :] = x_i P_j - mu_j P_j  (one (n, d) @ (d, d) product per component)
    y = x[..., None, :, :] @ prec_chol - (means[..., :, None, :] @ prec_chol)
    sq = np.einsum("...kni,...kni->...nk", y, y)
    return log_det_prec_chol[..., None, :] - 0.5 * (d * LOG_2PI + sq)


_SHORT_AXIS = 32
# exp() of arguments below about -708 underflows, and NumPy's vectorised exp is ~20x
# slower there. exp(-700) ~ 1e-304 cannot change a sum that contains exp(0) = 1, so
# clipping the shifted arguments at this value leaves every finite result unchanged.
EXP_FLOOR = -700.0


def logsumexp(a: np.ndarray, axis: int = -1) -> np.ndarray:
    """``log(sum(exp(a), axis))`` computed stably; all ``-inf`` slices give ``-inf``.

    A short reduced axis (at most 32 entries, e.g. mixture components) is summed slice
    by slice into one scratch buffer, which is several times faster in NumPy than a
    broadcast reduction with fresh temporaries. Shifted arguments are clipped at
    ``EXP_FLOOR`` (see there: exact to double precision).
    """
    if a.shape[axis] > _SHORT_AXIS:
        amax = np.max(a, axis=axis, keepdims=True)
        empty = np.squeeze(amax == -np.inf, axis=axis)
        amax = np.where(np.isfinite(amax), amax, 0.0)
        shifted = np.maximum(a - amax, EXP_FLOOR)
        out = np.log(np.sum(np.exp(shifted, out=shifted), axis=axis)) + np.squeeze(amax, axis)
        out[empty] = -np.inf
        return out
    slices = np.moveaxis(a, axis, 0)
    m = slices[0].copy()
    for s in slices[1:]:
        np.maximum(m, s, out=m)
    empty = m == -np.inf
    m[~np.isfinite(m)] = 0.0
    total = np.zeros_like(m)
    tmp = np.empty_like(m)  # one scratch buffer: fresh temporaries cost page faults
    for s in slices:
        np.subtract(s, m, out=tmp)
        np.maximum(tmp, EXP_FLOOR, out=tmp)
        np.exp(tmp, out=tmp)
        total += tmp
    np.log(total, out=total)
    total += m
    total[empty] = -np.inf
    return total


def mixture_logpdf(
    x: np.ndarray,
    log_weights: np.ndarray,
    means: np.ndarray,
    prec_chol: np.ndarray,
    log_det_prec_chol: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Mixture log-density and the weighted per-component log-densities.

    Returns
    -------
    logpdf : ndarray, shape (..., n)
    weighted : ndarray, shape (..., n, k)
        ``log w_j + log N(x_i | mu_j, Sigma_j)``.
    """
    weighted = component_logpdf(x, means, prec_chol, log_det_prec_chol) + log_weights[..., None, :]
    return logsumexp(weighted, axis=-1), weighted


def sample_gaussians(
    rng: np.random.Generator, means: np.ndarray, chol: np.ndarray, labels: np.ndarray
) -> np.ndarray:
    """Draw one point from component ``labels[i]`` for each ``i``.

    ``means`` has shape (k, d), ``chol`` (k, d, d), ``labels`` (n,); returns (n, d).
    """
    z = rng.standard_normal((labels.shape[0], means.shape[-1]))
    return means[labels] + np.einsum("nij,nj->ni", chol[labels], z)
