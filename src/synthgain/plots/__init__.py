"""Figures (matplotlib). Imported lazily by the command line; no other layer imports it."""

from ._figures import plot_figure2, plot_figure4, plot_figure5, plot_klgap_mechanism, save_figure
from .audit import interval_chart, map_figure, novelty_histogram
from .reproduce import (
    FIGURES,
    reproduce_figure2,
    reproduce_figure4,
    reproduce_figure5,
    reproduce_klgap_mechanism,
    run_demo,
    write_figure4,
)
from .study import write_study_figures
from .theory import plot_ggmi_robustness, plot_theory_sweep

__all__ = [
    "FIGURES",
    "interval_chart",
    "map_figure",
    "novelty_histogram",
    "plot_figure2",
    "plot_figure4",
    "plot_figure5",
    "plot_ggmi_robustness",
    "plot_klgap_mechanism",
    "plot_theory_sweep",
    "reproduce_figure2",
    "reproduce_figure4",
    "reproduce_figure5",
    "reproduce_klgap_mechanism",
    "run_demo",
    "save_figure",
    "write_figure4",
    "write_study_figures",
]
