"""``synthgain audit``: audit synthetic data against its anchors (and a target set)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from ._util import check_out_dir, console, err_console, show_progress, user_errors

#: The loader's options as this command names them, for its error messages.
FLAGS = {"text_column": "--text-column", "embedding_column": "--embedding-column",
         "label_column": "--label-column", "field": "--field", "layout": "--layout"}
#: run_audit's arguments as this command names them: a message from deeper down that
#: names an argument is shown naming the flag.
AUDIT_FLAGS = {**FLAGS, "model": "--model", "workers": "--workers", "rng": "--seed",
               "compare_rows": "--compare-rows", "repeats": "--repeats",
               "near_copy_limit": "--near-copy-limit", "batch_size": "--batch-size",
               "backend": "--backend", "scheduler": "--scheduler", "cache_dir": "--cache-dir",
               "thresholds": "--thresholds", "evaluation": "--eval",
               "path": "--write-filtered", "out_dir": "--out", "lm": "--lm"}
#: What --write-filtered drops unless --drop says otherwise.
DEFAULT_DROP = "near-copy,duplicate,contaminated"


def audit(
    anchor: Path = typer.Argument(..., help="Anchor (real seed) data: .jsonl, .json, .csv, .parquet, .arrow or .npy (each optionally .gz), or a directory of shards."),
    synthetic: Path = typer.Argument(..., help="Synthetic data made from the anchors."),
    target: Path | None = typer.Option(None, "--target", help="Held-out data from the task's distribution."),
    eval_file: Path | None = typer.Option(None, "--eval", help="An evaluation set (read like the other files, same --field and --layout); used only to count synthetic rows contaminated with it (a shared 13-gram or a MinHash near-duplicate)."),
    out: Path = typer.Option(Path("audit-output"), "--out", help="Directory for metrics.json and report.html."),
    text_column: str = typer.Option("text", help="Column holding the text."),
    embedding_column: str | None = typer.Option(None, help="Column holding precomputed embeddings."),
    label_column: str | None = typer.Option(None, help="Column holding class labels (enables the probe)."),
    field: str = typer.Option("response", "--field", help="What is measured in chat, Alpaca or preference data: response (the last assistant turn), prompt (the user turns before it) or conversation (all turns)."),
    layout: str = typer.Option("auto", "--layout", help="Row layout: auto (recognised from the fields), text, alpaca, chat, sharegpt or preference."),
    model: str = typer.Option("auto", help="Text model: auto, minilm or lsa."),
    batch_size: int = typer.Option(64, "--batch-size", min=1, help="Texts per batch of the text model (embeddings do not depend on it)."),
    backend: str = typer.Option("local", "--backend", help="Where the text model and the nearest-anchor search of the synthetic rows run: local, dask (a LocalCluster on 127.0.0.1 unless --scheduler is given) or ray (a local Ray instance unless --address is given; the ray extra); everything else runs locally, and the results are the same."),
    scheduler: str | None = typer.Option(None, "--scheduler", "--address", help="Cluster address for --backend dask (scheduler, tcp://host:8786) or ray (ray://host:10001, or auto)."),
    cache_dir: Path | None = typer.Option(None, help="Embedding cache (default: OUT/cache)."),
    compare_rows: int = typer.Option(1_000, "--compare-rows", min=2, help="Largest matched size: rows per dataset in each evaluation of a comparison."),
    repeats: int = typer.Option(10, "--repeats", min=2, help="Random subsets per comparison and per null."),
    near_copy_limit: float = typer.Option(0.1, "--near-copy-limit", min=0.0, max=1.0, help="Share of near-copies above which kNN divergences between anchors and synthetic data are withheld."),
    seed: int = typer.Option(0, min=0, help="Root random seed (a non-negative integer)."),
    workers: int = typer.Option(-1, help="Threads for the neighbour searches (-1: all cores, or at least 1)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
    write_filtered: Path | None = typer.Option(None, "--write-filtered", help="Write the synthetic file back without the rows flagged by --drop, in its own layout and container (same ending as the input; a directory of shards: one file in its first shard's container)."),
    drop: str | None = typer.Option(None, "--drop", help=f"Flags whose rows --write-filtered removes: near-copy, duplicate, semantic-duplicate, contaminated, empty, refusal, pii, language-drift, outlier, label-suspect (comma-separated; default {DEFAULT_DROP}). Needs --write-filtered."),
    fail_on: str | None = typer.Option(None, "--fail-on", help="CI gate: comma-separated conditions 'name op number' (e.g. \"near_copy_rate>0.2,contamination>0\"); exit 3 when one holds or cannot be checked (docs/audit.md)."),
    lm: str | None = typer.Option(None, "--lm", help="Language model for the model measures (per-row loss, IFD, gradient sketches: G-Vendi, gradient alignment) and the label-aware sketches: smollm2, none, or auto (smollm2 when installed by `make lm-setup`; default: $SYNTHGAIN_LM, else auto)."),
    lm_all_rows: bool = typer.Option(False, "--lm-all-rows", help="Score every synthetic row with the language model (lm_loss and ifd for all of rows.parquet), not only the rows the comparisons use."),
    thresholds: str | None = typer.Option(None, "--thresholds", help="Verdict thresholds as name=value, comma-separated (e.g. \"near_copy_rate=0.1,refusal_rate=0\"); the others keep their defaults (docs/audit.md)."),
) -> None:
    """Measure what the synthetic data adds; write metrics.json, report.html and rows.parquet/csv."""
    os.environ.setdefault("TQDM_DISABLE", "1")  # no bars from the text model's libraries
    from ..audit import parse_conditions, parse_drop, parse_thresholds, run_audit
    from ..report import check_filtered_path, write_audit

    with user_errors(AUDIT_FLAGS):
        # every flag, then every output path, before a row is read
        drops = parse_drop(drop or DEFAULT_DROP, "--drop")
        _check_options(model, workers, backend, scheduler, drop, write_filtered)
        lm = _resolve_lm(lm)
        conditions = parse_conditions(fail_on, "--fail-on") if fail_on is not None else []
        limits = parse_thresholds(thresholds, "--thresholds") if thresholds else None
        inputs = [p for p in (anchor, synthetic, target, eval_file) if p is not None]
        cache = _check_outputs(out, cache_dir, write_filtered, inputs)
        loader = {"text_column": text_column, "embedding_column": embedding_column,
                  "label_column": label_column, "layout": layout, "field": field}
        sets, evaluation = _read_inputs(anchor, synthetic, target, eval_file, loader,
                                        keep=write_filtered is not None)
        if write_filtered is not None:
            check_filtered_path(sets[1], write_filtered, "--write-filtered", inputs)
        result = run_audit(*sets, evaluation=evaluation, model=model, cache_dir=cache,
                           compare_rows=compare_rows, repeats=repeats,
                           near_copy_limit=near_copy_limit, rng=seed, workers=workers,
                           progress=_progress_bar("embedding") if show_progress(quiet)
                           else None, thresholds=limits, batch_size=batch_size,
                           backend=backend, scheduler=scheduler, lm=lm,
                           lm_rows="all" if lm_all_rows else "compared")
        filtered = (None if write_filtered is None else  # before metrics.json, written last
                    _write_filtered(result, sets[1], drops, write_filtered))
        paths = write_audit(result, out)
    _print_result(result, paths, filtered)
    _gate(conditions, result)


def _check_outputs(out: Path, cache_dir: Path | None, write_filtered: Path | None,
                   inputs: list[Path]) -> Path:
    """Check every output path before a row is read; return the cache directory."""
    from ..experiments.provenance import check_output
    from ..report import AUDIT_FILES

    check_out_dir(out, "--out", inputs, AUDIT_FILES)
    cache = cache_dir or out / "cache"
    check_out_dir(cache, "--cache-dir" if cache_dir else "--out (its cache/)", inputs,
                  files=())  # entries named by their digest
    if write_filtered is not None:
        check_output(write_filtered, "--write-filtered", directory=False, inputs=inputs)
    return cache


def _read_inputs(anchor: Path, synthetic: Path, target: Path | None, eval_file: Path | None,
                 loader: dict[str, Any], *, keep: bool) -> tuple[list[Any], Any]:
    """The datasets (anchor, synthetic, target when given) and the evaluation set, each
    described in one line as it is read."""
    from ..audit import load_dataset

    sets = []
    for role, path in (("anchor", anchor), ("synthetic", synthetic), ("target", target)):
        if path is None:
            continue
        sets.append(load_dataset(path, name=role, option_names=FLAGS,
                                 keep_records=role == "synthetic" and keep, **loader))
        _say(f"{role}: {sets[-1].describe()}")
    evaluation = None
    if eval_file is not None:
        evaluation = _eval_set(eval_file, text_column=loader["text_column"],
                               layout=loader["layout"], field=loader["field"])
        _say(f"eval: {evaluation.describe()}")
    return sets, evaluation


def _say(line: str) -> None:
    console.print(line, markup=False, highlight=False, soft_wrap=True)


def _write_filtered(result: Any, synthetic: Any, drops: Any, path: Path
                    ) -> tuple[Path, Any, dict[str, int], list[str]]:
    """Write the synthetic rows without those flagged by ``drops``; what was kept."""
    from ..audit import drop_mask
    from ..report import write_filtered_rows

    mask, counts, missing = drop_mask(result, drops)
    write_filtered_rows(synthetic, ~mask, path, "--write-filtered")
    return path, mask, counts, missing


def _print_result(result: Any, paths: dict[str, Path], filtered: Any) -> None:
    for line in result.summary():
        console.print(line)
    for note in result.notes:
        console.print(f"[dim]{escape(str(note))}[/]")
    console.print(f"Report: {paths['report']}")
    console.print(f"Metrics: {paths['metrics']}")
    console.print(f"Rows: {paths['rows_parquet']}, {paths['rows_csv']}")
    if filtered is None:
        return
    path, mask, counts, missing = filtered
    dropped = ", ".join(f"{n} {k}" for k, n in counts.items()) or "no flag measured"
    console.print(f"Filtered: {path}: kept {int((~mask).sum()):,} of {mask.size:,} rows "
                  f"(flagged: {dropped})", markup=False)
    if missing:
        console.print(f"Not applied (not measured for these data): {', '.join(missing)}",
                      markup=False)


def _gate(conditions: list[Any], result: Any) -> None:
    """The --fail-on gate: exit 3 when a condition holds or cannot be checked."""
    from ..audit import evaluate_gate

    if not conditions:
        return
    gate = evaluate_gate(conditions, result)
    if not gate.passed:
        err_console.print(f"Gate failed: {len(gate.failed)} of {len(conditions)} "
                          "condition(s):", markup=False)
        for o in gate.failed:
            err_console.print(f"  {o.line()}", markup=False, soft_wrap=True)
        raise typer.Exit(code=3)
    console.print(f"Gate passed: none of the {len(conditions)} failure condition(s) holds.",
                  markup=False)


def _eval_set(path: Path, *, text_column: str, layout: str, field: str) -> Any:
    """The ``--eval`` file, read like the other datasets; its errors name the flag."""
    from ..audit import load_dataset
    from ..exceptions import ValidationError

    if not path.exists():
        raise ValidationError(f"--eval: file '{path}' does not exist. Give the path of the "
                              "evaluation set (a file or a directory of shards), or leave "
                              "--eval out.")
    try:
        return load_dataset(path, name="eval", text_column=text_column, layout=layout,
                            field=field, option_names=FLAGS)
    except ValidationError as exc:
        raise ValidationError(f"--eval: {exc}") from None


def _progress_bar(label: str, width: int = 30) -> Any:
    """A ``progress(done, total)`` callback drawing one line on stderr: a bar and counts."""
    def progress(done: int, total: int) -> None:
        filled = width * done // max(total, 1)
        err_console.print(f"{label} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}",
                          end="\r" if done < total else "\n", markup=False, highlight=False)
    return progress


def _resolve_lm(lm: str | None) -> str:
    """``--lm auto``: smollm2 when installed, else none with one line saying what is
    skipped and how to install it; smollm2 when it is not installed: an error. Not
    given: ``$SYNTHGAIN_LM``, else auto."""
    from ..exceptions import ValidationError
    from ..lm import SETUP_HINT, model_available

    lm = lm if lm is not None else os.environ.get("SYNTHGAIN_LM", "auto")
    if lm not in ("auto", "smollm2", "none"):
        raise ValidationError(f"--lm must be one of 'auto', 'smollm2', 'none'. Got {lm!r} "
                              "instead.")
    if lm == "none":
        return "none"
    if model_available():
        return "smollm2"
    if lm == "smollm2":
        raise ValidationError(f"--lm smollm2: the language model is not installed: "
                              f"{SETUP_HINT}. Or pass --lm none.")
    _say(f"note: the language-model measures (G-Vendi, gradient alignment, loss, IFD) are "
         f"skipped: the model is not installed ({SETUP_HINT}).")
    return "none"


def _check_options(model: str, workers: int, backend: str, scheduler: str | None,
                   drop: str | None, write_filtered: Path | None) -> None:
    """The flags that typer does not check itself, before anything is read: those that
    run_audit takes by its own declared constraints (their messages name the flags
    through :data:`AUDIT_FLAGS`), then the pairings of flags."""
    from ..audit import run_audit
    from ..exceptions import ValidationError

    for name, value in (("model", model), ("workers", workers), ("backend", backend)):
        run_audit.__constraints__[name](value, name)  # type: ignore[attr-defined]
    if scheduler and backend == "local":
        raise ValidationError(f"--scheduler (--address) is used with --backend dask or ray "
                              f"only. Got {scheduler!r} with --backend {backend}: add "
                              "--backend dask or --backend ray.")
    if drop is not None and write_filtered is None:
        raise ValidationError(
            f"--drop {drop!r} does nothing without --write-filtered: it chooses the rows "
            "that --write-filtered leaves out. Add --write-filtered FILE, or leave --drop out "
            "(the per-row flags are in rows.parquet either way).")
