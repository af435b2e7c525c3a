"""Exact k-nearest-neighbour distances, the engine of the sample-based estimators.

Three backends; ``algorithm="auto"`` picks the k-d tree or brute force:

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
"""

from __future__ import annotations

import math
import threading
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

__all__ = ["knn_distances"]

KDTREE_MAX_DIM = 16
_EPS32 = EPS32
_GROUP = GROUP


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
        Queries per block of the brute-force path (memory ~ ``4 * block_size * m`` bytes).
    workers : int, default -1
        Threads for the k-d tree queries and the brute-force blocks (-1: all cores).

    Returns
    -------
    ndarray, shape (n, k)
        Sorted ascending along the second axis.
    """
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
        return knn_self_symmetric(xa, k, workers)
    return _knn_brute(xa, ya, k, excl, block_size, workers)


def _knn_kdtree(
    x: np.ndarray, y: np.ndarray, k: int, excl: bool, p: float, workers: int
) -> np.ndarray:
    """k-d tree query; with self-exclusion query k+1 and drop one zero (the point itself)."""
    tree = cKDTree(y)
    kk = k + 1 if excl else k
    dist, _ = tree.query(x, k=kk, p=p, workers=workers)
    dist = np.asarray(dist, dtype=np.float64).reshape(x.shape[0], kk)
    return np.ascontiguousarray(dist[:, 1:] if excl else dist)


def _knn_faiss(x: np.ndarray, y: np.ndarray, k: int, excl: bool) -> np.ndarray:
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
    d2, _ = index.search(np.ascontiguousarray(x, dtype=np.float32), kk)
    dist = np.sqrt(np.maximum(d2.astype(np.float64), 0.0))
    return dist[:, 1:] if excl else dist


def _knn_brute(
    x: np.ndarray, y: np.ndarray, k: int, excl: bool, block: int, workers: int
) -> np.ndarray:
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
        out[start:stop] = _refine(scores, x[start:stop], y, k, margin, excl, start)

    starts = range(0, x.shape[0], block)
    n_threads = min(n_workers(workers), len(starts))
    if n_threads <= 1:
        for st in starts:
            run(st)
        return out
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(n_threads) as pool:
        list(pool.map(run, starts))
    return out


def _refine(
    scores: np.ndarray,
    xb: np.ndarray,
    y: np.ndarray,
    k: int,
    margin: np.ndarray,
    excl: bool,
    start: int,
) -> np.ndarray:
    """Exact k smallest distances per row from float32 ``scores`` with error ``<= margin``.

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
    order = np.lexsort((d2, rows))
    rows_s, d2_s = rows[order], d2[order]
    first = np.searchsorted(rows_s, np.arange(b))
    idx = first[:, None] + np.arange(k)[None, :]
    return np.sqrt(d2_s[idx])
