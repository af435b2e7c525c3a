"""KL-gap settings: synthgain's batched pipeline against the authors' per-setting procedure.

The baseline follows the authors' published procedure for one setting (PAPER.md section
7) with the same settings and sample sizes: scikit-learn fits (K components to the
anchors, K+J+L to the synthetic data), then per round 1000 points drawn from G and from
each fit, and either

* "per-sample histogram": ``numpy.histogramdd(bins=50, density=True)`` per sample,
  floored at 1e-10, ``scipy.stats.entropy`` (the authors' estimator), or
* "Monte Carlo": ``GaussianMixture.score_samples`` of scikit-learn for the exact
  log-densities (what the exact estimator costs without batching).

synthgain runs the same protocol with ``run_settings`` (batched EM, batched
log-densities, shared arithmetic binning + bincount). Both are timed by CPU time of this
process (single-threaded BLAS), interleaved, best of ``repeats``.

    python benchmarks/bench_klgap.py [--settings 20] [--rounds 100] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from scipy import stats
from sklearn.mixture import GaussianMixture as SkGM

from synthgain.experiments.klgap import run_settings
from synthgain.process import Setup, simulate


def _baseline(setups: list[Setup], rounds: int, n_eval: int, estimator: str) -> float:
    """The authors' per-setting procedure; returns the mean gap (to keep the work honest)."""
    gaps = []
    for i, s in enumerate(setups):
        sim = simulate(s, rng=i)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fa = SkGM(s.k_anchor_fit, random_state=i).fit(sim.anchors)
            fs = SkGM(s.k_synthetic_fit, random_state=i).fit(sim.synthetic)
        g = sim.ground_truth.to_sklearn()
        g.random_state = i
        vals = []
        for _ in range(rounds):
            xg, xa, xs = (m.sample(n_eval)[0] for m in (g, fa, fs))
            if estimator == "monte_carlo":
                ka = np.mean(fa.score_samples(xa) - g.score_samples(xa))
                ks = np.mean(fs.score_samples(xs) - g.score_samples(xs))
            else:
                h = [np.maximum(np.histogramdd(x, bins=50, density=True)[0], 1e-10).ravel()
                     for x in (xg, xa, xs)]
                ka, ks = stats.entropy(h[1], h[0]), stats.entropy(h[2], h[0])
            vals.append(ka - ks)
        gaps.append(np.mean(vals))
    return float(np.mean(gaps))


def _ours(setups: list[Setup], rounds: int, n_eval: int, estimator: str) -> float:
    seeds = np.random.SeedSequence(0).spawn(len(setups))
    rows = run_settings(setups, seeds, estimators=[estimator], rounds=rounds, n_eval=n_eval,
                        measures=["kl"])
    return float(np.mean([r["gap"] for r in rows]))


def _cpu(fn, *args) -> tuple[float, float]:
    t = time.process_time()
    out = fn(*args)
    return time.process_time() - t, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--settings", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--n-eval", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    setups = [Setup(K=2, J=2, L=2)] * args.settings
    print(f"{args.settings} settings (K = J = L = 2, d = 2), {args.rounds} rounds x "
          f"{args.n_eval} points, CPU seconds per setting (best of {args.repeats})\n")
    print("| estimator | authors' procedure | synthgain | speed-up |")
    print("|---|---|---|---|")
    for est in ("histogram_per_sample", "monte_carlo"):
        base, ours = np.inf, np.inf
        for _ in range(args.repeats):
            base = min(base, _cpu(_baseline, setups, args.rounds, args.n_eval, est)[0])
            ours = min(ours, _cpu(_ours, setups, args.rounds, args.n_eval, est)[0])
        n = args.settings
        print(f"| {est} | {base / n:.3f} s | {ours / n:.3f} s | {base / ours:.1f}x |")


if __name__ == "__main__":
    main()
