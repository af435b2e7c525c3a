"""``synthgain theory``: the paper's terms and bounds computed for a setup or a sweep."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

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
    from .._rng import child_seed
    from ..measures import rank_correlation
    from ..process import Setup
    from ..theory import chain_from_setup, check_inequalities, compute_terms, sweep_terms

    with user_errors():
        setup = Setup(K=k, J=j, L=l_, d=d, noise=noise, anchor_fit_components=anchor_fit,
                      synthetic_fit_components=synthetic_fit)
        opts: dict[str, Any] = {"noise_scale": noise_scale, "loss_bound": loss_bound,
                "n_prompts": prompts, "n_streams": streams, "n_noise_draws": noise_draws}
        if not sweep:
            # the process from child 0 of --seed, the terms from child 1
            terms = compute_terms(chain_from_setup(setup, rng=child_seed(seed, 0)),
                                  rng=child_seed(seed, 1), **opts)
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
        if klgap:
            from ..experiments.theory_sweep import sweep_terms_klgap

            df = sweep_terms_klgap(sweep, vals, settings=settings, setup=setup, rng=seed,
                                   klgap_rounds=klgap_rounds, **opts)
        else:
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
            from ..plots import plot_theory_sweep

            plot_theory_sweep(df, sweep).savefig(out / f"theory_sweep_{sweep}.png", dpi=110)
            console.print(f"Wrote {out}")

