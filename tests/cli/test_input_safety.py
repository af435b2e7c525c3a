"""``synthgain audit`` on malformed, unusual and dangerous input, as a new user gives it.

Each case is one command line on files made for it. Every case asserts its exit code
and a fragment of its message, and, whatever happened, that no input file changed
(content and mode, hashed before and after) and that a run that failed left no output
that looks complete (metrics.json is written last). The output side: an output path
that is, resolves to or lies inside an input is refused before any work; every output
path is checked before a row is read. The input side: what is strict (an error naming
the file, the row and the remedy) and what degenerate data gives (values withheld with
the reason, never "within chance").
"""

import gzip
import hashlib
import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from synthgain.cli import app

WORDS = ("the cat sat on a mat while dogs ran over green hills under blue skies and birds "
         "sang in tall old trees near quiet rivers").split()
FAST = ["--model", "lsa", "--quiet", "--workers", "1", "--repeats", "2",
        "--compare-rows", "20"]


def _texts(seed, n=30):
    g = np.random.default_rng(seed)
    return [" ".join(g.choice(WORDS, 10)) for _ in range(n)]


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _base(d: Path) -> None:
    """The valid files every case starts from: anchors, synthetic rows, a target, each
    with ids and two label classes."""
    for name, seed in (("a", 0), ("s", 1), ("t", 2)):
        _jsonl(d / f"{name}.jsonl", [{"id": f"{name}{i}", "text": x, "label": "xy"[i % 2]}
                                     for i, x in enumerate(_texts(seed))])
    (d / "notes.txt").write_text("a file where a directory is expected\n")


def _shards(d):
    (d / "shards").mkdir()
    texts = _texts(3, 40)
    for k in range(2):
        _jsonl(d / "shards" / f"part-{k}.jsonl",
               [{"id": f"p{k}_{i}", "text": x} for i, x in enumerate(texts[k::2])])
    return ["a.jsonl", "shards"]


_GOOD = object()


def _emb_rows(d, name, bad=_GOOD, n=20):
    g = np.random.default_rng(sum(map(ord, name)))
    rows = [{"id": i, "emb": g.normal(size=3).tolist()} for i in range(n)]
    if bad is not _GOOD:
        rows[4]["emb"][1] = bad
    return _jsonl(d / name, rows).name


# --- the cases: (files made in the case's folder) -> argv ------------------------------
def _symlink(d):
    (d / "link.jsonl").symlink_to(d / "s.jsonl")
    return ["a.jsonl", "s.jsonl", "--write-filtered", "link.jsonl"]


def _relative(d):
    (d / "sub").mkdir()
    return ["a.jsonl", "s.jsonl", "--write-filtered", "sub/../s.jsonl"]


def _output_over_input(d):
    (d / "o").mkdir()
    (d / "o" / "rows.csv").write_text("id,text\n" + "".join(
        f"r{i},{x}\n" for i, x in enumerate(_texts(4))))
    return ["o/rows.csv", "s.jsonl", "--out", "o"]


def _csv(d, body):
    (d / "bad.csv").write_text("id,text\n" + body)
    return ["bad.csv", "s.jsonl"]


def _npy(d, arr):
    np.save(d / "bad.npy", arr, allow_pickle=True)
    np.save(d / "ok.npy", np.random.default_rng(0).normal(size=(20, 3)))
    return ["bad.npy", "ok.npy"]


def _ids(d, ids):
    _jsonl(d / "ids.jsonl", [{"id": v, "text": x} for v, x in zip(ids, _texts(5, len(ids)),
                                                                   strict=True)])
    return ["ids.jsonl", "s.jsonl"]


def _nested(d):
    _shards(d)
    (d / "shards" / "more").mkdir()
    _jsonl(d / "shards" / "more" / "part-9.jsonl", [{"text": x} for x in _texts(6, 5)])
    return ["shards", "s.jsonl"]


def _mixed_layouts(d):
    (d / "mixed").mkdir()
    _jsonl(d / "mixed" / "0.jsonl", [{"text": x} for x in _texts(7, 10)])
    _jsonl(d / "mixed" / "1.jsonl", [{"instruction": "q", "output": x} for x in _texts(8, 10)])
    return ["mixed", "s.jsonl"]


def _truncated_gz(d):
    data = gzip.compress((d / "s.jsonl").read_bytes())
    (d / "s.jsonl.gz").write_bytes(data[: len(data) // 2])
    return ["a.jsonl", "s.jsonl.gz"]


def _utf16(d):
    (d / "u16.jsonl").write_bytes((d / "s.jsonl").read_text().encode("utf-16"))
    return ["a.jsonl", "u16.jsonl"]


def _latin1(d):
    (d / "lat.csv").write_bytes("id,text\n1,café au lait\n".encode("latin-1"))
    return ["lat.csv", "s.jsonl"]


def _no_words(d):
    marks = ["😀😀", "🎉!", "...", "🙂 🙃", "?!?", "a b"]
    for name in ("ea.jsonl", "es.jsonl"):
        _jsonl(d / name, [{"id": i, "text": marks[i % 6] + marks[i % 5]} for i in range(20)])
    return ["ea.jsonl", "es.jsonl"]


def _anchor_file(d, name, text):
    (d / name).write_text(text)
    return [name, "s.jsonl"]


def _emb(d, bad):
    return [_emb_rows(d, "ea.jsonl"), _emb_rows(d, "es.jsonl", bad), "--embedding-column",
            "emb"]


#: id -> (make the files, return argv), exit code, message fragment (whitespace joined)
REFUSED = {
    # outputs never touch inputs
    "filtered over the synthetic input": (
        lambda d: ["a.jsonl", "s.jsonl", "--write-filtered", "s.jsonl"],
        "--write-filtered 's.jsonl' is the input 's.jsonl'"),
    "filtered over the anchor input": (
        lambda d: ["a.jsonl", "s.jsonl", "--write-filtered", "a.jsonl"],
        "--write-filtered 'a.jsonl' is the input 'a.jsonl'"),
    "filtered over a symlink to the input": (
        _symlink, "--write-filtered 'link.jsonl' is the input 's.jsonl'"),
    "filtered over the input by a relative path": (
        _relative, "--write-filtered 'sub/../s.jsonl' is the input 's.jsonl'"),
    "filtered into an input shard directory": (
        lambda d: [*_shards(d), "--write-filtered", "shards/f.jsonl"],
        "--write-filtered 'shards/f.jsonl' lies inside the input directory 'shards'"),
    "out inside an input shard directory": (
        lambda d: [*_shards(d), "--out", "shards/o"],
        "--out 'shards/o' lies inside the input directory 'shards'"),
    "out would write over an input": (
        _output_over_input, "--out 'o' would write rows.csv over the input 'o/rows.csv'"),
    "out is the anchor file": (
        lambda d: ["a.jsonl", "s.jsonl", "--out", "a.jsonl"],
        "--out 'a.jsonl' is the input 'a.jsonl'"),
    # outputs checked before work
    "out is an existing file": (
        lambda d: ["a.jsonl", "s.jsonl", "--out", "notes.txt"],
        "--out 'notes.txt' is a file, but a directory is needed"),
    "out under a file": (
        lambda d: ["a.jsonl", "s.jsonl", "--out", "notes.txt/o"],
        "--out 'notes.txt/o' cannot be created"),
    "cache dir under a file": (
        lambda d: ["a.jsonl", "s.jsonl", "--cache-dir", "notes.txt/c"],
        "--cache-dir 'notes.txt/c' cannot be created"),
    "filtered under a file": (
        lambda d: ["a.jsonl", "s.jsonl", "--write-filtered", "notes.txt/f.jsonl"],
        "--write-filtered 'notes.txt/f.jsonl' cannot be created"),
    "filtered is a directory": (
        lambda d: (d / "f.jsonl").mkdir() or ["a.jsonl", "s.jsonl", "--write-filtered",
                                              "f.jsonl"],
        "--write-filtered 'f.jsonl' is a directory, but a file name is needed"),
    "filtered in an unwritable place": (
        lambda d: ["a.jsonl", "s.jsonl", "--write-filtered", "/proc/f.jsonl"],
        "--write-filtered '/proc/f.jsonl' cannot be written"),
    "drop without write-filtered": (
        lambda d: ["a.jsonl", "s.jsonl", "--drop", "duplicate"],
        "--drop 'duplicate' does nothing without --write-filtered"),
    # flags checked before the data is read (the input files do not exist)
    "unknown model": (lambda d: ["missing.jsonl", "gone.jsonl", "--model", "gpt5"],
                      "`--model` must be one of 'minilm', 'lsa', 'auto'. Got 'gpt5' instead."),
    "zero workers": (lambda d: ["missing.jsonl", "gone.jsonl", "--workers", "0"],
                     "`--workers` must be -1 (all cores) or at least 1. Got 0"),
    "negative seed": (lambda d: ["missing.jsonl", "gone.jsonl", "--seed", "-5"],
                      "'--seed'"),
    "unknown backend": (lambda d: ["missing.jsonl", "gone.jsonl", "--backend", "spark"],
                        "`--backend` must be one of 'local', 'dask', 'ray'. Got 'spark' "
                        "instead."),
    # strict reading
    "csv row with extra cells": (
        lambda d: _csv(d, "1,one two\n2,three,four\n"),
        "File 'bad.csv', row 2: the row has 3 cell(s) but the header has 2 column(s)"),
    "csv row with missing cells": (
        lambda d: _csv(d, "1,one two\n2,three\n3\n"),
        "File 'bad.csv', row 3: the row has 1 cell(s) but the header has 2 column(s)"),
    "complex npy": (lambda d: _npy(d, np.ones((20, 3), complex)),
                    "File 'bad.npy' holds complex numbers; embeddings must be real"),
    "boolean npy": (lambda d: _npy(d, np.ones((20, 3), bool)),
                    "File 'bad.npy' holds booleans"),
    "object npy": (lambda d: _npy(d, np.array([[1, "a", None]] * 20, dtype=object)),
                   "File 'bad.npy' holds an array of Python objects (dtype object)"),
    "boolean in an embedding": (
        lambda d: _emb(d, True),
        "File 'es.jsonl', row 5, column 'emb': position 1 of the embedding is not a real "
        "number: bool True"),
    "string in an embedding": (
        lambda d: _emb(d, "0.5"),
        "position 1 of the embedding is not a real number: str '0.5'"),
    "null in an embedding": (lambda d: _emb(d, None), "is not a real number: missing (null)"),
    "null id": (lambda d: _ids(d, ["a", None, "c", "d", "e", "f"]),
                "File 'ids.jsonl', row 2, column 'id': the id is missing"),
    "duplicate id 0 and '0'": (
        lambda d: _ids(d, [0, 1, "0", 3, 4, 5]),
        "File 'ids.jsonl', row 3, column 'id': the id '0' repeats row 1"),
    "nested shard folder": (_nested, "holds shards and also folders with data files ('more')"),
    # handled before (kept): each names the file and the remedy
    "empty file": (lambda d: _anchor_file(d, "e.jsonl", ""), "File 'e.jsonl' is empty"),
    "malformed JSON": (lambda d: _anchor_file(d, "m.jsonl", '{"text": "x"}\n{"text": \n'),
                       "File 'm.jsonl', row 2: not valid JSON"),
    "mixed layouts in a directory": (_mixed_layouts, "The shards of one dataset must share"),
    "truncated gzip": (_truncated_gz, "File 's.jsonl.gz' is not a readable gzip file"),
    "UTF-16 file": (_utf16, "File 'u16.jsonl' is encoded in UTF-16"),
    "Latin-1 file": (_latin1, "the text is not valid UTF-8 (byte 0xe9"),
    "NaN in an embedding": (lambda d: _emb(d, float("nan")), "must be finite"),
    "inf in an embedding": (lambda d: _emb(d, float("inf")), "must be finite"),
    "tiny input": (lambda d: _ids(d, ["a", "b", "c"]), "the audit needs at least 5 anchor"),
    "texts with no word at all (LSA)": (
        _no_words, "The LSA embedding found no word in the 40 texts it is fitted on"),
    "missing text column": (lambda d: _ids(d, list("abcdef")) and ["ids.jsonl", "s.jsonl",
                                                                   "--text-column", "body"],
                            "missing text column 'body'"),
}


def _state(d: Path) -> dict[str, tuple[str, int]]:
    """Every file under ``d`` (symlinks as their target's content): hash and mode."""
    return {str(p.relative_to(d)): (hashlib.sha256(p.read_bytes()).hexdigest(),
                                    p.stat().st_mode)
            for p in sorted(d.rglob("*")) if p.is_file()}


def _run(d: Path, argv: list[str]):
    cwd = os.getcwd()
    os.chdir(d)  # relative paths, as typed
    try:
        return CliRunner().invoke(app, ["audit", *FAST, *argv])  # the case's flags win
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_with_a_clear_message_and_nothing_changed(case, tmp_path):
    if case == "filtered in an unwritable place" and not sys.platform.startswith("linux"):
        pytest.skip("uses /proc as a place that accepts no new file")
    make, fragment = REFUSED[case]
    _base(tmp_path)
    argv = make(tmp_path)
    if "--out" not in argv:
        argv = [*argv, "--out", "out"]
    before = _state(tmp_path)
    res = _run(tmp_path, argv)
    text = " ".join(res.output.split())
    assert res.exit_code == 2, text
    assert fragment in text
    assert "Traceback" not in text and ".py:" not in text
    assert _state(tmp_path) == before  # no input changed, and nothing was written
    assert not list(tmp_path.rglob("metrics.json"))


def test_degenerate_texts_withhold_vendi_with_the_reason(tmp_path):
    _base(tmp_path)
    marks = ["😀😀", "🎉!", "...", "🙂 🙃", "?!?", "--"]
    _jsonl(tmp_path / "emoji.jsonl", [{"id": i, "text": marks[i % 6] + marks[i % 5]}
                                      for i in range(30)])
    before = _state(tmp_path)
    res = _run(tmp_path, ["a.jsonl", "emoji.jsonl", "--out", "o"])
    text = " ".join(res.output.split())
    assert res.exit_code == 0, text
    vendi = json.loads((tmp_path / "o" / "metrics.json").read_text())["metrics"][
        "diversity"]["vendi_synthetic"]
    assert vendi["value"] is None
    assert vendi["reason_code"] == "no_nonzero_embedding"
    assert not re.search(r"\bnan\b", text.lower())
    assert "within chance (Vendi" not in text
    assert "Warning: " not in text or "note: " in text or "DegenerateDataWarning: " in text
    assert ".py:" not in text  # no raw Python warning with its source path
    assert {k: v for k, v in _state(tmp_path).items() if not k.startswith("o/")} == before


def test_one_label_class_withholds_the_probe(tmp_path):
    for name, seed in (("a", 0), ("s", 1), ("t", 2)):
        _jsonl(tmp_path / f"{name}.jsonl", [{"id": i, "text": x, "label": "only"}
                                            for i, x in enumerate(_texts(seed))])
    res = _run(tmp_path, ["a.jsonl", "s.jsonl", "--target", "t.jsonl", "--label-column",
                          "label", "--out", "o"])
    assert res.exit_code == 0, res.output
    probe = json.loads((tmp_path / "o" / "metrics.json").read_text())["metrics"]["probe"]
    assert set(probe) == {"accuracy_anchor", "accuracy_synthetic", "accuracy_both",
                          "gain_both", "gain_synthetic"}
    for rec in probe.values():
        assert rec["value"] is None
        assert rec["reason_code"] == "single_class" and "('only')" in rec["reason"]
    assert "no detectable change" not in " ".join(res.output.split())


def test_outputs_respect_the_umask_and_inputs_keep_their_mode(tmp_path):
    _base(tmp_path)
    os.chmod(tmp_path / "s.jsonl", 0o640)
    old = os.umask(0o027)
    try:
        res = _run(tmp_path, ["a.jsonl", "s.jsonl", "--out", "o", "--write-filtered",
                              "f.jsonl"])
    finally:
        os.umask(old)
    assert res.exit_code == 0, res.output
    for f in ("o/metrics.json", "o/report.html", "o/rows.parquet", "o/rows.csv", "f.jsonl"):
        assert (tmp_path / f).stat().st_mode & 0o777 == 0o640, f
    assert (tmp_path / "s.jsonl").stat().st_mode & 0o777 == 0o640


def test_rewriting_an_output_keeps_its_mode(tmp_path):
    from synthgain.experiments.provenance import write_bytes_atomic

    p = tmp_path / "x.json"
    p.write_text("{}")
    os.chmod(p, 0o604)
    write_bytes_atomic(p, b"[]")
    assert p.read_bytes() == b"[]" and p.stat().st_mode & 0o777 == 0o604


@pytest.mark.parametrize("command,argv", [
    ("study", ["study", "digits", "--out", "notes.txt"]),
    ("reproduce", ["reproduce", "figure2", "--out", "notes.txt/x"]),
    ("demo", ["demo", "--out", "notes.txt"]),
    ("theory", ["theory", "--out", "notes.txt"]),
])
def test_other_commands_check_out_first(command, argv, tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        res = CliRunner().invoke(app, argv)
    finally:
        os.chdir(cwd)
    text = " ".join(res.output.split())
    assert res.exit_code == 2, text
    assert "--out 'notes.txt" in text
    assert (tmp_path / "notes.txt").read_text() == "x"


def test_sweep_refuses_out_over_its_config(tmp_path):
    cfg = tmp_path / "s.toml"
    cfg.write_text('[sweep]\nname = "x"\nprotocol = "klgap"\nreplicates = 1\n')
    res = CliRunner().invoke(app, ["sweep", str(cfg), "--out", str(cfg)])
    text = " ".join(res.output.split())
    assert res.exit_code == 2, text
    assert "--out" in text and cfg.read_text().startswith('[sweep]')


def test_a_full_disk_is_one_line_and_leaves_no_metrics(tmp_path, monkeypatch):
    import errno

    import synthgain.report._audit as audit_report

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(audit_report, "write_bytes_atomic", full)
    _base(tmp_path)
    before = _state(tmp_path)
    res = _run(tmp_path, ["a.jsonl", "s.jsonl", "--out", "o"])
    text = " ".join(res.output.split())
    assert res.exit_code == 1, text
    assert "error: No space left on device" in text and "Traceback" not in text
    assert not (tmp_path / "o" / "metrics.json").exists()
    assert {k: v for k, v in _state(tmp_path).items() if not k.startswith("o/")} == before


def test_library_writers_refuse_their_inputs(tmp_path):
    from synthgain.audit import load_dataset
    from synthgain.exceptions import ValidationError
    from synthgain.report import write_filtered_rows

    _base(tmp_path)
    ds = load_dataset(tmp_path / "s.jsonl", keep_records=True)
    before = _state(tmp_path)
    with pytest.raises(ValidationError, match=r"`path` '.*s\.jsonl' is the input"):
        write_filtered_rows(ds, np.ones(len(ds), bool), tmp_path / "s.jsonl")
    assert _state(tmp_path) == before


def test_duplicate_ids_in_arrays_are_refused():
    from synthgain.audit import Dataset
    from synthgain.exceptions import ValidationError

    with pytest.raises(ValidationError, match="`ids` repeats the id '0'"):
        Dataset.from_arrays(np.zeros((3, 2)), ids=[0, "0", 1])
