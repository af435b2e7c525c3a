"""The SQLite results store: round trip, one transaction per task, corrupt and foreign files."""

import sqlite3

import numpy as np
import pandas as pd
import pytest

from synthgain.exceptions import SynthgainError, ValidationError
from synthgain.experiments.store import StoreError, SweepStore, TaskOutcome, check_record

POINTS = [(0, 0, {"mu": 0.0, "n": 5}), (1, 0, {"mu": 1.5, "n": 5})]


def _store(tmp_path, name="results.sqlite"):
    return SweepStore.create(tmp_path / name, config_digest="abc", protocol="p", points=POINTS, n_tasks=4)


def _ok(task, point, start, stop, value=0.5):
    rows = tuple(
        (r, i, "7", f"{point},{r}", {"estimator": est, "value": value + r, "flag": True})
        for r in range(start, stop)
        for i, est in enumerate(("mean", "median"))
    )
    return TaskOutcome(task, point, start, stop, rows=rows, elapsed=0.1)


def test_round_trip_sorted_with_params(tmp_path):
    with _store(tmp_path) as store:
        store.commit(_ok(3, 1, 2, 4))
        store.commit(_ok(0, 0, 0, 2, value=1 / 3))
        assert store.done_tasks() == {0, 3}
        assert store.task_counts() == {"ok": 2}
        t = store.table()
    assert list(t.columns[:8]) == ["point", "block", "replicate", "item", "status", "error", "seed_entropy", "seed_key"]
    assert list(t.columns[8:]) == ["param_mu", "param_n", "estimator", "value", "flag"]
    assert list(zip(t.point, t.replicate, t.item, strict=True)) == [
        (0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 1, 1), (1, 2, 0), (1, 2, 1), (1, 3, 0), (1, 3, 1)
    ]
    assert t.value.iloc[0] == 1 / 3  # exact float round trip through JSON
    assert (t.param_mu.to_numpy() == np.array([0.0] * 4 + [1.5] * 4)).all()
    assert t.seed_key.iloc[-1] == "1,3" and (t.status == "ok").all()


def test_wal_mode_and_meta(tmp_path):
    with _store(tmp_path) as store:
        assert store.meta["format"] == "synthgain-sweep" and store.meta["n_tasks"] == "4"
    conn = sqlite3.connect(tmp_path / "results.sqlite")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_failed_task_is_one_row_and_is_replaced_on_retry(tmp_path):
    with _store(tmp_path) as store:
        store.commit(TaskOutcome(1, 0, 2, 4, error="ValueError: boom"))
        t = store.table()
        assert len(t) == 1 and t.status.iloc[0] == "failed" and t.error.iloc[0] == "ValueError: boom"
        assert t.replicate.iloc[0] == 2 and store.done_tasks() == set()
        store.commit(_ok(1, 0, 2, 4))
        t = store.table()
        assert len(t) == 4 and (t.status == "ok").all() and store.task_counts() == {"ok": 1}


def test_recommitting_a_task_leaves_no_duplicates(tmp_path):
    with _store(tmp_path) as store:
        store.commit(_ok(0, 0, 0, 2))
        store.commit(_ok(0, 0, 0, 2))
        assert len(store.table()) == 4


def test_a_task_is_all_or_nothing(tmp_path):
    bad = _ok(2, 1, 0, 2)
    dup = TaskOutcome(2, 1, 0, 2, rows=(*bad.rows, bad.rows[0]))  # same key twice
    with _store(tmp_path) as store:
        with pytest.raises(sqlite3.IntegrityError):
            store.commit(dup)
        assert store.done_tasks() == set() and len(store.table()) == 0


def test_export_parquet_and_csv_round_trip(tmp_path):
    with _store(tmp_path) as store:
        store.commit(_ok(0, 0, 0, 2, value=0.1))
        store.commit(TaskOutcome(1, 1, 0, 2, error="RuntimeError: x"))
        t = store.table()
        store.export(tmp_path / "r.parquet")
        store.export(tmp_path / "r.csv")
        store.export(tmp_path / "r.txt", format="csv")
        with pytest.raises(ValidationError, match=r"`format` must be 'parquet' or 'csv'.*Got None for '.*r\.xlsx'"):
            store.export(tmp_path / "r.xlsx")
    back_pq = pd.read_parquet(tmp_path / "r.parquet")
    # a bool column with a missing cell comes back from Parquet with NaN for None
    pd.testing.assert_frame_equal(back_pq.drop(columns="flag"), t.drop(columns="flag"))
    assert back_pq.flag.tolist()[:4] == [True] * 4 and pd.isna(back_pq.flag.iloc[4])
    back = pd.read_csv(tmp_path / "r.csv", dtype={"seed_entropy": str, "seed_key": str})
    np.testing.assert_array_equal(back.value.to_numpy()[:4], t.value.to_numpy()[:4])  # exact
    assert (tmp_path / "r.csv").read_bytes() == (tmp_path / "r.txt").read_bytes()


def test_create_refuses_existing_and_open_needs_file(tmp_path):
    _store(tmp_path).close()
    with pytest.raises(StoreError, match="already exists; refusing to overwrite"):
        _store(tmp_path)
    with pytest.raises(StoreError, match="no results store at"):
        SweepStore.open(tmp_path / "nothing.sqlite")


def test_garbage_file_is_a_clear_error(tmp_path):
    path = tmp_path / "results.sqlite"
    path.write_bytes(np.random.default_rng(0).bytes(10_000))
    with pytest.raises(StoreError, match=r"is not a readable SQLite database .*corrupt or not a synthgain results store"):
        SweepStore.open(path)
    assert issubclass(StoreError, SynthgainError)


def test_foreign_sqlite_database_is_refused(tmp_path):
    path = tmp_path / "results.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE songs (title TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match=r"is an SQLite database but not a synthgain results store \(tables: songs\)"):
        SweepStore.open(path)


def test_damaged_store_is_refused(tmp_path):
    with _store(tmp_path) as store:
        for task in range(40):
            store.commit(_ok(task, task, 0, 50))
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path = tmp_path / "results.sqlite"
    data = bytearray(path.read_bytes())
    assert len(data) > 8 * 4096
    data[3 * 4096 : 6 * 4096] = b"\x5a" * (3 * 4096)  # overwrite b-tree pages
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=r"(is corrupt \(SQLite integrity check|not a readable SQLite database)"):
        SweepStore.open(path)


def test_newer_format_version_is_refused(tmp_path):
    with _store(tmp_path) as store:
        store._conn.execute("UPDATE meta SET value = '99' WHERE key = 'format_version'")
    with pytest.raises(StoreError, match="has store format version 99; this version of synthgain reads version 1"):
        SweepStore.open(tmp_path / "results.sqlite")


def test_check_record():
    rec = check_record({"a": np.float64(0.25), "b": np.int64(3), "c": None, "d": "x"}, "here")
    assert rec == {"a": 0.25, "b": 3, "c": None, "d": "x"} and type(rec["a"]) is float
    with pytest.raises(ValidationError, match=r"here: record field 'v' must be a scalar .*got ndarray"):
        check_record({"v": np.zeros(3)}, "here")
    with pytest.raises(ValidationError, match=r"here: record key 'point' is not allowed"):
        check_record({"point": 1}, "here")
