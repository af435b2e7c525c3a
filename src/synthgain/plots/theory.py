"""The figure of a theory sweep (``synthgain theory --sweep``)."""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

from ..exceptions import ValidationError

__all__ = ["plot_theory_sweep"]

_PANELS = (
    (("GGMI", "theorem_4_10_rhs"), "Theorem 4.10"),
    (("I_gen_W", "lemma_4_5_rhs"), "Lemma 4.5"),
    (("dI",), "information gain dI"),
)


def plot_theory_sweep(df: Any, param: str) -> Figure:
    """Means (+- one standard deviation over settings) of the terms along a sweep.

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
        Three panels (Theorem 4.10, Lemma 4.5, ``dI``), four with the KL Gap.
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
            m, s = g[n].mean(), g[n].std()
            ax.errorbar(m.index, m.values, yerr=s.fillna(0).values, label=n, capsize=3)
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
