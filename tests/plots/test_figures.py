"""Figures: drawn from real results, written as PNG and SVG."""

import pytest

from synthgain.exceptions import ValidationError
from synthgain.experiments.figure4 import run_figure4
from synthgain.experiments.klgap import fit_simulation
from synthgain.plots import (
    plot_figure2,
    plot_figure4,
    plot_figure5,
    reproduce_figure2,
    reproduce_figure5,
    save_figure,
    write_figure4,
)
from synthgain.process import Setup, simulate


def test_figure2_and_5_show_the_setting(tmp_path):
    sim = simulate(Setup(J=3, L=1), rng=0)
    fa, fs = fit_simulation(sim, rng=0)
    fig = plot_figure2(sim, fa, fs)
    ax = fig.axes[0]
    assert len(ax.patches) == fa.mixture.n_components + fs.mixture.n_components
    assert len(ax.collections) == 2  # anchors and synthetic points
    fig5 = plot_figure5(sim)
    assert len(fig5.axes[0].patches) == 2 + 3 + 1
    paths = save_figure(fig, tmp_path / "f2")
    assert [p.suffix for p in paths] == [".png", ".svg"] and all(p.stat().st_size > 0 for p in paths)
    assert set(reproduce_figure2(tmp_path, seed=1)) == {"figure2_png", "figure2_svg"}
    assert reproduce_figure5(tmp_path, seed=1)["figure5_svg"].exists()


def test_figure2_needs_two_dimensions():
    sim = simulate(Setup(d=1), rng=0)
    fa, fs = fit_simulation(sim, rng=0)
    with pytest.raises(ValidationError, match=r"need d >= 2.*Got d = 1"):
        plot_figure2(sim, fa, fs)


def test_figure4_has_three_panels_per_estimator(tmp_path):
    res = run_figure4(settings=3, rounds=3, n_eval=100, values=[2, 3], n_boot=100,
                      estimators=["monte_carlo", "histogram_per_sample"], measures=["kl", "tv"])
    fig = plot_figure4(res.summary, estimators=["monte_carlo", "histogram_per_sample"])
    assert len(fig.axes) == 6
    assert len(fig.axes[1].lines) >= 1  # the mean line
    with pytest.raises(ValidationError, match="no rows for measure 'hellinger'"):
        plot_figure4(res.summary, measure="hellinger")
    paths = write_figure4(res, tmp_path)
    assert {"figure4_png", "figure4_svg", "figure4_tv_png", "results_parquet",
            "summary_md", "config"} <= set(paths)
