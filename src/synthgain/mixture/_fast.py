"""Compiled mixture log-density for batched Monte Carlo (optional, needs numba).

One fused loop per block of points: for every component the whitened difference
``z = (x - mu_j) P_j`` (``P_j`` the upper Cholesky factor of the precision), its squared
norm and a log-sum-exp over components, without the (B, k, N) intermediate arrays of the
NumPy path. The difference form has no cancellation, unlike an expansion of the quadratic
form, so it stays accurate for nearly singular covariances. Install with
``pip install synthgain[fast]``; without numba, or with the environment variable
``SYNTHGAIN_DISABLE_NUMBA=1``, :data:`ENABLED` is False and callers use NumPy.
"""

from __future__ import annotations

import os

import numpy as np

from ._kernels import LOG_2PI

try:  # pragma: no cover - exercised by whichever environment runs the tests
    from numba import njit
except ImportError:  # pragma: no cover
    njit = None  # type: ignore[assignment]

__all__ = ["ENABLED", "SKIP_NATS", "mixture_logpdf", "mixture_points"]

#: Terms more than this many nats below a point's largest term are not exponentiated.
SKIP_NATS = 40.0
#: Whether the compiled kernel is used (numba importable and not disabled).
ENABLED = njit is not None and os.environ.get("SYNTHGAIN_DISABLE_NUMBA", "") in ("", "0")

_BLOCK = 256  # points per block: the block's (k, 256) term array stays in L1/L2

# exp(t) = 2^n exp(r), n = round(t / log 2), |r| <= log(2) / 2 (Cody-Waite reduction)
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # 32 significant bits: n * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_SHIFTER = 6755399441055744.0  # 1.5 * 2^52: y + _SHIFTER rounds y to an integer
_SHIFTER_BITS = 0x4338000000000000  # the bits of _SHIFTER
# Taylor coefficients 1/i!, i = 0..13: truncation error < 0.347^14 / 14! * 1.42 < 6e-18
_C = tuple(1.0 / float(np.prod(np.arange(1, i + 1, dtype=np.float64))) for i in range(14))


def _kernel(x: np.ndarray, const: np.ndarray, means: np.ndarray, prec: np.ndarray,
            out: np.ndarray) -> None:
    nb, n, d = x.shape
    k = means.shape[1]
    xs = np.empty((d, _BLOCK))
    z = np.empty(_BLOCK)
    w = np.empty((k, _BLOCK))
    top = np.empty(_BLOCK)
    acc = np.empty(_BLOCK)
    ybuf = np.empty(_BLOCK)
    ybits = ybuf.view(np.int64)
    sbits = np.empty(_BLOCK, dtype=np.int64)
    scale = sbits.view(np.float64)
    c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13 = _C
    for b in range(nb):
        for lo in range(0, n, _BLOCK):
            m = min(_BLOCK, n - lo)
            for a in range(d):  # coordinate-major copy of the block
                for p in range(m):
                    xs[a, p] = x[b, lo + p, a]
            for j in range(k):  # contiguous, vectorisable loops over the block's points
                for p in range(m):
                    w[j, p] = 0.0
                for c in range(d):  # z_c = sum_{a <= c} (x_a - mu_a) P[a, c]
                    mu0, p0 = means[b, j, 0], prec[b, j, 0, c]
                    for p in range(m):
                        z[p] = (xs[0, p] - mu0) * p0
                    for a in range(1, c + 1):
                        mua, pac = means[b, j, a], prec[b, j, a, c]
                        for p in range(m):
                            z[p] += (xs[a, p] - mua) * pac
                    for p in range(m):
                        w[j, p] += z[p] * z[p]
                cj = const[b, j]
                for p in range(m):
                    w[j, p] = cj - 0.5 * w[j, p]
            for p in range(m):
                top[p] = w[0, p]
                acc[p] = 0.0
            for j in range(1, k):
                for p in range(m):
                    top[p] = max(top[p], w[j, p])
            for j in range(k):  # acc += exp(max(t, -40)), vectorisable (see Notes)
                for p in range(m):
                    t = max(w[j, p] - top[p], -SKIP_NATS)
                    y = t * _LOG2E + _SHIFTER
                    ybuf[p] = y
                    nf = y - _SHIFTER
                    r = (t - nf * _LN2_HI) - nf * _LN2_LO
                    w[j, p] = c0 + r * (c1 + r * (c2 + r * (c3 + r * (c4 + r * (c5 + r * (
                        c6 + r * (c7 + r * (c8 + r * (c9 + r * (c10 + r * (c11 + r * (
                            c12 + r * c13))))))))))))
                for p in range(m):
                    sbits[p] = (ybits[p] - _SHIFTER_BITS + 1023) << 52
                for p in range(m):
                    acc[p] += w[j, p] * scale[p]
            for p in range(m):
                out[b, lo + p] = top[p] + np.log(acc[p])


def _points_kernel(u: np.ndarray, z: np.ndarray, cdf: np.ndarray, means: np.ndarray,
                   chol: np.ndarray, out: np.ndarray) -> None:
    n, d = z.shape
    k = cdf.shape[0]
    for i in range(n):
        lab = 0
        for j in range(k):  # searchsorted(cdf, u, side="right")
            lab += cdf[j] <= u[i]
        lab = min(lab, k - 1)
        for a in range(d):
            acc = 0.0
            for c in range(d):
                acc += chol[lab, a, c] * z[i, c]
            out[i, a] = means[lab, a] + acc


if njit is not None:
    _compiled = njit(cache=True, nogil=True)(_kernel)
    _compiled_points = njit(cache=True, nogil=True)(_points_kernel)
else:  # pragma: no cover
    _compiled, _compiled_points = _kernel, _points_kernel


def mixture_logpdf(x: np.ndarray, log_weights: np.ndarray, means: np.ndarray,
                   prec_chol: np.ndarray, log_det_prec_chol: np.ndarray) -> np.ndarray:
    """Log-density of points x (B, N, d) under mixture b; returns (B, N).

    Parameters
    ----------
    x : ndarray, shape (B, N, d)
    log_weights : ndarray, shape (B, k)
    means : ndarray, shape (B, k, d)
    prec_chol : ndarray, shape (B, k, d, d)
        Upper Cholesky factors of the precisions (:func:`._kernels.cholesky_factors`).
    log_det_prec_chol : ndarray, shape (B, k)

    Notes
    -----
    ``log p(x) = t_max + log sum_j exp(t_j - t_max)`` with
    ``t_j = log w_j + log det P_j - d/2 log(2 pi) - |(x - mu_j) P_j|^2 / 2``.
    The exponential is computed in the loop, so that it vectorises: ``exp(t) = 2^n
    exp(r)`` with ``n = round(t / log 2)``, ``r = t - n log 2`` (``|r| <= 0.347``, the
    product ``n log 2`` in two parts, so ``r`` is exact to an ulp), ``exp(r)`` by its
    Taylor polynomial of degree 13 (truncation error below ``6e-18`` relative) and
    ``2^n`` built from its exponent bits; its relative error is a few units in the last
    place, as for ``numpy.exp``.

    Terms with ``t_j - t_max < -40`` enter as ``exp(-40)`` (clamped, so that ``2^n``
    stays a normal number). This changes the result by less than ``k * 4.3e-18`` in
    absolute terms: the sum is at least 1 (the largest term contributes ``exp(0)``) and
    a clamped term differs from its exact value by less than ``exp(-40) = 4.25e-18``, so
    together they change the sum by a relative ``k * 4.25e-18``, less than half a unit
    in the last place of a sum >= 1 (``1.1e-16``) for ``k <= 26`` components. A weight of
    zero (``t_j = -inf``) is clamped likewise.
    """
    d = x.shape[2]
    const = np.ascontiguousarray(log_weights + log_det_prec_chol - 0.5 * d * LOG_2PI)
    out = np.empty(x.shape[:2])
    _compiled(np.ascontiguousarray(x, dtype=np.float64), const,
              np.ascontiguousarray(means, dtype=np.float64),
              np.ascontiguousarray(prec_chol, dtype=np.float64), out)
    return out


def mixture_points(u: np.ndarray, z: np.ndarray, weights: np.ndarray, means: np.ndarray,
                   chol: np.ndarray) -> np.ndarray:
    """Points of a Gaussian mixture from uniform and standard normal draws; (n, d).

    Parameters
    ----------
    u : ndarray, shape (n,)
        Uniform draws on [0, 1), one per point: the component is
        ``searchsorted(cumsum(weights) / sum(weights), u, side="right")``, exactly as
        ``numpy.random.Generator.choice(k, size=n, p=weights)`` picks it from
        ``Generator.random(n)``.
    z : ndarray, shape (n, d)
        Standard normal draws.
    weights : ndarray, shape (k,)
    means : ndarray, shape (k, d)
    chol : ndarray, shape (k, d, d)
        Lower Cholesky factors of the covariances.

    Notes
    -----
    ``x_i = mu_l + L_l z_i`` with ``l`` the component of point ``i``; the product is
    summed in column order, as ``numpy.einsum("nij,nj->ni", chol[labels], z)``.
    """
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    out = np.empty(z.shape)
    _compiled_points(np.ascontiguousarray(u, dtype=np.float64),
                     np.ascontiguousarray(z, dtype=np.float64), cdf,
                     np.ascontiguousarray(means, dtype=np.float64),
                     np.ascontiguousarray(chol, dtype=np.float64), out)
    return out
