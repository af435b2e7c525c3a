"""Batched Gaussian kernels shared by :class:`GaussianMixture`, :class:`MixtureStack` and EM.

These private functions do no argument checking: callers pass float64 arrays of the
documented shapes. Every function accepts any number of leading batch axes ``...``.
"""

from __future__ import annotations

import numpy as np

#: ``log(2 pi)``, the constant of every Gaussian log-density in synthgain.
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


def quadratic_features(x: np.ndarray, *, triangle: bool = False,
                       transpose: bool = False) -> np.ndarray:
    """Features ``phi(x) = (1, x, x x^T)`` of points, shape (..., n, F) or (..., F, n).

    ``log w_j + log N(x | mu_j, Sigma_j) = coef_j . phi(x)`` with the coefficients of
    :func:`quadratic_coefficients` of the same ``triangle``. With ``triangle`` False the
    products are ``vec(x x^T)`` (``F = 1 + d + d^2``; EM reads its counts, sums and
    second moments off them in one product); with ``triangle`` True only
    ``x_a x_c, a <= c`` (``F = 1 + d + d(d+1)/2``, fewer flops for a log-density).
    ``transpose`` puts the features before the points, the layout of ``coef @ phi``.
    """
    d, n = x.shape[-1], x.shape[-2]
    lead = x.shape[:-2]
    if not transpose and not triangle:
        phi = np.empty((*lead, n, 1 + d + d * d))
        phi[..., 0] = 1.0
        phi[..., 1 : 1 + d] = x
        phi[..., 1 + d :] = (x[..., :, None] * x[..., None, :]).reshape(*lead, n, d * d)
        return phi
    pairs = list(zip(*(t.tolist() for t in np.triu_indices(d)), strict=True)) if triangle else [
        (a, c) for a in range(d) for c in range(d)]
    feats = np.empty((*lead, 1 + d + len(pairs), n))
    feats[..., 0, :] = 1.0
    cols = [np.ascontiguousarray(x[..., a]) for a in range(d)]
    for a in range(d):
        feats[..., 1 + a, :] = cols[a]
    for f, (a, c) in enumerate(pairs):
        np.multiply(cols[a], cols[c], out=feats[..., 1 + d + f, :])
    return feats if transpose else np.swapaxes(feats, -1, -2)


def quadratic_coefficients(
    log_weights: np.ndarray, means: np.ndarray, prec_chol: np.ndarray,
    log_det_prec_chol: np.ndarray, *, triangle: bool = False,
) -> np.ndarray:
    """Coefficients (..., k, F) of the weighted component log-densities.

    ``coef_j . phi(x) = log w_j + log N(x | mu_j, Sigma_j)`` for the features ``phi`` of
    :func:`quadratic_features` (same ``triangle``), from
    ``|(x - mu) P|^2 = x^T Lam x - 2 (Lam mu) . x + mu^T Lam mu`` with ``Lam = P P^T``:
    constant ``log w + log det P - (d log(2 pi) + mu^T Lam mu) / 2``, linear ``Lam mu``,
    quadratic ``-Lam / 2`` (triangle: ``-Lam_aa / 2`` and ``-Lam_ac``, ``a < c``). The
    expansion loses accuracy when ``|x - mu|`` is large against the components' spread:
    centre the points (and the means) first.
    """
    d = means.shape[-1]
    lam = prec_chol @ np.swapaxes(prec_chol, -1, -2)  # (..., k, d, d)
    lam_mu = np.einsum("...kij,...kj->...ki", lam, means)
    if triangle:
        iu, ju = np.triu_indices(d)
        quad = -lam[..., iu, ju] * np.where(iu == ju, 0.5, 1.0)  # (..., k, d(d+1)/2)
    else:
        quad = -0.5 * lam.reshape(*lam.shape[:-2], d * d)
    coef = np.empty((*means.shape[:-1], 1 + d + quad.shape[-1]))
    # the constant is summed in two groupings, each the one its caller always used, so
    # that EM's fits and the NumPy log-densities stay bit for bit what they were (for
    # thin components the grouping moves a log-density by ~1e-11 relative)
    if triangle:
        coef[..., 0] = (log_weights + log_det_prec_chol - 0.5 * d * LOG_2PI
                        - 0.5 * np.einsum("...ki,...ki->...k", means, lam_mu))
    else:
        coef[..., 0] = log_weights + log_det_prec_chol - 0.5 * (
            d * LOG_2PI + np.einsum("...ki,...ki->...k", means, lam_mu))
    coef[..., 1 : 1 + d] = lam_mu
    coef[..., 1 + d :] = quad
    return coef


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
