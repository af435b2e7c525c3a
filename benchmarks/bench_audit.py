"""Scale benchmark of ``synthgain audit``: 10,000 anchor and 100,000 synthetic 384-d rows.

Run::

    OPENBLAS_NUM_THREADS=2 .venv/bin/python benchmarks/bench_audit.py
    OPENBLAS_NUM_THREADS=2 .venv/bin/python benchmarks/bench_audit.py --scale 0.1 --profile

Reports the audit's wall time and process CPU time, each stage's, the peak resident
memory, the machine's load average before and after, and the ratio against a baseline
measured in the same run: one scikit-learn exact nearest-neighbour query of every
synthetic row against the anchors (the least any novelty audit must do). ``--scale``
shrinks every dataset (0.1: 1,000 + 10,000 + 1,000 rows); ``--profile`` runs the audit
under cProfile and prints the 30 most expensive calls by cumulative time.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np

from synthgain.audit import Dataset, run_audit


def _data(n_anchor: int, n_synth: int, n_target: int, d: int) -> list[Dataset]:
    g = np.random.default_rng(0)
    basis = g.normal(size=(32, d))

    def make(n: int, shift: float) -> np.ndarray:
        z = g.normal(size=(n, 32)) + shift
        return (z @ basis + 0.3 * g.normal(size=(n, d))).astype(np.float32)

    a, s, t = make(n_anchor, 0.0), make(n_synth, 0.2), make(n_target, 0.1)
    labels = [(x[:, 0] > 0).astype(int) for x in (a, s, t)]
    return [Dataset.from_arrays(x, labels=y, name=n)
            for x, y, n in zip((a, s, t), labels, ("anchor", "synthetic", "target"),
                               strict=True)]


def _load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def main(scale: float = 1.0, d: int = 384, profile: bool = False) -> None:
    n_anchor, n_synth, n_target = (round(n * scale) for n in (10_000, 100_000, 10_000))
    sets = _data(n_anchor, n_synth, n_target, d)
    print(f"rows: anchor {n_anchor:,}, synthetic {n_synth:,}, target {n_target:,}, d = {d}; "
          f"cores {os.cpu_count()}, OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    print(f"load average (1, 5, 15 min) before: {_load()}")
    from sklearn.neighbors import NearestNeighbors

    assert sets[0].embeddings is not None and sets[1].embeddings is not None
    w0, c0 = time.perf_counter(), time.process_time()
    NearestNeighbors(n_neighbors=1, algorithm="brute").fit(sets[0].embeddings).kneighbors(
        sets[1].embeddings)
    base_wall, base_cpu = time.perf_counter() - w0, time.process_time() - c0
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    w0, c0 = time.perf_counter(), time.process_time()
    result = run_audit(*sets, rng=0)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    if prof is not None:
        prof.disable()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"load average after: {_load()}")
    print(f"audit: {wall:.1f} s wall, {cpu:.1f} s CPU; peak RSS {peak:.2f} GiB")
    print(f"baseline (sklearn exact 1-NN of synthetic vs anchors): {base_wall:.1f} s wall, "
          f"{base_cpu:.1f} s CPU; ratio audit/baseline = {wall / base_wall:.2f} (wall), "
          f"{cpu / base_cpu:.2f} (CPU)")
    print("| stage | wall s | CPU s |\n|---|---|---|")
    for k, v in result.timings.items():
        print(f"| {k} | {v:.1f} | {result.cpu_timings[k]:.1f} |")
    for note in result.notes:
        print(f"  note: {note}")
    if prof is not None:
        import pstats

        pstats.Stats(prof).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of the default rows")
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--profile", action="store_true", help="run the audit under cProfile")
    args = ap.parse_args()
    main(args.scale, args.dim, args.profile)
