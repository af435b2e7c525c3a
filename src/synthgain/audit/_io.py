"""Loading anchor, synthetic and target datasets: the files LLM post-training data comes in.

Containers: ``.jsonl``/``.ndjson``, ``.json`` (an array of objects, or JSON Lines as
``datasets.Dataset.to_json`` writes them), ``.csv``, ``.parquet``, ``.arrow`` (the shards
of a dataset saved by Hugging Face ``save_to_disk``) and ``.npy`` (embeddings), each also
gzip-compressed (``.jsonl.gz``, ...), and a directory of shards of one of them. The rows'
layout (plain text, Alpaca, chat, ShareGPT, preference pairs) is recognised from their
fields (:mod:`._layouts`).

Every problem with a file is reported as a :class:`~synthgain.exceptions.ValidationError`
naming the file (the shard, in a directory), the row (1-based, counting data rows only:
the CSV header is not a row, in JSONL the row is the line number, in a JSON array the
element) and the column, with the remedy.
"""

from __future__ import annotations

import io
import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import instance, one_of, validate_params
from ..exceptions import ValidationError
from ._containers import (
    FORMATS,
    READERS,
    SourceRecords,
    container_of,
    encode_records,
    merge_records,
    read_bytes,
    read_rows,
    shards_of,
    source_records,
)
from ._layouts import (
    FIELDS,
    FILE,
    INTERNAL,
    KNOWN_LAYOUTS,
    LAYOUTS,
    ROW,
    Layout,
    describe,
    detect_layout,
    extract_prompts,
    extract_texts,
    option,
    where,
)

__all__ = ["Dataset", "load_dataset"]



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
    meta : dict
        What the loader knew: ``layout`` (``"text"``, ``"alpaca"``, ``"chat"``,
        ``"sharegpt"``, ``"preference"``, ``"embeddings"``), ``field`` (the part
        measured: ``"response"``, ``"prompt"``, ``"conversation"``), ``column``,
        ``description`` (the line :meth:`describe` returns), ``rows`` (each row's 1-based
        number in its file), ``files`` (each row's shard, when read from a directory),
        ``shards``, ``prompts`` (each row's prompt where responses are measured in a
        layout with prompts; see :func:`~._layouts.extract_prompts`), for preference
        pairs ``rejected`` (the rejected side's texts,
        row for row; see :meth:`rejected`), and with ``keep_records=True`` ``records``
        (the records as read, for :meth:`encode_rows`).
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

    def describe(self) -> str:
        """One line on what was read and what is measured, e.g. ``read 3,000 rows in chat
        layout (column 'messages'); measuring the last assistant turn of each
        conversation``."""
        return str(self.meta.get("description", f"{len(self):,} rows from arrays"))

    def locate(self, i: int) -> str:
        """Where row ``i`` (0-based) came from, for messages: ``File 'x.jsonl', row 3``."""
        files, rows = self.meta.get("files"), self.meta.get("rows")
        row = rows[i] if rows else i + int(self.meta.get("row_base", 0))
        return f"File '{files[i] if files else self.source}', row {row}"

    def rejected(self) -> Dataset:
        """The rejected side of preference pairs, as a dataset of its own.

        Row for row with this one (the chosen side): the same ids, labels and anchor ids,
        the rejected texts (the same ``field``), and no embeddings. So the two sides can be
        audited and compared like any two datasets.
        """
        texts = self.meta.get("rejected")
        if texts is None:
            raise ValidationError(
                f"Dataset {self.name!r} ('{self.source}') holds no rejected responses: only "
                "preference pairs (fields 'chosen' and 'rejected') read for their responses "
                "or conversations do."
            )
        meta = {k: v for k, v in self.meta.items() if k != "rejected"}
        meta["side"] = "rejected"
        meta["description"] = describe(Layout("preference"), str(meta["field"]), len(self),
                                       meta.get("shards"), {}, side="rejected")
        return replace(self, name=f"{self.name} (rejected)", texts=list(texts),
                       embeddings=None, meta=meta)

    @property
    def container_suffix(self) -> str | None:
        """The ending of the file :meth:`encode_rows` writes (``.jsonl.gz``, ...), or None
        when the records were not kept."""
        src = self.meta.get("records")
        return src.suffix if isinstance(src, SourceRecords) else None

    def encode_rows(self, keep: Any) -> bytes:
        """The bytes of a file holding the rows where ``keep`` (bool, one per row) is True,
        in the container and layout they were read from, each record as it was read.

        Needs ``load_dataset(..., keep_records=True)``. A directory of shards gives one
        file in the container of its first shard.
        """
        src = self.meta.get("records")
        if not isinstance(src, SourceRecords):
            raise ValidationError(
                f"Dataset {self.name!r} ('{self.source}') did not keep its records: load it "
                "with load_dataset(..., keep_records=True) to write rows back.")
        return encode_records(src, keep)

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
        if len(set(row_ids)) < n:
            dup = Counter(row_ids).most_common(1)[0][0]
            raise ValidationError(
                f"Dataset {name!r}: `ids` repeats the id {dup!r} (ids are compared as text). "
                "Give every row its own id.")
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


def _missing(v: Any) -> bool:
    return v is None or v == "" or (isinstance(v, float) and math.isnan(v))


def _row_ids(rows: list[dict[str, Any]], column: str) -> list[str]:
    """The ``id`` column as strings (provenance compares ids as strings, so 0 and "0" are
    one id); a missing or repeated id is an error naming both rows."""
    seen: dict[str, dict[str, Any]] = {}
    ids = []
    for r in rows:
        v = r.get(column)
        if _missing(v):
            raise ValidationError(
                f"{where(r)}, column {column!r}: the id is missing. Every row needs an id "
                "when the column is there (provenance and the report refer to rows by it): "
                "fill it, or remove the column to number the rows.")
        key = str(v)
        if key in seen:
            first = seen[key]
            other = (f"row {first[ROW]}" if first[FILE] == r[FILE]
                     else f"row {first[ROW]} of '{first[FILE]}'")
            raise ValidationError(
                f"{where(r)}, column {column!r}: the id {v!r} repeats {other} (ids are "
                "compared as text, so 0 and \"0\" are one id). Give every row its own id: "
                "provenance and the nearest anchor would be ambiguous.")
        seen[key] = r
        ids.append(key)
    return ids


def _check_finite(emb: np.ndarray, where: str, column: str, *, row_base: int) -> None:
    bad = ~np.isfinite(emb)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ValidationError(
            f"{where}, row {int(r) + row_base}, column {column!r}: the embedding contains "
            f"{emb[r, c]} at position {int(c)}. Embeddings must be finite; drop or recompute "
            "this row."
        )


def _load_npy(data: bytes, path: Path, name: str) -> Dataset:
    try:
        arr = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc):  # an object array: loading it would run pickle
            raise ValidationError(
                f"File '{path}' holds an array of Python objects (dtype object), which "
                "synthgain does not load (reading it would run pickled code). Save the "
                "embeddings as a float array: np.save(path, np.asarray(x, dtype=float))."
            ) from None
        raise ValidationError(f"File '{path}' is not a readable .npy array: {exc}") from None
    except Exception as exc:
        raise ValidationError(f"File '{path}' is not a readable .npy array: {exc}") from None
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValidationError(
            f"File '{path}' must hold a non-empty 2-D array of embeddings (rows, dim). Got "
            f"shape {arr.shape}."
        )
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        kind = ("complex numbers" if np.issubdtype(arr.dtype, np.complexfloating) else
                "booleans" if arr.dtype == np.bool_ else f"values of dtype {arr.dtype}")
        raise ValidationError(
            f"File '{path}' holds {kind}; embeddings must be real numbers (integer or "
            "float), and synthgain does not convert them. Save a float array.")
    emb = np.asarray(arr, dtype=np.float64)
    _check_finite(emb, f"File '{path}'", "<array>", row_base=0)
    line = f"read {emb.shape[0]:,} embeddings of dimension {emb.shape[1]} from a .npy array"
    return Dataset(name, str(path), [str(i) for i in range(emb.shape[0])], embeddings=emb,
                   meta={"row_base": 0, "layout": "embeddings", "description": line})


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
        # real numbers only: a bool, a string or a complex number is not converted
        if isinstance(v, bool | np.bool_) or not isinstance(v, int | float | np.integer
                                                             | np.floating):
            got = "missing (null)" if v is None else f"{type(v).__name__} {v!r}"
            raise ValidationError(
                f"File '{path}', row {row}, column {column!r}: position {j} of the embedding "
                f"is not a real number: {got}. Embeddings are lists of numbers; synthgain "
                "does not convert other values."
            )
        f = float(v)
        if not math.isfinite(f):
            raise ValidationError(
                f"File '{path}', row {row}, column {column!r}: the embedding contains {f} at "
                f"position {j}. Embeddings must be finite; drop or recompute this row."
            )
        out.append(f)
    return out


def _embeddings(rows: list[dict[str, Any]], column: str) -> np.ndarray:
    vecs: list[list[float]] = []
    for r in rows:
        v = _embedding_of(r[column], r[FILE], r[ROW], column)
        if vecs and len(v) != len(vecs[0]):
            first = rows[0]
            other = "" if first[FILE] == r[FILE] else f" of '{first[FILE]}'"
            raise ValidationError(
                f"{where(r)}, column {column!r}: the embedding has {len(v)} values but row "
                f"{first[ROW]}{other} has {len(vecs[0])}. All embeddings must have the same "
                "size."
            )
        vecs.append(v)
    if not vecs or not vecs[0]:
        raise ValidationError(
            f"File '{rows[0][FILE]}', column {column!r}: the embeddings are empty."
        )
    return np.asarray(vecs, dtype=np.float64)


_COLUMN = instance(str, none=True)


@validate_params(
    path=instance(str, Path, what="a path (str or Path) to a file or a directory"),
    text_column=_COLUMN, embedding_column=_COLUMN, label_column=_COLUMN,
    anchor_id_column=_COLUMN, id_column=_COLUMN, name=_COLUMN,
    layout=one_of(*LAYOUTS), field=one_of(*FIELDS),
    option_names=instance(Mapping, none=True), keep_records=instance(bool))
def load_dataset(
    path: str | Path,
    *,
    text_column: str | None = "text",
    embedding_column: str | None = None,
    label_column: str | None = None,
    anchor_id_column: str | None = "anchor_id",
    id_column: str | None = "id",
    name: str | None = None,
    layout: str = "auto",
    field: str = "response",
    option_names: Mapping[str, str] | None = None,
    keep_records: bool = False,
) -> Dataset:
    """Read one dataset from a file or a directory of shards, in any of the LLM layouts.

    Parameters
    ----------
    path : str or Path
        ``.jsonl``/``.ndjson`` (one JSON object per line), ``.json`` (an array of objects,
        or JSON Lines), ``.csv`` (header row), ``.parquet``, ``.arrow`` (Arrow IPC, as
        Hugging Face ``save_to_disk`` writes), each optionally gzip-compressed
        (``.jsonl.gz``, ...); ``.npy`` (a 2-D float array of embeddings, rows in order);
        or a directory of shards of one of these formats (read in name order; files
        starting with ``.`` and the metadata files of a saved dataset are skipped, and so
        are shards with no rows).
    text_column : str or None
        Column holding plain text. When the first row has it, the file is read in the
        text layout; otherwise the layout is recognised from the fields (Alpaca, chat,
        ShareGPT, preference pairs: :mod:`synthgain.audit._layouts`).
    embedding_column : str or None
        Column holding each row's embedding as a list of numbers (a JSON list in CSV).
        When given, texts are optional (kept if a layout is recognised, for the report).
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
    layout : {"auto", "text", "alpaca", "chat", "sharegpt", "preference"}
        ``"auto"`` recognises the layout from the first row's fields; any other value
        forces it.
    field : {"response", "prompt", "conversation"}
        What is measured in a structured layout: the response (chat: the last assistant
        turn; Alpaca: ``output``; preference: ``chosen``, with ``rejected`` kept in
        ``meta["rejected"]``), the prompt (the user turns before the last assistant turn)
        or the whole conversation (``"{role}: {content}"`` turns joined by a blank line).
    option_names : mapping of str to str, optional
        How the options are named in error messages, e.g. ``{"text_column":
        "--text-column"}`` from the command line; by default as Python arguments
        (``text_column=``).
    keep_records : bool
        Keep the records as read (``meta["records"]``), so that a subset of the rows can be
        written back in the same container and layout (:meth:`Dataset.encode_rows`).

    Returns
    -------
    Dataset
        With ``meta["layout"]``, ``meta["field"]`` and the line ``describe()`` returns.

    Raises
    ------
    ValidationError
        For a missing file or column, an empty file, a directory with no readable shard,
        shards in different layouts, undecodable or missing text, a conversation with no
        turn of the requested role, an empty response, mixed embedding sizes or
        non-finite embeddings; the message names the file, row and column, and the remedy.

    Examples
    --------
    A chat file is recognised from its fields, and its last assistant turns are measured:

    >>> import json, pathlib, tempfile
    >>> from synthgain.audit import load_dataset
    >>> rows = [{"messages": [{"role": "user", "content": f"Q{i}"},
    ...                       {"role": "assistant", "content": f"A{i}"}]} for i in range(3)]
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "chat.json"
    >>> _ = path.write_text(json.dumps(rows))
    >>> ds = load_dataset(path)
    >>> ds.meta["layout"], ds.texts
    ('chat', ['A0', 'A1', 'A2'])
    """
    names = dict(option_names or {})
    p = Path(path)
    label = name or p.name
    if p.is_dir():
        return _load_directory(p, label, names, text_column, embedding_column, label_column,
                               anchor_id_column, id_column, layout, field, keep_records)
    if not p.is_file():
        raise ValidationError(f"File '{p}' does not exist (or is not a file).")
    kind, gz = container_of(p)
    if kind is None:
        suffix = "".join(p.suffixes[-2:]) if gz else p.suffix
        raise ValidationError(
            f"File '{p}': unsupported format {suffix!r}. Use {FORMATS}, or a directory of "
            "shards."
        )
    data = read_bytes(p, gz)
    if not data:
        raise ValidationError(f"File '{p}' is empty: it has no rows.")
    if kind == "npy":
        ds = _load_npy(data, p, label)
    else:
        rows = READERS[kind](data, p)
        if not rows:
            raise ValidationError(f"File '{p}' is empty: it has no rows.")
        lay = detect_layout(rows[0], layout, text_column)
        ds = _from_rows(rows, p, label, lay, field, names, None, embedding_column,
                        label_column, anchor_id_column, id_column, text_column)
    if keep_records:
        ds.meta["records"] = source_records(p, kind, gz, data)
    return ds


def _load_directory(d: Path, label: str, names: dict[str, str], text_column: str | None,
                    embedding_column: str | None, label_column: str | None,
                    anchor_id_column: str | None, id_column: str | None, layout: str,
                    field: str, keep_records: bool = False) -> Dataset:
    rows: list[dict[str, Any]] = []
    kept: list[SourceRecords] = []
    first: tuple[Path, Layout | None] | None = None
    shards = shards_of(d)
    for shard in shards:
        part = read_rows(shard)
        if not part:
            continue
        lay = detect_layout(part[0], layout, text_column)
        if first is None:
            first = (shard, lay)
        elif lay != first[1]:
            raise ValidationError(
                f"Directory '{d}': shard '{shard.name}' is in {_label(lay)} but "
                f"'{first[0].name}' is in {_label(first[1])}. The shards of one dataset must "
                "share one layout: put the shards of each layout in a directory of their own."
            )
        rows += part
        if keep_records:
            kind, gz = container_of(shard)
            kept.append(source_records(shard, str(kind), gz))
    if first is None:
        raise ValidationError(
            f"Directory '{d}' holds no readable shard: its {len(shards)} shard(s) have no "
            "rows. Pass a directory with data, or one file."
        )
    ds = _from_rows(rows, d, label, first[1], field, names, len(shards), embedding_column,
                    label_column, anchor_id_column, id_column, text_column)
    if keep_records:
        ds.meta["records"] = merge_records(kept)
    return ds


def _label(lay: Layout | None) -> str:
    return lay.label() if lay is not None else "no layout recognised"


def _from_rows(
    rows: list[dict[str, Any]],
    p: Path,
    label: str,
    lay: Layout | None,
    field: str,
    names: Mapping[str, str],
    shards: int | None,
    embedding_column: str | None,
    label_column: str | None,
    anchor_id_column: str | None,
    id_column: str | None,
    text_column: str | None,
) -> Dataset:
    columns = [c for c in rows[0] if c not in INTERNAL]

    def require(col: str, what: str, arg: str) -> None:
        for r in rows:
            if col not in r:
                raise ValidationError(
                    f"{where(r)}: missing {what} column {col!r} (columns found: "
                    f"{', '.join(map(repr, columns)) or 'none'}). Pass "
                    f"{option(names, arg)} naming the column."
                )

    emb = None
    if embedding_column is not None:
        require(embedding_column, "embedding", "embedding_column")
        emb = _embeddings(rows, embedding_column)
    if lay is None and emb is None:
        if text_column is None:
            raise ValidationError(
                f"File '{p}': no text or embedding column given. Pass "
                f"{option(names, 'text_column')} or {option(names, 'embedding_column')}."
            )
        raise ValidationError(
            f"{where(rows[0])}: missing text column {text_column!r} (columns found: "
            f"{', '.join(map(repr, columns)) or 'none'}). Pass {option(names, 'text_column')} "
            f"naming the text column, or {option(names, 'embedding_column')} for precomputed "
            f"embeddings. The layouts read as they are: {KNOWN_LAYOUTS}."
        )
    texts = rejected = prompts = None
    if lay is not None:
        texts, rejected = extract_texts(rows, lay, field, names, require_text=emb is None)
        prompts = extract_prompts(rows, lay, field, names)
    labels = None
    if label_column is not None:
        require(label_column, "label", "label_column")
        labels = _labels(rows, label_column)
    prov = None
    if anchor_id_column is not None and anchor_id_column in columns:
        prov = [_as_id_tuple(r.get(anchor_id_column)) for r in rows]
    has_id = id_column is not None and id_column in columns
    ids = (_row_ids(rows, str(id_column)) if has_id
           else [str(i) for i in range(len(rows))])
    meta = _meta(rows, lay, field, names, shards, embedding_column if emb is not None
                 or lay is None else None)
    if rejected is not None:
        meta["rejected"] = rejected
    if prompts is not None:
        meta["prompts"] = prompts
    return Dataset(label, str(p), ids, texts, emb, labels, prov, meta=meta)


def _labels(rows: list[dict[str, Any]], column: str) -> np.ndarray:
    """The label column as strings; a missing label is an error naming the row."""
    for r in rows:
        if _missing(r[column]):
            raise ValidationError(
                f"{where(r)}, column {column!r}: the label is missing. Fill or drop this row.")
    return np.asarray([str(r[column]) for r in rows])


def _meta(rows: list[dict[str, Any]], lay: Layout | None, field: str,
          names: Mapping[str, str], shards: int | None, embedding_column: str | None
          ) -> dict[str, Any]:
    """What the loader knew (:class:`Dataset`'s ``meta``) and the line describing it;
    ``embedding_column`` given when the embeddings are what is measured."""
    meta: dict[str, Any] = {"rows": [r[ROW] for r in rows], "field": field}
    if shards is not None:
        meta["files"] = [str(r[FILE]) for r in rows]
        meta["shards"] = shards
    if embedding_column is None and lay is not None:
        meta.update(layout=lay.name, column=lay.column)
        line = describe(lay, field, len(rows), shards, names)
    else:
        meta.update(layout="embeddings", column=embedding_column)
        source = f" from {shards:,} shards" if shards is not None else ""
        line = (f"read {len(rows):,} rows{source} with precomputed embeddings "
                f"(column {embedding_column!r})")
        if lay is not None:
            meta["text_layout"] = lay.name
            line += f"; texts from the {lay.label()} kept for the report"
    meta["description"] = line
    return meta
