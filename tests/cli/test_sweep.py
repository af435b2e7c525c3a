"""``synthgain sweep`` and ``synthgain runs``: exit codes, messages, exports."""

import json

import pandas as pd
from typer.testing import CliRunner

from synthgain.cli import app
from synthgain.experiments.protocols import Param, Protocol, register_protocol

runner = CliRunner()

TOML = """
[sweep]
protocol = "normal_mean"
seed = 3
replicates = 4
batch_size = 2

[params]
n = 20

[grid]
mu = [0.0, 1.0]
"""


def _write(tmp_path, text=TOML, name="toy.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_sweep_then_runs_list_show_export(tmp_path):
    cfg = _write(tmp_path)
    out = tmp_path / "runs" / "toy"
    res = runner.invoke(app, ["sweep", str(cfg), "--out", str(out), "--jobs", "1"])
    assert res.exit_code == 0, res.output
    assert "Sweep toy (normal_mean): 2 points x 4 replicates, 2 per task" in res.output
    assert "completed: 4 tasks computed" in res.output and "4 of 4 ok" in res.output
    assert json.loads((out / "run.json").read_text())["argv"]  # provenance written

    res = runner.invoke(app, ["runs", "list", "--root", str(tmp_path / "runs")])
    assert res.exit_code == 0 and "completed" in res.output and "4/4" in res.output

    res = runner.invoke(app, ["runs", "show", str(out)])
    assert res.exit_code == 0, res.output
    assert "tasks: 4 ok, 0 failed, 0 missing, 4 in all" in res.output

    res = runner.invoke(app, ["runs", "export", str(out)])
    assert res.exit_code == 0 and (out / "results.parquet").exists()
    table = pd.read_parquet(out / "results.parquet")
    assert len(table) == 2 * 4 * 2 and set(table.param_mu) == {0.0, 1.0}
    res = runner.invoke(app, ["runs", "export", str(out), "--out", str(tmp_path / "t.csv")])
    assert res.exit_code == 0 and len(pd.read_csv(tmp_path / "t.csv")) == 16


def test_quiet_prints_nothing_and_resume_is_a_noop_when_done(tmp_path):
    cfg = _write(tmp_path)
    out = tmp_path / "run"
    res = runner.invoke(app, ["sweep", str(cfg), "--out", str(out), "--jobs", "1", "--quiet"])
    assert res.exit_code == 0 and res.output == ""
    res = runner.invoke(app, ["sweep", str(cfg), "--out", str(out), "--jobs", "1", "--resume"])
    assert res.exit_code == 0 and "completed: 0 tasks computed" in res.output


def test_config_error_exit_2_with_path(tmp_path):
    cfg = _write(tmp_path, TOML.replace("mu = [0.0, 1.0]", "mu = [0.0, 1.0]\nn = [5, 0]"), "bad.toml")
    res = runner.invoke(app, ["sweep", str(cfg), "--out", str(tmp_path / "r")])
    assert res.exit_code == 2
    assert "bad.toml: grid.n[1]: must be an int >= 1, got 0" in " ".join(res.output.split())
    assert not (tmp_path / "r").exists()


def test_existing_run_and_bad_backend(tmp_path):
    cfg = _write(tmp_path)
    out = tmp_path / "run"
    assert runner.invoke(app, ["sweep", str(cfg), "--out", str(out), "-j", "1", "-q"]).exit_code == 0
    res = runner.invoke(app, ["sweep", str(cfg), "--out", str(out), "-q"])
    assert res.exit_code == 2 and "pass --resume to continue it" in " ".join(res.output.split())
    res = runner.invoke(app, ["sweep", str(cfg), "--out", str(tmp_path / "x"), "--backend", "spark"])
    assert res.exit_code == 2 and "`--backend` must be one of 'local', 'dask', 'ray'" in res.output


def test_corrupt_store_exit_2(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "results.sqlite").write_bytes(b"this is not a database" * 100)
    res = runner.invoke(app, ["runs", "show", str(run_dir)])
    assert res.exit_code == 2 and "not a readable SQLite database" in " ".join(res.output.split())


def _fail_odd(params, seeds):
    if params[0]["k"] % 2:
        raise RuntimeError("odd k")
    return [[{"k2": p["k"] ** 2}] for p in params]


register_protocol(Protocol("test_cli_fail", _fail_odd, {"k": Param("int", 0)}), replace=True)


def test_failed_tasks_exit_1_and_show_errors(tmp_path):
    cfg = _write(tmp_path, '[sweep]\nprotocol = "test_cli_fail"\n[grid]\nk = [1, 2, 3]\n', "f.toml")
    out = tmp_path / "run"
    res = runner.invoke(app, ["sweep", str(cfg), "--out", str(out), "--jobs", "1"])
    assert res.exit_code == 1
    assert "2 tasks failed" in " ".join(res.output.split())
    res = runner.invoke(app, ["runs", "show", str(out)])
    assert "tasks: 1 ok, 2 failed" in res.output and "RuntimeError: odd k" in res.output


def test_progress_bar_shows_done_total_rate_and_eta():
    from synthgain.cli import _util
    from synthgain.cli.sweep import progress_bar

    with progress_bar(False, "off") as cb:
        assert cb is None
    with _util.err_console.capture() as cap:
        with progress_bar(True, "demo") as cb:
            cb(0, 5)
            cb(3, 5)
            cb(5, 5)
    text = cap.get()
    assert "demo" in text and "5/5" in text and "tasks/s" in text and "ETA" in text
