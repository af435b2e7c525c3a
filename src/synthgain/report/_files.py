"""The audit's data files: the per-row table and the filtered synthetic file, written
atomically (a temporary file renamed over the target)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from ..audit import Dataset, row_table
from ..exceptions import ValidationError
from ..experiments.provenance import check_output, claim_directory, write_bytes_atomic

__all__ = ["write_filtered", "write_rows"]


def _table(result: Any) -> Any:
    import pyarrow as pa

    cols = row_table(result)
    arrays = {}
    for name, col in cols.items():
        if col.dtype == object:
            arrays[name] = pa.array([None if v is None else str(v) for v in col],
                                    type=pa.string())
        else:
            arrays[name] = pa.array(col)
    return pa.table(arrays)


def write_rows(result: Any, out_dir: str | Path) -> dict[str, Path]:
    """Write ``rows.parquet`` and ``rows.csv``: one row per synthetic record (columns:
    :func:`synthgain.audit.row_table`). Returns ``{"rows_parquet": ..., "rows_csv": ...}``.
    """
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    names = {"rows_parquet": "rows.parquet", "rows_csv": "rows.csv"}
    out = claim_directory(out_dir, check=list(names.values()))
    table = _table(result)
    paths = {k: out / name for k, name in names.items()}
    buf = io.BytesIO()
    pq.write_table(table, buf)
    write_bytes_atomic(paths["rows_parquet"], buf.getvalue())
    buf = io.BytesIO()
    pcsv.write_csv(table, buf)
    write_bytes_atomic(paths["rows_csv"], buf.getvalue())
    return paths


def write_filtered(dataset: Dataset, keep: Any, path: str | Path,
                   option: str = "path") -> Path:
    """Write the rows of ``dataset`` where ``keep`` is True to ``path``, in the container
    and layout they were read from, each record untouched (a directory of shards: one
    file in its first shard's container). ``path`` must end as that container does
    (``.jsonl.gz``, ...); ``option`` names the argument in the error."""
    p = Path(path)
    check_filtered_path(dataset, p, option)
    mask = np.asarray(keep, dtype=bool)
    p.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(p, dataset.encode_rows(mask))
    return p


def check_filtered_path(dataset: Dataset, path: str | Path, option: str = "path",
                        inputs: Any = ()) -> None:
    """Raise unless ``path``'s ending matches the container ``dataset`` was read from,
    ``path`` can be written, and it is not, and does not lie inside, ``dataset``'s source
    or one of ``inputs`` (other files or directories read by the same run)."""
    sources = [*([dataset.source] if dataset.source != "<array>" else []), *inputs]
    check_output(path, option if option.startswith("-") else f"`{option}`",
                 directory=False, inputs=sources)
    suffix = dataset.container_suffix
    if suffix is None:
        raise ValidationError(
            f"Dataset {dataset.name!r} ('{dataset.source}') did not keep its records: load "
            "it with load_dataset(..., keep_records=True) to write rows back.")
    if not Path(path).name.lower().endswith(suffix) or Path(path).name.lower() == suffix:
        raise ValidationError(
            f"`{option}` got '{path}': the synthetic data was read as {suffix} and is written "
            f"back in that container, so the file name must end in {suffix}.")
