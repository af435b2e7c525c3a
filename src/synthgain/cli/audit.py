"""``synthgain audit``: audit synthetic data against its anchors (and a target set)."""

from __future__ import annotations

from pathlib import Path

import typer

from ._util import console, err_console, show_progress, user_errors

#: The loader's options as this command names them, for its error messages.
FLAGS = {"text_column": "--text-column", "embedding_column": "--embedding-column",
         "label_column": "--label-column", "field": "--field", "layout": "--layout"}


def audit(
    anchor: Path = typer.Argument(..., help="Anchor (real seed) data: .jsonl, .json, .csv, .parquet, .arrow or .npy (each optionally .gz), or a directory of shards."),
    synthetic: Path = typer.Argument(..., help="Synthetic data made from the anchors."),
    target: Path | None = typer.Option(None, "--target", help="Held-out data from the task's distribution."),
    out: Path = typer.Option(Path("audit-output"), "--out", help="Directory for metrics.json and report.html."),
    text_column: str = typer.Option("text", help="Column holding the text."),
    embedding_column: str | None = typer.Option(None, help="Column holding precomputed embeddings."),
    label_column: str | None = typer.Option(None, help="Column holding class labels (enables the probe)."),
    field: str = typer.Option("response", "--field", help="What is measured in chat, Alpaca or preference data: response (the last assistant turn), prompt (the user turns before it) or conversation (all turns)."),
    layout: str = typer.Option("auto", "--layout", help="Row layout: auto (recognised from the fields), text, alpaca, chat, sharegpt or preference."),
    model: str = typer.Option("auto", help="Text model: auto, minilm or lsa."),
    cache_dir: Path | None = typer.Option(None, help="Embedding cache (default: OUT/cache)."),
    compare_rows: int = typer.Option(1_000, "--compare-rows", min=2, help="Largest matched size: rows per dataset in each evaluation of a comparison."),
    repeats: int = typer.Option(10, "--repeats", min=2, help="Random subsets per comparison and per null."),
    near_copy_limit: float = typer.Option(0.1, "--near-copy-limit", min=0.0, max=1.0, help="Share of near-copies above which kNN divergences between anchors and synthetic data are withheld."),
    seed: int = typer.Option(0, help="Root random seed."),
    workers: int = typer.Option(-1, help="Threads for the neighbour searches (-1: all cores)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Measure what the synthetic data adds; write metrics.json and report.html."""
    from ..audit import load_dataset, run_audit
    from ..report import write_audit

    with user_errors():
        sets = []
        for role, path in (("anchor", anchor), ("synthetic", synthetic), ("target", target)):
            if path is None:
                continue
            sets.append(load_dataset(path, name=role, text_column=text_column,
                                     embedding_column=embedding_column,
                                     label_column=label_column, layout=layout, field=field,
                                     option_names=FLAGS))
            console.print(f"{role}: {sets[-1].describe()}", markup=False, highlight=False,
                          soft_wrap=True)
        progress = None
        if show_progress(quiet):
            def progress(done: int, total: int) -> None:
                err_console.print(f"embedding {done:,}/{total:,}", end="\r")
        result = run_audit(*sets, model=model, cache_dir=cache_dir or out / "cache",
                           compare_rows=compare_rows, repeats=repeats,
                           near_copy_limit=near_copy_limit, rng=seed, workers=workers,
                           progress=progress)
        paths = write_audit(result, out)
    for line in result.summary():
        console.print(line)
    for note in result.notes:
        console.print(f"[dim]{note}[/]")
    console.print(f"Report: {paths['report']}")
    console.print(f"Metrics: {paths['metrics']}")
