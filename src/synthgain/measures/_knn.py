"""Exact neighbour search, the one engine of the library: k nearest neighbours
(:func:`nearest_neighbours`, distances and indices; :func:`knn_distances`, distances
only) and radius queries (:func:`within_radius`). Used by the sample-based estimators of
:mod:`synthgain.measures` and by the audit's sample-level measures.

Three backends for the k-nearest-neighbour search; ``algorithm="auto"`` picks the k-d
tree or brute force:

``"kdtree"``
    :class:`scipy.spatial.cKDTree`, used when ``d <= 16`` (and always for the maximum
    norm). Exact, parallel over queries with ``workers``.
``"brute"``
    Blocked brute force for ``d > 16``, where trees degrade to a linear scan. Each block of
    queries scores every reference point with one float32 GEMM on augmented vectors
    (``[x, 1] . [-2 y, |y|^2] = |x - y|^2 - |x|^2``), takes the minimum over each group of
    256 references, keeps every reference whose float32 score lies within a rigorous
    rounding margin of the k-th smallest group minimum, and recomputes those candidates'
    distances in float64. Because the margin bounds the
    float32 error, the result is the exact float64 k-NN distance, not an approximation.
    A self query (``y`` omitted) multiplies only the blocks on and above the diagonal of
    the symmetric distance matrix (half the arithmetic; ``_knn_self.py``).
``"faiss"``
    ``faiss.IndexFlatL2`` (exact, float32) when the optional ``faiss-cpu`` package is
    installed (extra ``synthgain[faiss]``); never chosen by ``"auto"``, because float32
    distances are not refined.

Ties: brute force returns, among rows at exactly the same float64 distance, the lower
index first (so the k nearest are the k lowest-indexed ones at the k-th distance); the
k-d tree returns tied rows in its own order. Radius queries score blocks the same way
(float32 GEMM, float64 settles every pair within the rounding margin), one reusable
score buffer per thread, so their result does not depend on ``workers``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from .._validation import check_array, check_choice, check_int
from ..exceptions import ValidationError
from ._knn_self import (
    EPS32,
    GROUP,
    augmented_reference,
    knn_self_symmetric,
    n_workers,
    threadpool_limits,
)

__all__ = ["knn_distances", "nearest_neighbours", "within_radius"]

KDTREE_MAX_DIM = 16
_EPS32 = EPS32
_GROUP = GROUP
_PAIR_CHUNK = 1 << 15  # candidate pairs per float64 refinement step (bounds temporaries)
_BUFFER_FLOATS = 1 << 24  # float32 scores per thread's radius-query buffer (64 MiB)


def blas_threads(limit: int) -> Any:
    """Context manager capping BLAS threads (a no-op without threadpoolctl)."""
    return threadpool_limits(limits=limit, user_api="blas")


def nearest_neighbours(
    x: Any,
    y: Any = None,
    *,
    k: int = 1,
    exclude_self: bool | None = None,
    p: float = 2.0,
    algorithm: str = "auto",
    block_size: int = 1024,
    workers: int = -1,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest rows of ``y`` to each row of ``x``: distances and indices.

    Parameters
    ----------
    x : array_like, shape (n, d)
        Query points.
    y : array_like, shape (m, d), optional
        Reference points; ``x`` itself when omitted.
    k : int, default 1
        Number of neighbours.
    exclude_self : bool, optional
        Ignore each query's own row (``y is None``, the default then). Other rows equal to
        the query still count, at distance 0.
    p : {2, inf}
        Euclidean or maximum norm (the maximum norm always uses the k-d tree).
    algorithm : {"auto", "kdtree", "brute", "faiss"}
        See the module notes; "auto" picks the k-d tree for ``d <= 16``, else brute force.
    block_size : int, default 1024
        Queries per block of the brute-force path (memory ~ ``4 * block_size * m`` bytes
        per thread; not capped, since fewer rows per block means more passes over ``y``:
        at m = 100,000 a 64 MiB cap costs about 25%).
    workers : int, default -1
        Threads for the k-d tree queries and the brute-force blocks (-1: all cores); the
        result does not depend on it.

    Returns
    -------
    distances : ndarray of float64, shape (n, k)
        Sorted ascending along the second axis; exact float64 Euclidean (or maximum-norm)
        distances except with ``algorithm="faiss"``.
    indices : ndarray of int64, shape (n, k)
        Rows of ``y``; among rows at equal distance, brute force gives the lower index
        first (the k-d tree its own order).

    Examples
    --------
    Points at 0, 1 and 3 on a line: each one's nearest other point and its distance:

    >>> import numpy as np
    >>> from synthgain.measures import nearest_neighbours
    >>> d, i = nearest_neighbours(np.array([[0.0], [1.0], [3.0]]), k=1)
    >>> d.ravel().tolist(), i.ravel().tolist()
    ([1.0, 1.0, 2.0], [1, 0, 1])
    """
    return _search(x, y, k, exclude_self, p, algorithm, block_size, workers, True)


def knn_distances(
    x: Any,
    y: Any = None,
    *,
    k: int = 1,
    exclude_self: bool | None = None,
    p: float = 2.0,
    algorithm: str = "auto",
    block_size: int = 1024,
    workers: int = -1,
) -> np.ndarray:
    """Distances from each row of ``x`` to its ``k`` nearest rows of ``y``.

    The distances of :func:`nearest_neighbours` (same parameters), without forming the
    indices.

    Returns
    -------
    ndarray, shape (n, k)
        Sorted ascending along the second axis.

    Examples
    --------
    >>> import numpy as np
    >>> from synthgain.measures import knn_distances
    >>> knn_distances(np.array([[0.0], [1.0], [3.0]]), k=1).ravel().tolist()
    [1.0, 1.0, 2.0]
    """
    return _search(x, y, k, exclude_self, p, algorithm, block_size, workers, False)[0]


def _search(x: Any, y: Any, k: int, exclude_self: bool | None, p: float, algorithm: str,
            block_size: int, workers: int, want_index: bool
            ) -> tuple[np.ndarray, np.ndarray]:
    """Checks the arguments and dispatches; ``indices`` is empty unless ``want_index``."""
    xa = check_array(x, "x", ndim=2, min_rows=1)
    self_query = y is None
    ya = xa if self_query else check_array(y, "y", ndim=2, min_rows=1, dim=xa.shape[1])
    excl = self_query if exclude_self is None else bool(exclude_self)
    if excl and not self_query and xa.shape != ya.shape:
        raise ValidationError("`exclude_self=True` needs `y` omitted or the same shape as `x`.")
    m_avail = ya.shape[0] - (1 if excl else 0)
    k = check_int(k, "k", low=1)
    if k > m_avail:
        raise ValidationError(
            f"`k` must be smaller than the number of reference points ({ya.shape[0]}"
            f"{', excluding self' if excl else ''}). Got k={k}; use a smaller k or more points."
        )
    if p not in (2, 2.0, math.inf):
        raise ValidationError(f"`p` must be 2 or inf. Got {p!r} instead.")
    algorithm = check_choice(algorithm, "algorithm", ["auto", "kdtree", "brute", "faiss"])
    if algorithm == "auto":
        algorithm = "kdtree" if (xa.shape[1] <= KDTREE_MAX_DIM or p == math.inf) else "brute"
    if p == math.inf and algorithm != "kdtree":
        raise ValidationError("`p=inf` (maximum norm) is only supported by algorithm='kdtree'.")
    if algorithm == "kdtree":
        return _knn_kdtree(xa, ya, k, excl, p, workers)
    if algorithm == "faiss":
        return _knn_faiss(xa, ya, k, excl)
    block_size = check_int(block_size, "block_size", low=1)
    if self_query and excl and xa.shape[0] > GROUP * (k + 1):  # enough groups to screen
        return knn_self_symmetric(xa, k, workers, want_index=want_index)
    return _knn_brute(xa, ya, k, excl, block_size, workers, want_index)


def _drop_self(dist: np.ndarray, idx: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """From (n, k+1) neighbour tables, remove each row's own index (or, where it is
    missing, because more than k other rows tie at distance 0, the last column)."""
    n = idx.shape[0]
    is_self = idx == np.arange(n)[:, None]
    is_self[~is_self.any(axis=1), -1] = True
    keep = ~is_self
    return (np.ascontiguousarray(dist[keep].reshape(n, k)),
            np.ascontiguousarray(idx[keep].reshape(n, k)))


def _knn_kdtree(
    x: np.ndarray, y: np.ndarray, k: int, excl: bool, p: float, workers: int
) -> tuple[np.ndarray, np.ndarray]:
    """k-d tree query; with self-exclusion query k+1 and drop the point itself."""
    tree = cKDTree(y)
    kk = k + 1 if excl else k
    dist, idx = tree.query(x, k=kk, p=p, workers=workers)
    dist = np.asarray(dist, dtype=np.float64).reshape(x.shape[0], kk)
    idx = np.asarray(idx, dtype=np.int64).reshape(x.shape[0], kk)
    return _drop_self(dist, idx, k) if excl else (np.ascontiguousarray(dist), idx)


def _knn_faiss(x: np.ndarray, y: np.ndarray, k: int, excl: bool
               ) -> tuple[np.ndarray, np.ndarray]:
    try:
        import faiss  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover
        raise ValidationError(
            "algorithm='faiss' needs the optional faiss-cpu package: "
            "pip install 'synthgain[faiss]'."
        ) from None
    index = faiss.IndexFlatL2(y.shape[1])
    index.add(np.ascontiguousarray(y, dtype=np.float32))
    kk = k + 1 if excl else k
    d2, idx = index.search(np.ascontiguousarray(x, dtype=np.float32), kk)
    dist = np.sqrt(np.maximum(d2.astype(np.float64), 0.0))
    idx = idx.astype(np.int64)
    return (dist[:, 1:], idx[:, 1:]) if excl else (dist, idx)


def _knn_brute(
    x: np.ndarray, y: np.ndarray, k: int, excl: bool, block: int, workers: int,
    want_index: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact blocked brute force: float32 screening with a proven margin, float64 refine.

    Query blocks run on ``workers`` threads, each with single-threaded BLAS and its own
    preallocated score buffer (fresh large arrays cost page faults on every block), so
    the reductions that follow each GEMM run in parallel too (NumPy releases the GIL).
    """
    d = y.shape[1]
    centre = y.mean(axis=0)  # scores use centred data: smaller norms, smaller rounding
    y_aug, y_norm_max = augmented_reference(y, centre)
    # float32 error bound of the score: inputs and the length-(d+1) dot product
    gamma = (d + 3) * _EPS32
    out = np.empty((x.shape[0], k))
    out_idx = np.empty((x.shape[0], k) if want_index else (0, k), dtype=np.int64)
    local = threading.local()

    def run(start: int) -> None:
        stop = min(start + block, x.shape[0])
        b = stop - start
        if not hasattr(local, "scores"):
            local.scores = np.empty((block, y_aug.shape[0]), dtype=np.float32)
            local.xb = np.ones((block, d + 1), dtype=np.float32)
        xc = x[start:stop] - centre
        x_norm = np.sqrt(np.einsum("ij,ij->i", xc, xc))
        local.xb[:b, :-1] = xc
        scores = local.scores[:b]
        np.matmul(local.xb[:b], y_aug.T, out=scores)  # |x - y|^2 - |x|^2, float32
        if excl:
            scores[np.arange(b), np.arange(start, stop)] = np.inf
        margin = 2.0 * gamma * (2.0 * x_norm * y_norm_max + y_norm_max**2)
        dist, idx = _refine(scores, x[start:stop], y, k, margin, excl, start)
        out[start:stop] = dist
        if want_index:
            out_idx[start:stop] = idx

    starts = range(0, x.shape[0], block)
    n_threads = min(n_workers(workers), len(starts))
    if n_threads <= 1:
        for st in starts:
            run(st)
        return out, out_idx
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(n_threads) as pool:
        list(pool.map(run, starts))
    return out, out_idx


def _refine(
    scores: np.ndarray,
    xb: np.ndarray,
    y: np.ndarray,
    k: int,
    margin: np.ndarray,
    excl: bool,
    start: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact k smallest distances per row (and their columns) from float32 ``scores``
    with error ``<= margin``; ties in distance go to the lower column.

    ``t`` (the k-th smallest of the row's group minima) has at least k scores below it, so
    the true k-th score is at most ``t + margin``; every point whose true score is that
    small has a float32 score at most ``t + 2 margin``: those are the candidates, searched
    only inside the groups whose minimum passes that threshold.
    """
    b = scores.shape[0]
    grouped = scores.reshape(b, -1, _GROUP)
    gmins = grouped.min(axis=2)
    t = np.partition(gmins, k - 1, axis=1)[:, k - 1] if gmins.shape[1] > k else None
    if t is None:
        t = np.sort(scores, axis=1)[:, k - 1]
    thr = t + 2.0 * margin
    g_rows, g_ids = np.nonzero(gmins <= thr[:, None])
    sub = grouped[g_rows, g_ids]  # (pairs, _GROUP)
    p_idx, offs = np.nonzero(sub <= thr[g_rows][:, None])
    rows = g_rows[p_idx]
    cols = g_ids[p_idx] * _GROUP + offs
    diff = xb[rows] - y[cols]  # exact float64 distances of the candidates
    d2 = np.einsum("ij,ij->i", diff, diff)
    if excl:
        d2[cols == rows + start] = np.inf
    # stable: candidates come in ascending column order within a row, so equal
    # distances keep the lower column first
    order = np.lexsort((d2, rows))
    rows_s, d2_s = rows[order], d2[order]
    first = np.searchsorted(rows_s, np.arange(b))
    idx = first[:, None] + np.arange(k)[None, :]
    return np.sqrt(d2_s[idx]), cols[order[idx]]


# --- radius queries ----------------------------------------------------------------------


def within_radius(
    x: Any,
    y: Any,
    radius: Any,
    *,
    reduce: str = "count",
    block_size: int = 1024,
    workers: int = -1,
) -> np.ndarray:
    """For each row of ``x``, the rows of ``y`` whose ball contains it: a count or "any".

    Parameters
    ----------
    x : array_like, shape (n, d)
        Query points.
    y : array_like, shape (m, d)
        Ball centres.
    radius : float or array_like of shape (m,)
        Radius of each centre's ball (>= 0), for example its k-th neighbour distance.
    reduce : {"count", "any"}
        Return the number of balls containing each query (int64) or whether any does
        (bool).
    block_size : int, default 1024
        Queries per block (at most a 64 MiB float32 score buffer per thread).
    workers : int, default -1
        Threads (-1: all cores); the result does not depend on it.

    Returns
    -------
    ndarray, shape (n,)

    Notes
    -----
    ``B_ij = 1[ |x_i - y_j| <= r_j ]`` is decided exactly: the float32 score
    ``|y_j|^2 - r_j^2 - 2 x_i . y_j`` is compared with ``-|x_i|^2`` and every entry within
    the rounding bound of that comparison is decided again with the float64 distance
    ``sqrt(sum((x_i - y_j)^2))``, computed like those of :func:`nearest_neighbours` (a
    point exactly on a ball's boundary is inside).

    Examples
    --------
    The points of ``y`` within distance 1 of each point of ``x``:

    >>> import numpy as np
    >>> from synthgain.measures import within_radius
    >>> within_radius(np.array([[0.0], [1.0], [3.0]]), np.array([[0.5], [2.9]]), 1.0).tolist()
    [1, 1, 1]
    """
    xa = check_array(x, "x", ndim=2, min_rows=1)
    ya = check_array(y, "y", ndim=2, min_rows=1, dim=xa.shape[1])
    r = np.asarray(radius, dtype=np.float64)
    if r.ndim > 1 or (r.ndim == 1 and r.shape[0] != ya.shape[0]):
        raise ValidationError(
            f"`radius` must be a number or have one value per row of `y` ({ya.shape[0]}). "
            f"Got shape {r.shape} instead."
        )
    if not np.all(np.isfinite(r)) or np.any(r < 0):
        raise ValidationError("`radius` must be finite and >= 0.")
    reduce = check_choice(reduce, "reduce", ["count", "any"])
    block_size = check_int(block_size, "block_size", low=1)
    def fn(b: np.ndarray) -> Any:
        return b.sum(axis=1) if reduce == "count" else b.any(axis=1)

    return _within_radius(xa, ya, np.broadcast_to(r, (ya.shape[0],)), fn, block_size, workers)


def _block_rows(block: int, m: int) -> int:
    """Query rows per block: at most ``block``, and a float32 score buffer of <= 64 MiB."""
    return max(1, min(block, _BUFFER_FLOATS // max(m, 1)))


def _run_blocks(n: int, block: int, workers: int, run: Callable[[int, int], None]) -> None:
    """Call ``run(start, stop)`` for every block of ``n`` rows on up to ``workers`` threads."""
    starts = list(range(0, n, block))
    n_threads = min(n_workers(workers), len(starts))
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
    """Centred float32 copies of the ball centres, ``|y_j|^2 - r_j^2`` and the rounding
    bound of the scores ``|y_j|^2 - r_j^2 - 2 x_i . y_j``."""

    def __init__(self, y: np.ndarray, extra: np.ndarray) -> None:
        self.centre = y.mean(axis=0)
        yc = y - self.centre
        sq = np.einsum("ij,ij->i", yc, yc)
        self.y32 = np.ascontiguousarray(yc, dtype=np.float32)
        # per-column offset |y_j|^2 minus the squared radius, in float32
        self.offset32 = (sq - extra).astype(np.float32)
        self.y_max = math.sqrt(float(sq.max()))
        self.extra_max = float(np.abs(extra).max())
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


def _within_radius(x: np.ndarray, y: np.ndarray, radius: np.ndarray,
                   reduce: Callable[[np.ndarray], Any], block: int, workers: int
                   ) -> np.ndarray:
    """``reduce(B)`` block by block, ``B`` (b, m) the exact indicator of
    :func:`within_radius`; the blocks' results concatenated. Does no argument checking."""
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
