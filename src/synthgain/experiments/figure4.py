"""The KL-gap protocol of Gan & Liu (2025), Appendix B and Figure 4.

Each of ``K``, ``J`` and ``L`` is swept over 2..15 with the other two at 2; every point
of a sweep is ``settings`` random settings (new ``G``, anchors, ``M``, synthetic data and
fits), each setting's gap averaged over ``rounds`` rounds of ``n_eval`` resampled points.
The paper reports the mean and standard deviation over settings and reads three claims
off the curves: the KL Gap rises with ``J``, falls with ``K`` and falls with ``L``.

Seeds: setting ``i`` of value ``v`` of sweep ``s`` uses
``child_seed(seed, index of s in "KJL", v, i)``, so its result does not depend on the
number of workers, the chunking, or which other points are run. The bootstrap intervals
draw from two more children of the root seed, :data:`SUMMARY_STREAM` (the interval of a
point's mean) and :data:`CLAIMS_STREAM` (the interval of a claim's rho), each keyed
further by estimator, measure and sweep, so an interval does not depend on what else a
run holds. Those two keys are task indices that no sweep reaches (a sweep's index is 0,
1 or 2): they were chosen so, and are kept so that every documented interval stays
reproducible.

A run given a ``checkpoint`` (``synthgain reproduce figure4`` keeps one in its output
directory) commits each finished chunk's rows there at once; a run killed at any moment
resumes with ``resume=True`` and computes only the chunks that are missing, giving the
same table as an uninterrupted run.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._rng import child_generator, child_seed
from .._validation import check_int
from ..exceptions import ValidationError
from ..measures import spearman_rows
from ..process import Setup
from .klgap import ESTIMATORS, MEASURES, run_settings
from .provenance import claim_directory, write_bytes_atomic

__all__ = [
    "CLAIMS",
    "SWEEPS",
    "VALUES",
    "Figure4Result",
    "Setting",
    "claims",
    "figure4_settings",
    "map_chunks",
    "run_figure4",
    "summarize",
    "summary_markdown",
    "write_tables",
]

SWEEPS = ("K", "J", "L")
VALUES = tuple(range(2, 16))
#: The paper's claims (Figure 4): the sign of the KL Gap's trend along each sweep.
CLAIMS = {"K": -1, "J": +1, "L": -1}
_CLAIM_TEXT = {"K": "falls with K", "J": "rises with J", "L": "falls with L"}


#: Child of the root seed behind the intervals of the points' means (:func:`summarize`).
SUMMARY_STREAM = 999
#: Child of the root seed behind the intervals of the claims' rho (:func:`claims`).
CLAIMS_STREAM = 999, 10_000


@dataclass(frozen=True)
class Setting:
    """One setting of the protocol: a point (sweep, value), an index and its seed."""

    sweep: str
    value: int
    setting: int
    setup: Setup
    seed: np.random.SeedSequence


def figure4_settings(*, settings: int = 100, values: Iterable[int] = VALUES,
                  sweeps: Sequence[str] = SWEEPS, seed: int = 0,
                  **setup_fields: Any) -> list[Setting]:
    """All settings of the protocol, in (sweep, value, setting) order.

    Parameters
    ----------
    settings : int, default 100
        Random settings per point.
    values : iterable of int, default 2..15
    sweeps : sequence of {"K", "J", "L"}
    seed : int, default 0
        Root seed.
    **setup_fields
        Fields of the base :class:`~synthgain.process.Setup` (default K = J = L = 2,
        d = 2); the swept field is overridden per point.
    """
    n = check_int(settings, "settings", low=1)
    root = check_int(seed, "seed", low=0)
    for s in sweeps:
        if s not in SWEEPS:
            raise ValidationError(f"`sweeps` must contain only 'K', 'J', 'L'. Got {s!r}.")
    base = Setup(**setup_fields)
    tasks = []
    for s in sweeps:
        for v in values:
            setup = base.replace(**{s: v})
            key = SWEEPS.index(s)
            tasks += [Setting(s, int(v), i, setup, child_seed(root, key, int(v), i))
                      for i in range(n)]
    return tasks


def _run_chunk(tasks: Sequence[Setting], options: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of one chunk of tasks (runs in a worker)."""
    t0 = time.perf_counter()
    rows = run_settings([t.setup for t in tasks], [t.seed for t in tasks], **options)
    per_task = len(rows) // max(1, len(tasks))
    elapsed = (time.perf_counter() - t0) / max(1, len(tasks))
    for j, row in enumerate(rows):
        t = tasks[j // per_task]
        row.update(sweep=t.sweep, value=t.value, setting=t.setting, seconds=elapsed)
    return rows


def map_chunks(fn: Callable[[Any], Any], chunks: Sequence[Any], *, jobs: int = 1,
               progress: Callable[[int, int], None] | None = None) -> list[Any]:
    """``[fn(c) for c in chunks]``, on ``jobs`` local processes (joblib/loky).

    The one place where chunks of settings meet workers; results come back in the
    order of ``chunks``. Runs on the sweep engine's local backend
    (:mod:`synthgain.experiments.backends`), which limits BLAS threads to one per task
    and runs in the calling process when ``jobs == 1``.
    """
    from .backends import LocalBackend, map_ordered

    return map_ordered(LocalBackend(jobs=jobs), fn, list(chunks), progress=progress)


def _digest(config: dict[str, Any]) -> str:
    """The checkpoint's key: the run's options and the library version that computed it."""
    from .. import __version__

    key = json.dumps({**config, "synthgain": __version__}, sort_keys=True, default=str)
    return hashlib.sha256(key.encode()).hexdigest()


def _checkpointed(runner: _ChunkRunner, chunks: list[list[Setting]], path: Path,
                  config: dict[str, Any], *, jobs: int, resume: bool,
                  progress: Callable[[int, int], None] | None) -> list[list[dict[str, Any]]]:
    """``map_chunks`` that commits each finished chunk to the store at ``path`` (one
    transaction per chunk) and, with ``resume``, reads back the chunks already there."""
    from .backends import LocalBackend, _indexed
    from .store import SweepStore, TaskOutcome, plain_record

    digest = _digest(config)
    if resume:
        if not path.is_file():
            raise ValidationError(f"nothing to resume: no checkpoint at {path}; run without "
                                  "--resume to start the protocol there.")
        store = SweepStore.open(path)
        if store.meta.get("config_digest") != digest:
            store.close()
            raise ValidationError(f"the checkpoint {path} was written by a run with other "
                                  "options or another synthgain version; resume with those "
                                  "options, or run without --resume.")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        points = [(i, 0, {"sweep": c[0].sweep, "value": c[0].value, "first": c[0].setting})
                  for i, c in enumerate(chunks)]
        store = SweepStore.create(path, config_digest=digest, protocol="figure4",
                                  points=points, n_tasks=len(chunks))
    with store:
        parts: list[list[dict[str, Any]] | None] = [None] * len(chunks)
        done = store.done_tasks()
        if done:
            records = store.records()
            for i in done:
                parts[i] = records[i]
        pending = [(i, chunks[i]) for i in range(len(chunks)) if i not in done]
        n_done = len(done)
        if progress is not None:
            progress(n_done, len(chunks))
        with LocalBackend(jobs=jobs) as backend:
            for i, rows in backend.map_unordered(partial(_indexed, runner), pending):
                rows = [plain_record(r, f"chunk {i}") for r in rows]
                store.commit(TaskOutcome(task=i, point=i, start=0, stop=len(rows), rows=tuple(
                    (j, 0, "", "", r) for j, r in enumerate(rows))))
                parts[i] = rows
                n_done += 1
                if progress is not None:
                    progress(n_done, len(chunks))
    return [p for p in parts if p is not None]


def _chunks(tasks: list[Setting], size: int) -> list[list[Setting]]:
    """Tasks of one point (same shape) together, in chunks of at most ``size``."""
    points: dict[tuple[str, int], list[Setting]] = {}
    for t in tasks:
        points.setdefault((t.sweep, t.value), []).append(t)
    return [p[i : i + size] for p in points.values() for i in range(0, len(p), size)]


@dataclass(frozen=True)
class Figure4Result:
    """The protocol's tidy rows, their summaries and the claims' tests.

    Attributes
    ----------
    rows : DataFrame
        One row per (setting, estimator, measure), see :func:`~.klgap.run_settings`,
        plus ``sweep``, ``value``, ``setting`` and ``seconds`` (compute time per setting).
    summary : DataFrame
        See :func:`summarize`.
    claims : DataFrame
        See :func:`claims`.
    config : dict
        The options of the run, its seed and its wall-clock time.
    """

    rows: pd.DataFrame
    summary: pd.DataFrame
    claims: pd.DataFrame
    config: dict[str, Any] = field(default_factory=dict)


def run_figure4(*, settings: int = 100, rounds: int = 100, n_eval: int = 1000,
                estimators: Sequence[str] = ("monte_carlo",),
                measures: Sequence[str] | None = None, values: Iterable[int] = VALUES,
                sweeps: Sequence[str] = SWEEPS, seed: int = 0, jobs: int = 1,
                chunk_size: int = 50, n_boot: int = 2000,
                progress: Callable[[int, int], None] | None = None,
                estimator_options: dict[str, Any] | None = None,
                checkpoint: str | Path | None = None, resume: bool = False,
                **setup_fields: Any) -> Figure4Result:
    """Run the Appendix-B protocol and test the paper's three claims.

    Parameters
    ----------
    settings, rounds, n_eval : int
        Settings per point, rounds per setting, points per round (paper: 100, 100, 1000).
    estimators, measures
        As in :func:`~.klgap.run_settings`.
    values, sweeps, seed
        As in :func:`figure4_settings`.
    jobs : int, default 1
        Local worker processes.
    chunk_size : int, default 50
        Settings of one point computed together (batched EM and log-densities).
    n_boot : int, default 2000
        Bootstrap resamples for the intervals.
    progress : callable, optional
        Called as ``progress(chunks_done, chunks_total)``.
    estimator_options : dict, optional
        Passed to :func:`~.klgap.run_settings` (``bins``, ``pseudocount``, ...).
    checkpoint : path, optional
        A results store (SQLite) where each finished chunk's rows are committed at once.
        Without ``resume`` an existing file there is replaced.
    resume : bool, default False
        Reuse the chunks already in ``checkpoint`` (which must come from a run with the
        same options) and compute only the missing ones. The table equals an
        uninterrupted run's in every column but ``seconds``.
    **setup_fields
        Base setup (e.g. ``covariance="seed_effective"``).

    Returns
    -------
    Figure4Result
    """
    jobs = check_int(jobs, "jobs", low=1)
    size = check_int(chunk_size, "chunk_size", low=1)
    values = [int(v) for v in values]
    tasks = figure4_settings(settings=settings, values=values, sweeps=sweeps, seed=seed,
                             **setup_fields)
    options = {"estimators": tuple(estimators), "rounds": rounds, "n_eval": n_eval,
               "measures": None if measures is None else tuple(measures),
               **(estimator_options or {})}
    # check every option before starting workers
    run_settings([], [], **options)
    if resume and checkpoint is None:
        raise ValidationError("`resume=True` needs the `checkpoint` of the run to resume.")
    config = {"settings": settings, "rounds": rounds, "n_eval": n_eval,
              "estimators": list(estimators),
              "measures": None if measures is None else list(measures), "values": values,
              "sweeps": list(sweeps), "seed": seed, "chunk_size": size,
              "setup": Setup(**setup_fields).to_dict(), "estimator_options": estimator_options or {}}
    chunks = _chunks(tasks, size)
    t0 = time.perf_counter()
    if checkpoint is None:
        parts = map_chunks(_ChunkRunner(options), chunks, jobs=jobs, progress=progress)
    else:
        parts = _checkpointed(_ChunkRunner(options), chunks, Path(checkpoint), config,
                              jobs=jobs, resume=resume, progress=progress)
    elapsed = time.perf_counter() - t0
    rows = pd.DataFrame([r for part in parts for r in part])
    config.update(jobs=jobs, wall_seconds=elapsed)
    return Figure4Result(rows, summarize(rows, n_boot=n_boot, seed=seed),
                         claims(rows, n_boot=n_boot, seed=seed), config)


@dataclass(frozen=True)
class _ChunkRunner:
    """Picklable ``chunk -> rows`` for the workers."""

    options: dict[str, Any]

    def __call__(self, chunk: Sequence[Setting]) -> list[dict[str, Any]]:
        return _run_chunk(chunk, self.options)



def _group_key(estimator: str, measure: str, sweep: str) -> tuple[int, int, int]:
    """A bootstrap stream's key from names, so that a group's interval does not depend
    on which other estimators and measures the run holds."""
    return ESTIMATORS.index(estimator), MEASURES.index(measure), "KJL".index(sweep)


def summarize(rows: pd.DataFrame, *, n_boot: int = 2000, level: float = 0.95,
              seed: int = 0) -> pd.DataFrame:
    """Per (estimator, measure, sweep, value): the statistics of the settings' gaps.

    Columns ``n``, ``mean``, ``std`` (population standard deviation over settings, as
    the paper's ``np.std``), ``median``, ``ci_low``/``ci_high`` (bootstrap percentile
    interval of the mean), ``anchor_divergence``, ``synthetic_divergence`` (means of
    D(pi_anchor, G) and D(pi_gen, G) under the row's measure) and ``mc_stderr``
    (root mean square of the settings' own standard errors). Each group's bootstrap draws
    from a stream keyed by its estimator, measure, sweep and value, so its interval is the
    same whichever other estimators and measures ``rows`` holds.
    """
    out = []
    keys = ["estimator", "measure", "sweep", "value"]
    for key, grp in rows.groupby(keys, sort=True):
        gap = grp["gap"].to_numpy()
        est, meas, sweep, value = (str(k) for k in key)
        rng = child_generator(seed, SUMMARY_STREAM, *_group_key(est, meas, sweep),
                              int(float(value)))
        boot = gap[rng.integers(0, gap.size, size=(n_boot, gap.size))].mean(axis=1)
        lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
        out.append({**dict(zip(keys, key, strict=True)), "n": gap.size,
                    "mean": gap.mean(), "std": gap.std(), "median": float(np.median(gap)),
                    "ci_low": lo, "ci_high": hi,
                    "anchor_divergence": grp["anchor_divergence"].mean(),
                    "synthetic_divergence": grp["synthetic_divergence"].mean(),
                    "mc_stderr": float(np.sqrt(np.mean(grp["gap_stderr"] ** 2)))})
    return pd.DataFrame(out)


def _spearman_boot(x: np.ndarray, y: np.ndarray, n_boot: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Spearman's rho of (x, y) for bootstrap resamples drawn within each value of x."""
    groups = [np.flatnonzero(x == v) for v in np.unique(x)]
    idx = np.concatenate([g[rng.integers(0, g.size, size=(n_boot, g.size))] for g in groups],
                         axis=1)
    xs = np.broadcast_to(x[np.concatenate(groups)], idx.shape)  # the design is not resampled
    return spearman_rows(xs, y[idx])


def claims(rows: pd.DataFrame, *, n_boot: int = 2000, level: float = 0.95,
           seed: int = 0) -> pd.DataFrame:
    """Test the paper's three claims per (estimator, measure) by Spearman's rho.

    For each sweep, ``rho`` is Spearman's rank correlation between the swept value and
    the settings' gaps (all settings of all points), ``p_value`` its two-sided test of
    rho = 0, and ``ci_low``/``ci_high`` a bootstrap percentile interval (settings
    resampled within each point). ``verdict`` is "holds" when the interval lies on the
    claimed side of 0, "reversed" when it lies on the other side, and "not shown" when
    it contains 0. ``rho_of_means`` is Spearman's rho of the points' mean gaps. As in
    :func:`summarize`, the bootstrap stream is keyed by the group's names.
    """
    out = []
    for (est, meas, sw), grp in rows.groupby(["estimator", "measure", "sweep"], sort=True):
        sweep = str(sw)
        x, y = grp["value"].to_numpy(float), grp["gap"].to_numpy(float)
        rho, p = stats.spearmanr(x, y)
        boot = _spearman_boot(x, y, n_boot,
                              child_generator(seed, *CLAIMS_STREAM,
                                              *_group_key(str(est), str(meas), sweep)))
        lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
        sign = CLAIMS[sweep]
        verdict = ("holds" if sign * lo > 0 and sign * hi > 0 else
                   "reversed" if sign * lo < 0 and sign * hi < 0 else "not shown")
        means = grp.groupby("value")["gap"].mean()
        out.append({"estimator": est, "measure": meas, "sweep": sweep,
                    "claim": f"KL Gap {_CLAIM_TEXT[sweep]}", "rho": float(rho),
                    "ci_low": float(lo), "ci_high": float(hi), "p_value": float(p),
                    "rho_of_means": float(stats.spearmanr(means.index, means.to_numpy())[0]),
                    "n": len(grp), "verdict": verdict})
    return pd.DataFrame(out)


def _md_table(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        cells = [f"{v:.3g}" if isinstance(v, float) and not math.isnan(v) else str(v)
                 for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary_markdown(result: Figure4Result) -> str:
    """summary.md: which of the paper's claims hold under each estimator, and how tested."""
    c = result.config
    head = [
        "# KL Gap protocol (Gan & Liu 2025, Figure 4)",
        "",
        f"{len(c['sweeps'])} sweeps x {len(c['values'])} values x {c['settings']} settings x "
        f"{c['rounds']} rounds of {c['n_eval']} points; seed {c['seed']}; "
        f"covariance model {c['setup']['covariance']!r}; {c['jobs']} worker(s); "
        f"{c['wall_seconds']:.1f} s wall-clock.",
        "",
        "Test: Spearman's rho between the swept value and the settings' KL Gaps, with a "
        "95 % bootstrap interval (settings resampled within each point). A claim holds when "
        "the interval lies on the claimed side of 0.",
        "",
    ]
    cl = result.claims[["estimator", "measure", "claim", "rho", "ci_low", "ci_high",
                        "p_value", "rho_of_means", "verdict"]]
    return "\n".join([*head, _md_table(cl), ""])


def write_tables(result: Figure4Result, out: str | Path) -> dict[str, Path]:
    """Write results.csv, results.parquet, summary.csv, claims.csv and summary.md."""
    names = {"results_csv": "results.csv", "results_parquet": "results.parquet",
             "summary_csv": "summary.csv", "claims_csv": "claims.csv",
             "summary_md": "summary.md"}
    d = claim_directory(out, check=list(names.values()))
    paths = {k: d / name for k, name in names.items()}
    buf = io.BytesIO()
    result.rows.to_parquet(buf, index=False)
    for key, data in (("results_csv", result.rows.to_csv(index=False).encode()),
                      ("results_parquet", buf.getvalue()),
                      ("summary_csv", result.summary.to_csv(index=False).encode()),
                      ("claims_csv", result.claims.to_csv(index=False).encode()),
                      ("summary_md", summary_markdown(result).encode())):
        write_bytes_atomic(paths[key], data)
    return paths

