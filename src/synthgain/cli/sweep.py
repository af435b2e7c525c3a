"""``synthgain sweep CONFIG.toml``: run a parameter sweep with the sweep engine."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from ._util import check_out_dir, console, err_console, show_progress, user_errors


class _RateColumn(ProgressColumn):
    """Tasks per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("- tasks/s" if speed is None else f"{speed:.2f} tasks/s", style="cyan")


@contextmanager
def progress_bar(enabled: bool, label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A ``progress(done, total)`` callback drawing a rich bar on stderr, or None."""
    if not enabled:
        yield None
        return
    columns = (
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("tasks"), _RateColumn(), TimeElapsedColumn(), TextColumn("ETA"),
        TimeRemainingColumn(),
    )  # fmt: skip
    with Progress(*columns, console=err_console, transient=False) as bar:
        task_id = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task_id, completed=done, total=total)

        yield update


def sweep(
    config: Path = typer.Argument(..., help="Sweep configuration (TOML); see docs/sweeps.md."),
    backend: str = typer.Option(
        "local", "--backend", "-b", help="Where tasks run: local, dask or ray."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Dask scheduler (or Ray cluster) address; default a local cluster."
    ),
    jobs: int | None = typer.Option(
        None, "--jobs", "-j", help="Workers (default: all usable cores)."
    ),
    resume: bool = typer.Option(
        False, "--resume", help="Continue the sweep in --out: compute only missing or failed tasks."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Run directory (default runs/<sweep name>)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no summary."),
) -> None:
    """Run a sweep: a protocol over a grid of parameters, times replicates.

    Results go to an SQLite store in the run directory, with config.json and run.json;
    export them with `synthgain runs export`. Exits with status 1 when some tasks failed
    (their errors are in the table), 2 on a configuration or store error.
    """
    from ..experiments.config import load_config
    from ..experiments.engine import RUN_FILES, run_sweep

    with user_errors({"jobs": "--jobs", "backend": "--backend", "scheduler": "--scheduler"}):
        cfg = load_config(config)
        run_dir = out if out is not None else Path("runs") / cfg.name
        check_out_dir(run_dir, "--out" if out is not None else f"--out (default {run_dir})",
                      [config], RUN_FILES)
        if not quiet:
            n_points = len(cfg.points())
            console.print(
                f"Sweep [bold]{cfg.name}[/] ({cfg.protocol}): {n_points} points x "
                f"{cfg.replicates} replicates, {cfg.batch_size} per task -> {run_dir}"
            )
        with progress_bar(show_progress(quiet), cfg.name) as callback:
            result = run_sweep(
                cfg, out=run_dir, backend=backend, jobs=jobs, scheduler=scheduler,
                resume=resume, progress=callback, argv=sys.argv,
            )  # fmt: skip
    if not quiet:
        console.print(
            f"{result.status}: {result.n_computed} tasks computed in {result.elapsed:.1f} s, "
            f"{result.n_tasks - result.n_failed} of {result.n_tasks} ok. Results in {run_dir}."
        )
    if result.n_failed:
        err_console.print(
            f"[bold yellow]warning:[/] {result.n_failed} tasks failed; see `synthgain runs show "
            f"{run_dir}`; `--resume` computes them again."
        )
        raise typer.Exit(code=1)
