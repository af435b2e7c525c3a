"""Loading anchor, synthetic and target datasets from JSONL, CSV, Parquet or .npy files.

Every problem with a file is reported as a :class:`~synthgain.exceptions.ValidationError`
naming the file, the row (1-based, counting data rows only: the CSV header is not a row,
and in JSONL the row is the line number) and the column.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import ValidationError

__all__ = ["Dataset", "load_dataset"]

_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet",
             ".pq": "parquet", ".npy": "npy"}


@dataclass(frozen=True)
class Dataset:
    """One dataset of the audit: texts and/or embeddings, with optional labels and provenance.

    Attributes
    ----------
    name : str
        Its role in the audit ("anchor", "synthetic", "target") or a file name.
    source : str
        Where it was read from ("<array>" when built in memory).
    ids : list of str, length n
        Row identifiers: the ``id`` column when present, else the 0-based row index.
    texts : list of str or None
    embeddings : ndarray of shape (n, d) or None
    labels : ndarray of shape (n,) or None
    anchor_ids : list of tuple of str or None
        For synthetic rows, the ids of the anchors used in the row's prompt.
    """

    name: str
    source: str
    ids: list[str]
    texts: list[str] | None = None
    embeddings: np.ndarray | None = None
    labels: np.ndarray | None = None
    anchor_ids: list[tuple[str, ...]] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_arrays(
        cls,
        embeddings: Any = None,
        *,
        texts: Sequence[str] | None = None,
        labels: Any = None,
        anchor_ids: Sequence[Any] | None = None,
        ids: Sequence[Any] | None = None,
        name: str = "dataset",
    ) -> Dataset:
        """Build a dataset from in-memory arrays (the same checks as the file loaders)."""
        if embeddings is None and texts is None:
            raise ValidationError(f"Dataset {name!r} needs `embeddings` or `texts`. Got neither.")
        emb = None
        if embeddings is not None:
            emb = np.asarray(embeddings, dtype=np.float64)
            if emb.ndim != 2 or emb.shape[0] == 0:
                raise ValidationError(
                    f"Dataset {name!r}: `embeddings` must be a non-empty 2-D array (n, d). "
                    f"Got shape {emb.shape} instead."
                )
            _check_finite(emb, f"dataset {name!r}", "embeddings", row_base=0)
        n = emb.shape[0] if emb is not None else len(texts or [])
        if n == 0:
            raise ValidationError(f"Dataset {name!r} is empty: it has no rows.")
        for what, seq in (("texts", texts), ("labels", labels), ("anchor_ids", anchor_ids),
                          ("ids", ids)):
            if seq is not None and len(seq) != n:
                raise ValidationError(
                    f"Dataset {name!r}: `{what}` has {len(seq)} entries but the dataset has "
                    f"{n} rows."
                )
        row_ids = [str(i) for i in (ids if ids is not None else range(n))]
        prov = None if anchor_ids is None else [_as_id_tuple(a) for a in anchor_ids]
        lab = None if labels is None else np.asarray(labels)
        return cls(name, "<array>", row_ids, None if texts is None else list(texts), emb, lab,
                   prov)


def _as_id_tuple(value: Any) -> tuple[str, ...]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ()
    if isinstance(value, list | tuple | np.ndarray):
        return tuple(str(v) for v in value)
    if isinstance(value, str):
        return tuple(s.strip() for s in value.split(";") if s.strip())
    return (str(value),)


def _check_finite(emb: np.ndarray, where: str, column: str, *, row_base: int) -> None:
    bad = ~np.isfinite(emb)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ValidationError(
            f"{where}, row {int(r) + row_base}, column {column!r}: the embedding contains "
            f"{emb[r, c]} at position {int(c)}. Embeddings must be finite; drop or recompute "
            "this row."
        )


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                f"File '{path}', row {lineno}: not valid JSON ({exc.msg} at character "
                f"{exc.pos}). Each line must be one JSON object."
            ) from None
        if not isinstance(obj, dict):
            raise ValidationError(
                f"File '{path}', row {lineno}: expected a JSON object, got "
                f"{type(obj).__name__}."
            )
        obj["__row__"] = lineno
        rows.append(obj)
    return rows


def _read_csv(path: Path) -> list[dict[str, Any]]:
    text = path.read_bytes().decode("utf-8", errors="surrogateescape").lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = []
    for i, row in enumerate(reader, start=1):
        row = dict(row)
        row["__row__"] = i
        rows.append(row)
    return rows


def _read_parquet(path: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise ValidationError(f"File '{path}' is not a readable Parquet file: {exc}") from None
    rows = table.to_pylist()
    for i, row in enumerate(rows, start=1):
        row["__row__"] = i
    return rows


def _text_of(value: Any, path: Path, row: int, column: str) -> str:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as exc:
            value = value.decode("utf-8", errors="surrogateescape")
            pos = exc.start
            raise ValidationError(
                f"File '{path}', row {row}, column {column!r}: the text is not valid UTF-8 "
                f"(byte {exc.object[pos]:#04x} at position {pos}). Re-encode the file as UTF-8."
            ) from None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise ValidationError(
            f"File '{path}', row {row}, column {column!r}: the text is missing. Fill or drop "
            "this row."
        )
    if not isinstance(value, str):
        raise ValidationError(
            f"File '{path}', row {row}, column {column!r}: expected text, got "
            f"{type(value).__name__} {value!r}."
        )
    for pos, ch in enumerate(value):
        if "\udc80" <= ch <= "\udcff":
            raise ValidationError(
                f"File '{path}', row {row}, column {column!r}: the text is not valid UTF-8 "
                f"(byte {ord(ch) - 0xDC00:#04x} at character {pos}). Re-encode the file as "
                "UTF-8."
            )
    return value


def _embedding_of(value: Any, path: Path, row: int, column: str) -> list[float]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ValidationError(
                f"File '{path}', row {row}, column {column!r}: the embedding is not a list of "
                f"numbers (got the string {value[:40]!r})."
            ) from None
    if not isinstance(value, list | tuple | np.ndarray):
        raise ValidationError(
            f"File '{path}', row {row}, column {column!r}: the embedding must be a list of "
            f"numbers. Got {type(value).__name__} {value!r}."
        )
    out = []
    for j, v in enumerate(value):
        try:
            f = float(v) if v is not None else math.nan
        except (TypeError, ValueError):
            raise ValidationError(
                f"File '{path}', row {row}, column {column!r}: position {j} of the embedding "
                f"is not a number ({v!r})."
            ) from None
        if not math.isfinite(f):
            raise ValidationError(
                f"File '{path}', row {row}, column {column!r}: the embedding contains {f} at "
                f"position {j}. Embeddings must be finite; drop or recompute this row."
            )
        out.append(f)
    return out


def _embeddings(rows: list[dict[str, Any]], path: Path, column: str) -> np.ndarray:
    vecs: list[list[float]] = []
    for r in rows:
        v = _embedding_of(r[column], path, r["__row__"], column)
        if vecs and len(v) != len(vecs[0]):
            raise ValidationError(
                f"File '{path}', row {r['__row__']}, column {column!r}: the embedding has "
                f"{len(v)} values but row {rows[0]['__row__']} has {len(vecs[0])}. All "
                "embeddings must have the same size."
            )
        vecs.append(v)
    if not vecs or not vecs[0]:
        raise ValidationError(f"File '{path}', column {column!r}: the embeddings are empty.")
    return np.asarray(vecs, dtype=np.float64)


def _load_npy(path: Path, name: str) -> Dataset:
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise ValidationError(f"File '{path}' is not a readable .npy array: {exc}") from None
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValidationError(
            f"File '{path}' must hold a non-empty 2-D array of embeddings (rows, dim). Got "
            f"shape {arr.shape}."
        )
    if not np.issubdtype(arr.dtype, np.number):
        raise ValidationError(f"File '{path}' must hold numbers. Got dtype {arr.dtype}.")
    emb = np.asarray(arr, dtype=np.float64)
    _check_finite(emb, f"File '{path}'", "<array>", row_base=0)
    return Dataset(name, str(path), [str(i) for i in range(emb.shape[0])], embeddings=emb,
                   meta={"row_base": 0})


def load_dataset(
    path: str | Path,
    *,
    text_column: str | None = "text",
    embedding_column: str | None = None,
    label_column: str | None = None,
    anchor_id_column: str | None = "anchor_id",
    id_column: str | None = "id",
    name: str | None = None,
) -> Dataset:
    """Read one dataset from a JSONL, CSV, Parquet or .npy file.

    Parameters
    ----------
    path : str or Path
        ``.jsonl``/``.ndjson`` (one JSON object per line), ``.csv`` (header row),
        ``.parquet``, or ``.npy`` (a 2-D float array of embeddings, rows in order).
    text_column : str or None
        Column holding the text. Used when ``embedding_column`` is None.
    embedding_column : str or None
        Column holding each row's embedding as a list of numbers (a JSON list in CSV).
        When given, the text column is optional (kept if present, for the report).
    label_column : str or None
        Optional class labels (for the probe).
    anchor_id_column : str or None
        Optional provenance on synthetic rows: the id(s) of the anchor(s) used in the
        row's prompt, as one value, a list, or a ``;``-separated string. Used only if
        present in the file.
    id_column : str or None
        Row identifiers, used if present; otherwise the 0-based row index.
    name : str, optional
        The dataset's role, for messages and the report (defaults to the file name).

    Returns
    -------
    Dataset

    Raises
    ------
    ValidationError
        For a missing file or column, an empty file, undecodable text, mixed embedding
        sizes or non-finite embeddings; the message names the file, row and column.
    """
    p = Path(path)
    label = name or p.name
    if not p.is_file():
        raise ValidationError(f"File '{p}' does not exist (or is not a file).")
    kind = _SUFFIXES.get(p.suffix.lower())
    if kind is None:
        raise ValidationError(
            f"File '{p}': unsupported format {p.suffix!r}. Use .jsonl, .csv, .parquet or .npy."
        )
    if p.stat().st_size == 0:
        raise ValidationError(f"File '{p}' is empty: it has no rows.")
    if kind == "npy":
        return _load_npy(p, label)
    rows = {"jsonl": _read_jsonl, "csv": _read_csv, "parquet": _read_parquet}[kind](p)
    if not rows:
        raise ValidationError(f"File '{p}' is empty: it has no rows.")
    return _from_rows(rows, p, label, text_column, embedding_column, label_column,
                      anchor_id_column, id_column)


def _from_rows(
    rows: list[dict[str, Any]],
    p: Path,
    label: str,
    text_column: str | None,
    embedding_column: str | None,
    label_column: str | None,
    anchor_id_column: str | None,
    id_column: str | None,
) -> Dataset:
    columns = [c for c in rows[0] if c != "__row__"]

    def require(col: str, what: str, hint: str) -> None:
        for r in rows:
            if col not in r:
                raise ValidationError(
                    f"File '{p}', row {r['__row__']}: missing {what} column {col!r} (columns "
                    f"found: {', '.join(map(repr, columns)) or 'none'}). {hint}"
                )

    emb = None
    if embedding_column is not None:
        require(embedding_column, "embedding", "Pass embedding_column= naming the column.")
        emb = _embeddings(rows, p, embedding_column)
    texts = None
    if text_column is not None and (embedding_column is None or text_column in columns):
        require(text_column, "text",
                "Pass text_column= naming the text column, or embedding_column= for "
                "precomputed embeddings.")
        texts = [_text_of(r[text_column], p, r["__row__"], text_column) for r in rows]
    if emb is None and texts is None:
        raise ValidationError(
            f"File '{p}': no text or embedding column given. Pass text_column= or "
            "embedding_column=."
        )
    labels = None
    if label_column is not None:
        require(label_column, "label", "Pass label_column= naming the label column.")
        for r in rows:
            v = r[label_column]
            if v is None or v == "" or (isinstance(v, float) and math.isnan(v)):
                raise ValidationError(
                    f"File '{p}', row {r['__row__']}, column {label_column!r}: the label is "
                    "missing. Fill or drop this row."
                )
        labels = np.asarray([str(r[label_column]) for r in rows])
    prov = None
    if anchor_id_column is not None and anchor_id_column in columns:
        prov = [_as_id_tuple(r.get(anchor_id_column)) for r in rows]
    has_id = id_column is not None and id_column in columns
    ids = [str(r.get(id_column) if has_id else i) for i, r in enumerate(rows)]  # type: ignore[arg-type]
    return Dataset(label, str(p), ids, texts, emb, labels, prov,
                   meta={"rows": [r["__row__"] for r in rows]})
