"""The sweep engine: run a protocol over a grid, in parallel, resumably.

:func:`run_sweep` expands the configuration into tasks (a batch of replicates of one
grid point), skips those already in the run directory's store when resuming, sends
the rest to a backend and commits each finished task in one transaction. Results are
independent of the backend, the number of workers and the completion order: every
replicate's seed is fixed by its grid position (:func:`~.grid.replicate_seed`), each
task runs single-threaded, and the table is read back sorted by (point, replicate,
item).

A run directory holds ``results.sqlite`` (the store), ``config.json`` (the resolved
configuration) and ``run.json`` (provenance and status).
"""

from __future__ import annotations

import contextlib
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ValidationError
from .backends import BACKENDS, Backend, get_backend
from .config import SweepConfig, load_config, parse_config
from .grid import Task, make_tasks, replicate_seed, seed_label
from .protocols import Protocol
from .provenance import CONFIG_NAME, RUN_NAME, RunRecord, check_output, claim_directory, read_json
from .store import STORE_NAME, StoreError, SweepStore, TaskOutcome, check_record

__all__ = ["SweepResult", "list_runs", "open_store", "run_sweep"]

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class WorkItem:
    """Everything a worker needs for one task (picklable)."""

    protocol: Protocol
    task: Task
    fields: dict[str, Any]
    options: dict[str, Any]
    seeds: tuple[np.random.SeedSequence, ...]


def _error_text(exc: BaseException) -> str:
    """``Type: message (file:line in function)`` for the innermost frame."""
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        f = frames[-1]
        text += f" (at {Path(f.filename).name}:{f.lineno} in {f.name})"
    return text


def execute_task(item: WorkItem) -> TaskOutcome:
    """Run one task; an exception becomes a failed outcome carrying its error text."""
    task = item.task
    start = time.perf_counter()
    try:
        params = [dict(item.fields) for _ in item.seeds]
        out = item.protocol.fn(params, list(item.seeds), **item.options)
        if len(out) != len(item.seeds):
            raise ValidationError(
                f"protocol {item.protocol.name!r} returned {len(out)} result lists for "
                f"{len(item.seeds)} settings"
            )
        rows = []
        for rep, seed, records in zip(task.replicates, item.seeds, out, strict=True):
            entropy, key = seed_label(seed)
            for i, rec in enumerate(records):
                where = f"protocol {item.protocol.name!r}, replicate {rep}"
                rows.append((rep, i, entropy, key, check_record(rec, where)))
    except Exception as exc:
        return TaskOutcome(
            task.index, task.point, task.start, task.stop,
            error=_error_text(exc), elapsed=time.perf_counter() - start,
        )  # fmt: skip
    return TaskOutcome(
        task.index, task.point, task.start, task.stop,
        rows=tuple(rows), elapsed=time.perf_counter() - start,
    )  # fmt: skip


@dataclass(frozen=True)
class SweepResult:
    """Summary of a finished :func:`run_sweep` call.

    Attributes
    ----------
    run_dir : Path
    status : str
        ``"completed"`` or ``"completed_with_failures"``.
    n_tasks, n_computed, n_failed : int
        Tasks in the sweep, tasks computed by this call, failed tasks in the store.
    elapsed : float
        Wall-clock seconds of this call.
    """

    run_dir: Path
    status: str
    n_tasks: int
    n_computed: int
    n_failed: int
    elapsed: float

    def table(self) -> pd.DataFrame:
        """The results table (see :meth:`SweepStore.table`)."""
        with open_store(self.run_dir) as store:
            return store.table()

    def export(self, path: str | Path, *, format: str | None = None) -> Path:
        """Write the table as Parquet or CSV."""
        with open_store(self.run_dir) as store:
            return store.export(path, format=format)


def open_store(run_dir: str | Path, *, readonly: bool = True) -> SweepStore:
    """Open the store of a run directory (read-only by default)."""
    return SweepStore.open(Path(run_dir) / STORE_NAME, readonly=readonly)


def _as_config(config: SweepConfig | Mapping[str, Any] | str | Path) -> SweepConfig:
    if isinstance(config, SweepConfig):
        return config
    if isinstance(config, Mapping):
        return parse_config(config)
    return load_config(config)


#: The files of fixed name a sweep writes into its run directory.
RUN_FILES = (CONFIG_NAME, RUN_NAME, STORE_NAME, f"{STORE_NAME}-wal", f"{STORE_NAME}-shm")


def _open_or_create(config: SweepConfig, run_dir: Path, n_tasks: int, resume: bool) -> SweepStore:
    path = run_dir / STORE_NAME
    if resume:
        if not path.exists():
            raise StoreError(
                f"nothing to resume: {run_dir} holds no results store ({STORE_NAME}); "
                "drop --resume to start the sweep there"
            )
        store = SweepStore.open(path)
        if store.meta.get("config_digest") != config.digest():
            store.close()
            raise StoreError(
                f"the sweep in {run_dir} was started from a different configuration (see its "
                "config.json); resume it with that configuration or use another --out"
            )
        return store
    if path.exists():
        raise StoreError(
            f"{run_dir} already holds a sweep; pass --resume to continue it, or choose another "
            "--out directory"
        )
    claim_directory(run_dir)
    points = [(p.index, p.block, p.params) for p in config.points()]
    return SweepStore.create(
        path, config_digest=config.digest(), protocol=config.protocol, points=points, n_tasks=n_tasks
    )


def run_sweep(
    config: SweepConfig | Mapping[str, Any] | str | Path,
    *,
    out: str | Path | None = None,
    backend: str | Backend = "local",
    jobs: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    progress: ProgressCallback | None = None,
    argv: list[str] | None = None,
) -> SweepResult:
    """Run a sweep and store its results in a run directory.

    Parameters
    ----------
    config : SweepConfig, mapping or path
        A validated configuration, its nested-mapping form or a TOML file.
    out : path, optional
        The run directory; default ``runs/<name>``.
    backend : {"local", "dask", "ray"} or Backend
        Where tasks run (see :mod:`synthgain.experiments.backends`). A Backend instance
        is used as is and not closed.
    jobs : int, optional
        Number of workers; default all usable cores (local, Dask LocalCluster).
    scheduler : str, optional
        Address of a Dask scheduler or Ray cluster.
    resume : bool
        Continue the sweep in ``out``: compute only the tasks not yet stored, and those
        that failed.
    progress : callable, optional
        Called as ``progress(done, total)`` (tasks) at the start and after each task.
    argv : list of str, optional
        Command line recorded in ``run.json`` (default ``sys.argv``).

    Returns
    -------
    SweepResult

    Notes
    -----
    Replicate ``r`` of point ``p`` is seeded by
    ``SeedSequence(seed, spawn_key=(p, r))`` whatever the batching and the backend, so
    the table is bitwise identical for any number of workers, any backend, and after a
    resume.
    """
    config = _as_config(config)
    if not isinstance(backend, Backend) and backend not in BACKENDS:
        get_backend(backend)  # raises, naming the choices, before anything is written
    protocol = config.get_protocol()
    points = config.points()
    tasks = make_tasks(len(points), config.replicates, config.batch_size)
    run_dir = Path(out) if out is not None else Path("runs") / config.name
    check_output(run_dir, "`out`", directory=True, files=RUN_FILES)
    store = _open_or_create(config, run_dir, len(tasks), resume)
    finished = store.done_tasks()
    pending = [t for t in tasks if t.index not in finished]
    root = np.random.SeedSequence(config.seed)
    split = [protocol.split(p.params) for p in points]
    items = (
        WorkItem(protocol, t, split[t.point][0], split[t.point][1],
                 tuple(replicate_seed(root, t.point, r) for r in t.replicates))
        for t in pending
    )  # fmt: skip
    be = backend if isinstance(backend, Backend) else None
    record = RunRecord(run_dir)
    status, computed, t0 = "failed", 0, time.perf_counter()
    try:
        with contextlib.ExitStack() as stack:
            if be is None:
                be = stack.enter_context(get_backend(str(backend), jobs=jobs, scheduler=scheduler))
            record.start(config.to_dict(), backend=be.describe(), jobs=be.jobs, argv=argv,
                         resume=resume)  # fmt: skip
            done = len(tasks) - len(pending)
            if progress is not None:
                progress(done, len(tasks))
            for outcome in be.map_unordered(execute_task, items):
                store.commit(outcome)
                computed += 1
                if progress is not None:
                    progress(done + computed, len(tasks))
        counts = store.task_counts()
        status = "completed" if counts.get("ok", 0) == len(tasks) else "completed_with_failures"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        counts = store.task_counts()
        store.close()
        if record.data:
            record.finish(
                status,
                tasks={"total": len(tasks), "ok": counts.get("ok", 0),
                       "failed": counts.get("failed", 0), "computed_now": computed},
                elapsed_seconds=round(time.perf_counter() - t0, 3),
            )  # fmt: skip
    return SweepResult(
        run_dir, status, len(tasks), computed, counts.get("failed", 0), time.perf_counter() - t0
    )


def list_runs(root: str | Path = "runs") -> list[dict[str, Any]]:
    """Summaries (from ``run.json``) of the run directories directly under ``root``."""
    root = Path(root)
    runs = []
    for run_json in sorted(root.glob(f"*/{RUN_NAME}")):
        try:
            data = read_json(run_json)
        except (OSError, ValueError):
            data = {"status": "unreadable run.json"}
        runs.append({"run_dir": str(run_json.parent), **data})
    return runs
