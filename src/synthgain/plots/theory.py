"""The figures of a theory sweep (``synthgain theory --sweep``) and of the GGMI's
robustness (``synthgain theory --robustness``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ..exceptions import ValidationError

__all__ = ["plot_ggmi_robustness", "plot_theory_sweep"]

_PANELS = (
    (("GGMI", "theorem_4_10_rhs"), "Theorem 4.10"),
    (("I_gen_W", "B_syn", "lemma_4_5_rhs_discrete"), "Lemma 4.5 (unit-free)"),
    (("dI",), "information gain dI"),
)


def plot_theory_sweep(df: Any, param: str) -> Figure:
    """Medians (and interquartile ranges over settings) of the terms along a sweep.

    Parameters
    ----------
    df : pandas.DataFrame
        The rows of :func:`synthgain.theory.sweep_terms` (or of
        :func:`synthgain.experiments.theory_sweep.sweep_terms_klgap`, which adds a fourth
        panel: the KL Gap against the estimated GGMI, one point per setting).
    param : {"K", "J", "L"}
        The swept parameter (column ``param_<param>``).

    Returns
    -------
    matplotlib.figure.Figure
        Three panels (Theorem 4.10; Lemma 4.5's left-hand side ``I(S_gen; W)`` against
        ``B_syn`` (its step (21)) and its unit-free right-hand side; ``dI``, which depends
        on the units), four with the KL Gap.
    """
    col = f"param_{param}"
    needed = {col, *(n for names, _ in _PANELS for n in names)}
    missing = sorted(needed - set(df.columns))
    if missing:
        raise ValidationError(
            f"`df` must hold the columns of a {param} sweep (synthgain.theory.sweep_terms). "
            f"Missing {missing}."
        )
    scatter = "kl_gap" in df.columns
    fig = Figure(figsize=(16 if scatter else 12, 3.5))
    axes = fig.subplots(1, 4 if scatter else 3)
    g = df.groupby(col)
    for ax, (names, title) in zip(axes, _PANELS, strict=False):
        for n in names:
            med, lo, hi = g[n].median(), g[n].quantile(0.25), g[n].quantile(0.75)
            ax.errorbar(med.index, med.values, yerr=[(med - lo).values, (hi - med).values],
                        label=f"{n} (median, IQR)", capsize=3)
        ax.set_title(title)
        ax.set_xlabel(param)
        ax.set_ylabel("nats")
        ax.legend(fontsize=7)
    if scatter:
        ax = axes[3]
        pts = ax.scatter(df["GGMI"], df["kl_gap"], c=df[col], cmap="viridis", s=18)
        fig.colorbar(pts, ax=ax, label=param)
        ax.set_xlabel("estimated GGMI (nats)")
        ax.set_ylabel("KL Gap (nats)")
        ax.set_title("KL Gap vs GGMI, one point per setting")
    fig.tight_layout()
    return fig


def plot_ggmi_robustness(summary: Any) -> Figure:
    """Rank correlations of the GGMI along the sweeps and with the KL Gap, per variant of W.

    Parameters
    ----------
    summary : pandas.DataFrame
        The summary of :func:`synthgain.experiments.theory_sweep.ggmi_robustness`.

    Returns
    -------
    matplotlib.figure.Figure
        Two rows (the crossed and the matched GGMI estimate), two panels each: Spearman's
        rho of the swept value with the GGMI, and of the KL Gap with the GGMI, one point
        with its 95 % interval per (variant, sweep).
    """
    need = {"variant", "sweep", "estimate", "rho_value", "rho_value_low", "rho_value_high",
            "rho_klgap", "rho_klgap_low", "rho_klgap_high"}
    missing = sorted(need - set(summary.columns))
    if missing:
        raise ValidationError(
            f"`summary` must be ggmi_robustness's summary table. Missing {missing}.")
    estimates = list(dict.fromkeys(summary["estimate"]))
    variants = list(dict.fromkeys(summary["variant"]))
    sweeps = list(dict.fromkeys(summary["sweep"]))
    fig = Figure(figsize=(11, 3.2 * len(estimates)))
    axes = np.atleast_2d(fig.subplots(len(estimates), 2, squeeze=False))
    x = np.arange(len(variants))
    width = 0.8 / max(1, len(sweeps))
    for r, est in enumerate(estimates):
        for c, (col, what) in enumerate((("rho_value", "swept value"),
                                         ("rho_klgap", "KL Gap"))):
            ax = axes[r, c]
            for i, sw in enumerate(sweeps):
                sub = summary[(summary["estimate"] == est) & (summary["sweep"] == sw)]
                sub = sub.set_index("variant").reindex(variants)
                pos = x - 0.4 + width * (i + 0.5)
                ax.errorbar(pos, sub[col], yerr=[sub[col] - sub[f"{col}_low"],
                                                 sub[f"{col}_high"] - sub[col]],
                            fmt="o", capsize=2, label=f"{sw} sweep" if sw != "all" else "all")
            ax.axhline(0.0, color="0.5", lw=0.8)
            ax.set_xticks(x, variants, fontsize=8)
            ax.set_ylim(-1.05, 1.05)
            ax.set_ylabel("Spearman rho")
            ax.set_title(f"{est}: rho with the {what}", fontsize=9)
            ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig
