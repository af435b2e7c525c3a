"""Exact k-NN distances of a sample to itself, using the symmetry of the distance matrix.

Used by :func:`~synthgain.measures.nearest_neighbours` (and ``knn_distances``) for self
queries on the brute-force path (entropy, and the within-sample half of KL). Kernels do no argument checking.

The float32 GEMM is the whole cost of brute force. For a self query ``|x_i - x_j|`` is
symmetric, so only the blocks on and above the diagonal are multiplied (half the
arithmetic): each block gives, for its rows, the minimum over each group of 256 columns
and, for its columns, the minimum over each group of 256 rows. Then, exactly as in the
cross query, each point keeps the groups whose minimum lies within a proven float32
rounding margin of its k-th smallest group minimum; only those groups are rescored, and
the surviving candidates' distances are recomputed in float64.
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

__all__: list[str] = []

GROUP = 256
EPS32 = float(np.finfo(np.float32).eps)

try:  # installed with scikit-learn; without it BLAS threads are simply not pinned
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    from contextlib import nullcontext as _null

    def threadpool_limits(*args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
        return _null()


def n_workers(workers: int) -> int:
    return (os.cpu_count() or 1) if workers < 0 else max(1, workers)


def augmented_reference(y: np.ndarray, centre: np.ndarray) -> tuple[np.ndarray, float]:
    """``[-2 (y - c), |y - c|^2]`` in float32, padded with rows ``[0, ..., 0, inf]`` to a
    whole number of groups (their score is +inf); built in chunks through one reused
    buffer to bound temporaries."""
    m, d = y.shape
    m_pad = -(-m // GROUP) * GROUP
    y_aug = np.empty((m_pad, d + 1), dtype=np.float32)
    buf = np.empty((min(8192, m), d))
    sq_max = 0.0
    for s in range(0, m, 8192):
        e = min(s + 8192, m)
        yc = buf[: e - s]
        np.subtract(y[s:e], centre, out=yc)
        sq = np.einsum("ij,ij->i", yc, yc)
        np.multiply(yc, -2.0, out=y_aug[s:e, :-1], casting="same_kind")
        y_aug[s:e, -1] = sq
        sq_max = max(sq_max, float(sq.max()))
    y_aug[m:, :-1] = 0.0
    y_aug[m:, -1] = np.inf
    return y_aug, math.sqrt(sq_max)


def knn_self_symmetric(x: np.ndarray, k: int, workers: int, block: int = 1024, *,
                       want_index: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Distances from each row of ``x`` to its k nearest other rows, shape (n, k), and
    their indices (lower index first among equal distances; empty unless ``want_index``)."""
    n, d = x.shape
    centre = x.mean(axis=0)
    y_aug, r_max = augmented_reference(x, centre)
    n_pad = y_aug.shape[0]
    # rows [x - c, 1] (padded rows are never candidates: their squared norm is +inf)
    x1 = np.zeros((n_pad, d + 1), dtype=np.float32)
    np.multiply(y_aug[:n, :-1], np.float32(-0.5), out=x1[:n, :-1])
    x1[:, -1] = 1.0
    sq = y_aug[:, -1].copy()  # |x_i - c|^2 (+inf for padding)
    block = max(GROUP, (block // GROUP) * GROUP)
    gmins = _group_minima(x1, y_aug, sq, block, workers)
    # rounding margin of the float32 squared distance |x_i|^2 + |x_j|^2 - 2 x_i.x_j
    norms = np.sqrt(sq[:n].astype(np.float64))
    margin = 2.0 * (d + 3) * EPS32 * (norms + r_max) ** 2
    t = np.partition(gmins[:n], k - 1, axis=1)[:, k - 1].astype(np.float64)
    thr = t + 2.0 * margin
    rows, cols = _rescore(x1, y_aug, sq, gmins[:n], thr)
    return _exact_k(x, rows, cols, n, k, want_index)


def _group_minima(
    x1: np.ndarray, y_aug: np.ndarray, sq: np.ndarray, block: int, workers: int
) -> np.ndarray:
    """Per row, the minimum float32 squared distance within each group of 256 columns,
    self excluded, from the blocks on and above the diagonal only."""
    n_pad = x1.shape[0]
    n_groups = n_pad // GROUP
    gmins = np.empty((n_pad, n_groups), dtype=np.float32)
    starts = list(range(0, n_pad, block))
    local = threading.local()

    def row_block(bi: int) -> None:
        i0 = starts[bi]
        i1 = min(i0 + block, n_pad)
        if not hasattr(local, "buf"):
            local.buf = np.empty((block, block), dtype=np.float32)
        for j0 in starts[bi:]:
            j1 = min(j0 + block, n_pad)
            s = local.buf[: i1 - i0, : j1 - j0]
            np.matmul(x1[i0:i1], y_aug[j0:j1].T, out=s)  # |x_j|^2 - 2 x_i.x_j
            s += sq[i0:i1, None]  # squared distance (inf for padding)
            if j0 == i0:
                np.fill_diagonal(s, np.inf)
            gmins[i0:i1, j0 // GROUP : j1 // GROUP] = s.reshape(i1 - i0, -1, GROUP).min(axis=2)
            if j0 != i0:
                col_min = s.reshape(-1, GROUP, j1 - j0).min(axis=1)  # (groups of I, J)
                gmins[j0:j1, i0 // GROUP : i1 // GROUP] = col_min.T

    n_threads = min(n_workers(workers), len(starts))
    if n_threads <= 1:
        for bi in range(len(starts)):
            row_block(bi)
    else:
        with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(n_threads) as pool:
            list(pool.map(row_block, range(len(starts))))
    return gmins


def _rescore(
    x1: np.ndarray, y_aug: np.ndarray, sq: np.ndarray, gmins: np.ndarray, thr: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Candidates ``(row, col)``: members of the groups passing the threshold whose float32
    squared distance is at most ``thr[row]``."""
    thr32 = np.nextafter(thr.astype(np.float32), np.float32(np.inf))  # rounded up
    rows, grp = np.nonzero(gmins <= thr32[:, None])
    order = np.argsort(grp, kind="stable")
    rows, grp = rows[order], grp[order]
    bounds = np.flatnonzero(np.diff(grp)) + 1
    out_r, out_c = [], []
    for r, g in zip(np.split(rows, bounds), np.split(grp, bounds), strict=True):
        if r.size == 0:
            continue
        c0 = int(g[0]) * GROUP
        s = x1[r] @ y_aug[c0 : c0 + GROUP].T + sq[r, None]
        ri, ci = np.nonzero(s <= thr[r, None])
        out_r.append(r[ri])
        out_c.append(c0 + ci)
    return np.concatenate(out_r), np.concatenate(out_c)


def _exact_k(x: np.ndarray, rows: np.ndarray, cols: np.ndarray, n: int, k: int,
             want_index: bool) -> tuple[np.ndarray, np.ndarray]:
    """k smallest float64 distances per row among the candidates (self and padding out),
    and their columns (ties to the lower column)."""
    valid = (cols < n) & (cols != rows)
    rows, cols = rows[valid], cols[valid]
    diff = x[rows] - x[cols]
    d2 = np.einsum("ij,ij->i", diff, diff)
    # stable: candidates come in ascending column order within a row (groups in order),
    # so equal distances keep the lower column first
    order = np.lexsort((d2, rows))
    rows_s, d2_s = rows[order], d2[order]
    first = np.searchsorted(rows_s, np.arange(n))
    take = first[:, None] + np.arange(k)[None, :]
    idx = cols[order[take]] if want_index else np.empty((0, k), dtype=np.int64)
    return np.sqrt(d2_s[take]), idx
