"""``synthgain theory``: the paper's terms and bounds computed for a setup or a sweep."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import typer

from ..exceptions import ValidationError
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
    noise_draws: int = typer.Option(2, help="Extra curation-noise draws per dataset (delta_eps)."),
    anchor_fit: str = typer.Option("K", help="Components fitted to the anchors: K, K+J or K+J+L."),
    synthetic_fit: str = typer.Option("K+J+L", help="Components fitted to S_gen: K, K+J or K+J+L."),
    sweep: str = typer.Option("", help="Sweep K, J or L over 2..15 (or --values)."),
    values: str = typer.Option("2,5,10,15", help="Comma-separated values of the swept parameter."),
    settings: int = typer.Option(3, help="Random settings per swept value."),
    klgap: bool = typer.Option(False, "--klgap", help="Sweep: also the KL Gap per setting and its "
                               "rank correlation with the estimated GGMI."),
    klgap_rounds: int = typer.Option(100, help="KL Gap rounds of re-sampling per setting."),
    seed: int = typer.Option(0, help="Root random seed."),
    out: Path = typer.Option(None, help="Directory for the table (CSV) and the figure."),
) -> None:
    """Compute every term of Lemma 3.1, 4.5, Theorem 4.7 and 4.10, and check each bound."""
    from ..measures import rank_correlation
    from ..process import Setup
    from ..theory import (
        chain_from_setup,
        check_inequalities,
        compute_terms,
        sweep_terms,
    )

    with user_errors():
        setup = Setup(K=k, J=j, L=l_, d=d, noise=noise, anchor_fit_components=anchor_fit,
                      synthetic_fit_components=synthetic_fit)
        opts: dict[str, Any] = {"noise_scale": noise_scale, "loss_bound": loss_bound,
                "n_prompts": prompts, "n_streams": streams, "n_noise_draws": noise_draws}
        if not sweep:
            seeds = np.random.SeedSequence(seed).spawn(2)
            terms = compute_terms(chain_from_setup(setup, rng=seeds[0]), rng=seeds[1], **opts)
            rows = [(n, f"{e.value:.4g}", "" if e.stderr is None else f"{e.stderr:.2g}", e.method)
                    for n, e in terms.terms.items()]
            _table("terms (nats)", rows, ("term", "value", "stderr", "method"))
            vrows = [(v.name, f"{v.lhs:.4g}", f"{v.rhs:.4g}", f"{v.margin:.4g}", f"{v.stderr:.2g}",
                      f"{v.width:.3g}", v.verdict) for v in check_inequalities(terms)]
            _table("inequalities", vrows,
                   ("bound", "lhs", "rhs", "rhs-lhs", "stderr", "rhs bracket", "verdict"))
            if out is not None:
                out.mkdir(parents=True, exist_ok=True)
                terms.to_frame().to_csv(out / "theory_terms.csv", index=False)
            return
        try:
            vals = [int(v) for v in values.split(",") if v.strip()]
        except ValueError:
            raise ValidationError(
                f"`--values` must be comma-separated integers. Got {values!r} instead."
            ) from None
        df = sweep_terms(sweep, vals, settings=settings, setup=setup, rng=seed, klgap=klgap,
                         klgap_rounds=klgap_rounds, **opts)
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
        if klgap:
            rho = rank_correlation(df["kl_gap"], df["GGMI"], rng=seed)
            lo, hi = rho.interval or (float("nan"), float("nan"))
            console.print(
                f"Spearman rank correlation of the KL Gap with the estimated GGMI over "
                f"{len(df)} settings: {rho.value:.3f} (95% bootstrap interval {lo:.3f} to "
                f"{hi:.3f}; p = {rho.params['p_value']:.2g})"
            )
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            df.to_csv(out / f"theory_sweep_{sweep}.csv", index=False)
            _figure(df, col, out / f"theory_sweep_{sweep}.png")
            console.print(f"Wrote {out}")


def _figure(df, col: str, path: Path) -> None:  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scatter = "kl_gap" in df.columns
    fig, axes = plt.subplots(1, 4 if scatter else 3, figsize=(16 if scatter else 12, 3.5))
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
    if scatter:
        ax = axes[3]
        pts = ax.scatter(df["GGMI"], df["kl_gap"], c=df[col], cmap="viridis", s=18)
        fig.colorbar(pts, ax=ax, label=col.removeprefix("param_"))
        ax.set_xlabel("estimated GGMI (nats)")
        ax.set_ylabel("KL Gap (nats)")
        ax.set_title("KL Gap vs GGMI, one point per setting")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
