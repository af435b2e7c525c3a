"""The results store: one embedded SQLite file per run directory.

The file (``results.sqlite``) is written only by the process driving the sweep, in
WAL mode; every finished task's rows and its bookkeeping entry are committed in one
transaction, so a run killed at any instant (SIGKILL included) holds whole tasks only
and resumes by computing the tasks that have no entry. A failed task is stored as one
row with status ``"failed"`` and its error; it is computed again on resume.

Tables
------
``meta(key, value)``
    ``format`` (``"synthgain-sweep"``), ``format_version``, ``config_digest``,
    ``protocol``, ``n_tasks``.
``points(point, block, params)``
    Each grid point's resolved parameters as JSON.
``tasks(task, point, start, stop, status, error, elapsed, finished)``
    One entry per finished task (timings live here, not in the results table).
``rows(point, replicate, item, task, status, error, seed_entropy, seed_key, record)``
    The results: one row per (point, replicate, record), ``record`` a JSON object.
    The primary key ``(point, replicate, item)`` forbids duplicates.
"""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ..exceptions import SynthgainError, ValidationError
from .provenance import CONFIG_NAME, RUN_NAME, check_output, write_bytes_atomic

__all__ = ["STORE_NAME", "StoreError", "SweepStore", "TaskOutcome"]

STORE_NAME = "results.sqlite"
FORMAT = "synthgain-sweep"
FORMAT_VERSION = 1
ENGINE_COLUMNS = (
    "point", "block", "replicate", "item", "status", "error", "seed_entropy", "seed_key",
)  # fmt: skip

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE points (point INTEGER PRIMARY KEY, block INTEGER NOT NULL, params TEXT NOT NULL);
CREATE TABLE tasks (
    task INTEGER PRIMARY KEY, point INTEGER NOT NULL, start INTEGER NOT NULL,
    stop INTEGER NOT NULL, status TEXT NOT NULL, error TEXT, elapsed REAL, finished TEXT
);
CREATE TABLE rows (
    point INTEGER NOT NULL, replicate INTEGER NOT NULL, item INTEGER NOT NULL,
    task INTEGER NOT NULL, status TEXT NOT NULL, error TEXT,
    seed_entropy TEXT, seed_key TEXT, record TEXT NOT NULL,
    PRIMARY KEY (point, replicate, item)
);
"""


class StoreError(SynthgainError):
    """The store file is missing, corrupt, foreign or belongs to another sweep."""


@dataclass(frozen=True)
class TaskOutcome:
    """What a worker sends back for one task.

    ``rows`` holds ``(replicate, item, seed_entropy, seed_key, record)`` tuples when the
    task succeeded; ``error`` the error text when it failed.
    """

    task: int
    point: int
    start: int
    stop: int
    rows: tuple[tuple[int, int, str, str, dict[str, Any]], ...] = ()
    error: str | None = None
    elapsed: float = 0.0


def _dumps(record: Mapping[str, Any]) -> str:
    # repr-exact floats; NaN and infinities kept (Python's JSON extension)
    return json.dumps(record, allow_nan=True, separators=(",", ":"))


class SweepStore:
    """An open results store. Use :meth:`create` or :meth:`open`; close with :meth:`close`."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn

    # -- opening ---------------------------------------------------------------------

    @classmethod
    def create(
        cls, path: str | Path, *, config_digest: str, protocol: str,
        points: Sequence[tuple[int, int, dict[str, Any]]], n_tasks: int,
    ) -> SweepStore:  # fmt: skip
        """Create a new store at ``path`` (which must not exist)."""
        path = Path(path)
        if path.exists():
            raise StoreError(f"{path} already exists; refusing to overwrite a results store")
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        with _transaction(conn):
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    conn.execute(stmt)
            meta = {
                "format": FORMAT, "format_version": str(FORMAT_VERSION),
                "config_digest": config_digest, "protocol": protocol, "n_tasks": str(n_tasks),
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
            }  # fmt: skip
            conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
            conn.executemany(
                "INSERT INTO points VALUES (?, ?, ?)",
                [(i, b, json.dumps(p, sort_keys=True)) for i, b, p in points],
            )
        return cls(path, conn)

    @classmethod
    def open(cls, path: str | Path, *, readonly: bool = False) -> SweepStore:
        """Open an existing store, checking that it is an intact synthgain store."""
        path = Path(path)
        if not path.is_file():
            raise StoreError(f"no results store at {path}")
        uri = f"{path.resolve().as_uri()}?mode={'ro' if readonly else 'rw'}"
        try:
            conn = sqlite3.connect(uri, uri=True, isolation_level=None)
            ok = conn.execute("PRAGMA quick_check").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{path} is not a readable SQLite database ({exc}); the file is corrupt or not "
                "a synthgain results store. Start the sweep in a new directory (--out)."
            ) from None
        if ok != "ok":
            conn.close()
            raise StoreError(
                f"{path} is corrupt (SQLite integrity check: {ok}). Start the sweep in a new "
                "directory (--out)."
            )
        meta = {}
        if "meta" in tables:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("format") != FORMAT or not {"points", "tasks", "rows"} <= tables:
            conn.close()
            raise StoreError(
                f"{path} is an SQLite database but not a synthgain results store "
                f"(tables: {', '.join(sorted(tables)) or 'none'}). Use another --out directory."
            )
        if int(meta.get("format_version", "0")) != FORMAT_VERSION:
            conn.close()
            raise StoreError(
                f"{path} has store format version {meta.get('format_version')}; this version of "
                f"synthgain reads version {FORMAT_VERSION}."
            )
        if not readonly:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        return cls(path, conn)

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> SweepStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------

    @property
    def meta(self) -> dict[str, str]:
        """The ``meta`` table as a dict."""
        return dict(self._conn.execute("SELECT key, value FROM meta").fetchall())

    def done_tasks(self) -> set[int]:
        """Tasks that finished successfully (those a resume skips)."""
        return {r[0] for r in self._conn.execute("SELECT task FROM tasks WHERE status = 'ok'")}

    def records(self) -> dict[int, list[dict[str, Any]]]:
        """Each successful task's records, in (replicate, item) order, as stored."""
        cur = self._conn.execute(
            "SELECT rows.task, rows.record FROM rows JOIN tasks ON rows.task = tasks.task "
            "WHERE tasks.status = 'ok' ORDER BY rows.task, rows.replicate, rows.item"
        )
        out: dict[int, list[dict[str, Any]]] = {}
        for task, rec in cur:
            out.setdefault(task, []).append(json.loads(rec))
        return out

    def task_counts(self) -> dict[str, int]:
        """Number of finished tasks by status."""
        return dict(self._conn.execute("SELECT status, COUNT(*) FROM tasks GROUP BY status").fetchall())

    def task_table(self) -> pd.DataFrame:
        """The ``tasks`` table (with timings), sorted by task."""
        return pd.read_sql_query("SELECT * FROM tasks ORDER BY task", self._conn)

    def table(self) -> pd.DataFrame:
        """The results as one tidy table, sorted canonically by (point, replicate, item).

        Columns: ``point, block, replicate, item, status, error, seed_entropy,
        seed_key``, one ``param_<name>`` column per parameter, then the record fields
        in order of first appearance.
        """
        points = {
            p: (b, json.loads(s))
            for p, b, s in self._conn.execute("SELECT point, block, params FROM points")
        }
        cur = self._conn.execute(
            "SELECT point, replicate, item, status, error, seed_entropy, seed_key, record "
            "FROM rows ORDER BY point, replicate, item"
        )
        records = []
        for point, rep, item, status, error, ent, key, rec in cur:
            block, params = points[point]
            row = {"point": point, "block": block, "replicate": rep, "item": item,
                   "status": status, "error": error, "seed_entropy": ent, "seed_key": key}  # fmt: skip
            row.update({f"param_{k}": _cell(v) for k, v in params.items()})
            row.update(json.loads(rec))
            records.append(row)
        columns = list(ENGINE_COLUMNS)
        for p in sorted({k for _, (_, params) in points.items() for k in params}):
            columns.append(f"param_{p}")
        for r in records:
            columns.extend(k for k in r if k not in columns)
        return pd.DataFrame.from_records(records, columns=columns)

    # -- writing ---------------------------------------------------------------------

    def commit(self, outcome: TaskOutcome) -> None:
        """Store one finished task, its rows and its entry, in one transaction."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        status = "ok" if outcome.error is None else "failed"
        with _transaction(self._conn):
            # a resumed failed task replaces its earlier failure
            self._conn.execute("DELETE FROM rows WHERE task = ?", (outcome.task,))
            self._conn.execute("DELETE FROM tasks WHERE task = ?", (outcome.task,))
            self._conn.execute(
                "INSERT INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (outcome.task, outcome.point, outcome.start, outcome.stop, status,
                 outcome.error, outcome.elapsed, now),
            )  # fmt: skip
            if outcome.error is not None:
                self._conn.execute(
                    "INSERT INTO rows VALUES (?, ?, 0, ?, 'failed', ?, NULL, NULL, '{}')",
                    (outcome.point, outcome.start, outcome.task, outcome.error),
                )
                return
            self._conn.executemany(
                "INSERT INTO rows VALUES (?, ?, ?, ?, 'ok', NULL, ?, ?, ?)",
                [(outcome.point, rep, item, outcome.task, ent, key, _dumps(rec))
                 for rep, item, ent, key, rec in outcome.rows],
            )  # fmt: skip

    # -- export ----------------------------------------------------------------------

    def export(self, path: str | Path, *, format: str | None = None) -> Path:
        """Write :meth:`table` to ``path`` as Parquet or CSV (chosen by suffix or ``format``),
        atomically; ``path`` may not be the store or the run's ``config.json`` or
        ``run.json``."""
        path = Path(path)
        fmt = format or {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}.get(
            path.suffix.lower()
        )
        if fmt not in ("parquet", "csv"):
            raise ValidationError(
                f"`format` must be 'parquet' or 'csv' (or a path ending in .parquet or .csv). "
                f"Got {format!r} for {str(path)!r} instead."
            )
        run_files = [self.path.parent / n for n in (CONFIG_NAME, RUN_NAME)]
        check_output(path, "`path`", directory=False,
                     inputs=[self.path, *(p for p in run_files if p.exists())])
        table = self.table()
        buf = io.BytesIO()
        if fmt == "parquet":
            table.to_parquet(buf, index=False)
        else:
            buf.write(table.to_csv(index=False).encode())  # floats as repr: exact round trip
        write_bytes_atomic(path, buf.getvalue())
        return path


def _cell(value: Any) -> Any:
    """A parameter value as a table cell (lists become comma-joined text)."""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return value


class _transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error) on an autocommit connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")


def check_record(record: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Return ``record`` with numpy scalars made plain; raise if a key is reserved or a
    value is not a scalar."""
    for key in record:
        if not isinstance(key, str) or key in ENGINE_COLUMNS or key.startswith("param_"):
            raise ValidationError(
                f"{where}: record key {key!r} is not allowed (reserved or not a string)"
            )
    return plain_record(record, where)


def plain_record(record: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Return ``record`` with numpy scalars made plain; raise if a value is not a scalar."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
            value = value.item()
        if value is not None and not isinstance(value, bool | int | float | str):
            raise ValidationError(
                f"{where}: record field {key!r} must be a scalar (number, string, bool or "
                f"None), got {type(value).__name__}"
            )
        out[key] = value
    return out

