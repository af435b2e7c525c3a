"""Histogram (plug-in) estimators with bins shared between the samples, for d <= 3.

These are labelled ``method="histogram"`` and exist for comparison with published code
that bins the data; they are biased (the bias depends on the bin width) and the accuracy
tables in docs/estimators.md show by how much. Kernels do no argument checking.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

__all__: list[str] = []

MAX_DIM = 3


def auto_bins(n: int, d: int) -> int:
    """Bins per axis for ``bins="auto"``: ``ceil(2 n^(1/(d+2)))``, the rate that balances
    squared bias and variance of a histogram density in d dimensions."""
    return max(2, math.ceil(2.0 * n ** (1.0 / (d + 2))))


def shared_edges(arrays: list[np.ndarray], bins: int) -> list[np.ndarray]:
    """Equal-width edges per axis over the pooled range of all the arrays."""
    pooled = np.concatenate(arrays, axis=0)
    lo, hi = pooled.min(axis=0), pooled.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    lo, hi = lo - 1e-9 * span, hi + 1e-9 * span
    return [np.linspace(lo[j], hi[j], bins + 1) for j in range(pooled.shape[1])]


def counts(x: np.ndarray, edges: list[np.ndarray]) -> np.ndarray:
    """Flattened cell counts."""
    h, _ = np.histogramdd(x, bins=edges)
    return h.ravel()


def cell_volume(edges: list[np.ndarray]) -> float:
    return float(np.prod([e[1] - e[0] for e in edges]))


def entropy(x: np.ndarray, bins: int) -> float:
    """``H = -sum_c p_c log(p_c / vol)``: the entropy of the piecewise-constant density."""
    edges = shared_edges([x], bins)
    p = counts(x, edges) / x.shape[0]
    return float(special.entr(p).sum() + math.log(cell_volume(edges)))


def kl(xp: np.ndarray, xq: np.ndarray, bins: int, alpha: float) -> float:
    """``KL = sum_c p_c log(p_c / q_c)`` with add-``alpha`` smoothing of both histograms
    (so that ``q_c > 0`` wherever ``p_c > 0``)."""
    edges = shared_edges([xp, xq], bins)
    cp = counts(xp, edges) + alpha
    cq = counts(xq, edges) + alpha
    p, q = cp / cp.sum(), cq / cq.sum()
    return float(np.sum(special.rel_entr(p, q)))


def js(xp: np.ndarray, xq: np.ndarray, bins: int) -> float:
    """``JS = KL(p||m)/2 + KL(q||m)/2`` of the binned distributions, ``m = (p + q)/2``."""
    edges = shared_edges([xp, xq], bins)
    p = counts(xp, edges) / xp.shape[0]
    q = counts(xq, edges) / xq.shape[0]
    m = 0.5 * (p + q)
    return float(0.5 * np.sum(special.rel_entr(p, m)) + 0.5 * np.sum(special.rel_entr(q, m)))


def tv(xp: np.ndarray, xq: np.ndarray, bins: int) -> float:
    """``TV = sum_c |p_c - q_c| / 2`` of the binned distributions."""
    edges = shared_edges([xp, xq], bins)
    p = counts(xp, edges) / xp.shape[0]
    q = counts(xq, edges) / xq.shape[0]
    return float(0.5 * np.abs(p - q).sum())


def mutual_information(x: np.ndarray, y: np.ndarray, bins: int) -> float:
    """``I = sum p_xy log(p_xy / (p_x p_y))`` from the joint histogram of (x, y)."""
    z = np.hstack([x, y])
    edges = shared_edges([z], bins)
    h, _ = np.histogramdd(z, bins=edges)
    pxy = h / z.shape[0]
    dx = x.shape[1]
    px = pxy.sum(axis=tuple(range(dx, z.shape[1])), keepdims=True)
    py = pxy.sum(axis=tuple(range(dx)), keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(pxy > 0, pxy / (px * py), 1.0)
    return float(np.sum(pxy * np.log(ratio)))
