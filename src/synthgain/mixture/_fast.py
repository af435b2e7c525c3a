"""Compiled mixture log-density and mixture sampling for batched Monte Carlo (optional, numba).

:func:`mixture_logpdf` runs one fused loop per block of points: for every component the
whitened difference ``z = (x - mu_j) P_j`` (``P_j`` the upper Cholesky factor of the
precision), its squared norm and a log-sum-exp over components, without the (B, k, N)
intermediate arrays of the NumPy path. The difference form has no cancellation, unlike an
expansion of the quadratic form, so it stays accurate for nearly singular covariances.
The exponential and the logarithm are evaluated in the loops (see the Notes of
:func:`mixture_logpdf`) so that they vectorise, and a component is not exponentiated over
a block of points in which all its terms are negligible.

:func:`draw_mixture` draws mixture points from a :class:`numpy.random.Generator` inside
compiled code: numba's Generator methods reproduce NumPy's streams exactly, so the
component counts (``Generator.multinomial``'s algorithm) and the normals
(``Generator.standard_normal``) are NumPy's, bit for bit (tested), at about four times the
speed of NumPy's own normals on the reference machine.

Install with ``pip install synthgain[fast]``; without numba, or with the environment
variable ``SYNTHGAIN_DISABLE_NUMBA=1``, :data:`ENABLED` is False and
:class:`synthgain.mixture.MixtureStack` (the only caller) uses its NumPy kernels.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from ._kernels import LOG_2PI

try:  # pragma: no cover - exercised by whichever environment runs the tests
    from llvmlite import ir
    from numba import njit, types
    from numba.extending import intrinsic
except ImportError:  # pragma: no cover
    njit = None  # type: ignore[assignment]

__all__ = ["ENABLED", "SKIP_NATS", "draw_mixture", "mixture_log_ratio", "mixture_logpdf"]

#: Terms more than this many nats below a point's largest term are dropped.
SKIP_NATS = 40.0
#: Whether the compiled kernels are used (numba importable and not disabled).
ENABLED = njit is not None and os.environ.get("SYNTHGAIN_DISABLE_NUMBA", "") in ("", "0")

_BLOCK = 64  # points per block: small, so that sorted points make blocks local

# exp(t) = 2^n exp(r), n = round(t / log 2), |r| <= log(2) / 2 (Cody-Waite reduction)
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # 32 significant bits: n * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_SHIFTER = 6755399441055744.0  # 1.5 * 2^52: y + _SHIFTER rounds y to an integer
_SHIFTER_BITS = 0x4338000000000000  # the bits of _SHIFTER
# Taylor coefficients 1/i!, i = 0..13: truncation error < 0.347^14 / 14! * 1.42 < 6e-18
_C = tuple(1.0 / math.factorial(i) for i in range(14))
# log(a) = e log 2 + 2 atanh(s), s = (f - 1) / (f + 1), f in [sqrt(1/2), sqrt(2)):
# |s| < 0.1716, the series 2 sum s^(2i+1) / (2i+1) to i = 10 errs below 4e-18
_L = tuple(2.0 / (2 * i + 1) for i in range(11))
_LN2 = math.log(2.0)
_SQRT2 = math.sqrt(2.0)
_MANT = 0x000FFFFFFFFFFFFF
_ONE_BITS = 0x3FF0000000000000

_as_f64: Any  # bit casts: compiled intrinsics, or NumPy views without numba
_as_i64: Any
_compiled: Any
_compiled_ratio: Any
_compiled_draw: Any

if njit is not None:
    @intrinsic
    def _bits_to_f64(typingctx: Any, x: Any) -> Any:  # pragma: no cover - compiled
        """The float64 whose bits are the int64 ``x``."""
        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            return builder.bitcast(args[0], ir.DoubleType())
        return types.float64(types.int64), codegen

    @intrinsic
    def _bits_to_i64(typingctx: Any, x: Any) -> Any:  # pragma: no cover - compiled
        """The int64 whose bits are the float64 ``x``."""
        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            return builder.bitcast(args[0], ir.IntType(64))
        return types.int64(types.float64), codegen

    _as_f64, _as_i64 = _bits_to_f64, _bits_to_i64
else:  # pragma: no cover
    def _as_f64(x: int) -> float:
        return float(np.int64(x).view(np.float64))

    def _as_i64(x: float) -> int:
        return int(np.float64(x).view(np.int64))


def _block_terms(xs: np.ndarray, b: int, const: np.ndarray, means: np.ndarray,
                 prec: np.ndarray, w: np.ndarray, z: np.ndarray, top: np.ndarray) -> None:
    """Terms w[j, p] = t_j(x_p) of a block (coordinate-major xs) and their maximum top[p].

    Every loop runs over the whole block (a constant trip count, which vectorises without
    remainder loops); a short last block is padded by :func:`_copy_block`."""
    d = xs.shape[0]
    k = means.shape[1]
    for p in range(_BLOCK):
        top[p] = -np.inf
    for j in range(k):  # t_j = const_j - |(x - mu_j) P_j|^2 / 2, and the max
        wj = w[j]
        cj = const[b, j]
        if d == 2:
            x0, x1 = xs[0], xs[1]
            mu0, mu1 = means[b, j, 0], means[b, j, 1]
            p00, p01, p11 = prec[b, j, 0, 0], prec[b, j, 0, 1], prec[b, j, 1, 1]
            for p in range(_BLOCK):
                d0 = x0[p] - mu0
                z0 = d0 * p00
                z1 = d0 * p01 + (x1[p] - mu1) * p11
                wj[p] = cj - 0.5 * (z0 * z0 + z1 * z1)
        else:
            for p in range(_BLOCK):
                wj[p] = 0.0
            for c in range(d):  # z_c = sum_{a <= c} (x_a - mu_a) P[a, c]
                xa = xs[0]
                mu0, p0 = means[b, j, 0], prec[b, j, 0, c]
                for p in range(_BLOCK):
                    z[p] = (xa[p] - mu0) * p0
                for a in range(1, c + 1):
                    xa = xs[a]
                    mua, pac = means[b, j, a], prec[b, j, a, c]
                    for p in range(_BLOCK):
                        z[p] += (xa[p] - mua) * pac
                for p in range(_BLOCK):
                    wj[p] += z[p] * z[p]
            for p in range(_BLOCK):
                wj[p] = cj - 0.5 * wj[p]
        for p in range(_BLOCK):
            top[p] = max(top[p], wj[p])


def _block_sum(w: np.ndarray, top: np.ndarray, acc: np.ndarray) -> None:
    """acc[p] = sum_j exp(w[j, p] - top[p]) over the terms above -SKIP_NATS (>= 1), for
    the whole block."""
    k = w.shape[0]
    c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13 = _C
    for p in range(_BLOCK):
        acc[p] = 0.0
    for j in range(k):
        wj = w[j]
        live = 0
        for p in range(_BLOCK):
            live += wj[p] - top[p] >= -SKIP_NATS
        if live == 0:  # negligible over the whole block
            continue
        for p in range(_BLOCK):
            s = wj[p] - top[p]
            t = max(s, -SKIP_NATS)  # keeps 2^n normal; dropped below
            y = t * _LOG2E + _SHIFTER
            nf = y - _SHIFTER
            r = (t - nf * _LN2_HI) - nf * _LN2_LO
            e = c0 + r * (c1 + r * (c2 + r * (c3 + r * (c4 + r * (c5 + r * (
                c6 + r * (c7 + r * (c8 + r * (c9 + r * (c10 + r * (c11 + r * (
                    c12 + r * c13))))))))))))
            e *= _as_f64((_as_i64(y) - _SHIFTER_BITS + 1023) << 52)
            acc[p] += e if s >= -SKIP_NATS else 0.0


def _log(a: float) -> float:
    """log(a) of a positive normal float, vectorisable (see mixture_logpdf's Notes)."""
    l0, l1, l2, l3, l4, l5, l6, l7, l8, l9, l10 = _L
    bits = _as_i64(a)
    f = _as_f64((bits & _MANT) | _ONE_BITS)
    ex = (bits >> 52) - 1023
    big = f > _SQRT2
    f = f * 0.5 if big else f
    ex = ex + 1 if big else ex
    s = (f - 1.0) / (f + 1.0)
    s2 = s * s
    lg = s * (l0 + s2 * (l1 + s2 * (l2 + s2 * (l3 + s2 * (l4 + s2 * (
        l5 + s2 * (l6 + s2 * (l7 + s2 * (l8 + s2 * (l9 + s2 * l10))))))))))
    return ex * _LN2 + lg


def _copy_block(x: np.ndarray, b: int, lo: int, m: int, xs: np.ndarray) -> None:
    for a in range(xs.shape[0]):  # coordinate-major copy of the block
        xa = xs[a]
        for p in range(m):
            xa[p] = x[b, lo + p, a]
        for p in range(m, _BLOCK):  # pad a short block with its last point
            xa[p] = xa[m - 1]


def _kernel(x: np.ndarray, const: np.ndarray, means: np.ndarray, prec: np.ndarray,
            out: np.ndarray) -> None:
    nb, n, d = x.shape
    xs = np.empty((d, _BLOCK))
    z = np.empty(_BLOCK)
    w = np.empty((means.shape[1], _BLOCK))
    top = np.empty(_BLOCK)
    acc = np.empty(_BLOCK)
    for b in range(nb):
        for lo in range(0, n, _BLOCK):
            m = min(_BLOCK, n - lo)
            _copy_block(x, b, lo, m, xs)
            _block_terms(xs, b, const, means, prec, w, z, top)
            _block_sum(w, top, acc)
            for p in range(m):
                out[b, lo + p] = top[p] + _log(acc[p])


def _ratio_kernel(x: np.ndarray, const_p: np.ndarray, means_p: np.ndarray,
                  prec_p: np.ndarray, const_q: np.ndarray, means_q: np.ndarray,
                  prec_q: np.ndarray, out: np.ndarray) -> None:
    nb, n, d = x.shape
    xs = np.empty((d, _BLOCK))
    z = np.empty(_BLOCK)
    w = np.empty((max(means_p.shape[1], means_q.shape[1]), _BLOCK))
    top_p, top_q = np.empty(_BLOCK), np.empty(_BLOCK)
    acc_p, acc_q = np.empty(_BLOCK), np.empty(_BLOCK)
    for b in range(nb):
        for lo in range(0, n, _BLOCK):
            m = min(_BLOCK, n - lo)
            _copy_block(x, b, lo, m, xs)
            _block_terms(xs, b, const_p, means_p, prec_p, w, z, top_p)
            _block_sum(w[: means_p.shape[1]], top_p, acc_p)
            _block_terms(xs, b, const_q, means_q, prec_q, w, z, top_q)
            _block_sum(w[: means_q.shape[1]], top_q, acc_q)
            for p in range(m):
                out[b, lo + p] = (top_p[p] - top_q[p]) + _log(acc_p[p] / acc_q[p])


def _draw_kernel(gen: Any, group: int, weights: np.ndarray, means: np.ndarray,
                 chol: np.ndarray, out: np.ndarray) -> None:
    n, d = out.shape
    k = means.shape[0]
    counts = np.zeros(k, dtype=np.int64)
    z = np.empty(d)
    for lo in range(0, n, group):
        c = min(group, n - lo)
        # Generator.multinomial(c, weights): binomials on the remaining probability
        counts[:] = 0
        left = c
        rest = 1.0
        for j in range(k - 1):
            counts[j] = gen.binomial(left, min(1.0, max(0.0, weights[j] / rest)))
            left -= counts[j]
            if left <= 0:
                break
            rest -= weights[j]
        if left > 0:
            counts[k - 1] = left
        # Generator.standard_normal((c, d)), points in component order
        row = lo
        for j in range(k):
            if d == 2:  # the same sums as below, with the component's constants hoisted
                m0, m1 = means[j, 0], means[j, 1]
                a00, a01, a10, a11 = chol[j, 0, 0], chol[j, 0, 1], chol[j, 1, 0], chol[j, 1, 1]
                for _ in range(counts[j]):
                    z0 = gen.standard_normal()
                    z1 = gen.standard_normal()
                    out[row, 0] = m0 + (0.0 + a00 * z0 + a01 * z1)
                    out[row, 1] = m1 + (0.0 + a10 * z0 + a11 * z1)
                    row += 1
                continue
            for _ in range(counts[j]):
                for a in range(d):
                    z[a] = gen.standard_normal()
                for a in range(d):
                    acc = 0.0
                    for e in range(d):
                        acc += chol[j, a, e] * z[e]
                    out[row, a] = means[j, a] + acc
                row += 1


if njit is not None:
    # fused multiply-adds; NumPy's division semantics (no zero check, which would keep
    # the loops from vectorising: the logarithm alone ran 5x slower); the helpers are
    # inlined into the kernels by numba (calls cost a quarter of the time otherwise)
    _opts: dict[str, Any] = {"fastmath": {"contract"}, "error_model": "numpy"}
    _block_terms = njit(inline="always", **_opts)(_block_terms)
    _block_sum = njit(inline="always", **_opts)(_block_sum)
    _log = njit(inline="always", **_opts)(_log)
    _copy_block = njit(inline="always")(_copy_block)
    _compiled = njit(cache=True, nogil=True, **_opts)(_kernel)
    _compiled_ratio = njit(cache=True, nogil=True, **_opts)(_ratio_kernel)
    _compiled_draw = njit(cache=True, nogil=True)(_draw_kernel)
else:  # pragma: no cover
    _compiled, _compiled_ratio = _kernel, _ratio_kernel
    _compiled_draw = _draw_kernel


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
    ``2^n`` built from its exponent bits. The logarithm of the sum ``a`` (in ``[1, k]``)
    likewise: ``a = 2^e f`` with ``f`` in ``[sqrt(1/2), sqrt(2))`` from its bits, and
    ``log f = 2 atanh((f - 1) / (f + 1))`` by 11 terms of its series (truncation error
    below ``4e-18``). Both are accurate to a few units in the last place, as
    ``numpy.exp`` and ``numpy.log``.

    Terms with ``t_j - t_max < -40`` are dropped, and a component none of whose terms in
    a block of 64 points reaches ``-40`` is not exponentiated there (about 40 % of the
    (component, block) pairs of the KL-gap protocol, whose points come in component order
    from :func:`draw_mixture`). A dropped term
    is below ``exp(-40) = 4.25e-18`` while the sum is at least 1 (the largest term
    contributes ``exp(0)``), so the dropped terms change the sum by a relative
    ``k * 4.25e-18`` at most: less than half a unit in the last place (``1.1e-16``) for
    ``k <= 26`` components. A weight of zero (``t_j = -inf``) is dropped likewise.
    """
    out = np.empty(x.shape[:2])
    _compiled(np.ascontiguousarray(x, dtype=np.float64),
              *_kernel_args(x.shape[2], log_weights, means, prec_chol, log_det_prec_chol), out)
    return out


def _kernel_args(d: int, log_weights: np.ndarray, means: np.ndarray, prec_chol: np.ndarray,
                 log_det_prec_chol: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A mixture as the kernels take it: each component's constant term
    ``log w_j + log det P_j - d/2 log(2 pi)``, the means and the precision factors."""
    return (np.ascontiguousarray(log_weights + log_det_prec_chol - 0.5 * d * LOG_2PI),
            np.ascontiguousarray(means, dtype=np.float64),
            np.ascontiguousarray(prec_chol, dtype=np.float64))


def mixture_log_ratio(x: np.ndarray, p: tuple[np.ndarray, ...],
                      q: tuple[np.ndarray, ...]) -> np.ndarray:
    """``log p(x) - log q(x)`` of points x (B, N, d) under mixtures b; returns (B, N).

    ``p`` and ``q`` are each ``(log_weights, means, prec_chol, log_det_prec_chol)`` as
    the arguments of :func:`mixture_logpdf`. Equal to the difference of two
    :func:`mixture_logpdf` calls up to rounding, in one pass over the points and with
    one logarithm per point (``log(sum_p / sum_q)``) instead of two.
    """
    d = x.shape[2]
    out = np.empty(x.shape[:2])
    _compiled_ratio(np.ascontiguousarray(x, dtype=np.float64), *_kernel_args(d, *p),
                    *_kernel_args(d, *q), out)
    return out


def draw_mixture(gen: np.random.Generator, weights: np.ndarray, means: np.ndarray,
                 chol: np.ndarray, out: np.ndarray, group: int) -> np.ndarray:
    """Fill ``out`` (n, d) with points of a Gaussian mixture from ``gen``; returns ``out``.

    In groups of ``group`` points (the last one possibly shorter): the component counts
    ``gen.multinomial(c, weights)`` (``weights`` summing to 1), then
    ``gen.standard_normal((c, d))``, the points of component 0 first. The draws, the
    counts and the points are those of :meth:`synthgain.mixture.MixtureStack.draw`
    without numba (tested: bit for bit in d <= 2, to 1e-14 in d = 3, where NumPy's
    einsum sums ``L z`` in another order): numba's
    Generator methods reproduce NumPy's streams, and the multinomial is NumPy's
    algorithm (binomials on the remaining probability).
    """
    _compiled_draw(gen, max(1, int(group)), np.ascontiguousarray(weights, dtype=np.float64),
                   np.ascontiguousarray(means, dtype=np.float64),
                   np.ascontiguousarray(chol, dtype=np.float64), out)
    return out
