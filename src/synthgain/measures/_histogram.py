"""Histogram (plug-in) estimators, for d <= 3: the one binning code of the library.

Used by ``method="histogram"`` of the measures and by the KL-gap protocol
(:mod:`synthgain.experiments.klgap`, estimators ``"histogram"`` and
``"histogram_per_sample"``). The estimators are biased (the bias depends on the bin
width); docs/estimators.md shows by how much. Kernels do no argument checking.

Binning
-------
Samples are passed *coordinate-major*, shape (d, ..., n), with any leading batch axes
(settings, rounds), so that every per-axis operation runs on contiguous memory. Each axis
gets ``bins`` equal bins over ``[lo, hi]``, the range of the sample(s) binned together
(the union of both samples' ranges for a divergence); the right edge of the last bin is
included. Cells are numbered row-major, as ``numpy.histogramdd(...).ravel()``.

Smoothing (divergences)
-----------------------
With ``c_i``, ``c'_i`` the two samples' counts in cell ``i`` and ``m`` the number of cells
occupied by either sample, ``p_i = (c_i + a) / (n_p + a m)`` and
``q_i = (c'_i + a) / (n_q + a m)`` on those cells and 0 elsewhere (add-``a`` on the
occupied cells only; ``a = 0`` gives the raw frequencies, used by JS and TV).

The authors' per-sample variant
-------------------------------
:func:`binned_density_per_sample` replays the histogram of the paper's code (defective,
kept to reproduce its numbers): each sample is binned on its own range, bin by bin
exactly as ``numpy.histogramdd(x, bins, density=True)``, floored and renormalised; the
protocol then compares the two flattened arrays cell index by cell index
(``discrete_divergence(hp, hq, "kl")``) although cell ``i`` covers a different region
in each.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

__all__ = ["binned_density_per_sample", "binned_probabilities", "discrete_divergence"]

MAX_DIM = 3


def auto_bins(n: int, d: int) -> int:
    """Bins per axis for ``bins="auto"``: ``ceil(2 n^(1/(d+2)))``, the rate that balances
    squared bias and variance of a histogram density in d dimensions."""
    return max(2, math.ceil(2.0 * n ** (1.0 / (d + 2))))


def coords(x: np.ndarray) -> np.ndarray:
    """Coordinate-major copy (d, ..., n) of points (..., n, d)."""
    return np.ascontiguousarray(np.moveaxis(x, -1, 0))


def bin_index(xt: np.ndarray, lo: np.ndarray, hi: np.ndarray, bins: int, *,
              exact: bool = False) -> np.ndarray:
    """Flat cell index of each point on ``bins`` equal bins per axis over ``[lo, hi]``.

    xt (d, ..., n) coordinate-major points, lo/hi (d, ..., 1); returns (..., n). With
    ``exact``, the assignment is ``numpy.histogramdd``'s to the last bit: edges are
    ``numpy.linspace(lo, hi, bins + 1)`` and an arithmetic first guess is moved by one bin
    where rounding put it on the wrong side of an edge.
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


def counts(flat: np.ndarray, n_cells: int) -> np.ndarray:
    """Counts of flat cell indices (..., n) per leading index; returns (..., n_cells)."""
    lead = flat.shape[:-1]
    rows = np.arange(math.prod(lead), dtype=np.int64).reshape(lead)[..., None]
    c = np.bincount((rows * n_cells + flat).ravel(), minlength=math.prod(lead) * n_cells)
    return c.reshape(*lead, n_cells).astype(np.float64)


def _range(*xts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per axis (and batch index), the range of the samples together: lo, hi (d, ..., 1)."""
    lo = xts[0].min(axis=-1, keepdims=True)
    hi = xts[0].max(axis=-1, keepdims=True)
    for xt in xts[1:]:
        lo = np.minimum(lo, xt.min(axis=-1, keepdims=True))
        hi = np.maximum(hi, xt.max(axis=-1, keepdims=True))
    return lo, hi


def _cell_volume(lo: np.ndarray, hi: np.ndarray, bins: int) -> np.ndarray:
    """Volume of one cell per batch index, (d, ..., 1) ranges -> (...,)."""
    width = np.where(hi > lo, hi - lo, 1.0)[..., 0]
    vol = width[0] / bins
    for w in width[1:]:
        vol = vol * (w / bins)
    return vol


# --- public batched kernels (points (..., n, d), no argument checking) -----------------


def binned_probabilities(xp: np.ndarray, xq: np.ndarray, bins: int, pseudocount: float = 0.0
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Cell probabilities of two samples binned on shared edges, batched.

    Parameters
    ----------
    xp, xq : ndarray, shape (..., n_p, d) and (..., n_q, d)
        Samples with the same leading (batch) axes and dimension; each batch index is
        binned on its own edges, over the union of its two samples' ranges.
    bins : int
        Equal bins per axis (``bins**d`` cells).
    pseudocount : float, default 0.0
        Added to the count of every cell that either sample occupies (module notes).

    Returns
    -------
    p, q : ndarray, shape (..., bins**d)
        0 on cells neither sample occupies; cells in ``numpy.histogramdd(...).ravel()``
        order. Does no argument checking.

    Examples
    --------
    Two bins over the pooled range: two of ``xp``'s three points fall in the lower bin,
    one of ``xq``'s:

    >>> import numpy as np
    >>> from synthgain.measures import binned_probabilities
    >>> p, q = binned_probabilities(np.array([[0.1], [0.2], [0.9]]),
    ...                             np.array([[0.1], [0.8], [0.9]]), bins=2)
    >>> np.round(p, 4).tolist(), np.round(q, 4).tolist()
    ([0.6667, 0.3333], [0.3333, 0.6667])
    """
    xpt, xqt = coords(xp), coords(xq)
    lo, hi = _range(xpt, xqt)
    cells = bins ** xpt.shape[0]
    cp = counts(bin_index(xpt, lo, hi, bins), cells)
    cq = counts(bin_index(xqt, lo, hi, bins), cells)
    used = (cp + cq) > 0
    m = used.sum(axis=-1, keepdims=True)
    p = np.where(used, (cp + pseudocount) / (xpt.shape[-1] + pseudocount * m), 0.0)
    q = np.where(used, (cq + pseudocount) / (xqt.shape[-1] + pseudocount * m), 0.0)
    return p, q


def binned_density_per_sample(x: np.ndarray, bins: int, floor: float) -> np.ndarray:
    """The authors' per-sample histogram, batched: (..., n, d) -> (..., bins**d).

    Each batch index binned on its own range exactly as ``numpy.histogramdd(x, bins,
    density=True)``, floored at ``floor`` and renormalised to sum 1 (what
    ``scipy.stats.entropy`` does to its inputs). Does no argument checking.

    Examples
    --------
    Four points, two in each half of their range: each of the two bins holds half the
    mass, and the result sums to 1:

    >>> import numpy as np
    >>> from synthgain.measures import binned_density_per_sample
    >>> x = np.array([[[0.0], [0.1], [0.9], [1.0]]])
    >>> binned_density_per_sample(x, bins=2, floor=1e-10).tolist()
    [[0.5, 0.5]]
    """
    xt = coords(x)
    lo, hi = _range(xt)
    c = counts(bin_index(xt, lo, hi, bins, exact=True), bins ** xt.shape[0])
    dens = np.maximum(c / (xt.shape[-1] * _cell_volume(lo, hi, bins)[..., None]), floor)
    return dens / dens.sum(axis=-1, keepdims=True)


def discrete_divergence(p: np.ndarray, q: np.ndarray, measure: str) -> np.ndarray:
    """Divergence of probability vectors (..., cells) -> (...,), batched; terms with a
    zero weight are 0 (``0 log 0 = 0``), and a cell with ``p > 0 = q`` makes KL infinite.

    ``"kl"`` ``sum p log(p/q)``; ``"kl_reverse"`` ``sum q log(q/p)``; ``"js"``
    ``(KL(p||m) + KL(q||m)) / 2`` with ``m = (p + q) / 2``; ``"tv"`` ``sum |p - q| / 2``.
    Does no argument checking.

    Examples
    --------
    ``KL(p || p) = 0``, and ``TV`` of disjoint supports is 1:

    >>> import numpy as np
    >>> from synthgain.measures import discrete_divergence
    >>> p = np.array([[0.5, 0.5, 0.0]])
    >>> discrete_divergence(p, p, "kl").tolist()
    [0.0]
    >>> discrete_divergence(p, np.array([[0.0, 0.0, 1.0]]), "tv").tolist()
    [1.0]
    """
    if measure == "tv":
        return 0.5 * np.sum(np.abs(p - q), axis=-1)
    sp, sq = np.where(p > 0, p, 1.0), np.where(q > 0, q, 1.0)
    if measure == "kl":
        with np.errstate(divide="ignore"):
            return np.sum(p * np.log(sp / np.where(p > 0, q, 1.0)), axis=-1)
    if measure == "kl_reverse":
        with np.errstate(divide="ignore"):
            return np.sum(q * np.log(sq / np.where(q > 0, p, 1.0)), axis=-1)
    mid = np.where(p + q > 0, 0.5 * (p + q), 1.0)
    return 0.5 * np.sum(p * np.log(sp / mid) + q * np.log(sq / mid), axis=-1)


# --- the measures' kernels: points (n, d) -> float -----------------------------------


def entropy(x: np.ndarray, bins: int) -> float:
    """``H = -sum_c p_c log(p_c / vol)``: the entropy of the piecewise-constant density
    on the sample's own range."""
    xt = coords(x)
    lo, hi = _range(xt)
    p = counts(bin_index(xt, lo, hi, bins), bins ** xt.shape[0]) / x.shape[0]
    return float(special.entr(p).sum() + math.log(float(_cell_volume(lo, hi, bins))))


def kl(xp: np.ndarray, xq: np.ndarray, bins: int, alpha: float) -> float:
    """``KL = sum_c p_c log(p_c / q_c)`` with add-``alpha`` on the occupied cells."""
    return float(discrete_divergence(*binned_probabilities(xp, xq, bins, alpha), "kl"))


def js(xp: np.ndarray, xq: np.ndarray, bins: int) -> float:
    """Jensen-Shannon divergence of the binned (unsmoothed) distributions."""
    return float(discrete_divergence(*binned_probabilities(xp, xq, bins, 0.0), "js"))


def tv(xp: np.ndarray, xq: np.ndarray, bins: int) -> float:
    """``TV = sum_c |p_c - q_c| / 2`` of the binned (unsmoothed) distributions."""
    return float(discrete_divergence(*binned_probabilities(xp, xq, bins, 0.0), "tv"))


def mutual_information(x: np.ndarray, y: np.ndarray, bins: int) -> float:
    """``I = sum p_xy log(p_xy / (p_x p_y))`` from the joint histogram of (x, y)."""
    zt = coords(np.hstack([x, y]))
    lo, hi = _range(zt)
    dz = zt.shape[0]
    pxy = (counts(bin_index(zt, lo, hi, bins), bins**dz) / zt.shape[-1]).reshape((bins,) * dz)
    dx = x.shape[1]
    px = pxy.sum(axis=tuple(range(dx, dz)), keepdims=True)
    py = pxy.sum(axis=tuple(range(dx)), keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(pxy > 0, pxy / (px * py), 1.0)
    return float(np.sum(pxy * np.log(ratio)))
