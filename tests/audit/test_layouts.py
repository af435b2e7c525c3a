"""The files LLM post-training data comes in, read as they are: every container (plain and
gzip-compressed, and a directory of shards) in every layout, and each bad input with its
message."""

import gzip
import io
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from synthgain.audit import load_dataset
from synthgain.cli import app
from synthgain.exceptions import ValidationError

CHAT = [
    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a colour."},
     {"role": "assistant", "content": "Blue."}],
    [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"},
     {"role": "user", "content": "Add 2 and 2."}, {"role": "assistant", "content": "4"}],
    [{"role": "user", "content": "Spell cat"}, {"role": "assistant", "content": "c-a-t"}],
]
_SHAREGPT_ROLE = {"system": "system", "user": "human", "assistant": "gpt"}
SHAREGPT = [[{"from": _SHAREGPT_ROLE[t["role"]], "value": t["content"]} for t in c]
            for c in CHAT]
PROMPTS = ["Name a colour.", "Hi\n\nAdd 2 and 2.", "Spell cat"]
RESPONSES = ["Blue.", "4", "c-a-t"]
CONVERSATIONS = [
    "system: Be brief.\n\nuser: Name a colour.\n\nassistant: Blue.",
    "user: Hi\n\nassistant: Hello!\n\nuser: Add 2 and 2.\n\nassistant: 4",
    "user: Spell cat\n\nassistant: c-a-t",
]
_REJECTED = ["Red, or perhaps green.", "5", "k-a-t"]

#: Each layout's rows (without the shared id/label/anchor_id columns) and the texts
#: expected for each field.
LAYOUTS = {
    "text": ([{"text": t} for t in RESPONSES], {"response": RESPONSES}),
    "alpaca": (
        [{"instruction": "Name a colour.", "input": "", "output": "Blue."},
         {"instruction": "Add the numbers.", "input": "2 and 2", "output": "4"},
         {"instruction": "Spell cat", "input": "", "output": "c-a-t"}],
        {"response": RESPONSES,
         "prompt": ["Name a colour.", "Add the numbers.\n\n2 and 2", "Spell cat"],
         "conversation": ["user: Name a colour.\n\nassistant: Blue.",
                          "user: Add the numbers.\n\n2 and 2\n\nassistant: 4",
                          "user: Spell cat\n\nassistant: c-a-t"]}),
    "chat": ([{"messages": c} for c in CHAT],
             {"response": RESPONSES, "prompt": PROMPTS, "conversation": CONVERSATIONS}),
    "sharegpt": ([{"conversations": c} for c in SHAREGPT],
                 {"response": RESPONSES, "prompt": PROMPTS, "conversation": CONVERSATIONS}),
    "preference": (
        [{"prompt": p, "chosen": c, "rejected": r}
         for p, c, r in zip(["Name a colour.", "Add 2 and 2.", "Spell cat"], RESPONSES,
                            _REJECTED, strict=True)],
        {"response": RESPONSES, "prompt": ["Name a colour.", "Add 2 and 2.", "Spell cat"],
         "conversation": ["user: Name a colour.\n\nassistant: Blue.",
                          "user: Add 2 and 2.\n\nassistant: 4",
                          "user: Spell cat\n\nassistant: c-a-t"]}),
    # UltraFeedback's form: a prompt string, each side the whole exchange as turns
    "preference_turns": (
        [{"prompt": c[-2]["content"], "chosen": c[-2:],
          "rejected": [c[-2], {"role": "assistant", "content": r}]}
         for c, r in zip(CHAT, _REJECTED, strict=True)],
        {"response": RESPONSES, "prompt": ["Name a colour.", "Add 2 and 2.", "Spell cat"],
         "conversation": ["user: Name a colour.\n\nassistant: Blue.",
                          "user: Add 2 and 2.\n\nassistant: 4",
                          "user: Spell cat\n\nassistant: c-a-t"]}),
}
SHARED = [{"id": f"r{i}", "label": lab, "anchor_id": f"a{i};a9"}
          for i, lab in enumerate("xyx")]


def _records(layout):
    return [{**s, **r} for s, r in zip(SHARED, LAYOUTS[layout][0], strict=True)]


def _bytes(records, container):
    """The file a user would have: JSON Lines, a JSON array, pandas' CSV (nested values
    as Python literals), Parquet (lists of structs)."""
    if container == "jsonl":
        return "".join(json.dumps(r) + "\n" for r in records).encode()
    if container == "json":
        return json.dumps(records, indent=2).encode()
    if container == "csv":
        return pd.DataFrame(records).to_csv(index=False).encode()
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(records), buf)
    return buf.getvalue()


def _write(path, records, container, gz=False):
    data = _bytes(records, container)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize("container", ["jsonl", "json", "csv", "parquet"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_every_container_and_layout(tmp_path, layout, container, gz):
    path = tmp_path / f"data.{container}{'.gz' if gz else ''}"
    _write(path, _records(layout), container, gz)
    name = "preference" if layout.startswith("preference") else layout
    for field, expected in LAYOUTS[layout][1].items():
        d = load_dataset(path, field=field, label_column="label")
        assert d.texts == expected, field
        assert d.meta["layout"] == name and d.meta["field"] == field
        assert d.ids == ["r0", "r1", "r2"] and d.labels.tolist() == ["x", "y", "x"]
        assert d.anchor_ids == [("a0", "a9"), ("a1", "a9"), ("a2", "a9")]
        assert d.describe().startswith(f"read 3 rows in {name} layout")
    if name == "preference":
        d = load_dataset(path)
        rejected = d.rejected()
        assert rejected.texts == _REJECTED and rejected.ids == d.ids
        assert rejected.anchor_ids == d.anchor_ids
        assert "measuring the rejected responses" in rejected.describe()


@pytest.mark.parametrize(("layout", "field", "line"), [
    ("text", "response", "read 3 rows in text layout (column 'text'); measuring the column "
                         "'text'"),
    ("chat", "response", "read 3 rows in chat layout (column 'messages'); measuring the last "
                         "assistant turn of each conversation"),
    ("sharegpt", "prompt", "read 3 rows in sharegpt layout (column 'conversations'); measuring "
                           "the user turns before the last assistant turn"),
    ("alpaca", "conversation", "read 3 rows in alpaca layout; measuring whole exchanges"),
    ("preference", "response", "read 3 rows in preference layout; measuring the chosen "
                               "responses (the rejected ones are kept beside them)"),
])
def test_the_layout_line(tmp_path, layout, field, line):
    d = load_dataset(_write(tmp_path / "d.jsonl", _records(layout), "jsonl"), field=field)
    assert d.describe().startswith(line)


def test_text_layout_says_the_field_does_not_apply(tmp_path):
    d = load_dataset(_write(tmp_path / "t.jsonl", _records("text"), "jsonl"), field="prompt")
    assert d.texts == RESPONSES
    assert "field='prompt' does not apply" in d.describe()


def test_trl_conversational_preference_and_content_parts(tmp_path):
    # TRL's conversational form: the prompt as turns, each side only the assistant turn;
    # OpenAI's content as a list of parts
    rows = [{"prompt": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
             "chosen": [{"role": "assistant", "content": "Hello!"}],
             "rejected": [{"role": "assistant", "content": "Go away."}]}]
    p = _write(tmp_path / "p.jsonl", rows, "jsonl")
    d = load_dataset(p, field="conversation")
    assert d.texts == ["user: Hi\n\nassistant: Hello!"]
    assert d.meta["rejected"] == ["user: Hi\n\nassistant: Go away."]
    assert load_dataset(p, field="prompt").texts == ["Hi"]
    assert "rejected" not in load_dataset(p, field="prompt").meta


def test_csv_cells_holding_json(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("id,messages\n7,\"" + json.dumps(CHAT[2]).replace('"', '""') + "\"\n")
    d = load_dataset(p)
    assert d.texts == ["c-a-t"] and d.ids == ["7"] and d.meta["layout"] == "chat"


def test_json_lines_in_a_json_file(tmp_path):
    # datasets.Dataset.to_json writes JSON Lines whatever the suffix
    p = _write(tmp_path / "l.json", _records("chat"), "jsonl")
    assert load_dataset(p).texts == RESPONSES


def test_forced_layout_and_a_text_column_besides_the_turns(tmp_path):
    rows = [{**r, "text": "rendered"} for r in _records("chat")]
    p = _write(tmp_path / "both.jsonl", rows, "jsonl")
    assert load_dataset(p).texts == ["rendered"] * 3  # the text column is read first
    assert load_dataset(p, layout="chat").texts == RESPONSES


def _arrow_stream(path, records):
    table = pa.Table.from_pylist(records)
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)


def test_saved_dataset_directory(tmp_path):
    # save_to_disk: Arrow IPC stream shards beside dataset_info.json and state.json
    d = tmp_path / "saved"
    d.mkdir()
    records = _records("chat")
    _arrow_stream(d / "data-00000-of-00002.arrow", records[:2])
    _arrow_stream(d / "data-00001-of-00002.arrow", records[2:])
    (d / "dataset_info.json").write_text('{"features": {}}')
    (d / "state.json").write_text('{"_data_files": []}')
    ds = load_dataset(d, label_column="label")
    assert ds.texts == RESPONSES and ds.ids == ["r0", "r1", "r2"]
    assert ds.meta["shards"] == 2 and ds.meta["rows"] == [1, 2, 1]
    assert ds.locate(2) == f"File '{d / 'data-00001-of-00002.arrow'}', row 1"
    assert ds.describe().startswith("read 3 rows from 2 shards in chat layout")


@pytest.mark.parametrize(("container", "gz"), [("parquet", False), ("jsonl", True),
                                                ("csv", False), ("json", True)])
def test_sharded_export(tmp_path, container, gz):
    d = tmp_path / "export"
    d.mkdir()
    records = _records("sharegpt")
    suffix = f".{container}{'.gz' if gz else ''}"
    _write(d / f"train-00000-of-00002{suffix}", records[:1], container, gz)
    _write(d / f"train-00001-of-00002{suffix}", records[1:], container, gz)
    (d / "README.md").write_text("# card")
    (d / ".gitattributes").write_text("*.parquet filter=lfs")
    ds = load_dataset(d, field="prompt")
    assert ds.texts == PROMPTS and ds.anchor_ids[1] == ("a1", "a9")
    assert ds.meta["layout"] == "sharegpt"


# --- bad inputs ----------------------------------------------------------------------


def test_directory_with_no_readable_shard(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    with pytest.raises(ValidationError, match=r"Directory '.*d' holds no readable shard "
                       r"\(files found: none\)\. A directory must hold shards of one format"):
        load_dataset(d)
    (d / "README.md").write_text("x")
    with pytest.raises(ValidationError, match=r"no readable shard \(files found: 'README\.md'"):
        load_dataset(d)
    (d / "a.jsonl").write_text("")
    with pytest.raises(ValidationError, match=r"holds no readable shard: its 1 shard\(s\) have "
                       r"no rows"):
        load_dataset(d)


def test_directory_of_splits_mixed_formats_and_splits(tmp_path):
    d = tmp_path / "dd"
    for split in ("train", "test"):
        (d / split).mkdir(parents=True)
        _write(d / split / "data.jsonl", _records("text"), "jsonl")
    with pytest.raises(ValidationError, match=r"holds no shards itself, but its folders 'test', "
                       r"'train' do .* Pass one of them, e\.g\. '.*dd/test'"):
        load_dataset(d)
    m = tmp_path / "mixed"
    m.mkdir()
    _write(m / "a.jsonl", _records("text"), "jsonl")
    _write(m / "b.csv", _records("text"), "csv")
    with pytest.raises(ValidationError, match=r"mixes shard formats \(1 csv, 1 jsonl\)"):
        load_dataset(m)
    s = tmp_path / "splits"
    s.mkdir()
    _write(s / "train-00000-of-00001.jsonl", _records("text"), "jsonl")
    _write(s / "test-00000-of-00001.jsonl", _records("text"), "jsonl")
    with pytest.raises(ValidationError, match=r"the shards of several splits \(test, train\)"):
        load_dataset(s)


def test_mixed_layouts_across_shards(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    _write(d / "part-0.jsonl", _records("chat"), "jsonl")
    _write(d / "part-1.jsonl", _records("alpaca"), "jsonl")
    with pytest.raises(ValidationError, match=r"shard 'part-1\.jsonl' is in alpaca layout but "
                       r"'part-0\.jsonl' is in chat layout \(column 'messages'\)\. The shards of "
                       r"one dataset must share one layout"):
        load_dataset(d)


def test_mixed_layouts_within_a_file(tmp_path):
    p = _write(tmp_path / "m.jsonl", _records("chat")[:2] + _records("alpaca")[2:], "jsonl")
    with pytest.raises(ValidationError, match=r"m\.jsonl', row 3: missing column 'messages' of "
                       r"the chat layout \(column 'messages'\) \(columns found: 'id', 'label', "
                       r"'anchor_id', 'instruction', 'input', 'output'\)"):
        load_dataset(p)


def test_conversation_without_the_requested_role(tmp_path):
    rows = [{"messages": CHAT[0]}, {"messages": CHAT[0][:2]}]
    p = _write(tmp_path / "c.jsonl", rows, "jsonl")
    with pytest.raises(ValidationError, match=r"c\.jsonl', row 2, column 'messages': the "
                       r"conversation has no assistant turn to measure \(roles found: 'system', "
                       r"'user'\)\. Drop this row, or measure the prompts with field='prompt'"):
        load_dataset(p)
    assert load_dataset(p, field="prompt").texts == ["Name a colour."] * 2
    rows = [{"conversations": [{"from": "system", "value": "x"}, {"from": "gpt", "value": "y"}]}]
    q = _write(tmp_path / "s.json", rows, "json")
    with pytest.raises(ValidationError, match=r"s\.json', row 1, column 'conversations': the "
                       r"conversation has no user turn before the last assistant turn"):
        load_dataset(q, field="prompt")


@pytest.mark.parametrize(("layout", "row", "column"), [
    ("chat", {"messages": [{"role": "user", "content": "Hi"},
                           {"role": "assistant", "content": "  "}]}, "messages"),
    ("alpaca", {"instruction": "Hi", "input": "", "output": ""}, "output"),
    ("preference", {"prompt": "Hi", "chosen": "", "rejected": "No."}, "chosen"),
    ("preference", {"prompt": "Hi", "chosen": "Yes.", "rejected": ""}, "rejected"),
])
def test_empty_response(tmp_path, layout, row, column):
    p = _write(tmp_path / "e.jsonl", [_records(layout)[0], row], "jsonl")
    with pytest.raises(ValidationError, match=rf"e\.jsonl', row 2, column '{column}': the "
                       r"response is empty\. Fill or drop this row"):
        load_dataset(p)


def test_other_bad_inputs(tmp_path):
    p = _write(tmp_path / "n.jsonl", [{"messages": "not turns"}], "jsonl")
    with pytest.raises(ValidationError, match=r"row 1, column 'messages': expected a list of "
                       r"turns .*got the string 'not turns'"):
        load_dataset(p)
    q = tmp_path / "one.json"
    q.write_text(json.dumps({"text": {"0": "a"}}, indent=2))
    with pytest.raises(ValidationError, match=r"one\.json' holds one JSON dict, not an array"):
        load_dataset(q)
    r = tmp_path / "bad.jsonl.gz"
    r.write_bytes(b"not gzip")
    with pytest.raises(ValidationError, match=r"bad\.jsonl\.gz' is not a readable gzip file"):
        load_dataset(r)
    s = tmp_path / "arr.json"
    s.write_text(json.dumps([{"text": "a"}, {"text": None}]))
    with pytest.raises(ValidationError, match=r"arr\.json', row 2, column 'text': the text is "
                       r"missing"):
        load_dataset(s)
    (tmp_path / "e.csv.gz").write_bytes(gzip.compress(b""))
    with pytest.raises(ValidationError, match=r"e\.csv\.gz' is empty: it has no rows"):
        load_dataset(tmp_path / "e.csv.gz")
    with pytest.raises(ValidationError, match=r"`field` must be one of 'response', 'prompt', "
                       r"'conversation'\. Got 'answer'"):
        load_dataset(s, field="answer")
    with pytest.raises(ValidationError, match=r"unsupported format '\.txt\.gz'"):
        (tmp_path / "x.txt.gz").write_bytes(gzip.compress(b"a"))
        load_dataset(tmp_path / "x.txt.gz")


def test_no_layout_lists_the_layouts(tmp_path):
    p = _write(tmp_path / "q.jsonl", [{"question": "Why?"}], "jsonl")
    with pytest.raises(ValidationError, match=r"row 1: missing text column 'text' \(columns "
                       r"found: 'question'\)\. Pass text_column= .* The layouts read as they "
                       r"are: alpaca: 'instruction', 'input', 'output'; chat: 'messages'"):
        load_dataset(p)
    assert load_dataset(p, text_column="question").texts == ["Why?"]


# --- the command line ----------------------------------------------------------------


def _flat(res):
    return " ".join(res.output.split())  # the console wraps long lines


def test_cli_errors_name_the_flags(tmp_path):
    a = _write(tmp_path / "a.jsonl", _records("chat"), "jsonl")
    q = _write(tmp_path / "q.jsonl", [{"question": "Why?"}], "jsonl")
    res = CliRunner().invoke(app, ["audit", str(q), str(a), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    assert "Pass --text-column naming the text column, or --embedding-column" in _flat(res)
    assert "text_column=" not in res.output
    c = _write(tmp_path / "c.jsonl", [{"messages": CHAT[0][:2]}], "jsonl")
    res = CliRunner().invoke(app, ["audit", str(a), str(c), "--out", str(tmp_path / "o")])
    out = _flat(res)
    assert res.exit_code == 2 and "measure the prompts with --field prompt" in out
    # the anchors' layout line is printed before the synthetic file fails
    assert ("anchor: read 3 rows in chat layout (column 'messages'); measuring the last "
            "assistant turn of each conversation") in out
    res = CliRunner().invoke(app, ["audit", str(a), str(a), "--field", "answer"])
    assert res.exit_code == 2 and "`--field` must be one of" in _flat(res)


def test_cli_audits_files_as_they_are(tmp_path):
    # anchors: gzipped chat JSON Lines; synthetic: a directory of Alpaca shards
    g = np.random.default_rng(0)
    words = "the cat sat on a mat while dogs ran over green hills under blue skies".split()

    def sentence():
        return " ".join(g.choice(words, 8))

    a = _write(tmp_path / "a.jsonl.gz", [
        {"messages": [{"role": "user", "content": "q"},
                      {"role": "assistant", "content": sentence()}]} for _ in range(40)],
        "jsonl", gz=True)
    d = tmp_path / "s"
    d.mkdir()
    for k in range(2):
        _write(d / f"part-{k}.parquet", [{"instruction": "q", "input": "", "output": sentence()}
                                         for _ in range(20)], "parquet")
    res = CliRunner().invoke(app, ["audit", str(a), str(d), "--model", "lsa", "--out",
                                   str(tmp_path / "o"), "--quiet", "--workers", "1",
                                   "--repeats", "2", "--compare-rows", "20"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == ("anchor: read 40 rows in chat layout (column 'messages'); measuring "
                        "the last assistant turn of each conversation")
    assert lines[1] == ("synthetic: read 40 rows from 2 shards in alpaca layout; measuring the "
                        "responses (column 'output')")
    assert (tmp_path / "o" / "report.html").is_file()
