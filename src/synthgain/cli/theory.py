"""``synthgain theory``: the paper's terms and bounds computed for a setup or a sweep."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import typer

from ._util import console, user_errors


def _table(title: str, rows: Sequence[Sequence[str]], header: Sequence[str]) -> None:
    from rich.table import Table

    tab = Table(title=title)
    for h in header:
        tab.add_column(h)
    for r in rows:
        tab.add_row(*r)
    console.print(tab)


def theory(
    k: int = typer.Option(2, "--K", help="Anchor-sampled components K."),
    j: int = typer.Option(2, "--J", help="Unsampled components J."),
    l_: int = typer.Option(2, "--L", help="Task-irrelevant components L."),
    d: int = typer.Option(2, "--d", help="Dimension."),
    noise: float = typer.Option(0.0, help="Curation noise standard deviation."),
    noise_scale: float = typer.Option(1.0, help="Scale sigma of the noise added to W."),
    loss_bound: float = typer.Option(10.0, help="C: clip of the negative log-likelihood."),
    prompts: int = typer.Option(16, help="Replicate prompts (anchor sets)."),
    streams: int = typer.Option(16, help="Replicate generator streams per prompt."),
    sweep: str = typer.Option("", help="Sweep K, J or L over 2..15 (or --values)."),
    values: str = typer.Option("2,5,10,15", help="Comma-separated values of the swept parameter."),
    settings: int = typer.Option(3, help="Random settings per swept value."),
    seed: int = typer.Option(0, help="Root random seed."),
    out: Path = typer.Option(None, help="Directory for the table (CSV) and the figure."),
) -> None:
    """Compute every term of Lemma 3.1, 4.5, Theorem 4.7 and 4.10, and check each bound."""
    from ..process import Setup
    from ..theory import chain_from_setup, check_inequalities, compute_terms, sweep_terms

    with user_errors():
        setup = Setup(K=k, J=j, L=l_, d=d, noise=noise)
        opts: dict[str, Any] = {"noise_scale": noise_scale, "loss_bound": loss_bound,
                "n_prompts": prompts, "n_streams": streams}
        if not sweep:
            seeds = np.random.SeedSequence(seed).spawn(2)
            terms = compute_terms(chain_from_setup(setup, rng=seeds[0]), rng=seeds[1], **opts)
            rows = [(n, f"{e.value:.4g}", "" if e.stderr is None else f"{e.stderr:.2g}", e.method)
                    for n, e in terms.terms.items()]
            _table("terms (nats)", rows, ("term", "value", "stderr", "method"))
            vrows = [(v.name, f"{v.lhs:.4g}", f"{v.rhs:.4g}", f"{v.margin:.4g}", f"{v.stderr:.2g}",
                      v.verdict) for v in check_inequalities(terms)]
            _table("inequalities", vrows, ("bound", "lhs", "rhs", "rhs-lhs", "stderr", "verdict"))
            if out is not None:
                out.mkdir(parents=True, exist_ok=True)
                terms.to_frame().to_csv(out / "theory_terms.csv", index=False)
            return
        vals = [int(v) for v in values.split(",") if v.strip()]
        df = sweep_terms(sweep, vals, settings=settings, setup=setup, rng=seed, **opts)
        col = f"param_{sweep}"
        vcols = [c for c in df.columns if c.startswith("verdict_")]
        rows = []
        for c in vcols:
            counts = df[c].value_counts()
            rows.append((c.removeprefix("verdict_"),
                         *(str(int(counts.get(x, 0))) for x in ("holds", "violated", "undecided"))))
        _table(f"verdicts over the {sweep} sweep ({len(df)} settings)", rows,
               ("bound", "holds", "violated", "undecided"))
        means = df.groupby(col)[["dI", "GGMI", "theorem_4_10_rhs", "I_gen_W", "lemma_4_5_rhs"]].mean()
        console.print(means.to_string(float_format=lambda x: f"{x:.3g}"))
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            df.to_csv(out / f"theory_sweep_{sweep}.csv", index=False)
            _figure(df, col, out / f"theory_sweep_{sweep}.png")
            console.print(f"Wrote {out}")


def _figure(df, col: str, path: Path) -> None:  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.5))
    g = df.groupby(col)
    for ax, names, title in (
        (axes[0], ("GGMI", "theorem_4_10_rhs"), "Theorem 4.10"),
        (axes[1], ("I_gen_W", "lemma_4_5_rhs"), "Lemma 4.5"),
        (axes[2], ("dI",), "information gain dI"),
    ):
        for n in names:
            m, s = g[n].mean(), g[n].std()
            ax.errorbar(m.index, m.values, yerr=s.fillna(0).values, label=n, capsize=3)
        ax.set_title(title)
        ax.set_xlabel(col.removeprefix("param_"))
        ax.set_ylabel("nats")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
