"""``synthgain audit`` end to end: the per-row files, --write-filtered in the input's own
layout and container, the --fail-on gate's exit codes, the verdict on the terminal."""

import gzip
import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from synthgain.audit import load_dataset
from synthgain.cli import app

WORDS = ("the cat sat on a mat while dogs ran over green hills under blue skies and birds "
         "sang in tall old trees near quiet rivers").split()
FAST = ["--model", "lsa", "--quiet", "--workers", "1", "--repeats", "2",
        "--compare-rows", "20"]


def _flat(res):
    return " ".join(res.output.split())  # the console wraps long lines


def _chat(text, i):
    return {"id": f"x{i}", "messages": [{"role": "user", "content": f"question {i}"},
                                        {"role": "assistant", "content": text}]}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("audit_cli")
    g = np.random.default_rng(0)

    def sentence():
        return " ".join(g.choice(WORDS, 12))

    anchors = [sentence() for _ in range(40)]
    synth = [sentence() for _ in range(40)]
    synth[:3] = anchors[:3]                       # near-copies of anchors 0, 1, 2
    synth[11] = synth[10]                         # a duplicate of row 10
    synth[12] = "I'm sorry, but I can't help with that request."  # a refusal
    paths = {}
    for name, texts in (("a", anchors), ("t", [sentence() for _ in range(40)])):
        paths[name] = d / f"{name}.jsonl"
        paths[name].write_text("".join(json.dumps(_chat(x, i)) + "\n"
                                       for i, x in enumerate(texts)))
    lines = [json.dumps(_chat(x, i), indent=None, separators=(",", ":")) for i, x in
             enumerate(synth)]
    paths["s"] = d / "s.jsonl.gz"
    paths["s"].write_bytes(gzip.compress("".join(x + "\n" for x in lines).encode()))
    paths["lines"] = lines
    paths["dir"] = d
    return paths


def _run(files, out, *extra):
    return CliRunner().invoke(app, ["audit", str(files["a"]), str(files["s"]), "--target",
                                    str(files["t"]), "--out", str(out), *FAST, *extra])


def test_rows_filtered_file_and_gate(files, tmp_path):
    out, filtered = tmp_path / "o", tmp_path / "filtered.jsonl.gz"
    res = _run(files, out, "--write-filtered", str(filtered), "--fail-on",
               "near_copy_rate>0.05,refusal_rate>0.5")
    assert res.exit_code == 3, res.output
    text = _flat(res)
    assert "Gate failed: 1 of 2 condition(s): near_copy_rate>0.05: near_copy_rate = 0.075" \
        in text
    assert "Verdict: " in text and "problem 1:" in text
    # the outputs are written before the gate fails
    doc = json.loads((out / "metrics.json").read_text())
    assert doc["verdict"]["problems_found"] and (out / "report.html").is_file()
    rows = pq.read_table(out / "rows.parquet").to_pylist()
    assert [r["id"] for r in rows] == [f"x{i}" for i in range(40)]
    assert [r["near_copy"] for r in rows[:3]] == [True] * 3
    assert rows[11]["duplicate"] and not rows[10]["duplicate"] and rows[12]["refusal"]
    assert "anchor_id" not in rows[0]  # no provenance in these files: no such column
    assert (out / "rows.csv").read_text().splitlines()[0].startswith('"id","nearest_anchor_id"')
    # the default --drop: near-copy, duplicate, contaminated; every other row untouched
    dropped = {i for i, r in enumerate(rows) if r["near_copy"] or r["duplicate"]
               or r["contaminated"]}
    assert {0, 1, 2, 11} <= dropped and 12 not in dropped and 10 not in dropped
    back = gzip.decompress(filtered.read_bytes()).decode().splitlines()
    assert back == [x for i, x in enumerate(files["lines"]) if i not in dropped]
    again = load_dataset(filtered)
    assert again.meta["layout"] == "chat" and len(again) == 40 - len(dropped)
    assert f"kept {40 - len(dropped)} of 40 rows" in text


def test_drop_refusals_and_gate_that_passes(files, tmp_path):
    filtered = tmp_path / "f.jsonl.gz"
    res = _run(files, tmp_path / "o", "--write-filtered", str(filtered), "--drop",
               "refusal", "--fail-on", "refusal_rate>0.5, empty_rate>0.5",
               "--thresholds", "near_copy_rate=0.5,refusal_rate=0.5,outlier_rate=1")
    assert res.exit_code == 0, res.output
    assert "Gate passed: none of the 2 failure condition(s) holds." in _flat(res)
    back = gzip.decompress(filtered.read_bytes()).decode().splitlines()
    assert back == [x for i, x in enumerate(files["lines"]) if i != 12]
    doc = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert doc["verdict"]["thresholds"]["near_copy_rate"] == 0.5
    assert "near-copy" not in [p["name"] for p in doc["verdict"]["problems"]]


def test_withheld_metric_fails_the_gate(files, tmp_path):
    res = _run(files, tmp_path / "o", "--fail-on", "kl_gap.mixture<0")
    assert res.exit_code == 3, res.output
    assert "kl_gap.mixture<0: could not be checked (withheld: " in _flat(res)


@pytest.mark.parametrize("extra,match", [
    (["--drop", "near-copy,typo"], "`--drop` got 'near-copy,typo': unknown name 'typo'. "
                                   "Valid names: near-copy, duplicate, semantic-duplicate, "
                                   "contaminated, empty, refusal, pii, language-drift, "
                                       "outlier"),
    (["--fail-on", "near_copy_rate>0.2,contamination"], "`--fail-on`: condition "
                                                        "'contamination' is not `name op "
                                                        "number`"),
    (["--thresholds", "copies=0.1"], "`--thresholds`: unknown threshold 'copies'"),
    (["--write-filtered", "f.parquet"], "`--write-filtered` got 'f.parquet': the synthetic "
                                        "data was read as .jsonl.gz"),
])
def test_usage_errors_exit_2_and_name_the_flag(files, tmp_path, extra, match):
    res = _run(files, tmp_path / "o", *extra)
    assert res.exit_code == 2, res.output
    assert match in _flat(res)
    assert not (tmp_path / "o" / "metrics.json").exists()  # refused before the audit ran


def test_embeddings_filtered_and_text_flags_not_applied(tmp_path):
    g = np.random.default_rng(0)
    a = g.normal(size=(30, 4))
    s = np.concatenate([a[:3], g.normal(size=(27, 4))]).astype(np.float32)
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "s.npy", s)
    res = CliRunner().invoke(app, ["audit", str(tmp_path / "a.npy"), str(tmp_path / "s.npy"),
                                   "--out", str(tmp_path / "o"), "--write-filtered",
                                   str(tmp_path / "f.npy"), "--fail-on", "duplicate_rate>0",
                                   *FAST])
    assert res.exit_code == 3, res.output
    text = _flat(res)
    assert "Not applied (not measured for these data): duplicate, contaminated" in text
    assert "duplicate_rate>0: could not be checked (not measured: the text measures did " \
           "not run on these data)" in text
    near = pq.read_table(tmp_path / "o" / "rows.parquet").column("near_copy").to_numpy()
    assert near[:3].all()
    back = np.load(tmp_path / "f.npy")
    assert back.dtype == np.float32 and np.array_equal(back, s[~near])
