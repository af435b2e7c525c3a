"""Figures of the audit report (synthgain.audit), returned as base64 PNG data URIs (no
files, no network) for synthgain.report to embed."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._figures import _ellipses

__all__ = ["interval_chart", "map_figure", "novelty_histogram", "topic_chart"]

COLORS = {"anchor": "#1f77b4", "synthetic": "#ff7f0e", "target": "#2ca02c"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _to_uri(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def map_figure(points: dict[str, np.ndarray], mixtures: dict[str, Any] | None = None) -> str:
    """Scatter of each dataset on two principal axes, with fitted components as ellipses.

    The layout of Gan & Liu's Figure 2: anchors blue, synthetic orange (target green),
    each mixture component drawn as its 2-sigma ellipse.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 5.0))
    for name in ("target", "synthetic", "anchor"):
        if name in points:
            p = points[name]
            ax.scatter(p[:, 0], p[:, 1], s=8, alpha=0.45, color=COLORS[name],
                       label=f"{name} ({p.shape[0]:,} shown)", edgecolors="none")
    for name, mix in (mixtures or {}).items():
        _ellipses(ax, mix, COLORS[name], lw=1.5)
    ax.set_xlabel("principal axis 1")
    ax.set_ylabel("principal axis 2")
    ax.legend(loc="best", fontsize=8, markerscale=2)
    ax.set_title("Anchor, synthetic and target data (2-D projection)")
    return _to_uri(fig)


def interval_chart(items: Sequence[tuple[str, Any]], title: str, xlabel: str,
                   ref: float | None = None) -> str:
    """Point estimates with 95% intervals, one row per (label, Estimate)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 0.4 * len(items) + 1.0))
    ys = np.arange(len(items))[::-1]
    for y, (_label, est) in zip(ys, items, strict=True):
        lo, hi = est.ci()
        ax.errorbar(est.value, y, xerr=[[est.value - lo], [hi - est.value]], fmt="o",
                    color="#333333", ecolor="#888888", capsize=4)
    if ref is not None:
        ax.axvline(ref, color="#bbbbbb", lw=1, ls="--")
    ax.set_yticks(ys, [lab for lab, _ in items])
    ax.set_ylim(-0.6, len(items) - 0.4)  # half a row of space above and below
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    return _to_uri(fig)


def novelty_histogram(distance: np.ndarray) -> str:
    """Histogram of each synthetic point's distance to its nearest anchor."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    ax.hist(distance, bins=50, color=COLORS["synthetic"], alpha=0.8)
    ax.set_xlabel("distance to the nearest anchor (embedding units)")
    ax.set_ylabel("synthetic rows")
    ax.set_title("Novelty: how far each synthetic row is from every anchor")
    return _to_uri(fig)


def topic_chart(table: Sequence[dict[str, Any]]) -> str:
    """Each topic's share of the anchors, of the synthetic rows (with the share chance
    allows as a range) and of the target when given, side by side (rows of
    ``Topics.table()``); topics marked thin, missing or over-filled in red."""
    plt = _pyplot()
    k = len(table)
    fig, ax = plt.subplots(figsize=(6.4, 0.42 * k + 1.2))
    ys = np.arange(k)[::-1].astype(float)
    ref = np.array([r["anchor_share"] for r in table])
    m = max(sum(r["synthetic_rows"] for r in table), 1)
    tgt = ([r["target_rows"] for r in table] if table and "target_rows" in table[0]
           else None)
    syn = np.array([r["synthetic_share"] for r in table])
    h = 0.8 / (3 if tgt is not None else 2)
    ax.barh(ys + h, ref, height=h, color=COLORS["anchor"], label="anchors")
    ax.barh(ys, syn, height=h, color=COLORS["synthetic"], label="synthetic rows")
    if tgt is not None:
        share = np.asarray(tgt, dtype=float) / max(sum(tgt), 1)
        ax.barh(ys - h, share, height=h, color=COLORS["target"], label="target")
    for y, r in zip(ys, table, strict=True):
        lo, hi = (v / m for v in r["expected_rows"])
        ax.plot([lo, hi], [y, y], color="#333333", lw=1.2)
    labels = [(r["name"] if len(r["name"]) <= 32 else r["name"][:31] + "…")
              + ("" if r["status"] == "ok" else f" [{r['status']}]") for r in table]
    ax.set_yticks(ys, labels)
    for tick, r in zip(ax.get_yticklabels(), table, strict=True):
        if r["status"] != "ok":
            tick.set_color("#c62828")
    ax.set_xlabel("share of rows (line: the synthetic share chance allows, 95 %)")
    ax.set_title("Topics of the anchors: each dataset's share")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return _to_uri(fig)
