"""Exact nearest-row search and radius tests for the audit's sample-level measures.

Both kernels score a block of query rows against every reference row with one float32
GEMM on centred data, ``t_ij = |y_j|^2 - 2 x_i . y_j = |x_i - y_j|^2 - |x_i|^2`` (no
square roots, no float64 block), and settle in float64 only the pairs whose float32
score lies within a rigorous rounding margin of the decision (the same bound as
``synthgain.measures.knn_distances``): the results are those of exact float64 distances.
Query blocks run on ``workers`` threads, each with single-threaded BLAS and its own
score buffer, so the result does not depend on the number of workers.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

__all__ = ["blas_threads", "nearest_rows", "within_radius"]

_EPS32 = float(np.finfo(np.float32).eps)
_PAIR_CHUNK = 1 << 15  # candidate pairs per float64 refinement step (bounds temporaries)
_BUFFER_FLOATS = 1 << 24  # float32 scores per thread's buffer (64 MiB)


def blas_threads(limit: int) -> Any:
    """Context manager capping BLAS threads (a no-op without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        from contextlib import nullcontext

        return nullcontext()
    return threadpool_limits(limits=limit, user_api="blas")


def _n_workers(workers: int) -> int:
    return (os.cpu_count() or 1) if workers < 0 else max(1, workers)


def _block_rows(block: int, m: int) -> int:
    """Query rows per block: at most ``block``, and a float32 score buffer of <= 64 MiB."""
    return max(1, min(block, _BUFFER_FLOATS // max(m, 1)))


def _run_blocks(n: int, block: int, workers: int, run: Callable[[int, int], None]) -> None:
    """Call ``run(start, stop)`` for every block of ``n`` rows on up to ``workers`` threads."""
    starts = list(range(0, n, block))
    n_threads = min(_n_workers(workers), len(starts))
    with blas_threads(1):
        if n_threads <= 1:
            for s in starts:
                run(s, min(s + block, n))
            return
        with ThreadPoolExecutor(n_threads) as pool:
            list(pool.map(lambda s: run(s, min(s + block, n)), starts))


def _sq_dist(x: np.ndarray, y: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Exact float64 ``|x[rows] - y[cols]|^2``, in chunks of pairs."""
    out = np.empty(rows.shape[0])
    for s in range(0, rows.shape[0], _PAIR_CHUNK):
        diff = x[rows[s : s + _PAIR_CHUNK]] - y[cols[s : s + _PAIR_CHUNK]]
        out[s : s + _PAIR_CHUNK] = np.einsum("ij,ij->i", diff, diff)
    return out


class _Scorer:
    """Centred float32 copies of the reference rows and the rounding bound of the scores."""

    def __init__(self, y: np.ndarray, extra: np.ndarray | None = None) -> None:
        self.centre = y.mean(axis=0)
        yc = y - self.centre
        sq = np.einsum("ij,ij->i", yc, yc)
        self.y32 = np.ascontiguousarray(yc, dtype=np.float32)
        # per-column offset |y_j|^2 (minus a squared radius when given), in float32
        offset = sq if extra is None else sq - extra
        self.offset32 = offset.astype(np.float32)
        self.y_max = math.sqrt(float(sq.max()))
        self.extra_max = 0.0 if extra is None else float(np.abs(extra).max())
        # float32 error of a length-(d + 1) dot product with rounded inputs
        self.gamma = (y.shape[1] + 3) * _EPS32
        self._local = threading.local()  # each thread's reusable score buffer

    def block_scores(self, x: np.ndarray, start: int, stop: int,
                     block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(xb, |xb - centre|^2, margin, scores)`` of the rows ``x[start:stop]``
        (at most ``block``), the scores in this thread's (block, m) float32 buffer."""
        buf = getattr(self._local, "buf", None)
        if buf is None:
            buf = self._local.buf = np.empty((block, self.y32.shape[0]), dtype=np.float32)
        xb = x[start:stop]
        x_sq, margin = self.scores(xb, buf)
        return xb, x_sq, margin, buf[: stop - start]

    def scores(self, xb: np.ndarray, buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``offset_j - 2 x_i . y_j`` into ``buf`` and each score's error bound (per row)."""
        xc = xb - self.centre
        x_sq = np.einsum("ij,ij->i", xc, xc)
        s = buf[: xb.shape[0]]
        np.matmul(xc.astype(np.float32), self.y32.T, out=s)
        s *= -2.0
        s += self.offset32
        x_norm = np.sqrt(x_sq)
        margin = 2.0 * self.gamma * (2.0 * x_norm * self.y_max + self.y_max**2
                                     + self.extra_max + x_sq)
        return x_sq, margin


def nearest_rows(
    x: np.ndarray, y: np.ndarray, *, block: int = 1024, workers: int = -1
) -> tuple[np.ndarray, np.ndarray]:
    """Exact nearest row of ``y`` (shape (m, d)) for each row of ``x`` (shape (n, d)).

    Returns ``(distance, index)``, both of shape (n,): the float64 Euclidean distance and
    the lowest index among the nearest rows. Does no argument checking.

    Notes
    -----
    With ``t_min`` the smallest float32 score of a row and ``e`` the bound on each score's
    error, the true nearest row has true score at most ``t_min + e``, so its float32 score
    is at most ``t_min + 2 e``: those candidates are re-scored exactly in float64.
    """
    sc = _Scorer(y)
    block = _block_rows(block, y.shape[0])
    dist = np.empty(x.shape[0])
    index = np.empty(x.shape[0], dtype=np.int64)

    def run(start: int, stop: int) -> None:
        xb, _, margin, s = sc.block_scores(x, start, stop, block)
        thr = s.min(axis=1) + 2.0 * margin.astype(np.float32)
        rows, cols = np.nonzero(s <= thr[:, None])
        d2 = _sq_dist(xb, y, rows, cols)
        order = np.lexsort((cols, d2, rows))  # by row, then distance, then index
        first = order[np.searchsorted(rows[order], np.arange(stop - start))]
        dist[start:stop] = np.sqrt(d2[first])
        index[start:stop] = cols[first]

    _run_blocks(x.shape[0], block, workers, run)
    return dist, index


def within_radius(
    x: np.ndarray,
    y: np.ndarray,
    radius: np.ndarray,
    reduce: Callable[[np.ndarray], Any],
    *,
    block: int = 1024,
    workers: int = -1,
) -> np.ndarray:
    """``reduce(B)`` row by row, with ``B_ij = 1[ |x_i - y_j| <= radius_j ]`` exact.

    ``reduce`` maps a boolean block of shape (b, m) to an array of shape (b,) (for
    example a row sum or ``any``); the blocks' results are concatenated. Does no argument
    checking.

    Notes
    -----
    The float32 score ``|y_j|^2 - r_j^2 - 2 x_i . y_j`` is compared with ``-|x_i|^2``;
    entries within the rounding bound of the comparison are decided again with float64
    distances, so ``B`` equals the float64 indicator ``|x_i - y_j| <= r_j``, the distance
    computed as ``sqrt(sum((x_i - y_j)^2))`` like the radii of ``knn_distances`` (a point
    exactly on a ball's boundary is inside).
    """
    radius = np.asarray(radius, dtype=np.float64)
    sc = _Scorer(y, extra=radius**2)
    block = _block_rows(block, y.shape[0])
    out: list[Any] = [None] * (-(-x.shape[0] // block))

    def run(start: int, stop: int) -> None:
        xb, x_sq, margin, s = sc.block_scores(x, start, stop, block)
        s += x_sq.astype(np.float32)[:, None]  # ~ |x_i - y_j|^2 - r_j^2
        inside = s <= 0.0
        rows, cols = np.nonzero(np.abs(s) <= margin.astype(np.float32)[:, None])
        if rows.size:
            inside[rows, cols] = np.sqrt(_sq_dist(xb, y, rows, cols)) <= radius[cols]
        out[start // block] = reduce(inside)

    _run_blocks(x.shape[0], block, workers, run)
    return np.concatenate(out) if out else np.empty(0)
