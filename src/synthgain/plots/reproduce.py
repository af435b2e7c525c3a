"""Reproduce the paper's Figures 2, 4 and 5 into a directory: figures, tables, summary.

These functions compose the library (process, KL-gap protocol) with the figures; the
``synthgain reproduce`` and ``synthgain demo`` commands are thin wrappers over them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._rng import child_seed
from .._validation import check_int
from ..experiments.figure4 import Figure4Result, run_figure4, write_tables
from ..experiments.klgap import fit_simulation
from ..experiments.provenance import claim_directory, write_bytes_atomic
from ..process import Setup, simulate
from ._figures import (
    figure_names,
    plot_figure2,
    plot_figure4,
    plot_figure5,
    plot_klgap_mechanism,
    save_figure,
)

__all__ = [
    "FIGURES",
    "reproduce_figure2",
    "reproduce_figure4",
    "reproduce_figure5",
    "reproduce_klgap_mechanism",
    "run_demo",
    "write_figure4",
]

FIGURES = ("figure2", "figure4", "figure5")
#: The Figure-4 protocol's results store in the output directory (one commit per chunk).
CHECKPOINT_NAME = "checkpoint.sqlite"


def _setting(seed: int, setup_fields: dict[str, Any]) -> tuple[Any, ...]:
    setup = Setup(**{"K": 2, "J": 2, "L": 2, **setup_fields})
    ss = np.random.SeedSequence(check_int(seed, "seed", low=0))
    # child 0 simulates, as in a KL-gap setting; fit_simulation takes children 1 and 2
    sim = simulate(setup, rng=child_seed(ss, 0))
    return (sim, *fit_simulation(sim, rng=ss))


def reproduce_figure2(out: str | Path, *, seed: int = 0, **setup_fields: Any) -> dict[str, Path]:
    """Figure 2 for one setting (default K = J = L = 2, d = 2): ``figure2.png/.svg``."""
    sim, fa, fs = _setting(seed, setup_fields)
    out = claim_directory(out, check=figure_names("figure2"))
    png, svg = save_figure(plot_figure2(sim, fa, fs), out / "figure2")
    return {"figure2_png": png, "figure2_svg": svg}


def reproduce_figure5(out: str | Path, *, seed: int = 0, **setup_fields: Any) -> dict[str, Path]:
    """Figure 5 (the three groups of components) for one setting: ``figure5.png/.svg``."""
    sim, _, _ = _setting(seed, setup_fields)
    out = claim_directory(out, check=figure_names("figure5"))
    png, svg = save_figure(plot_figure5(sim), out / "figure5")
    return {"figure5_png": png, "figure5_svg": svg}


def reproduce_figure4(out: str | Path, *, settings: int = 100, rounds: int = 100,
                      n_eval: int = 1000,
                      estimators: Sequence[str] = ("monte_carlo", "histogram_per_sample"),
                      jobs: int = 1, seed: int = 0, n_boot: int = 2000,
                      progress: Callable[[int, int], None] | None = None,
                      resume: bool = False,
                      **setup_fields: Any) -> tuple[Figure4Result, dict[str, Path]]:
    """Run the Figure-4 protocol and write its figures and tables into ``out``.

    Each finished chunk of settings is committed to ``out/checkpoint.sqlite`` at once;
    with ``resume`` a killed run continues from there (see
    :func:`~synthgain.experiments.figure4.run_figure4`), otherwise it starts anew.

    Writes ``figure4.png/.svg`` (the paper's KL divergence, one row of three panels per
    estimator), ``figure4_<measure>.png/.svg`` for the other measures, the tidy results
    (``results.csv``, ``results.parquet``), ``summary.csv``, ``claims.csv``,
    ``summary.md`` and ``config.json``.
    """
    res = run_figure4(settings=settings, rounds=rounds, n_eval=n_eval, estimators=estimators,
                      jobs=jobs, seed=seed, n_boot=n_boot, progress=progress,
                      checkpoint=Path(out) / CHECKPOINT_NAME, resume=resume, **setup_fields)
    paths = write_figure4(res, out)
    return res, paths


def write_figure4(res: Figure4Result, out: str | Path) -> dict[str, Path]:
    """Write the figures and tables of a finished :class:`Figure4Result`."""
    measures = sorted(res.summary["measure"].unique())
    stems = {m: "figure4" if m == "kl" else f"figure4_{m}" for m in measures}
    out = claim_directory(out, check=["config.json", *(n for s in stems.values()
                                                       for n in figure_names(s))])
    paths = write_tables(res, out)
    cfg = out / "config.json"
    write_bytes_atomic(cfg, json.dumps(res.config, indent=2, default=str).encode())
    paths["config"] = cfg
    estimators = list(res.config["estimators"])
    for measure in measures:
        stem = stems[measure]
        ests = [e for e in estimators
                if ((res.summary["estimator"] == e) & (res.summary["measure"] == measure)).any()]
        png, svg = save_figure(plot_figure4(res.summary, estimators=ests, measure=measure),
                               out / stem)
        paths[f"{stem}_png"], paths[f"{stem}_svg"] = png, svg
    return paths


def run_demo(out: str | Path, *, seed: int = 0, jobs: int = 2, settings: int = 20,
             rounds: int = 20, progress: Callable[[int, int], None] | None = None
             ) -> dict[str, Any]:
    """A reduced Figure 4 (``settings`` x ``rounds``, Monte Carlo and the authors'
    estimator side by side) and Figure 2, written into ``out``.

    Returns the written paths and the claims table.
    """
    out = Path(out)
    res, paths = reproduce_figure4(out, settings=settings, rounds=rounds, jobs=jobs, seed=seed,
                                   n_boot=500, progress=progress)
    paths.update(reproduce_figure2(out, seed=seed))
    return {"paths": paths, "claims": res.claims, "wall_seconds": res.config["wall_seconds"]}


def reproduce_klgap_mechanism(out: str | Path, *, settings: int = 100, rounds: int = 100,
                              n_eval: int = 1000, jobs: int = 1, seed: int = 0,
                              n_boot: int = 2000,
                              progress: Callable[[int, int], None] | None = None,
                              **setup_fields: Any) -> tuple[Any, Any, dict[str, Path]]:
    """The K sweeps at L = 2, L = 0 and a fixed irrelevant share, each KL term split by
    where its mass lies (:mod:`synthgain.experiments.klgap_mechanism`), into ``out``.

    Writes ``mechanism_rows.csv`` (one row per setting), ``mechanism_points.csv``
    (medians, then means, per sweep and K), ``mechanism_trends.csv`` (Spearman's rho of K
    with the gap and each term, bootstrap intervals) and ``klgap_mechanism.png/.svg``.

    Returns
    -------
    points, trends : DataFrame
    paths : dict of str to Path
    """
    from ..experiments.klgap_mechanism import mechanism_summary, run_mechanism

    tables = {k: f"mechanism_{k}.csv" for k in ("rows", "points", "trends")}
    out = claim_directory(out, check=[*tables.values(), *figure_names("klgap_mechanism")])
    rows = run_mechanism(settings=settings, rounds=rounds, n_eval=n_eval, seed=seed, jobs=jobs,
                         progress=progress, **setup_fields)
    points, trends = mechanism_summary(rows, n_boot=n_boot, seed=seed)
    paths = {k: out / name for k, name in tables.items()}
    rows.to_csv(paths["rows"], index=False)
    points.to_csv(paths["points"], index=False)
    trends.to_csv(paths["trends"], index=False)
    png, svg = save_figure(plot_klgap_mechanism(points), out / "klgap_mechanism")
    paths["png"], paths["svg"] = png, svg
    return points, trends, paths
