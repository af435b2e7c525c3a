"""The per-row table, the outlier score, the drop flags, and the synthetic file written
back without the flagged rows in every container and layout it was read from."""

import csv
import gzip
import io
import json
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synthgain.audit import (
    DROP_NAMES,
    Dataset,
    drop_mask,
    load_dataset,
    outlier_scores,
    parse_drop,
    row_flags,
    row_table,
    run_audit,
)
from synthgain.audit._rows import duplicate_flags
from synthgain.exceptions import ValidationError
from synthgain.report import write_audit, write_filtered_rows, write_rows

# --- the outlier score ---------------------------------------------------------------------


def test_outlier_rate_under_the_null_and_planted_outliers():
    g = np.random.default_rng(0)
    ref, syn = g.normal(size=(2000, 8)), g.normal(size=(2000, 8))
    out = outlier_scores(syn, ref, k=5, workers=1)
    # i.i.d. rows: flagged with probability about 0.01 (the cut is the 0.99 quantile of
    # the reference's own scores). Binomial sd of the share at 2000 rows: 0.0022, and the
    # cut's own sampling error about as much: sd ~0.003; 0.0075 measured here (seed 0)
    assert 0.0 < out.outlier.mean() < 0.025
    assert 0.8 < np.median(out.score) < 1.25  # a typical row: the reference's own spacing
    far = np.concatenate([syn[:95], 6.0 + g.normal(size=(5, 8))])
    res = outlier_scores(far, ref, k=5, workers=1)
    assert res.outlier[95:].all()
    assert set(np.argsort(res.score)[-5:]) == set(range(95, 100))
    # unit-free: rescaling every row leaves the scores and flags as they are
    scaled = outlier_scores(far * 7.5, ref * 7.5, k=5, workers=1)
    np.testing.assert_allclose(scaled.score, res.score, rtol=1e-9)
    assert scaled.spacing == pytest.approx(7.5 * res.spacing)


def test_outlier_k_capped_on_a_small_reference():
    g = np.random.default_rng(1)
    out = outlier_scores(g.normal(size=(10, 3)), g.normal(size=(4, 3)), k=5, workers=1)
    assert out.k == 3 and out.score.shape == (10,)


# --- the table and the flags ---------------------------------------------------------------


def _audit(texts=False, target=True):
    g = np.random.default_rng(0)
    a, t = g.normal(size=(60, 4)), g.normal(size=(60, 4))
    s = np.concatenate([a[:4] + 1e-6, g.normal(size=(52, 4)), 9.0 + g.normal(size=(4, 4))])
    kw = {} if not texts else {"texts": [f"row {i}" for i in range(60)]}
    sets = [Dataset.from_arrays(a, name="anchor", ids=[f"a{i}" for i in range(60)]),
            Dataset.from_arrays(s, name="synthetic", ids=[f"s{i}" for i in range(60)],
                                anchor_ids=[f"a{i % 60}" for i in range(60)], **kw)]
    if target:
        sets.append(Dataset.from_arrays(t, name="target"))
    return run_audit(*sets, rng=0, repeats=2, compare_rows=30, workers=1)


def test_row_table_columns_from_the_audit():
    result = _audit()
    cols = row_table(result)
    assert list(cols) == ["id", "anchor_id", "nearest_anchor_id", "nearest_anchor_distance",
                          "nearest_anchor_ratio", "near_copy", "outlier_score", "outlier",
                          "semantic_duplicate_cluster", "semantic_duplicate_cluster_size",
                          "semantic_duplicate", "topic", "topic_name"]
    assert all(c.shape == (60,) for c in cols.values())
    assert cols["id"][0] == "s0" and cols["anchor_id"][5] == "a5"
    # the planted copies of anchors 0..3 are near-copies of exactly those anchors
    assert cols["near_copy"][:4].all() and list(cols["nearest_anchor_id"][:4]) == [
        "a0", "a1", "a2", "a3"]
    assert cols["near_copy"].sum() == int(result.near_copy.sum())
    assert cols["outlier"][-4:].all()  # 9 sd away from the anchors
    assert result.row_info.outliers.reference == "anchor"
    # no text measures on arrays: their columns are left out, not filled
    assert not {"length_chars", "duplicate", "contaminated", "refusal"} & set(cols)
    flags = row_flags(result)
    assert flags["duplicate"] is None and flags["refusal"] is None
    assert flags["near-copy"][:4].all() and flags["outlier"][-4:].all()


def test_outliers_do_not_depend_on_the_target():
    with_t, without = _audit(), _audit(target=False)
    np.testing.assert_array_equal(with_t.row_info.outliers.score,
                                  without.row_info.outliers.score)
    assert row_flags(without)["outlier"][-4:].all()


def test_text_rows_become_columns_and_duplicates_keep_the_first_of_each_cluster():
    cluster = np.array([-1, 0, 0, 1, -1, 1, 0])
    size = np.array([1, 3, 3, 2, 1, 2, 3])
    text = {"duplicate_cluster": cluster, "duplicate_cluster_size": size}
    assert duplicate_flags(text).tolist() == [False, False, True, False, False, True, True]
    assert duplicate_flags({"exact_duplicate": np.array([0, 1])}).tolist() == [False, True]
    assert duplicate_flags({}) is None
    n = 7
    fake = SimpleNamespace(
        nearest_distance=np.arange(n, dtype=float), near_copy=np.zeros(n, bool),
        row_info=None, text_rows={
            "length_chars": np.arange(n), "truncated": np.zeros(n, bool),
            "empty": np.eye(1, n, 4, dtype=bool)[0], "refusal": np.eye(1, n, 6, dtype=bool)[0],
            "contaminated": np.eye(1, n, 0, dtype=bool)[0], **text})
    cols = row_table(fake)
    assert "length_tokens" not in cols  # not given: left out
    assert cols["duplicate"].tolist() == duplicate_flags(text).tolist()
    assert list(cols)[:3] == ["id", "nearest_anchor_distance", "near_copy"]
    mask, counts, missing = drop_mask(fake, ["duplicate", "refusal", "outlier"])
    assert mask.tolist() == [False, False, True, False, False, True, True]
    assert counts == {"duplicate": 3, "refusal": 1} and missing == ["outlier"]


def test_parse_drop():
    assert parse_drop("near-copy, duplicate,near-copy") == ("near-copy", "duplicate")
    assert set(parse_drop(",".join(DROP_NAMES))) == set(DROP_NAMES)
    with pytest.raises(ValidationError, match=r"`--drop` got 'near-copy,copies': unknown "
                       r"name 'copies'\. Valid names: near-copy, duplicate, "
                       r"semantic-duplicate, contaminated, empty, refusal, pii, language-drift, "
                           r"outlier"):
        parse_drop("near-copy,copies")
    with pytest.raises(ValidationError, match="no name"):
        parse_drop(" , ")


def test_write_rows_parquet_and_csv(tmp_path):
    result = _audit()
    paths = write_audit(result, tmp_path)
    assert {"rows_parquet", "rows_csv"} <= set(paths)
    table = pq.read_table(paths["rows_parquet"])
    cols = row_table(result)
    assert table.column_names == list(cols)
    assert table.column("id").to_pylist() == list(cols["id"])
    np.testing.assert_array_equal(table.column("outlier_score").to_numpy(),
                                  cols["outlier_score"])
    with open(paths["rows_csv"], newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 60 and rows[0]["id"] == "s0" and rows[0]["near_copy"] == "true"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # atomic
    write_rows(result, tmp_path)  # rewriting over existing files works
    doc = json.loads(paths["metrics"].read_text())
    assert doc["verdict"]["problems"][0]["name"] in ("near-copy", "outlier")


# --- the synthetic file written back without the flagged rows ---------------------------

ROWS = {
    "text": [{"id": f"r{i}", "text": f"row {i} caf\u00e9", "score": i / 3} for i in range(6)],
    "alpaca": [{"id": f"r{i}", "instruction": "Add.", "input": f"{i} and 2",
                "output": str(i + 2), "anchor_id": f"a{i}"} for i in range(6)],
    "chat": [{"messages": [{"role": "user", "content": f"q{i}"},
                           {"role": "assistant", "content": f"answer {i}"}],
              "id": i} for i in range(6)],
    "sharegpt": [{"conversations": [{"from": "human", "value": f"q{i}"},
                                    {"from": "gpt", "value": f"answer {i}"}]}
                 for i in range(6)],
    "preference": [{"prompt": f"p{i}", "chosen": f"good {i}", "rejected": f"bad {i}"}
                   for i in range(6)],
}
KEEP = np.array([True, False, True, True, False, True])


def _write(path, rows, fmt, gz=False):
    if fmt == "jsonl":
        data = "".join(json.dumps(r, separators=(", ", ": ")) + "\n" for r in rows).encode()
    elif fmt == "json":
        data = json.dumps(rows, indent=4).encode()
    elif fmt == "csv":
        buf = io.StringIO(newline="")
        w = csv.DictWriter(buf, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows({k: json.dumps(v) if isinstance(v, list) else v for k, v in r.items()}
                    for r in rows)
        data = buf.getvalue().encode()
    else:
        table = pa.Table.from_pylist(rows)
        sink = pa.BufferOutputStream()
        if fmt == "parquet":
            pq.write_table(table, sink)
        else:
            with pa.ipc.new_stream(sink, table.schema) as w:
                w.write_table(table)
        data = sink.getvalue().to_pybytes()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def _records(path):
    """The records of a file as plain objects, whatever its container."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    name = path.name.removesuffix(".gz")
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in data.decode().splitlines()]
    if name.endswith(".json"):
        return json.loads(data)
    if name.endswith(".csv"):
        return list(csv.DictReader(io.StringIO(data.decode(), newline="")))
    if name.endswith(".parquet"):
        return pq.read_table(pa.BufferReader(data)).to_pylist()
    return pa.ipc.open_stream(data).read_all().to_pylist()


@pytest.mark.parametrize("layout", list(ROWS))
@pytest.mark.parametrize("fmt,gz", [("jsonl", False), ("jsonl", True), ("json", False),
                                    ("csv", False), ("csv", True), ("parquet", False),
                                    ("arrow", False)])
def test_written_back_in_its_layout_and_container(tmp_path, layout, fmt, gz):
    ext = f".{fmt}" + (".gz" if gz else "")
    src = _write(tmp_path / f"s{ext}", ROWS[layout], fmt, gz)
    ds = load_dataset(src, keep_records=True)
    assert ds.container_suffix == ext
    out = write_filtered_rows(ds, KEEP, tmp_path / f"filtered{ext}")
    back = load_dataset(out)
    assert back.meta["layout"] == ds.meta["layout"] == layout
    assert back.texts == [t for t, k in zip(ds.texts, KEEP, strict=True) if k]
    if "id" in ROWS[layout][0]:  # (without an id column the ids are the row indices)
        assert back.ids == [i for i, k in zip(ds.ids, KEEP, strict=True) if k]
    # the kept records are the originals, field for field and type for type
    assert _records(out) == [r for r, k in zip(_records(src), KEEP, strict=True) if k]
    if fmt == "jsonl":  # each kept line byte for byte
        lines = (gzip.decompress(src.read_bytes()) if gz else src.read_bytes()).splitlines()
        got = (gzip.decompress(out.read_bytes()) if gz else out.read_bytes()).splitlines()
        assert got == [line for line, k in zip(lines, KEEP, strict=True) if k]
    if fmt == "parquet":
        assert pq.read_table(out).schema == pq.read_table(src).schema


def test_npy_and_json_lines_in_a_json_file(tmp_path):
    emb = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
    np.save(tmp_path / "e.npy", emb)
    ds = load_dataset(tmp_path / "e.npy", keep_records=True)
    out = write_filtered_rows(ds, KEEP, tmp_path / "f.npy")
    back = np.load(out)
    assert back.dtype == np.float32 and np.array_equal(back, emb[KEEP])
    # a .json file holding JSON Lines (datasets' to_json) is written back as JSON Lines
    src = tmp_path / "s.json"
    src.write_text("".join(json.dumps(r) + "\n" for r in ROWS["alpaca"]))
    out = write_filtered_rows(load_dataset(src, keep_records=True), KEEP, tmp_path / "f.json")
    assert out.read_text().splitlines() == [
        line for line, k in zip(src.read_text().splitlines(), KEEP, strict=True) if k]


def test_directory_of_shards_becomes_one_file_of_the_first_shards_container(tmp_path):
    d = tmp_path / "shards"
    d.mkdir()
    _write(d / "train-00000-of-00002.parquet", ROWS["alpaca"][:4], "parquet")
    _write(d / "train-00001-of-00002.parquet", ROWS["alpaca"][4:], "parquet")
    ds = load_dataset(d, keep_records=True)
    assert ds.container_suffix == ".parquet"
    out = write_filtered_rows(ds, KEEP, tmp_path / "filtered.parquet")
    assert pq.read_table(out).to_pylist() == [r for r, k in zip(ROWS["alpaca"], KEEP,
                                                                strict=True) if k]


def test_written_back_errors(tmp_path):
    src = _write(tmp_path / "s.jsonl", ROWS["text"], "jsonl")
    with pytest.raises(ValidationError, match=r"keep_records=True"):
        load_dataset(src).encode_rows(KEEP)
    ds = load_dataset(src, keep_records=True)
    with pytest.raises(ValidationError, match=r"`--write-filtered` got '.*f\.jsonl\.gz': the "
                       r"synthetic data was read as \.jsonl .* must end in \.jsonl"):
        write_filtered_rows(ds, KEEP, tmp_path / "f.jsonl.gz", "--write-filtered")
    with pytest.raises(ValidationError, match="`keep` has 3 entries but the records have 6"):
        ds.encode_rows(KEEP[:3])


def test_outlier_scores_from_the_near_copy_search_equal_their_own_search():
    # the audit passes the k-th distances of the near-copy search (one search of the
    # anchors for both); they must give the scores a search of its own gives
    from synthgain.audit._metrics import novelty
    from synthgain.audit._rows import outlier_scores

    g = np.random.default_rng(11)
    a, s = g.normal(size=(200, 16)), g.normal(size=(500, 16)) * 1.3
    nov = novelty(a, s, k=5)
    own = outlier_scores(s, a, k=5)
    shared = outlier_scores(s, a, k=5, distances=nov.kth_distance)
    np.testing.assert_allclose(shared.score, own.score, rtol=1e-9)
    assert (shared.outlier == own.outlier).all()
    one = novelty(a, s)
    np.testing.assert_array_equal(one.nearest, nov.nearest)
    np.testing.assert_allclose(one.distance, nov.distance, rtol=1e-12)
    assert one.kth_distance is None
