"""kNN KL and entropy at sentence-embedding scale, against the raw neighbour query and a
straightforward implementation, all measured in the same run.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_knn.py            # full
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_knn.py --n 20000  # smaller

What it measures (process CPU seconds over all threads, best of ``--repeat`` interleaved
runs, since the reference machine is shared; the full-size step also reports wall time):

1. ``kl_divergence(xp, xq, k=1, standardize=False)`` (raw coordinates, as the
   straightforward versions of step 3) and ``entropy(xp, k=1)`` for n = m = ``--n`` points in
   d = ``--d`` (Gaussian data, float64), with the peak resident memory of the process.
2. Estimator overhead: each estimator's time over the time of the raw
   :func:`knn_distances` queries it needs (self query of xp; plus cross query xp -> xq for
   KL), on ``--overhead-n`` points (the full size with ``--overhead-n 0``).
3. Speed-up over a straightforward Wang-Kulkarni-Verdu KL written with scikit-learn's
   ``NearestNeighbors`` (brute force, float64) on ``--subset`` points, and over a naive
   ``cKDTree`` version on ``--kdtree-subset`` points; the answers are compared too.

BLAS is pinned to one thread per worker by the library; ``workers`` query blocks run in
parallel (all cores by default).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.spatial import cKDTree
from sklearn.neighbors import NearestNeighbors

from synthgain.measures import entropy, kl_divergence, knn_distances


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Best of ``repeat`` process CPU times (all threads), which other jobs sharing the
    machine do not inflate, unlike wall-clock time."""
    best, out = math.inf, None
    for _ in range(repeat):
        t0 = time.process_time()
        out = fn()
        best = min(best, time.process_time() - t0)
    return best, out


def wall(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall-clock and CPU seconds of one call."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w0, time.process_time() - c0, out


def data(n: int, m: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    xp = rng.standard_normal((n, d))
    xq = rng.standard_normal((m, d)) * 1.1 + 0.05
    return xp, xq


def wkv_sklearn(xp: np.ndarray, xq: np.ndarray) -> float:
    """The textbook estimator with scikit-learn neighbours (k = 1)."""
    n, d = xp.shape
    rho = NearestNeighbors(n_neighbors=2, algorithm="brute").fit(xp).kneighbors(xp)[0][:, 1]
    nu = NearestNeighbors(n_neighbors=1, algorithm="brute").fit(xq).kneighbors(xp)[0][:, 0]
    return float(d * np.mean(np.log(nu / rho)) + math.log(xq.shape[0] / (n - 1)))


def wkv_kdtree(xp: np.ndarray, xq: np.ndarray) -> float:
    """The textbook estimator with a k-d tree per sample (k = 1)."""
    n, d = xp.shape
    rho = cKDTree(xp).query(xp, k=2)[0][:, 1]
    nu = cKDTree(xq).query(xp, k=1)[0]
    return float(d * np.mean(np.log(nu / rho)) + math.log(xq.shape[0] / (n - 1)))


def overhead(n: int, d: int, repeat: int) -> dict[str, float]:
    """Raw queries and estimators interleaved, best CPU time of each over ``repeat``."""
    xp, xq = data(n, n, d, seed=1)
    best = dict.fromkeys(["query_self_s", "query_cross_s", "kl_s", "entropy_s"], math.inf)
    calls = {
        "query_self_s": lambda: knn_distances(xp, k=1),
        "query_cross_s": lambda: knn_distances(xp, xq, k=1),
        "kl_s": lambda: kl_divergence(xp, xq, k=1, standardize=False),
        "entropy_s": lambda: entropy(xp, k=1),
    }
    for _ in range(repeat):
        for key, fn in calls.items():
            best[key] = min(best[key], timed(fn)[0])
    return {
        "n": n, **best,
        "kl_overhead": best["kl_s"] / (best["query_self_s"] + best["query_cross_s"]) - 1.0,
        "entropy_overhead": best["entropy_s"] / best["query_self_s"] - 1.0,
    }


def straightforward(n: int, n_tree: int, d: int, repeat: int) -> dict[str, float]:
    xp, xq = data(n, n, d, seed=2)
    t_ours, ours = timed(lambda: kl_divergence(xp, xq, k=1, standardize=False).value, repeat)
    t_skl, skl = timed(lambda: wkv_sklearn(xp, xq), repeat)
    xt, yt = xp[:n_tree], xq[:n_tree]
    t_ours_t, ours_t = timed(lambda: kl_divergence(xt, yt, k=1, standardize=False).value, repeat)
    t_tree, tree = timed(lambda: wkv_kdtree(xt, yt), 1)
    return {
        "n": n, "ours_s": t_ours, "sklearn_s": t_skl, "speedup_vs_sklearn": t_skl / t_ours,
        "abs_diff_vs_sklearn": abs(ours - skl),
        "n_kdtree": n_tree, "ours_small_s": t_ours_t, "kdtree_s": t_tree,
        "speedup_vs_kdtree": t_tree / t_ours_t, "abs_diff_vs_kdtree": abs(ours_t - tree),
    }


def full(n: int, d: int) -> dict[str, float]:
    xp, xq = data(n, n, d)
    w_kl, c_kl, kl = wall(lambda: kl_divergence(xp, xq, k=1, standardize=False))
    w_h, c_h, h = wall(lambda: entropy(xp, k=1))
    rss_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return {"n": n, "d": d, "kl_wall_s": w_kl, "kl_cpu_s": c_kl, "kl": kl.value,
            "entropy_wall_s": w_h, "entropy_cpu_s": c_h, "entropy": h.value,
            "peak_rss_gib": rss_gib}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="full size (0: skip that step)")
    parser.add_argument("--d", type=int, default=384)
    parser.add_argument("--overhead-n", type=int, default=20_000)
    parser.add_argument("--subset", type=int, default=10_000)
    parser.add_argument("--kdtree-subset", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    conditions = {
        "cpus": os.cpu_count(), "machine": platform.machine(),
        "python": platform.python_version(), "numpy": np.__version__,
        "load_avg_start": os.getloadavg(),
    }
    results: dict[str, Any] = {"conditions": conditions}
    results["straightforward"] = straightforward(args.subset, args.kdtree_subset, args.d,
                                                 args.repeat)
    print(json.dumps(results["straightforward"], indent=1), flush=True)
    on = args.overhead_n or args.n
    results["overhead"] = overhead(on, args.d, args.repeat if (on < args.n or not args.n) else 1)
    print(json.dumps(results["overhead"], indent=1), flush=True)
    if args.n:
        results["full"] = full(args.n, args.d)
    conditions["load_avg_end"] = os.getloadavg()
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
