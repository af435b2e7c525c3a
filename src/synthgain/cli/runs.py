"""``synthgain runs list|show|export``: inspect and export sweep run directories."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from ._util import console, user_errors

runs_app = typer.Typer(
    help="Inspect sweep runs and export their results.",
    no_args_is_help=True,
    add_completion=False,
)


@runs_app.command("list")
def list_command(
    root: Path = typer.Option(Path("runs"), "--root", help="Directory holding run directories."),
) -> None:
    """List the run directories under --root with their status and task counts."""
    from ..experiments.engine import list_runs

    runs = list_runs(root)
    if not runs:
        console.print(f"No runs under {root}.")
        return
    table = Table("run", "status", "started", "stopped", "tasks ok", "failed")
    for r in runs:
        tasks = r.get("tasks") or {}
        table.add_row(
            r["run_dir"], str(r.get("status")), str(r.get("started")), str(r.get("stopped")),
            f"{tasks.get('ok', '?')}/{tasks.get('total', '?')}", str(tasks.get("failed", "?")),
        )  # fmt: skip
    console.print(table)


@runs_app.command("show")
def show_command(
    run_dir: Path = typer.Argument(..., help="A run directory."),
    errors: int = typer.Option(5, "--errors", help="How many failed tasks to show."),
) -> None:
    """Show a run's provenance, task counts and the errors of failed tasks."""
    from ..experiments.engine import open_store
    from ..experiments.provenance import RUN_NAME, read_json

    with user_errors():
        with open_store(run_dir) as store:
            counts = store.task_counts()
            total = int(store.meta["n_tasks"])
            tasks = store.task_table()
        info = read_json(run_dir / RUN_NAME) if (run_dir / RUN_NAME).exists() else {}
    git = info.get("git") or {}
    lines = {
        "name": info.get("name"), "status": info.get("status"),
        "started": info.get("started"), "stopped": info.get("stopped"),
        "backend": info.get("backend"), "version": info.get("synthgain_version"),
        "git commit": f"{git.get('commit')} (dirty: {git.get('dirty')})",
        "python / numpy": f"{info.get('python')} / {info.get('numpy')}",
        "host": info.get("host"),
        "tasks": f"{counts.get('ok', 0)} ok, {counts.get('failed', 0)} failed, "
                 f"{total - sum(counts.values())} missing, {total} in all",
    }  # fmt: skip
    if len(tasks):
        lines["task time"] = (
            f"mean {tasks['elapsed'].mean():.3f} s, total {tasks['elapsed'].sum():.1f} s"
        )
    for key, value in lines.items():
        console.print(f"[bold]{key}:[/] {value}")
    failed = tasks[tasks["status"] == "failed"].head(errors)
    for _, row in failed.iterrows():
        console.print(f"[red]task {row['task']} (point {row['point']}):[/] {row['error']}")


@runs_app.command("export")
def export_command(
    run_dir: Path = typer.Argument(..., help="A run directory."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Output file (default <run_dir>/results.<format>)."
    ),
    format: str | None = typer.Option(
        None, "--format", "-f", help="parquet or csv (default: from --out's suffix, else parquet)."
    ),
) -> None:
    """Export a run's results table to Parquet or CSV."""
    from ..experiments.engine import open_store

    with user_errors({"path": "--out", "format": "--format"}):
        target = out if out is not None else run_dir / f"results.{format or 'parquet'}"
        with open_store(run_dir) as store:
            path = store.export(target, format=format)
    console.print(f"Wrote {path}")
