"""The sweep engine: overhead per task, the arithmetic limit of the Figure-4 protocol, and
the KL-gap protocol through the engine against a one-setting-at-a-time baseline.

    python benchmarks/bench_sweep.py [--quick] [--jobs 2] [--settings 6] [--baseline 2]
    python benchmarks/bench_sweep.py --profile    # cProfile of the KL-gap protocol function
    python benchmarks/bench_sweep.py --full       # also the full protocol end to end (wall)

Every time is measured in this run; nothing is quoted from elsewhere. Costs per setting
and the kernel rate are process CPU time (``time.process_time``), so other load on the
machine does not inflate them; times "on N idle cores" divide CPU-seconds by N.

1. Engine overhead: ``--tasks`` tiny tasks (protocol "normal_mean", n = 10, one setting per
   task) through :func:`run_sweep` (1 worker, in-process, one SQLite transaction per
   task) against calling the protocol function directly on the same seeds.
2. Arithmetic limit: the component log-density evaluations the full Figure-4 protocol
   needs for exact Monte Carlo KL (3 sweeps x 14 points x 100 settings x 100 rounds x
   1000 points; per round ``n_eval * (4K + 3J + L)``: points from the anchor fit scored
   under it (K) and G (K+J), points from the synthetic fit under it (K+J+L) and G), and
   the rates at which this machine evaluates them per CPU-second of one core: the NumPy
   kernel, the compiled kernel (also summed over ``--jobs`` processes at once, to show
   contention) and the quadratic forms alone in a tight compiled loop (a floor).
3. KL-gap protocol (``measures = ["kl"]``, 100 rounds x 1000 points) through the engine
   on ``--jobs`` workers, on a subset (values 2, 8, 15 of each sweep, ``--settings``
   settings each), wall time; and the protocol function's CPU time per setting at the
   same points (one batch of ``--settings``), fitted as ``a + b * evaluations`` and
   extrapolated to the full protocol; the same with the NumPy kernel forced (the
   same-run baseline of the compiled kernel).
4. Baseline: one setting at a time, scikit-learn fits and a Python loop over rounds
   (sample 1000 points, ``score_samples`` under the fit and G), on ``--baseline``
   settings at four of the same points, single process; extrapolated the same way.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from sklearn.mixture import GaussianMixture as SkGM

from synthgain._rng import child_generator, child_seed
from synthgain.experiments.backends import LocalBackend
from synthgain.experiments.engine import open_store, run_sweep
from synthgain.experiments.protocols import get_protocol
from synthgain.mixture import MixtureStack, _fast, _kernels

try:
    import numba
except ImportError:  # pragma: no cover
    numba = None  # type: ignore[assignment]
from synthgain.process import Setup, simulate

VALUES = range(2, 16)
ROUNDS, N_EVAL, SETTINGS = 100, 1000, 100


def evals_per_setting(K: int, J: int, L: int) -> int:
    """Component log-density evaluations of one setting (exact Monte Carlo KL only)."""
    return ROUNDS * N_EVAL * (4 * K + 3 * J + L)


def protocol_points() -> list[tuple[int, int, int]]:
    pts = []
    for sweep in "KJL":
        for v in VALUES:
            kjl = {"K": 2, "J": 2, "L": 2, sweep: v}
            pts.append((kjl["K"], kjl["J"], kjl["L"]))
    return pts


# -- 1. engine overhead ------------------------------------------------------------------


def bench_overhead(n_tasks: int) -> dict[str, float]:
    cfg = {"sweep": {"protocol": "normal_mean", "seed": 0, "replicates": n_tasks, "batch_size": 1},
           "params": {"n": 10}}  # fmt: skip
    fn = get_protocol("normal_mean").fn
    params = {"mu": 0.0, "sigma": 1.0, "n": 10}
    t0 = time.perf_counter()
    for r in range(n_tasks):
        fn([dict(params)], [np.random.SeedSequence(0, spawn_key=(0, r))])
    direct = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        run_sweep(cfg, out=Path(tmp) / "run", jobs=1)
        engine = time.perf_counter() - t0
    return {"tasks": n_tasks, "direct_s": direct, "engine_s": engine,
            "overhead_ms_per_task": 1e3 * (engine - direct) / n_tasks}  # fmt: skip


# -- 2. arithmetic limit -----------------------------------------------------------------


def _rate_data() -> tuple[np.ndarray, MixtureStack]:
    """8 mixtures of 8 components (d = 2) and 4000 points each drawn from them as the
    protocol draws them (rounds of 1000 points in component order)."""
    mixes = [simulate(Setup(K=4, J=2, L=2), rng=s).generator for s in range(8)]
    stack = MixtureStack.from_mixtures(mixes)
    x = np.stack([stack.draw(b, np.random.default_rng(b), 4000, group=N_EVAL)
                  for b in range(len(mixes))])
    return x, stack


if numba is not None:

    @numba.njit(cache=True, nogil=True)
    def _quadratic_forms(x: np.ndarray, coef: np.ndarray) -> float:
        """Sum over points and components of the quadratic form alone (no exp, no log):
        the least work any exact evaluation of a component log-density has to do."""
        total = 0.0
        for b in range(x.shape[0]):
            for j in range(coef.shape[1]):
                c0, c1, c2, c3, c4, c5 = coef[b, j]
                for i in range(x.shape[1]):
                    u, v = x[b, i, 0], x[b, i, 1]
                    total += c0 + u * (c1 + c3 * u + c4 * v) + v * (c2 + c5 * v)
        return total


def _kernel_rate(seconds: float, kind: str = "compiled") -> float:
    """Component log-densities per CPU-second on one core (d = 2, k = 8): ``numpy`` the
    NumPy kernel, ``compiled`` the numba kernel the protocol uses, ``floor`` the
    quadratic forms alone in a tight compiled loop."""
    x, stack = _rate_data()
    prec = stack.precisions_cholesky
    logdet = np.log(np.diagonal(prec, axis1=-2, axis2=-1)).sum(-1)
    # (1, u, v, uu, uv, vv): the six coefficients of a quadratic form in d = 2
    coef = _kernels.quadratic_coefficients(np.log(stack.weights), stack.means, prec, logdet,
                                           triangle=True)
    call = {"numpy": lambda: stack.logpdf(x, kernel="numpy"),
            "compiled": lambda: stack.logpdf(x, kernel="compiled"),
            "floor": lambda: _quadratic_forms(x, coef)}[kind]  # fmt: skip
    call()  # compile / warm up
    count, t0 = 0, time.process_time()
    while time.process_time() - t0 < seconds:
        call()
        count += x.shape[0] * x.shape[1] * 8
    return count / (time.process_time() - t0)


def bench_rate(jobs: int, seconds: float) -> dict[str, float]:
    out = {kind: _kernel_rate(seconds, kind) for kind in ("numpy", "compiled", "floor")}
    rates = list(LocalBackend(jobs=jobs).map_unordered(_kernel_rate, [seconds] * jobs))
    out[f"compiled_{jobs}_cores"] = sum(rates)
    return out


def bench_full(jobs: int) -> dict[str, float]:
    """The full protocol end to end through the engine (examples/figure4.toml), wall."""
    cfg = Path(__file__).resolve().parent.parent / "examples" / "figure4.toml"
    warm = {"sweep": {"protocol": "klgap", "replicates": 2 * jobs, "batch_size": 1},
            "params": {"rounds": 2, "n_eval": 10, "measures": ["kl"]}}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        run_sweep(warm, out=Path(tmp) / "warm", jobs=jobs)
        load0, t0 = os.getloadavg()[0], time.perf_counter()
        res = run_sweep(str(cfg), out=Path(tmp) / "full", jobs=jobs)
        wall = time.perf_counter() - t0
        with open_store(res.run_dir) as store:
            cpu = float(store.task_table().elapsed.sum())
    return {"wall_s": wall, "worker_s": cpu, "load_before": load0,
            "load_after": os.getloadavg()[0], "failed": res.n_failed}  # fmt: skip


# -- 3. the engine on the KL-gap protocol ------------------------------------------------


def subset_points() -> list[tuple[int, int, int]]:
    return [p for p in protocol_points() if max(p) in (2, 8, 15) and (max(p) > 2 or p == (2, 2, 2))]


def bench_engine(jobs: int, settings: int) -> dict[str, object]:
    pts = sorted(set(subset_points()))
    cfg = {"sweep": {"protocol": "klgap", "seed": 0, "replicates": settings, "batch_size": settings},
           "params": {"rounds": ROUNDS, "n_eval": N_EVAL, "measures": ["kl"]},
           "grid": {"points": [{"K": K, "J": J, "L": L} for K, J, L in pts]}}  # fmt: skip
    warm = {"sweep": {"protocol": "klgap", "replicates": 2 * jobs, "batch_size": 1},
            "params": {"rounds": 2, "n_eval": 10, "measures": ["kl"]}}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        run_sweep(warm, out=Path(tmp) / "warm", jobs=jobs)  # start and warm the workers
        t0 = time.perf_counter()
        res = run_sweep(cfg, out=Path(tmp) / "run", jobs=jobs)
        wall = time.perf_counter() - t0
        with open_store(res.run_dir) as store:
            tasks = store.task_table()
    per_setting = {pts[p]: float(tasks[tasks.point == p].elapsed.sum()) / settings for p in range(len(pts))}
    return {"points": pts, "wall_s": wall, "cpu_s": float(tasks.elapsed.sum()),
            "per_setting_s": per_setting, "failed": res.n_failed}  # fmt: skip


def bench_stages(n: int) -> dict[str, float]:
    """CPU-seconds of each stage of the protocol function, extrapolated to the full
    protocol: ``n`` settings at each of the 42 points, stage by stage as
    ``run_settings`` runs them (simulate, the two batched fits, the draws of the two
    fits' points, the fused Monte Carlo log-density ratios and the round means)."""
    from synthgain.experiments._mc import _EVAL, _FIT_ANCHOR, _FIT_SYN, _SIM, _fit_stack

    stages = dict.fromkeys(("simulate", "fit anchors", "fit synthetic", "draw points",
                            "log-density ratios", "round means"), 0.0)
    npts = ROUNDS * N_EVAL
    get_protocol("klgap").fn([{}], [np.random.SeedSequence(0)], rounds=2, n_eval=10,
                            measures=("kl",))  # warm-up: imports, compiled kernels
    for p, (K, J, L) in enumerate(protocol_points()):
        setups = [Setup(K=K, J=J, L=L)] * n
        seeds = [np.random.SeedSequence(3, spawn_key=(p, i)) for i in range(n)]
        t = time.process_time()
        sims = [simulate(s, rng=child_seed(ss, _SIM)) for s, ss in zip(setups, seeds, strict=True)]
        t1 = time.process_time()
        fa = _fit_stack(np.stack([m.anchors for m in sims]), setups[0].k_anchor_fit,
                        [child_seed(ss, _FIT_ANCHOR) for ss in seeds])
        t2 = time.process_time()
        fs = _fit_stack(np.stack([m.synthetic for m in sims]), setups[0].k_synthetic_fit,
                        [child_seed(ss, _FIT_SYN) for ss in seeds])
        t3 = time.process_time()
        stages["simulate"] += t1 - t
        stages["fit anchors"] += t2 - t1
        stages["fit synthetic"] += t3 - t2
        sg = MixtureStack.from_mixtures([m.ground_truth for m in sims])
        sa = MixtureStack.from_mixtures([f.mixture for f in fa])
        sf = MixtureStack.from_mixtures([f.mixture for f in fs])
        for b, ss in enumerate(seeds):
            gens = [child_generator(ss, _EVAL, i) for i in (1, 2)]
            t = time.process_time()
            xa = sa.draw(b, gens[0], npts, group=N_EVAL)[None]
            xs = sf.draw(b, gens[1], npts, group=N_EVAL)[None]
            t1 = time.process_time()
            sl = slice(b, b + 1)
            ra = sa.take(sl).log_ratio(xa, sg.take(sl))
            rs = sf.take(sl).log_ratio(xs, sg.take(sl))
            t2 = time.process_time()
            ra.reshape(ROUNDS, N_EVAL).mean(axis=-1), rs.reshape(ROUNDS, N_EVAL).mean(axis=-1)
            t3 = time.process_time()
            stages["draw points"] += t1 - t
            stages["log-density ratios"] += t2 - t1
            stages["round means"] += t3 - t2
    return {k: v * SETTINGS / n for k, v in stages.items()}


def skip_fraction(n: int = 10, n_points: int = 19_968) -> tuple[float, float]:
    """Share of (component, block of 64 points) pairs the compiled kernel exponentiates,
    and share of terms within ``SKIP_NATS`` of their point's largest term, for the four
    log-densities of the KL protocol (points drawn as the protocol draws them), at
    values 2, 8 and 15 of each sweep, ``n`` settings each."""
    from synthgain.experiments._mc import _EVAL, _FIT_ANCHOR, _FIT_SYN, _SIM, _fit_stack

    block, pairs, live_pairs, terms, live_terms = 64, 0, 0, 0, 0
    for p, (K, J, L) in enumerate(subset_points()):
        setups = [Setup(K=K, J=J, L=L)] * n
        seeds = [np.random.SeedSequence(4, spawn_key=(p, i)) for i in range(n)]
        sims = [simulate(s, rng=child_seed(ss, _SIM)) for s, ss in zip(setups, seeds, strict=True)]
        fa = _fit_stack(np.stack([m.anchors for m in sims]), setups[0].k_anchor_fit,
                        [child_seed(ss, _FIT_ANCHOR) for ss in seeds])
        fs = _fit_stack(np.stack([m.synthetic for m in sims]), setups[0].k_synthetic_fit,
                        [child_seed(ss, _FIT_SYN) for ss in seeds])
        for b, ss in enumerate(seeds):
            for i, fit in ((1, fa[b]), (2, fs[b])):
                gen = child_generator(ss, _EVAL, i)
                x = MixtureStack.from_mixtures([fit.mixture]).draw(
                    0, gen, 20 * N_EVAL, group=N_EVAL)[:n_points]
                for m in (fit.mixture, sims[b].ground_truth):
                    t = m.component_logpdf(x) + np.log(m.weights)
                    live = t - t.max(axis=1, keepdims=True) >= -_fast.SKIP_NATS
                    blocks = live.reshape(-1, block, live.shape[1]).any(axis=1)
                    pairs, live_pairs = pairs + blocks.size, live_pairs + int(blocks.sum())
                    terms, live_terms = terms + live.size, live_terms + int(live.sum())
    return live_pairs / pairs, live_terms / terms


# -- 4. the straightforward baseline -----------------------------------------------------


def baseline_setting(setup: Setup, seed: int) -> float:
    """KL Gap of one setting the straightforward way: scikit-learn, a loop over rounds."""
    sim = simulate(setup, rng=seed)
    fa = SkGM(setup.k_anchor_fit, random_state=seed).fit(sim.anchors)
    fs = SkGM(setup.k_synthetic_fit, random_state=seed + 1).fit(sim.synthetic)
    g = sim.ground_truth.to_sklearn()
    gaps = []
    for r in range(ROUNDS):
        fa.random_state, fs.random_state = 2 * r, 2 * r + 1
        xa, xs = fa.sample(N_EVAL)[0], fs.sample(N_EVAL)[0]
        kl_a = np.mean(fa.score_samples(xa) - g.score_samples(xa))
        kl_s = np.mean(fs.score_samples(xs) - g.score_samples(xs))
        gaps.append(kl_a - kl_s)
    return float(np.mean(gaps))


BASELINE_POINTS = [(2, 2, 2), (15, 2, 2), (2, 15, 2), (2, 2, 15)]


def bench_pairs(n_base: int, n_batch: int) -> dict[str, dict[tuple[int, int, int], float]]:
    """CPU-seconds per setting in this process (robust to other load on the machine):
    the engine's protocol function on one batch of ``n_batch`` settings (as a task runs
    it) at every subset point, and the baseline (``n_base`` settings one at a time) at
    ``BASELINE_POINTS``, interleaved point by point."""
    fn = get_protocol("klgap").fn
    opts = {"rounds": ROUNDS, "n_eval": N_EVAL, "measures": ("kl",)}
    fn([{}], [np.random.SeedSequence(0)], rounds=2, n_eval=10, measures=("kl",))  # warm-up
    base: dict[tuple[int, int, int], float] = {}
    batched: dict[tuple[int, int, int], float] = {}
    numpy_: dict[tuple[int, int, int], float] = {}
    enabled = _fast.ENABLED
    for K, J, L in sorted(set(subset_points())):
        seeds = [np.random.SeedSequence(1, spawn_key=(i,)) for i in range(n_batch)]
        for out, compiled in ((batched, enabled), (numpy_, False)):
            _fast.ENABLED = compiled  # the NumPy fallback, forced, as the same-run baseline
            try:
                t0 = time.process_time()
                fn([{"K": K, "J": J, "L": L}] * n_batch, seeds, **opts)
                out[(K, J, L)] = (time.process_time() - t0) / n_batch
            finally:
                _fast.ENABLED = enabled
        if (K, J, L) in BASELINE_POINTS:
            setup = Setup(K=K, J=J, L=L)
            t0 = time.process_time()
            for i in range(n_base):
                baseline_setting(setup, seed=100 + i)
            base[(K, J, L)] = (time.process_time() - t0) / n_base
    return {"baseline": base, "engine": batched, "numpy": numpy_}


def extrapolate(per_setting: dict[tuple[int, int, int], float]) -> tuple[float, float, float]:
    """Fit ``cost = a + b * evaluations`` and sum it over the full protocol (one core)."""
    e = np.array([evals_per_setting(*p) for p in per_setting], dtype=float)
    t = np.array(list(per_setting.values()))
    a, b = np.linalg.lstsq(np.c_[np.ones_like(e), e], t, rcond=None)[0]
    total = sum(SETTINGS * (a + b * evals_per_setting(*p)) for p in protocol_points())
    return float(total), float(a), float(b)


def profile_protocol(K: int = 8, J: int = 2, L: int = 2, n: int = 6) -> None:
    """cProfile of the protocol function on one batch; prints the top of the profile."""
    import cProfile
    import pstats

    fn = get_protocol("klgap").fn
    fn([{}], [np.random.SeedSequence(0)], rounds=2, n_eval=10, measures=("kl",))  # warm-up
    seeds = [np.random.SeedSequence(2, spawn_key=(i,)) for i in range(n)]
    prof = cProfile.Profile()
    prof.runcall(fn, [{"K": K, "J": J, "L": L}] * n, seeds, rounds=ROUNDS, n_eval=N_EVAL,
                 measures=("kl",))  # fmt: skip
    pstats.Stats(prof).sort_stats("cumulative").print_stats(20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller subsets (a smoke run)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--settings", type=int, default=6, help="settings per subset point")
    ap.add_argument("--baseline", type=int, default=2, help="baseline settings per point")
    ap.add_argument("--tasks", type=int, default=1000, help="tasks for the overhead test")
    ap.add_argument("--profile", action="store_true", help="only profile the protocol function")
    ap.add_argument("--full", action="store_true",
                    help="also run the full protocol end to end through the engine")
    args = ap.parse_args()
    if args.profile:
        profile_protocol()
        return
    if args.quick:
        args.settings, args.baseline, args.tasks = 2, 1, 200

    total_evals = sum(SETTINGS * evals_per_setting(*p) for p in protocol_points())
    ov = bench_overhead(args.tasks)
    rate = bench_rate(args.jobs, seconds=1.0 if args.quick else 3.0)
    load_before = os.getloadavg()[0]
    eng = bench_engine(args.jobs, args.settings)
    pairs = bench_pairs(args.baseline, args.settings)
    base = pairs["baseline"]

    limit = total_evals / (args.jobs * rate["compiled"])
    floor = total_evals / (args.jobs * rate["floor"])
    eng_cpu, ea, eb = extrapolate(pairs["engine"])
    eng_wall = eng_cpu / args.jobs  # ideal split over idle cores
    np_cpu, _, _ = extrapolate(pairs["numpy"])
    base_cpu, ba, bb = extrapolate(base)
    base_wall = base_cpu / args.jobs
    same = pairs["engine"]
    stages = bench_stages(1 if args.quick else 3)
    skip_pairs, skip_terms = skip_fraction(2 if args.quick else 10)
    full = bench_full(args.jobs) if args.full else None

    print(f"## Sweep engine benchmark (jobs = {args.jobs}; 1-minute load average "
          f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after)\n")
    print("CPU-seconds are process CPU time (not inflated by other load); 'on N idle cores'")
    print(f"divides them by N. Compiled kernel enabled: {_fast.ENABLED}.\n")
    print("| quantity | value |\n|---|---|")
    print(f"| engine overhead per task (1 worker, SQLite commit), wall | {ov['overhead_ms_per_task']:.3f} ms "
          f"({ov['tasks']} tasks: direct {ov['direct_s']:.2f} s, engine {ov['engine_s']:.2f} s) |")
    print(f"| component log-density evaluations, full protocol (KL only) | {total_evals:.3e} |")
    print(f"| rate per CPU-second, d = 2, k = 8: NumPy kernel / compiled kernel / quadratic forms alone | "
          f"{rate['numpy']:.3e} / {rate['compiled']:.3e} / {rate['floor']:.3e} |")
    print(f"| compiled kernel, {args.jobs} processes at once (sum) | {rate[f'compiled_{args.jobs}_cores']:.3e} |")
    print(f"| evaluations alone on {args.jobs} idle cores: compiled kernel / quadratic forms alone | "
          f"{limit:.1f} s / {floor:.1f} s |")
    print(f"| engine subset on {args.jobs} workers: {len(eng['points'])} points x {args.settings} settings | "  # type: ignore[arg-type]
          f"wall {eng['wall_s']:.1f} s, worker time {eng['cpu_s']:.1f} s, "
          f"{eng['cpu_s'] / eng['wall_s']:.2f} workers busy on average |")  # type: ignore[operator]
    print(f"| engine CPU per setting (fit) | {ea:.3f} s + {eb * 1e9:.2f} s per 1e9 evaluations |")
    print(f"| engine, full protocol (extrapolated): CPU / on {args.jobs} idle cores | {eng_cpu:.0f} CPU-s / {eng_wall:.0f} s "
          f"({eng_wall / limit:.1f}x the compiled kernel's evaluations alone; target 30 s) |")
    print(f"| same with the NumPy fallback forced (same run) | {np_cpu:.0f} CPU-s / {np_cpu / args.jobs:.0f} s "
          f"({np_cpu / eng_cpu:.1f}x the compiled path) |")
    print(f"| baseline CPU per setting (fit) | {ba:.3f} s + {bb * 1e9:.2f} s per 1e9 evaluations |")
    print(f"| baseline, full protocol: CPU / on {args.jobs} idle cores | {base_cpu:.0f} CPU-s / {base_wall:.0f} s |")
    print(f"| engine speed-up over the baseline (extrapolated) | {base_cpu / eng_cpu:.1f}x |")
    if full is not None:
        print(f"| full protocol through the engine, measured end to end on {args.jobs} workers | "
              f"wall {full['wall_s']:.1f} s, worker time {full['worker_s']:.1f} s, load "
              f"{full['load_before']:.1f} before / {full['load_after']:.1f} after, "
              f"{full['failed']} failed tasks |")
    print()
    total = sum(stages.values())
    print("| stage (full protocol, extrapolated, one core) | CPU-s | share |\n|---|---|---|")
    for name, v in stages.items():
        print(f"| {name} | {v:.1f} | {100 * v / total:.0f} % |")
    print(f"| all stages | {total:.1f} | on {args.jobs} idle cores: {total / args.jobs:.1f} s |")
    print(f"\nCompiled kernel: {100 * skip_pairs:.0f} % of (component, block of 64 points) pairs "
          f"exponentiated; {100 * skip_terms:.0f} % of terms within {_fast.SKIP_NATS:g} nats "
          "of their point's largest term.")
    print()
    print(f"| K, J, L | engine protocol, batch of {args.settings} (CPU-s/setting) | "
          "baseline (CPU-s/setting) | ratio |\n|---|---|---|---|")
    for p, tb in base.items():
        print(f"| {p} | {same[p]:.3f} | {tb:.3f} | {tb / same[p]:.1f}x |")


if __name__ == "__main__":
    main()
