import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synthgain.audit import Dataset, load_dataset
from synthgain.exceptions import ValidationError


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_jsonl_text_labels_provenance(tmp_path):
    p = _jsonl(tmp_path / "s.jsonl", [
        {"id": "a", "text": "hello there", "label": "x", "anchor_id": ["1", "2"]},
        {"id": "b", "text": "héllo", "label": "y", "anchor_id": "3"},
    ])
    d = load_dataset(p, label_column="label")
    assert d.ids == ["a", "b"] and d.texts == ["hello there", "héllo"]
    assert d.labels.tolist() == ["x", "y"]
    assert d.anchor_ids == [("1", "2"), ("3",)]


def test_csv_and_parquet_embeddings_agree(tmp_path):
    emb = np.arange(6, dtype=float).reshape(3, 2) / 7
    csv = tmp_path / "e.csv"
    csv.write_text("id,embedding\n" + "".join(
        f'{i},"{json.dumps(list(r))}"\n' for i, r in enumerate(emb)), encoding="utf-8")
    pqt = tmp_path / "e.parquet"
    pq.write_table(pa.table({"embedding": [list(r) for r in emb]}), pqt)
    npy = tmp_path / "e.npy"
    np.save(npy, emb)
    for path in (csv, pqt, npy):
        d = load_dataset(path, embedding_column="embedding")
        np.testing.assert_allclose(d.embeddings, emb)
        assert d.texts is None and len(d) == 3


def test_missing_column_names_file_row_and_columns(tmp_path):
    p = _jsonl(tmp_path / "a.jsonl", [{"content": "x"}])
    with pytest.raises(ValidationError, match=r"a\.jsonl', row 1: missing text column 'text' "
                       r"\(columns found: 'content'\)\. Pass text_column="):
        load_dataset(p)


def test_empty_files(tmp_path):
    (tmp_path / "e.jsonl").write_text("")
    with pytest.raises(ValidationError, match=r"e\.jsonl' is empty: it has no rows"):
        load_dataset(tmp_path / "e.jsonl")
    (tmp_path / "h.csv").write_text("text\n")
    with pytest.raises(ValidationError, match=r"h\.csv' is empty: it has no rows"):
        load_dataset(tmp_path / "h.csv")


def test_mixed_embedding_sizes(tmp_path):
    p = _jsonl(tmp_path / "m.jsonl", [{"e": [1, 2, 3]}, {"e": [1, 2, 3]}, {"e": [1, 2]}])
    with pytest.raises(ValidationError, match=r"m\.jsonl', row 3, column 'e': the embedding has "
                       r"2 values but row 1 has 3"):
        load_dataset(p, embedding_column="e")


def test_nan_embeddings(tmp_path):
    p = tmp_path / "n.jsonl"
    p.write_text('{"e": [1, 2]}\n{"e": [NaN, 2]}\n')
    with pytest.raises(ValidationError, match=r"n\.jsonl', row 2, column 'e': the embedding "
                       r"contains nan at position 0"):
        load_dataset(p, embedding_column="e")
    arr = np.ones((4, 3))
    arr[2, 1] = np.nan
    np.save(tmp_path / "n.npy", arr)
    with pytest.raises(ValidationError, match=r"n\.npy', row 2, .*contains nan at position 1"):
        load_dataset(tmp_path / "n.npy")


def test_undecodable_text_names_row_and_column(tmp_path):
    p = tmp_path / "u.csv"
    p.write_bytes(b"id,text\n1,fine\n2,bad \xff byte\n")
    with pytest.raises(ValidationError, match=r"u\.csv', row 2, column 'text': the text is not "
                       r"valid UTF-8 \(byte 0xff at character 4\)"):
        load_dataset(p)
    q = tmp_path / "u.jsonl"
    q.write_bytes(b'{"text": "ok"}\n{"text": "ok"}\n{"text": "x\xfe"}\n')
    with pytest.raises(ValidationError, match=r"u\.jsonl', row 3, column 'text'.*0xfe"):
        load_dataset(q)


def test_missing_text_and_bad_json(tmp_path):
    p = tmp_path / "t.jsonl"
    p.write_text('{"text": "a"}\n{"text": null}\n')
    with pytest.raises(ValidationError, match=r"row 2, column 'text': the text is missing"):
        load_dataset(p)
    p.write_text('{"text": "a"}\n{"text": \n')
    with pytest.raises(ValidationError, match=r"t\.jsonl', row 2: not valid JSON"):
        load_dataset(p)


def test_missing_file_and_format(tmp_path):
    with pytest.raises(ValidationError, match="does not exist"):
        load_dataset(tmp_path / "nope.jsonl")
    (tmp_path / "x.txt").write_text("a")
    with pytest.raises(ValidationError, match=r"unsupported format '\.txt'"):
        load_dataset(tmp_path / "x.txt")


def test_from_arrays_checks_lengths():
    with pytest.raises(ValidationError, match="`labels` has 2 entries but the dataset has 3"):
        Dataset.from_arrays(np.zeros((3, 2)), labels=["a", "b"])
