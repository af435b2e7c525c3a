"""``synthgain study digits|text|llm``: the real-data studies of docs/study.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ..exceptions import ValidationError
from ._util import check_out_dir, console, err_console, show_progress, user_errors


def study(
    name: str = typer.Argument(..., help="Which study: digits, text or llm."),
    quick: bool = typer.Option(False, "--quick", help="Fewer replicates (about a minute; llm: "
                               "4 configurations, a few minutes)."),
    out: Path = typer.Option(Path("study-output"), "--out", help="Directory for tables and figures."),
    seed: int = typer.Option(0, "--seed", help="Root random seed."),
    jobs: int = typer.Option(1, "--jobs", help="Worker processes (results do not depend on it)."),
    model: str | None = typer.Option(None, "--model", help="Text embedding: lsa or minilm "
                                     "(default: lsa for text, minilm for llm)."),
    backend: str = typer.Option("local", "--backend", help="Where tasks run: local or dask."),
    scheduler: str | None = typer.Option(None, "--scheduler",
                                         help="Dask scheduler address (default: a local cluster)."),
    runtime: str = typer.Option("transformers", "--runtime", help="llm: run the model with "
                                "transformers (default) or llama-cpp (needs llama-cpp-python)."),
    replay: Path | None = typer.Option(None, "--replay", help="llm: answer every prompt from "
                                       "the generations an earlier run recorded "
                                       "(its llm_synthetic.jsonl[.gz]) instead of the model."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress display."),
) -> None:
    """Vary the paper's knobs on real data; rank-correlate each measure with the real gain."""
    from ..plots import write_study_figures
    from ..study import run_study

    with user_errors({"rng": "--seed", "jobs": "--jobs", "model": "--model",
                      "backend": "--backend", "scheduler": "--scheduler"}):
        check_out_dir(out, "--out", [replay])
        progress = None
        if show_progress(quiet):
            def progress(done: int, total: int) -> None:
                err_console.print(f"replicate {done:,}/{total:,}", end="\r")
        if backend not in ("local", "dask"):
            raise ValidationError(f"`--backend` must be 'local' or 'dask'. Got {backend!r}.")
        generator: Any = None
        if runtime not in ("transformers", "llama-cpp"):
            raise ValidationError(f"`--runtime` must be 'transformers' or 'llama-cpp'. Got "
                                  f"{runtime!r}.")
        if runtime == "llama-cpp" and replay is None:
            from ..study import LlamaCppGenerator

            generator = LlamaCppGenerator()
        if replay is not None:
            if name != "llm":
                raise ValidationError(f"`--replay` applies to the llm study only. Got it with "
                                      f"{name!r}; drop --replay.")
            from ..study import ReplayGenerator

            generator = ReplayGenerator(replay)
        # the LLM study caches generations and embeddings under the output directory,
        # so a rerun reads them and a killed run resumes
        result = run_study(name, quick=quick, rng=seed, jobs=jobs, model=model,
                           progress=progress, backend=backend, scheduler=scheduler,
                           cache_dir=out / "cache" if name == "llm" else None,
                           generator=generator)
        paths = {**result.write(out), **write_study_figures(result, out)}
    c = result.correlations
    console.print(f"{result.name}: {result.settings['n_configs']} configurations x "
                  f"{result.settings['n_replicates']} replicates in "
                  f"{result.settings['seconds']} s")
    for gain in ("gain_both", "gain_synthetic"):
        part = c[c["gain"] == gain].sort_values("rho", ascending=False)
        console.print(f"Spearman rho with {gain} (95% bootstrap interval over configurations):")
        for row in part.itertuples():
            console.print(f"  {row.measure:<22} {row.rho:+.2f}  [{row.low:+.2f}, "
                          f"{row.high:+.2f}]  {row.verdict}")
    for key, path in paths.items():
        console.print(f"{key}: {path}")
