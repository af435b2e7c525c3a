"""Scale benchmark of ``synthgain audit``: 10,000 anchor and 100,000 synthetic 384-d rows.

Run: OPENBLAS_NUM_THREADS=2 .venv/bin/python benchmarks/bench_audit.py

Reports the audit's wall time, its parts, and the ratio against a baseline measured in the
same run: one scikit-learn exact nearest-neighbour query of every synthetic row against
the anchors (the least any novelty audit must do).
"""

from __future__ import annotations

import resource
import time

import numpy as np

from synthgain.audit import run_audit


def main(n_anchor: int = 10_000, n_synth: int = 100_000, n_target: int = 10_000, d: int = 384
         ) -> None:
    g = np.random.default_rng(0)
    basis = g.normal(size=(32, d))
    def make(n: int, shift: float) -> np.ndarray:
        z = g.normal(size=(n, 32)) + shift
        return (z @ basis + 0.3 * g.normal(size=(n, d))).astype(np.float32)
    a, s, t = make(n_anchor, 0.0), make(n_synth, 0.2), make(n_target, 0.1)
    labels = [(x[:, 0] > 0).astype(int) for x in (a, s, t)]
    from synthgain.audit import Dataset

    sets = [Dataset.from_arrays(x, labels=y, name=n)
            for x, y, n in zip((a, s, t), labels, ("anchor", "synthetic", "target"), strict=True)]
    t0 = time.perf_counter()
    from sklearn.neighbors import NearestNeighbors

    NearestNeighbors(n_neighbors=1, algorithm="brute").fit(a).kneighbors(s)
    base = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = run_audit(*sets, rng=0)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"rows: anchor {n_anchor:,}, synthetic {n_synth:,}, target {n_target:,}, d = {d}")
    print(f"audit wall time: {wall:.1f} s; peak RSS {peak:.2f} GiB")
    print(f"baseline (sklearn exact 1-NN of synthetic vs anchors): {base:.1f} s; "
          f"ratio audit/baseline = {wall / base:.2f}")
    for k, v in result.timings.items():
        print(f"  {k}: {v:.1f} s")
    for note in result.notes:
        print(f"  note: {note}")


if __name__ == "__main__":
    main()
