"""Figures of a real-data study (synthgain.study): gain per knob, rank correlations,
measure-vs-gain scatter. Called by the command line on a finished StudyResult."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..experiments.provenance import claim_directory
from ..study import StudyResult

__all__ = ["write_study_figures"]

#: the normal 97.5% quantile: error bars are 95% intervals (mean +- _Z se)
_Z = 1.959963984540054
#: the measures whose scatter against the gain is drawn: the paper's KL gap and dI, and
#: the best fidelity and divergence predictors of docs/study.md
_SCATTER = ("kl_gap_mixture", "information_gain", "precision_target", "js_synthetic_target")


def _knob_figure(result: StudyResult, path: Path) -> None:
    import matplotlib.pyplot as plt
    import pandas as pd

    s = result.summary
    knobs = [k for k in dict.fromkeys(s["knob"]) if k != "default"]
    fig, axes = plt.subplots(1, len(knobs), figsize=(3.1 * len(knobs), 3.0), sharey=True,
                             squeeze=False)
    default = s[s["knob"] == "default"]
    for ax, knob in zip(axes[0], knobs, strict=True):
        part = s[s["knob"] == knob]
        rows = part if default.empty else pd.concat([default, part])
        named = not pd.api.types.is_numeric_dtype(rows[knob])  # generator, curation
        xs = rows[knob].astype(str) if named else rows[knob].astype(float)
        order = np.argsort(xs.to_numpy(), kind="stable")
        for gain, color, label in (("gain_synthetic", "C1", "synthetic"),
                                   ("gain_both", "C0", "anchors + synthetic")):
            m = rows[f"mean_{gain}"].to_numpy()[order]
            e = _Z * rows[f"se_{gain}"].to_numpy()[order]
            ax.errorbar(xs.to_numpy()[order], m, yerr=e, marker="o", ms=4, capsize=3,
                        color=color, label=label)
        ax.axhline(0, color="0.6", lw=0.8)
        ax.set_xlabel({"anchors_per_class": "anchors per class", "noise": "noise eps",
                       "off_task": "off-task share", "demos": "demonstrations per prompt"}
                      .get(knob, knob))
    axes[0][0].set_ylabel("test accuracy gain over anchors only")
    axes[0][0].legend(fontsize=7, loc="best")
    fig.suptitle(f"{result.name}: real gain per knob (mean, 95% interval over replicates)",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _correlation_figure(result: StudyResult, path: Path) -> None:
    import matplotlib.pyplot as plt

    c = result.correlations
    measures = list(c[c["gain"] == "gain_both"].sort_values("rho")["measure"])
    fig, ax = plt.subplots(figsize=(6.4, 0.32 * len(measures) + 1.2))
    for off, gain, color in ((-0.15, "gain_synthetic", "C1"), (0.15, "gain_both", "C0")):
        part = c[c["gain"] == gain].set_index("measure").loc[measures]
        y = np.arange(len(measures)) + off
        lo = (part["rho"] - part["low"]).clip(lower=0).fillna(0)
        hi = (part["high"] - part["rho"]).clip(lower=0).fillna(0)
        ax.errorbar(part["rho"], y, xerr=[lo, hi], fmt="o", ms=4, capsize=2, color=color,
                    label=gain.replace("gain_", "gain: ").replace("both", "anchors + synthetic"))
    ax.set_yticks(np.arange(len(measures)), measures, fontsize=8)
    ax.axvline(0, color="0.6", lw=0.8)
    ax.set_xlim(-1.05, 1.05)
    ax.set_xlabel("Spearman rho with the real gain (95% bootstrap over configurations)")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(f"{result.name}: which measures rank configurations by real gain?", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _scatter_figure(result: StudyResult, path: Path) -> None:
    import matplotlib.pyplot as plt

    s = result.summary
    c = result.correlations
    both = c[c["gain"] == "gain_both"]
    rhos = dict(zip(both["measure"], both["rho"].astype(float), strict=True))
    fig, axes = plt.subplots(1, len(_SCATTER), figsize=(3.1 * len(_SCATTER), 3.0))
    for ax, m in zip(axes, _SCATTER, strict=True):
        for i, knob in enumerate(dict.fromkeys(s["knob"])):
            part = s[s["knob"] == knob]
            ax.scatter(part[f"mean_{m}"], part["mean_gain_both"], s=18, color=f"C{i}",
                       label=knob)
        rho = rhos[m]
        ax.set_title(f"{m}\nrho = {rho:.2f}", fontsize=8)
        ax.set_xlabel(m, fontsize=8)
    axes[0].set_ylabel("gain (anchors + synthetic)")
    axes[-1].legend(fontsize=6, title="knob varied", title_fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_study_figures(result: StudyResult, out_dir: str | Path) -> dict[str, Path]:
    """Write ``study_<name>_{knobs,correlations,scatter}.png``; return ``figure_*`` paths."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    names = {f"figure_{kind}": f"study_{result.name}_{kind}.png"
             for kind in ("knobs", "correlations", "scatter")}
    out_dir = claim_directory(out_dir, check=list(names.values()))
    paths = {k: out_dir / name for k, name in names.items()}
    _knob_figure(result, paths["figure_knobs"])
    _correlation_figure(result, paths["figure_correlations"])
    _scatter_figure(result, paths["figure_scatter"])
    return paths
