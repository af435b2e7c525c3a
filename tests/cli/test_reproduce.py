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
    assert "`FIGURE` must be one of figure2, figure4, figure5, klgap-mechanism." in res.output
    res = runner.invoke(app, ["reproduce", "figure4", "--estimator", "kde", "--out",
                              str(tmp_path), "--settings", "1"])
    assert res.exit_code == 2 and "`estimators` must be one of" in res.output
    res = runner.invoke(app, ["reproduce", "figure2", "--covariance", "wishart",
                              "--out", str(tmp_path)])
    assert res.exit_code == 2 and "`--covariance` must be one of" in res.output


def test_reproduce_figure4_killed_then_resumed_equals_an_uninterrupted_run(tmp_path, ok_tasks):
    import os
    import signal
    import subprocess
    import sys
    import time

    args = ["reproduce", "figure4", "--settings", "3", "--rounds", "4", "--n-eval", "200",
            "-e", "monte_carlo", "-e", "histogram", "--jobs", "1", "-q"]
    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "synthgain", *args, "--out", str(killed)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while ok_tasks(killed / "checkpoint.sqlite") < 8:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the run did not start"
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_at_kill = ok_tasks(killed / "checkpoint.sqlite")
    assert 8 <= done_at_kill < 42, "killed too late to test a resume"
    assert not (killed / "results.csv").exists()

    res = runner.invoke(app, [*args, "--out", str(killed), "--resume"])
    assert res.exit_code == 0, res.output
    fresh = tmp_path / "fresh"
    res = runner.invoke(app, [*args, "--out", str(fresh)])
    assert res.exit_code == 0, res.output
    for name in ("results.csv", "summary.csv", "claims.csv"):
        a, b = pd.read_csv(killed / name), pd.read_csv(fresh / name)
        if name == "results.csv":
            assert len(a) == 3 * 14 * 3 * 2 * 4  # sweeps x values x settings x estimators x measures
            a, b = a.drop(columns="seconds"), b.drop(columns="seconds")
        pd.testing.assert_frame_equal(a, b)


def test_reproduce_resume_refuses_other_options_and_other_figures(tmp_path):
    base = ["reproduce", "figure4", "--settings", "1", "--rounds", "2", "--n-eval", "50",
            "-e", "histogram_per_sample", "--out", str(tmp_path), "-q"]
    res = runner.invoke(app, [*base, "--resume"])
    assert res.exit_code == 2 and "nothing to resume" in res.output
    assert runner.invoke(app, base).exit_code == 0
    res = runner.invoke(app, [*base[:-3], "--seed", "1", "--out", str(tmp_path), "--resume"])
    assert res.exit_code == 2 and "other options" in res.output
    res = runner.invoke(app, ["reproduce", "figure2", "--out", str(tmp_path), "--resume"])
    assert res.exit_code == 2 and "figure4 only" in res.output


def test_reproduce_klgap_mechanism(tmp_path):
    res = runner.invoke(app, ["reproduce", "klgap-mechanism", "--settings", "2", "--rounds", "2",
                              "--n-eval", "50", "-q", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "K sweep at L=0: rho(K, KL Gap)" in res.output
    for name in ("mechanism_rows.csv", "mechanism_points.csv", "mechanism_trends.csv",
                 "klgap_mechanism.png"):
        assert (tmp_path / name).stat().st_size > 0
