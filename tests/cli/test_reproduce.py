"""``synthgain reproduce`` and ``synthgain demo`` on tiny configurations."""

import pandas as pd
from typer.testing import CliRunner

from synthgain.cli import app

runner = CliRunner()


def test_reproduce_figure4_tiny(tmp_path):
    res = runner.invoke(app, ["reproduce", "figure4", "--settings", "2", "--rounds", "2",
                              "--n-eval", "50", "-e", "histogram_per_sample",
                              "--out", str(tmp_path), "-q"])
    assert res.exit_code == 0, res.output
    assert "rises with J" in res.output and f"to {tmp_path}" in res.output
    for name in ("figure4.png", "figure4.svg", "results.csv", "results.parquet",
                 "summary.md", "claims.csv"):
        assert (tmp_path / name).exists()
    rows = pd.read_csv(tmp_path / "results.csv")
    assert set(rows["estimator"]) == {"histogram_per_sample"}
    assert len(rows) == 3 * 14 * 2 * 2  # sweeps x values x settings x measures


def test_reproduce_figure2_and_5(tmp_path):
    for fig in ("figure2", "figure5"):
        res = runner.invoke(app, ["reproduce", fig, "--out", str(tmp_path),
                                  "--covariance", "seed_effective"])
        assert res.exit_code == 0, res.output
        assert (tmp_path / f"{fig}.png").exists()


def test_reproduce_reports_bad_input_in_one_line(tmp_path):
    res = runner.invoke(app, ["reproduce", "figure7", "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert "`FIGURE` must be one of figure2, figure4, figure5. Got 'figure7'" in res.output
    res = runner.invoke(app, ["reproduce", "figure4", "--estimator", "kde", "--out",
                              str(tmp_path), "--settings", "1"])
    assert res.exit_code == 2 and "`estimators` must be one of" in res.output
    res = runner.invoke(app, ["reproduce", "figure2", "--covariance", "wishart",
                              "--out", str(tmp_path)])
    assert res.exit_code == 2 and "`covariance` must be one of" in res.output
