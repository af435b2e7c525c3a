"""``synthgain study digits|text|llm``: the real-data studies of docs/study.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ..exceptions import ValidationError
from ..experiments.provenance import claim_directory
from ._util import check_out_dir, console, err_console, show_progress, user_errors


def study(
    name: str = typer.Argument(..., help="Which study: digits, text, llm or mix (Study 4: "
                               "datasets mixed from the LLM study's recorded pool)."),
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
    regime: str = typer.Option("few-shot", "--regime", help="mix: the anchors, few-shot "
                               "(8 per class) or calibrated (100 per class)."),
    design_seed: int = typer.Option(0, "--design-seed", min=0, help="mix: the seed of the "
                                    "anchors and of the datasets' design."),
    datasets: int = typer.Option(200, "--datasets", min=5, help="mix: synthetic datasets "
                                 "drawn from the pool."),
    pool: Path | None = typer.Option(None, "--pool", help="mix: the pool of generations "
                                     "(default: docs/data/llm_synthetic.jsonl.gz)."),
    lm: bool = typer.Option(True, "--lm/--no-lm", help="mix: the language model's measures "
                            "(G-Vendi, alignment, loss; needs make lm-setup)."),
    audit: bool = typer.Option(False, "--audit", help="mix: add the audit's null-calibrated "
                               "values per dataset (about 5 s per dataset more)."),
    held_out: int | None = typer.Option(None, "--held-out", min=0, help="mix: also run a "
                                        "held-out design of this seed (60 datasets) and "
                                        "give each measure its final verdict."),
    table: Path | None = typer.Option(None, "--table", help="mix: read the per-dataset "
                                      "table of an earlier run (its <stem>_datasets.csv) "
                                      "and write only its by-condition reading "
                                      "(<stem>_conditions.csv); nothing is drawn or scored."),
    lora: int | None = typer.Option(None, "--lora", min=2, help="mix: instead of the "
                                    "measures, check the probe: fine-tune SmolLM2 with LoRA "
                                    "on this many datasets of the design (stratified by the "
                                    "probe's gain) and on the anchors alone, and "
                                    "rank-correlate the two gains (needs make lm-setup; "
                                    "about 2 min per dataset on 2 CPU cores)."),
) -> None:
    """Vary the paper's knobs on real data; rank-correlate each measure with the real gain."""
    if name == "mix" and table is not None:
        _by_condition(table, out, design_seed)
        return
    if name == "mix" and lora is not None:
        _lora(out, regime, design_seed, datasets, pool, lora, seed, jobs, model, quick, quiet)
        return
    if name == "mix":
        _mix(out, regime, design_seed, datasets, pool, lm, seed, jobs, model, quick, quiet,
             held_out, audit)
        return
    _studies(name, quick, out, seed, jobs, model, backend, scheduler, runtime, replay, quiet)


def _studies(name: str, quick: bool, out: Path, seed: int, jobs: int, model: str | None,
             backend: str, scheduler: str | None, runtime: str, replay: Path | None,
             quiet: bool) -> None:
    """Studies 1-3 (digits, text, llm): configurations x replicates, correlations."""
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
        # so a rerun reads them and a killed run resumes: claimed before any work
        claim_directory(out)
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


#: the recorded pool of the LLM study, in the source tree
DEFAULT_POOL = Path(__file__).resolve().parents[3] / "docs" / "data" / "llm_synthetic.jsonl.gz"


def _pool(pool: Path | None, out: Path) -> Path:
    """The recorded pool ``--pool`` names (default: the source tree's), checked, with
    ``--out`` checked against it."""
    path = pool or DEFAULT_POOL
    if not path.is_file():
        raise ValidationError(f"`--pool` must be a recorded pool (llm_synthetic.jsonl"
                              f"[.gz]). Got {str(path)!r}, which does not exist.")
    check_out_dir(out, "--out", [path])
    return path


def _conditions(table: Any, design_seed: int) -> Any:
    """The by-condition reading of a run's datasets table, seeded from its design seed
    (the same whether written by the run or read back with ``--table``)."""
    from .._rng import child_seed, seed_sequence
    from ..study import analyse_by_condition

    return analyse_by_condition(table, rng=child_seed(seed_sequence(design_seed),
                                                      "by_condition"))


def _by_condition(table: Path, out: Path, design_seed: int) -> None:
    """The leave-one-condition-out reading of a saved Study 4 table."""
    import pandas as pd

    from ..experiments.provenance import write_bytes_atomic

    with user_errors({}):
        if not table.is_file():
            raise ValidationError(f"`--table` must be a datasets table written by 'synthgain "
                                  f"study mix' (mix_<regime>_design<seed>_datasets.csv). Got "
                                  f"{str(table)!r}, which does not exist.")
        check_out_dir(out, "--out", [table])
        try:
            data = pd.read_csv(table)
        except (ValueError, UnicodeDecodeError) as e:
            raise ValidationError(f"`--table` {str(table)!r} is not a readable CSV file "
                                  f"({str(e).strip()}).") from None
        need = {"main_condition", "gain_both"}
        if not need <= set(data.columns):
            raise ValidationError(f"`--table` {str(table)!r} lacks the column(s) "
                                  f"{sorted(need - set(data.columns))}: give the "
                                  f"<stem>_datasets.csv of a 'synthgain study mix' run.")
        conditions = _conditions(data, design_seed)
        stem = table.name.removesuffix("_datasets.csv").removesuffix(".csv")
        path = out / f"{stem}_conditions.csv"
        claim_directory(out)
        write_bytes_atomic(path, conditions.to_csv(index=False).encode())
    for r in conditions[conditions.condition == "all conditions"].to_dict("records"):
        console.print(f"  {r['measure']!s:<18} expected sign in {int(r['agrees'])} of "
                      f"{int(r['n'])} conditions (sign test p {float(r['sign_test_p']):.3g})")
    console.print(f"conditions: {path}")


def _lora(out: Path, regime: str, design_seed: int, datasets: int, pool: Path | None,
          n_check: int, seed: int, jobs: int, model: str | None, quick: bool,
          quiet: bool) -> None:
    """Study 4's check of its probe against LoRA fine-tunes of the language model."""
    import json

    from ..experiments.provenance import write_bytes_atomic
    from ..study import run_lora_check

    with user_errors({"regime": "--regime", "n_datasets": "--datasets", "jobs": "--jobs",
                      "threads": "--jobs", "model": "--model", "pool_path": "--pool",
                      "n_check": "--lora"}):
        path = _pool(pool, out)
        progress = None
        if show_progress(quiet):
            def progress(done: int, total: int) -> None:
                err_console.print(f"fine-tune {done:,}/{total:,}", end="\r")
        claim_directory(out)  # its cache/ lets a killed run resume
        table, analysis, settings = run_lora_check(
            path, regime=regime, design_seed=design_seed, n_datasets=datasets,
            n_check=n_check, seed=seed, model=model or "minilm",
            threads=jobs, cache_dir=out / "cache", quick=quick, progress=progress)
        stem = f"mix_{settings['regime']}_design{design_seed}_lora"
        files = {"datasets": out / f"{stem}.csv", "analysis": out / f"{stem}_analysis.csv",
                 "settings": out / f"{stem}.json"}
        write_bytes_atomic(files["datasets"], table.to_csv(index=False).encode())
        write_bytes_atomic(files["analysis"], analysis.to_csv(index=False).encode())
        write_bytes_atomic(files["settings"], (json.dumps(settings, indent=2) + "\n").encode())
    lo, hi = settings["rho_probe_lora_interval"]
    console.print(f"LoRA check ({settings['regime']}, design seed {design_seed}): "
                  f"{settings['n_check']} datasets, anchors alone "
                  f"{settings['lora_accuracy_anchor']:.3f}, in {settings['seconds']} s")
    console.print(f"Spearman rho(probe gain, LoRA gain) {settings['rho_probe_lora']:+.2f} "
                  f"[{lo:+.2f}, {hi:+.2f}] (95% bootstrap interval)")
    for r in analysis.to_dict("records"):
        console.print(f"  {r['measure']!s:<18} rho with gain_lora {float(r['rho']):+.2f} "
                      f"[{float(r['rho_low']):+.2f}, {float(r['rho_high']):+.2f}]")
    for key, p in files.items():
        console.print(f"{key}: {p}")


def _mix(out: Path, regime: str, design_seed: int, datasets: int, pool: Path | None,
         lm: bool, seed: int, jobs: int, model: str | None, quick: bool, quiet: bool,
         held_out: int | None, audit: bool) -> None:
    """Study 4: the design's datasets, scored; the pre-registered analysis."""
    import json

    from ..experiments.provenance import write_bytes_atomic
    from ..study import run_mix_study

    with user_errors({"regime": "--regime", "n_datasets": "--datasets", "jobs": "--jobs",
                      "model": "--model", "pool_path": "--pool"}):
        path = _pool(pool, out)
        progress = None
        if show_progress(quiet):
            def progress(done: int, total: int) -> None:
                err_console.print(f"dataset {done:,}/{total:,}", end="\r")
        kw: dict[str, Any] = {"regime": regime, "seed": seed, "model": model or "minilm",
                              "lm": lm, "audit": audit,
              "jobs": jobs, "cache_dir": out / "cache", "quick": quick, "progress": progress}
        claim_directory(out)  # its cache/ lets a killed run resume
        table, analysis, settings = run_mix_study(path, design_seed=design_seed,
                                                  n_datasets=datasets, **kw)
        if held_out is not None:
            from ..study import replicate

            _, other, _ = run_mix_study(path, design_seed=held_out,
                                        n_datasets=min(60, datasets), **kw)
            analysis = replicate(analysis, other)
            settings["held_out_seed"] = held_out
        stem = f"mix_{settings['regime']}_design{design_seed}"
        files = {"datasets": out / f"{stem}_datasets.csv",
                 "analysis": out / f"{stem}_analysis.csv",
                 "conditions": out / f"{stem}_conditions.csv",
                 "settings": out / f"{stem}.json"}
        conditions = _conditions(table, design_seed)
        write_bytes_atomic(files["datasets"], table.to_csv(index=False).encode())
        write_bytes_atomic(files["analysis"], analysis.to_csv(index=False).encode())
        write_bytes_atomic(files["conditions"], conditions.to_csv(index=False).encode())
        write_bytes_atomic(files["settings"], (json.dumps(settings, indent=2) + "\n").encode())
    console.print(f"mix ({settings['regime']}, design seed {design_seed}): "
                  f"{settings['n_datasets']} datasets, {settings['anchors']} anchors, in "
                  f"{settings['seconds']} s")
    console.print("Spearman rho with gain_both over datasets (95% bootstrap interval; "
                  "partial given size and label noise; Holm-adjusted one-sided p, primary):")
    import math

    for r in analysis.sort_values("rho", ascending=False).to_dict("records"):
        rho = float(r.get("rho", math.nan))
        if math.isnan(rho):
            continue
        p_holm = float(r.get("p_holm", math.nan))
        holm = "" if math.isnan(p_holm) else f"  p_holm {p_holm:.3g}"
        console.print(f"  {r['measure']!s:<22} {rho:+.2f} [{float(r['rho_low']):+.2f}, "
                      f"{float(r['rho_high']):+.2f}]  partial "
                      f"{float(r['partial_rho']):+.2f}{holm}  {r['verdict']}")
    for key, p in files.items():
        console.print(f"{key}: {p}")
