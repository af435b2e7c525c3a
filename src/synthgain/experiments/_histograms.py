"""Histogram and k-nearest-neighbour kernels of the KL Gap (no argument checking).

Private to :mod:`synthgain.experiments.klgap`, which documents the estimators. Samples
are passed coordinate-major, (d, ..., n), so that every per-axis operation runs on
contiguous memory.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import check_int
from ..exceptions import ValidationError
from ..measures import kl_divergence

_MAX_BINS = 2**20  # dense histograms: bins**d cells per sample


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
