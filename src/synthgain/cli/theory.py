"""``synthgain theory``: the paper's terms and bounds computed for a setup or a sweep."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

from ..exceptions import ValidationError
from ..experiments.provenance import claim_directory
from ._util import check_out_dir, console, user_errors


def _table(title: str, rows: Sequence[Sequence[str]], header: Sequence[str]) -> None:
    from rich.table import Table

    tab = Table(title=title)
    for i, h in enumerate(header):
        tab.add_column(h, no_wrap=i == 0)  # names whole, numbers wrap
    for r in rows:
        tab.add_row(*r)
    console.print(tab)


_VERDICTS = ("holds", "violated", "undecided", "depends on units")


def _units(coef: float | None) -> str:
    if coef is None:
        return "depends"
    return "unit-free" if coef == 0 else f"+ {coef:g} log(scale)"


def _reads_as(basis: str) -> str:
    return {"measured": "evidence", "units": "units"}.get(basis, "code check")


def _print_counterexamples() -> None:
    from ..theory import curation_counterexample, z4_counterexample

    for title, res, keys in (
        ("Lemma 4.5: e_p, e_M uniform on Z_4, M = (e_p, e_M), W = e_p + e_M mod 4",
         z4_counterexample(),
         ("I_gen_W", "dI", "B_syn", "H_eM", "lambda", "delta_eps", "lemma_4_5_rhs",
          "lemma_4_5_margin")),
        ("Theorem 4.10: M = e_p uniform on {0, 1}, S_gen = M + eps mod 4, eps uniform on {0, 1}",
         curation_counterexample(),
         ("GGMI", "theorem_4_10_rhs", "theorem_4_10_margin", "H_Mp", "H_gen")),
    ):
        rows = [(k, f"{0.0 if abs(res[k]) < 1e-12 else res[k]:.6g}") for k in keys]
        _table(title + " (exact, nats)", rows, ("term", "value"))


def _int_list(values: str) -> list[int]:
    try:
        return [int(v) for v in values.split(",") if v.strip()]
    except ValueError:
        raise ValidationError(
            f"`--values` must be comma-separated integers. Got {values!r} instead."
        ) from None


def _robustness(*, setup_fields: dict[str, Any], sweep: str, values: str, settings: int,
                klgap_rounds: int, seed: int, out: Path | None, opts: dict[str, Any]) -> None:
    from ..experiments.theory_sweep import ggmi_robustness
    from ..process import Setup

    rows, summary = ggmi_robustness(tuple(sweep) if sweep else ("K", "J", "L"),
                                    _int_list(values), settings=settings,
                                    setup=Setup(**setup_fields), klgap_rounds=klgap_rounds,
                                    rng=seed, **opts)
    show = summary[["variant", "sweep", "estimate", "median_first", "median_last", "rho_value",
                    "rho_klgap", "rho_klgap_low", "rho_klgap_high", "step_21_violated"]]
    console.print(show.to_string(index=False, float_format=lambda x: f"{x:.3g}"), soft_wrap=True)
    if out is not None:
        from ..plots import plot_ggmi_robustness

        claim_directory(out)
        rows.to_csv(out / "robustness_rows.csv", index=False)
        summary.to_csv(out / "robustness.csv", index=False)
        plot_ggmi_robustness(summary).savefig(out / "ggmi_robustness.png", dpi=110)
        console.print(f"Wrote {out}")


def theory(
    k: int = typer.Option(2, "--K", help="Anchor-sampled components K."),
    j: int = typer.Option(2, "--J", help="Unsampled components J."),
    l_: int = typer.Option(2, "--L", help="Task-irrelevant components L."),
    d: int = typer.Option(2, "--d", help="Dimension."),
    noise: float = typer.Option(0.0, help="Curation noise standard deviation."),
    noise_scale: float = typer.Option(1.0, help="Scale sigma of the noise added to W."),
    scale: float = typer.Option(1.0, help="Multiply every coordinate of the simulation by "
                                "this (the same setting in other units)."),
    resolution: float = typer.Option(1.0, help="Lemma 4.5 (unit-free): e_p quantised at this "
                                     "many sampling standard deviations."),
    reference: str = typer.Option("mixture", help="Reference points of W's embedding: "
                                  "'mixture' ((G + M)/2) or 'ground_truth' (G)."),
    reference_points: int = typer.Option(64, help="R: reference points of W's embedding."),
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
    counterexamples: bool = typer.Option(False, "--counterexamples", help="Print the exact "
                                         "discrete chains that refute Lemma 4.5 and Theorem 4.10."),
    check_estimators: bool = typer.Option(False, "--check-estimators", help="One setup: the "
                                          "information estimators on Gaussian designs of its "
                                          "embeddings' shape and covariances, against closed "
                                          "forms (bias per term)."),
    robustness: bool = typer.Option(False, "--robustness", help="The K, J and L sweeps (or "
                                    "--sweep) with the KL Gap under each variant of W (sigma "
                                    "0.3, 1, 3; R = 128; q = G): rank correlations of the GGMI."),
) -> None:
    """Compute every term of Lemma 3.1, 4.5, Theorem 4.7 and 4.10, and check each bound."""
    from ..process import Setup

    with user_errors({"rng": "--seed"}):
        if out is not None:
            check_out_dir(out, "--out")
        if counterexamples:
            _print_counterexamples()
            return
        if robustness:
            _robustness(setup_fields={"K": k, "J": j, "L": l_, "d": d, "noise": noise,
                                      "scale": scale},
                        sweep=sweep, values=values, settings=settings, klgap_rounds=klgap_rounds,
                        seed=seed, out=out, opts={"loss_bound": loss_bound, "n_prompts": prompts,
                                                  "n_streams": streams, "resolution": resolution,
                                                  "n_noise_draws": noise_draws})
            return
        setup = Setup(K=k, J=j, L=l_, d=d, noise=noise, anchor_fit_components=anchor_fit,
                      synthetic_fit_components=synthetic_fit, scale=scale)
        opts: dict[str, Any] = {"noise_scale": noise_scale, "loss_bound": loss_bound,
                "n_prompts": prompts, "n_streams": streams, "n_noise_draws": noise_draws,
                "resolution": resolution, "reference": reference,
                "n_reference": reference_points}
        if not sweep:
            _one_setup(setup, opts, seed=seed, out=out, check_estimators=check_estimators)
        else:
            _sweep(setup, opts, sweep=sweep, values=values, settings=settings, klgap=klgap,
                   klgap_rounds=klgap_rounds, seed=seed, out=out)


def _one_setup(setup: Any, opts: dict[str, Any], *, seed: int, out: Path | None,
               check_estimators: bool) -> None:
    """Every term and verdict of one setup (tables; CSVs in ``out``)."""
    from .._rng import child_seed
    from ..theory import chain_from_setup, check_inequalities, compute_terms, unit_dependence

    # the process from child 0 of --seed, the terms from child 1
    terms = compute_terms(chain_from_setup(setup, rng=child_seed(seed, 0)),
                          rng=child_seed(seed, 1), **opts)
    shifts = unit_dependence(setup)
    rows = [(n, f"{e.value:.4g}", "" if e.stderr is None else f"{e.stderr:.2g}", e.method,
             _units(shifts.get(n, 0.0))) for n, e in terms.terms.items()]
    _table("terms (nats)", rows, ("term", "value", "stderr", "method", "units"))
    verdicts = check_inequalities(terms)
    vrows = [(v.name, f"{v.lhs:.4g}", f"{v.rhs:.4g}", f"{v.margin:.4g} +- {v.stderr:.2g}",
              f"{v.width:.3g}", v.verdict, _reads_as(v.basis)) for v in verdicts]
    _table("inequalities", vrows,
           ("bound", "lhs", "rhs", "rhs-lhs", "rhs bracket", "verdict", "reads as"))
    for v in verdicts:
        if v.note:
            console.print(f"  {v.name}: {v.note}", soft_wrap=True)
    if check_estimators:
        from ..theory import check_information_estimators

        emb = terms.embeddings
        chk = check_information_estimators(emb["synthetic"], emb["anchor"],
                                           opts["noise_scale"], n_designs=50,
                                           rng=child_seed(seed, 2))
        chk["measured"] = [terms.terms[q].value for q in chk["quantity"]]
        console.print(chk.to_string(index=False, float_format=lambda x: f"{x:.3g}"),
                      soft_wrap=True)
    if out is not None:
        import pandas as pd

        claim_directory(out)
        terms.to_frame().to_csv(out / "theory_terms.csv", index=False)
        pd.DataFrame([vars(v) for v in verdicts]).to_csv(out / "theory_verdicts.csv",
                                                         index=False)


def _sweep(setup: Any, opts: dict[str, Any], *, sweep: str, values: str, settings: int,
           klgap: bool, klgap_rounds: int, seed: int, out: Path | None) -> None:
    """The verdicts and medians over a K, J or L sweep (CSV and figure in ``out``)."""
    from ..theory import sweep_terms

    vals = _int_list(values)
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
                     *(str(int(counts.get(x, 0))) for x in _VERDICTS)))
    _table(f"verdicts over the {sweep} sweep ({len(df)} settings)", rows,
           ("bound", *_VERDICTS))
    cols = ["dI", "GGMI", "GGMI_matched", "I_gen_W", "B_syn", "lemma_4_5_rhs_discrete"]
    cols += ["kl_gap"] if klgap else []
    console.print("medians over settings (means second):", soft_wrap=True)
    for how in ("median", "mean"):
        table = df.groupby(col)[cols].agg(how)
        console.print(table.to_string(float_format=lambda x: f"{x:.3g}"), soft_wrap=True)
    if klgap:
        _klgap_correlations(df, seed)
    if out is not None:
        claim_directory(out)
        df.to_csv(out / f"theory_sweep_{sweep}.csv", index=False)
        from ..plots import plot_theory_sweep

        plot_theory_sweep(df, sweep).savefig(out / f"theory_sweep_{sweep}.png", dpi=110)
        console.print(f"Wrote {out}")


def _klgap_correlations(df: Any, seed: int) -> None:
    from ..measures import rank_correlation

    for est in ("GGMI", "GGMI_matched"):
        rho = rank_correlation(df["kl_gap"], df[est], rng=seed)
        lo, hi = rho.interval or (float("nan"), float("nan"))
        console.print(
            f"Spearman rank correlation of the KL Gap with the estimated {est} over "
            f"{len(df)} settings: {rho.value:.3f} (95% bootstrap interval {lo:.3f} to "
            f"{hi:.3f}; p = {rho.params['p_value']:.2g})", soft_wrap=True
        )

