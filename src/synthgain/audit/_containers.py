"""The containers of row data: JSON Lines, JSON, CSV, Parquet, Arrow, gzip, directories.

Each reader turns a file's bytes into a list of dicts, one per row, each carrying its
1-based row number (:data:`~._layouts.ROW`) and its file (:data:`~._layouts.FILE`);
errors name the file and the row.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..exceptions import ValidationError
from ._layouts import FILE, ROW

SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv",
            ".parquet": "parquet", ".pq": "parquet", ".arrow": "arrow", ".npy": "npy"}
FORMATS = ".jsonl, .json, .csv, .parquet, .arrow or .npy (each optionally .gz)"
#: Files of a saved Hugging Face dataset that describe it and hold no rows.
METADATA_FILES = frozenset({"dataset_info.json", "state.json", "dataset_dict.json"})
#: Shard names of a Hub export: ``train-00000-of-00003.parquet``.
SPLIT_SHARD = re.compile(r"^(?P<split>[A-Za-z][\w.]*?)-\d+-of-\d+")


def container_of(p: Path) -> tuple[str | None, bool]:
    """The container of a file from its suffixes (None if unknown), and whether gzipped."""
    suffixes = [s.lower() for s in p.suffixes]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    if gz:
        suffixes = suffixes[:-1]
    return (SUFFIXES.get(suffixes[-1]) if suffixes else None), gz


def read_bytes(p: Path, gz: bool) -> bytes:
    data = p.read_bytes()
    if not gz or not data:
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValidationError(
            f"File '{p}' is not a readable gzip file ({exc}). Compress it with gzip, or "
            "drop the .gz from its name if it is not compressed."
        ) from None


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="surrogateescape").lstrip("\ufeff")


def _object_rows(objs: Sequence[Any], path: Path, rownums: Sequence[int],
                 what: str) -> list[dict[str, Any]]:
    rows = []
    for obj, row in zip(objs, rownums, strict=True):
        if not isinstance(obj, dict):
            raise ValidationError(
                f"File '{path}', row {row}: expected a JSON object, got "
                f"{type(obj).__name__}. {what}"
            )
        obj[ROW], obj[FILE] = row, path
        rows.append(obj)
    return rows


def _read_jsonl(data: bytes, path: Path) -> list[dict[str, Any]]:
    objs, rownums = [], []
    for lineno, line in enumerate(_decode(data).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            objs.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ValidationError(
                f"File '{path}', row {lineno}: not valid JSON ({exc.msg} at character "
                f"{exc.pos}). Each line must be one JSON object."
            ) from None
        rownums.append(lineno)
    return _object_rows(objs, path, rownums, "Each line must be one JSON object.")


def _read_json(data: bytes, path: Path) -> list[dict[str, Any]]:
    """An array of objects (row = the element, 1-based), else JSON Lines."""
    text = _decode(data)
    if not text.lstrip().startswith("["):
        try:
            return _read_jsonl(data, path)
        except ValidationError:
            try:
                whole = json.loads(text)
            except json.JSONDecodeError:
                raise ValidationError(
                    f"File '{path}': not valid JSON Lines, nor one JSON document. A .json file "
                    "must hold an array of objects ([{...}, ...]) or one object per line."
                ) from None
            raise ValidationError(
                f"File '{path}' holds one JSON {type(whole).__name__}, not an array of "
                "objects or one object per line. Write the rows as an array ([{...}, ...]) "
                "or as JSON Lines (pandas: to_json(orient='records', lines=True))."
            ) from None
    try:
        objs = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"File '{path}', line {exc.lineno}, column {exc.colno}: not valid JSON "
            f"({exc.msg}). A .json file must hold one array of objects."
        ) from None
    return _object_rows(objs, path, range(1, len(objs) + 1),
                        "A .json file must hold an array of objects.")


def _read_csv(data: bytes, path: Path) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(_decode(data), newline=""))
    rows = []
    for i, row in enumerate(reader, start=1):
        row = dict(row)
        row[ROW], row[FILE] = i, path
        rows.append(row)
    return rows


def _table_rows(table: Any, path: Path) -> list[dict[str, Any]]:
    rows = table.to_pylist()
    for i, row in enumerate(rows, start=1):
        row[ROW], row[FILE] = i, path
    return rows


def _read_parquet(data: bytes, path: Path) -> list[dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(data))
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise ValidationError(f"File '{path}' is not a readable Parquet file: {exc}") from None
    return _table_rows(table, path)


def _read_arrow(data: bytes, path: Path) -> list[dict[str, Any]]:
    """An Arrow IPC stream (what ``save_to_disk`` writes) or an Arrow IPC file."""
    import pyarrow as pa

    try:
        table = pa.ipc.open_stream(data).read_all()
    except Exception:
        try:
            table = pa.ipc.open_file(data).read_all()
        except Exception as exc:
            raise ValidationError(
                f"File '{path}' is not a readable Arrow file (IPC stream or file): {exc}"
            ) from None
    return _table_rows(table, path)


READERS = {"jsonl": _read_jsonl, "json": _read_json, "csv": _read_csv,
            "parquet": _read_parquet, "arrow": _read_arrow}


def read_rows(p: Path) -> list[dict[str, Any]]:
    """The rows of one file of a row container ([] when it has none)."""
    kind, gz = container_of(p)
    data = read_bytes(p, gz)
    return READERS[str(kind)](data, p) if data else []


def shards_of(d: Path) -> list[Path]:
    """The data files of a directory of shards, in name order; errors say what is there."""
    files = sorted(f for f in d.iterdir() if f.is_file() and not f.name.startswith("."))
    shards = [f for f in files if f.name not in METADATA_FILES
              and container_of(f)[0] not in (None, "npy")]
    if not shards:
        splits = sorted(s.name for s in d.iterdir() if s.is_dir() and any(
            container_of(f)[0] not in (None, "npy") for f in s.iterdir() if f.is_file()))
        if splits:
            raise ValidationError(
                f"Directory '{d}' holds no shards itself, but its folders "
                f"{', '.join(map(repr, splits))} do (a saved DatasetDict or one folder per "
                f"split). Pass one of them, e.g. '{d / splits[0]}'."
            )
        found = ", ".join(repr(f.name) for f in files[:8]) or "none"
        raise ValidationError(
            f"Directory '{d}' holds no readable shard (files found: {found}). A directory "
            "must hold shards of one format: .jsonl, .json, .csv, .parquet or .arrow (each "
            "optionally .gz). Pass such a directory, or one file."
        )
    kinds: dict[str, int] = {}
    for f in shards:
        kinds[str(container_of(f)[0])] = kinds.get(str(container_of(f)[0]), 0) + 1
    if len(kinds) > 1:
        listed = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        raise ValidationError(
            f"Directory '{d}' mixes shard formats ({listed}). Keep the shards of one dataset "
            "in one format, in a directory of their own."
        )
    splits = sorted({m["split"] for f in shards if (m := SPLIT_SHARD.match(f.name))})
    if len(splits) > 1:
        raise ValidationError(
            f"Directory '{d}' holds the shards of several splits ({', '.join(splits)}). "
            "Move each split's shards into a directory of its own and pass one."
        )
    return shards
