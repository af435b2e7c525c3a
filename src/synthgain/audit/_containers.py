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
from dataclasses import dataclass
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
#: The csv reader's key for the cells of a row beyond its header.
_EXTRA = "\0extra"


def container_of(p: Path) -> tuple[str | None, bool]:
    """The container of a file from its suffixes (None if unknown), and whether gzipped."""
    suffixes = [s.lower() for s in p.suffixes]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    if gz:
        suffixes = suffixes[:-1]
    return (SUFFIXES.get(suffixes[-1]) if suffixes else None), gz


#: Byte-order marks of the encodings that are not UTF-8 (UTF-32 before UTF-16: it
#: starts with the same two bytes).
_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
         (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))


def read_bytes(p: Path, gz: bool) -> bytes:
    """The bytes of a file, decompressed when ``gz``; a text file in UTF-16 or UTF-32 (a
    byte-order mark says so) is an error naming the encoding."""
    data = p.read_bytes()
    if gz and data:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValidationError(
                f"File '{p}' is not a readable gzip file ({exc}). Compress it with gzip, or "
                "drop the .gz from its name if it is not compressed."
            ) from None
    if container_of(p)[0] not in ("npy", "parquet", "arrow"):
        for bom, name in _BOMS:
            if data.startswith(bom):
                raise ValidationError(
                    f"File '{p}' is encoded in {name} (it starts with a {name} byte-order "
                    "mark); synthgain reads text files as UTF-8. Re-encode it as UTF-8 "
                    f"(e.g. iconv -f {name} -t UTF-8).")
    return data


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
    """The rows of a CSV file; a row with more or fewer cells than the header is an error
    (the csv module would cut the extra cells off, or fill the missing ones with None)."""
    reader = csv.DictReader(io.StringIO(_decode(data), newline=""), restkey=_EXTRA)
    rows = []
    for i, row in enumerate(reader, start=1):
        row = dict(row)
        extra = row.pop(_EXTRA, None)
        missing = [k for k, v in row.items() if v is None]
        if extra is not None or missing:
            header = len(reader.fieldnames or [])
            cells = header + len(extra) if extra is not None else header - len(missing)
            raise ValidationError(
                f"File '{path}', row {i}: the row has {cells} cell(s) but the header has "
                f"{header} column(s). Quote cells that hold a comma (\"a, b\"), or fix the "
                "row: synthgain does not cut off or fill in cells.")
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


def read_rows(p: str | Path) -> list[dict[str, Any]]:
    """The rows of one file of a row container ([] when it has none); ``p`` a path or
    a string.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> from synthgain.audit import read_rows
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "rows.json"
    >>> _ = path.write_text(json.dumps([{"text": "a"}, {"text": "b"}]))
    >>> [r["text"] for r in read_rows(path)]
    ['a', 'b']
    """
    p = Path(p)
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
    nested = sorted(s.name for s in d.iterdir() if s.is_dir() and not s.name.startswith(".")
                    and any(container_of(f)[0] is not None for f in s.rglob("*")
                            if f.is_file()))
    if nested:
        raise ValidationError(
            f"Directory '{d}' holds shards and also folders with data files "
            f"({', '.join(map(repr, nested))}), which are not read: a directory is read "
            "one level deep. Move those files next to the shards, or pass each folder on "
            "its own.")
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


# --- the records as read, to write a subset of them back --------------------------------


@dataclass(frozen=True)
class SourceRecords:
    """The records of a file (or of the shards of a directory) as they were read.

    Enough to write a subset of the rows back in the same container and layout, each
    record untouched: JSON Lines keeps each row's line as it was, a JSON array its
    objects, CSV its header and cells (strings, as read), Parquet and Arrow their tables
    (types and schema metadata included), ``.npy`` its array (dtype included).

    Attributes
    ----------
    container : str
        ``jsonl``, ``json``, ``csv``, ``parquet``, ``arrow`` or ``npy`` (a directory: the
        container of its first shard with rows).
    gzip : bool
        Whether the file (the first shard) was gzip-compressed.
    parts : list
        One entry per file read, in row order: a list of lines (JSON Lines, and a
        ``.json`` file holding JSON Lines), a list of objects (a JSON array), ``(header,
        rows)`` (CSV), a ``pyarrow.Table`` (Parquet, Arrow) or an ndarray (``.npy``).
    style : str
        ``lines`` or ``array`` for ``.json``; ``stream`` or ``file`` for Arrow IPC.
    """

    container: str
    gzip: bool
    parts: list[Any]
    style: str = ""

    def __len__(self) -> int:
        return sum(len(p[1]) if isinstance(p, tuple) else len(p) for p in self.parts)

    @property
    def suffix(self) -> str:
        """The file name ending of this container: ``.jsonl.gz``, ``.parquet``, ..."""
        return f".{self.container}" + (".gz" if self.gzip else "")


def source_records(p: Path, kind: str, gz: bool, data: bytes | None = None) -> SourceRecords:
    """The records of one file, kept for :func:`encode_records` (``data``: its bytes,
    decompressed, when already read)."""
    if data is None:
        data = read_bytes(p, gz)
    if kind == "npy":
        import numpy as np

        return SourceRecords(kind, gz, [np.load(io.BytesIO(data), allow_pickle=False)])
    if kind == "jsonl" or (kind == "json" and not _decode(data).lstrip().startswith("[")):
        lines = [line for line in _decode(data).splitlines() if line.strip()]
        return SourceRecords(kind, gz, [lines], "lines" if kind == "json" else "")
    if kind == "json":
        return SourceRecords(kind, gz, [json.loads(_decode(data))], "array")
    if kind == "csv":
        reader = csv.DictReader(io.StringIO(_decode(data), newline=""))
        rows = [dict(r) for r in reader]
        return SourceRecords(kind, gz, [(list(reader.fieldnames or []), rows)])
    import pyarrow as pa
    import pyarrow.parquet as pq

    if kind == "parquet":
        return SourceRecords(kind, gz, [pq.read_table(pa.BufferReader(data))])
    try:
        return SourceRecords(kind, gz, [pa.ipc.open_stream(data).read_all()], "stream")
    except Exception:
        return SourceRecords(kind, gz, [pa.ipc.open_file(data).read_all()], "file")


def merge_records(parts: Sequence[SourceRecords]) -> SourceRecords:
    """The records of the shards of one directory, in order, as one (the first shard's
    container and compression)."""
    first = parts[0]
    return SourceRecords(first.container, first.gzip, [q for p in parts for q in p.parts],
                         first.style)


def encode_records(src: SourceRecords, keep: Sequence[bool]) -> bytes:
    """The bytes of a file holding the records of ``src`` where ``keep`` is True, in
    ``src``'s container (gzip-compressed if it was). Does no argument checking beyond
    the length of ``keep``."""
    import numpy as np

    mask = np.asarray(keep, dtype=bool)
    if mask.shape != (len(src),):
        raise ValidationError(
            f"`keep` has {mask.shape[0] if mask.ndim else 0} entries but the records have "
            f"{len(src)} rows.")
    data = _encode(src, np.flatnonzero(mask))
    return gzip.compress(data, mtime=0) if src.gzip else data


def _encode(src: SourceRecords, idx: Any) -> bytes:
    kind, parts = src.container, src.parts
    if kind == "npy":
        import numpy as np

        raw = io.BytesIO()
        np.save(raw, np.concatenate(parts)[idx], allow_pickle=False)
        return raw.getvalue()
    if kind == "jsonl" or src.style == "lines":
        lines = [line for part in parts for line in part]
        return "".join(lines[i] + "\n" for i in idx).encode("utf-8", "surrogateescape")
    if kind == "json":
        objs = [o for part in parts for o in part]
        return (json.dumps([objs[i] for i in idx], ensure_ascii=False, indent=1) + "\n"
                ).encode("utf-8", "surrogateescape")
    if kind == "csv":
        header = list(dict.fromkeys(c for h, _ in parts for c in h))
        rows = [r for _, part in parts for r in part]
        text = io.StringIO(newline="")
        writer = csv.DictWriter(text, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows[i] for i in idx)
        return text.getvalue().encode("utf-8", "surrogateescape")
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.concat_tables(parts, promote_options="default") if len(parts) > 1 \
        else parts[0]
    table = table.take(pa.array(idx, type=pa.int64()))
    sink = pa.BufferOutputStream()
    if kind == "parquet":
        pq.write_table(table, sink)
    else:
        writer = (pa.ipc.new_stream if src.style != "file" else pa.ipc.new_file)(
            sink, table.schema)
        writer.write_table(table)
        writer.close()
    return bytes(sink.getvalue().to_pybytes())
