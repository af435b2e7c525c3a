"""The paper's figures, drawn from synthgain's own results (matplotlib)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse

from ..exceptions import ValidationError
from ..mixture import GaussianMixture, MixtureFit
from ..process import GROUP_NAMES, Simulation

__all__ = ["plot_figure2", "plot_figure4", "plot_figure5", "plot_klgap_mechanism", "save_figure"]

BLUE, ORANGE, TEAL = "#1f77b4", "#ff7f0e", "#17becf"
_GROUP_COLORS = (BLUE, TEAL, ORANGE)
_SWEEP_LABEL = {"K": "K (anchor-sampled components)", "J": "J (unsampled components)",
                "L": "L (task-irrelevant components)"}
_ESTIMATOR_LABEL = {"monte_carlo": "Monte Carlo (exact log-densities)",
                    "histogram": "histogram, shared bins",
                    "histogram_per_sample": "histogram per sample (authors', defective)",
                    "knn": "k-nearest neighbours"}


def _ellipses(ax: Axes, mix: GaussianMixture, color: str, *, n_sigma: float = 2.0,
              **kw: Any) -> None:
    """Draw each component's ``n_sigma`` ellipse (first two coordinates)."""
    for mu, cov in zip(mix.means[:, :2], mix.covariances[:, :2, :2], strict=True):
        vals, vecs = np.linalg.eigh(cov)
        angle = float(np.degrees(np.arctan2(vecs[1, 1], vecs[0, 1])))
        w, h = 2 * n_sigma * np.sqrt(np.maximum(vals[::-1], 0.0))
        ax.add_patch(Ellipse((float(mu[0]), float(mu[1])), float(w), float(h), angle=angle,
                             fill=False, color=color, **kw))


def _new_axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        fig = ax.get_figure()
        if not isinstance(fig, Figure):  # pragma: no cover - subfigures
            raise ValidationError("`ax` must belong to a matplotlib Figure.")
        return fig, ax
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def _check_2d(sim: Simulation) -> None:
    if sim.setup.d < 2:
        raise ValidationError(
            f"Figures 2 and 5 need d >= 2 (they show the first two coordinates). "
            f"Got d = {sim.setup.d}."
        )


def _mixture(m: GaussianMixture | MixtureFit) -> GaussianMixture:
    return m.mixture if isinstance(m, MixtureFit) else m


def plot_figure2(sim: Simulation, anchor_fit: GaussianMixture | MixtureFit,
                 synthetic_fit: GaussianMixture | MixtureFit, *,
                 ax: Axes | None = None) -> Figure:
    """Figure 2: anchors (blue) and synthetic points (orange) with their fitted
    mixtures' components as 2-sigma ellipses (first two coordinates)."""
    _check_2d(sim)
    fig, ax = _new_axes(ax, (5.5, 5.0))
    ax.scatter(sim.synthetic[:, 0], sim.synthetic[:, 1], s=9, color=ORANGE, alpha=0.6, label="synthetic $S_{gen}$")
    ax.scatter(sim.anchors[:, 0], sim.anchors[:, 1], s=9, color=BLUE, alpha=0.8, label="anchor $S_{anchor}$")
    _ellipses(ax, _mixture(synthetic_fit), ORANGE, lw=1.5)
    _ellipses(ax, _mixture(anchor_fit), BLUE, lw=1.5)
    s = sim.setup
    ax.set_title(f"K={s.K}, J={s.J}, L={s.L}: fitted components (2$\\sigma$)")
    ax.set_xlabel("dimension 1")
    ax.set_ylabel("dimension 2")
    ax.legend(loc="best", fontsize=8)
    ax.autoscale_view()
    return fig


def plot_figure5(sim: Simulation, *, ax: Axes | None = None) -> Figure:
    """Figure 5: the three groups of components (anchor part and unsampled part of G,
    task-irrelevant part of M) as 2-sigma ellipses, with the synthetic points."""
    _check_2d(sim)
    fig, ax = _new_axes(ax, (5.5, 5.0))
    groups = sim.generator_groups
    for g, name in enumerate(GROUP_NAMES):
        idx = np.flatnonzero(groups == g)
        pts = sim.synthetic[sim.synthetic_groups == g]
        if idx.size == 0:
            continue
        color = _GROUP_COLORS[g]
        ax.scatter(pts[:, 0], pts[:, 1], s=7, color=color, alpha=0.5,
                   label=f"{name} part ({idx.size} components)")
        src = sim.generator if g == 2 else sim.ground_truth
        _ellipses(ax, src.subset(idx), color, lw=2.0, ls="-" if g == 0 else "--")
    ax.set_title("G = anchor + unsampled parts; M adds the irrelevant part")
    ax.set_xlabel("dimension 1")
    ax.set_ylabel("dimension 2")
    ax.legend(loc="best", fontsize=8)
    ax.autoscale_view()
    return fig


def plot_figure4(summary: pd.DataFrame, *, estimators: Sequence[str] | None = None,
                 measure: str = "kl", sweeps: Sequence[str] = ("K", "J", "L")) -> Figure:
    """Figure 4: the mean KL Gap over settings along each sweep, with a band of one
    standard deviation over settings (the paper's shading) and the bootstrap interval
    of the mean; one row of three panels per estimator."""
    if estimators is None:
        estimators = sorted(summary["estimator"].unique())
    data = summary[summary["measure"] == measure]
    if data.empty:
        raise ValidationError(f"`summary` has no rows for measure {measure!r}.")
    fig = Figure(figsize=(12, 3.4 * len(estimators)), layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(estimators), len(sweeps), squeeze=False))
    for r, est in enumerate(estimators):
        for c, sweep in enumerate(sweeps):
            ax = axes[r, c]
            d = data[(data["estimator"] == est) & (data["sweep"] == sweep)].sort_values("value")
            x, m, sd = d["value"], d["mean"], d["std"]
            ax.fill_between(x, m - sd, m + sd, color=BLUE, alpha=0.2, label="± 1 sd (settings)")
            ax.fill_between(x, d["ci_low"], d["ci_high"], color=BLUE, alpha=0.45,
                            label="95 % CI of the mean")
            ax.plot(x, m, color=BLUE, marker="o", ms=3, label="mean")
            ax.axhline(0.0, color="0.5", lw=0.8)
            ax.set_xlabel(_SWEEP_LABEL[sweep])
            if c == 0:
                ax.set_ylabel(f"KL Gap ({measure})\n{_ESTIMATOR_LABEL.get(est, est)}",
                              fontsize=9)
            if r == 0 and c == 0:
                ax.legend(fontsize=7, loc="best")
    return fig


#: What :func:`save_figure` writes for a stem, PNG first.
FIGURE_SUFFIXES = (".png", ".svg")


def figure_names(stem: str) -> list[str]:
    """The file names :func:`save_figure` writes for ``stem`` (a bare name)."""
    return [stem + s for s in FIGURE_SUFFIXES]


def save_figure(fig: Figure, stem: str | Path) -> list[Path]:
    """Write ``<stem>.png`` (150 dpi) and ``<stem>.svg``; return both paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)  # a file the caller named: no claim
    paths = [stem.with_suffix(s) for s in FIGURE_SUFFIXES]
    fig.savefig(paths[0], dpi=150)
    fig.savefig(paths[1])
    return paths


_MECH_STYLE = {"L=2": ("L = 2 (the paper's K sweep)", BLUE),
               "L=0": ("L = 0", ORANGE), "share=1/3": ("L = (K + J) / 2, share 1/3", TEAL)}


def plot_klgap_mechanism(points: pd.DataFrame) -> Figure:
    """The KL Gap along K and its two terms, split by where their mass lies (medians).

    Parameters
    ----------
    points : DataFrame
        The per-(sweep, K) table of
        :func:`synthgain.experiments.klgap_mechanism.mechanism_summary`.

    Returns
    -------
    Figure
        Four panels: the median gap per sweep; the median ``KL(pi_gen || G)`` with the
        part from outside G's support; the median ``KL(pi_anchor || G)`` beside
        ``log((K + J) / K)``; the median mass of ``pi_gen`` outside G's support.
    """
    need = {"sweep", "K", "median_gap", "median_synthetic_kl", "median_synthetic_kl_off",
            "median_anchor_kl", "median_log_share", "median_synthetic_off_mass"}
    missing = sorted(need - set(points.columns))
    if missing:
        raise ValidationError(f"`points` must be mechanism_summary's points. Missing {missing}.")
    fig = Figure(figsize=(15, 3.6))
    axes = fig.subplots(1, 4)
    for sw, grp in points.groupby("sweep", sort=False):
        label, color = _MECH_STYLE.get(str(sw), (str(sw), "0.3"))
        k = grp["K"]
        axes[0].plot(k, grp["median_gap"], "o-", color=color, label=label)
        axes[1].plot(k, grp["median_synthetic_kl"], "o-", color=color, label=f"{label}: all")
        axes[1].plot(k, grp["median_synthetic_kl_off"], "x--", color=color,
                     label=f"{label}: off G's support")
        axes[2].plot(k, grp["median_anchor_kl"], "o-", color=color, label=label)
        axes[3].plot(k, grp["median_synthetic_off_mass"], "o-", color=color, label=label)
    first = points.groupby("K")["median_log_share"].first()
    axes[2].plot(first.index, first.values, "k:", label="log((K + J) / K)")
    axes[0].axhline(0.0, color="0.5", lw=0.8)
    titles = ("median KL Gap", "median KL(pi_gen || G)", "median KL(pi_anchor || G)",
              "median mass of pi_gen off G's 99 % region")
    for ax, title in zip(axes, titles, strict=True):
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("K")
        ax.legend(fontsize=6)
    axes[1].set_yscale("symlog", linthresh=1.0)
    fig.tight_layout()
    return fig
