"""One row per synthetic record: what the audit found about it, and the flags to filter on.

The audit measures datasets; this module keeps what it learnt about each synthetic row
(its nearest anchor, whether it is a near-copy, how far it lies from the real data, and,
when the text measures ran, its length, duplicate cluster, contamination, emptiness and
refusal) as columns of one table (:func:`row_table`, written as ``rows.parquet`` and
``rows.csv`` by :func:`synthgain.report.write_audit`), and as the flags that
``--write-filtered`` drops (:func:`row_flags`).

Outlier score
-------------
With ``R`` the reference rows (the anchors, as for the near-copies: so the flags do not
change with the optional target, and a text embedding fitted on the anchor and synthetic
texts treats both alike) and ``d_k(x, R)`` the distance from ``x`` to its k-th nearest
row of ``R`` (a row of ``R`` itself excluded), a synthetic row's score is

    score(s) = d_k(s, R) / median_{r in R} d_k(r, R \\ {r})

the distance to the real data in units of the real data's own spacing (1: as far as a
typical real row is from its neighbours). A row is an outlier when its score exceeds the
0.99 quantile of the real rows' own scores ``d_k(r, R \\ {r}) / median`` (the
``ceil(0.99 (n + 1))``-th smallest of the n, the largest below 99 rows): a synthetic row
drawn from the reference's distribution is flagged with probability about 0.01 (about
1/(n + 1) below 99 reference rows), whatever the dimension and the units of the
embedding; measured shares are in docs/audit.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..exceptions import ValidationError
from ..measures import knn_distances
from ._semantic import SemanticDuplicates

__all__ = ["DEFAULT_DROP", "DROP_NAMES", "OUTLIER_QUANTILE", "OutlierScores", "RowInfo",
           "outlier_scores", "parse_drop", "row_flags", "row_table"]

#: the flags ``--drop`` accepts, in the order they are listed
DROP_NAMES = ("near-copy", "duplicate", "semantic-duplicate", "contaminated", "empty",
              "refusal", "pii", "language-drift", "outlier", "label-suspect")
DEFAULT_DROP = ("near-copy", "duplicate", "contaminated")
#: a synthetic row is an outlier above this quantile of the real rows' own scores
OUTLIER_QUANTILE = 0.99
#: text_rows keys copied into the row table as they are, in column order
_TEXT_COLUMNS = ("length_chars", "length_tokens", "truncated", "empty", "refusal", "pii",
                 "language", "language_drift", "exact_duplicate", "duplicate_cluster",
                 "duplicate_cluster_size", "contaminated")


@dataclass(frozen=True)
class OutlierScores:
    """Each synthetic row's distance to the real data over the real data's own spacing.

    Attributes
    ----------
    score : ndarray of shape (m,)
    outlier : ndarray of bool, shape (m,)
        ``score > cut``.
    cut : float
        The :data:`OUTLIER_QUANTILE` quantile of the reference rows' own scores.
    spacing : float
        ``median_r d_k(r, R \\ {r})``, in embedding units.
    k : int
    reference : str
        ``"target"`` or ``"anchor"``.
    """

    score: np.ndarray
    outlier: np.ndarray
    cut: float
    spacing: float
    k: int
    reference: str


def outlier_scores(synthetic: np.ndarray, reference: np.ndarray, *, k: int = 5,
                   reference_name: str = "anchor", workers: int = -1,
                   distances: np.ndarray | None = None) -> OutlierScores:
    """Outlier scores of ``synthetic`` rows against ``reference`` rows (module docstring).

    Exact distances (``synthgain.measures.knn_distances``); ``k`` is capped at the
    reference's rows minus one. ``distances``: each synthetic row's distance to its
    ``k``-th (capped) nearest reference row, when a search already found it (the audit's
    near-copy search does). Does no argument checking beyond that.

    Examples
    --------
    A synthetic point far from every anchor scores high and is flagged; points of the
    anchors' own distribution are not:

    >>> import numpy as np
    >>> from synthgain.audit import outlier_scores
    >>> a = np.random.default_rng(0).normal(size=(200, 3))
    >>> s = np.vstack([a[:5] + 0.01, [[50.0, 0.0, 0.0]]])
    >>> outlier_scores(s, a, k=5).outlier.tolist()
    [False, False, False, False, False, True]
    """
    kk = max(1, min(int(k), reference.shape[0] - 1))
    own = knn_distances(reference, k=kk, workers=workers)[:, kk - 1]
    spacing = float(np.median(own))
    if spacing <= 0:  # more than half the reference rows repeat: the smallest gap instead
        positive = own[own > 0]
        spacing = float(positive.min()) if positive.size else 1.0
    dist = (knn_distances(synthetic, reference, k=kk, workers=workers)[:, kk - 1]
            if distances is None else distances)
    score = dist / spacing
    # the conformal rank: the ceil((n + 1) q)-th smallest own score (the largest when that
    # exceeds n), so that a row exchangeable with the reference's exceeds it with
    # probability at most 1 - q
    ranked = np.sort(own / spacing)
    rank = min(int(np.ceil((ranked.shape[0] + 1) * OUTLIER_QUANTILE)), ranked.shape[0])
    cut = float(ranked[rank - 1])
    return OutlierScores(score, score > cut, cut, spacing, kk, reference_name)


@dataclass(frozen=True)
class RowInfo:
    """What the audit keeps about each synthetic row (all arrays of length m).

    Attributes
    ----------
    ids : list of str
        The rows' ids (the ``id`` column, else the 0-based row index).
    provenance : list of tuple of str or None
        The ``anchor_id`` of each row (the anchors used in its prompt), when given.
    nearest_anchor : list of str
        The id of each row's nearest anchor.
    ratio : ndarray
        Distance to the nearest anchor over that anchor's distance to its own nearest
        anchor (the near-copy test: ``ratio <= copy_ratio``).
    outliers : OutlierScores
    texts : list of str or None
        The measured texts (for the examples of the verdict).
    semantic : SemanticDuplicates or None
        The paraphrase clusters inside the synthetic set (:mod:`._semantic`); None with
        fewer than 3 anchors.
    """

    ids: list[str]
    provenance: list[tuple[str, ...]] | None
    nearest_anchor: list[str]
    ratio: np.ndarray
    outliers: OutlierScores
    texts: list[str] | None = None
    semantic: SemanticDuplicates | None = None


def _text_rows(result: Any) -> dict[str, np.ndarray]:
    rows = getattr(result, "text_rows", None)
    return {} if rows is None else {k: np.asarray(v) for k, v in rows.items()}


def duplicate_flags(text_rows: dict[str, np.ndarray]) -> np.ndarray | None:
    """Rows that repeat an earlier row of their duplicate cluster (the first row of each
    cluster is kept), or the exact duplicates when no clusters were formed."""
    cluster, size = text_rows.get("duplicate_cluster"), text_rows.get("duplicate_cluster_size")
    if cluster is not None and size is not None:
        first = np.zeros(cluster.shape[0], dtype=bool)
        _, idx = np.unique(cluster, return_index=True)
        first[idx] = True
        return (size > 1) & ~first
    exact = text_rows.get("exact_duplicate")
    return None if exact is None else exact.astype(bool)


def row_flags(result: Any) -> dict[str, np.ndarray | None]:
    """The flags ``--drop`` chooses from (:data:`DROP_NAMES`), one bool per synthetic row;
    None where the audit did not measure it (the text flags without text measures).

    Examples
    --------
    >>> import numpy as np
    >>> from synthgain.audit import row_flags, run_audit
    >>> a = np.random.default_rng(0).normal(size=(50, 3))
    >>> flags = row_flags(run_audit(a, a + 1e-9, rng=0, repeats=4, workers=1))
    >>> bool(flags["near-copy"].all()), flags["duplicate"] is None
    (True, True)
    """
    text = _text_rows(result)
    info: RowInfo | None = getattr(result, "row_info", None)

    def flag(key: str) -> np.ndarray | None:
        return text[key].astype(bool) if key in text else None

    return {
        "near-copy": None if result.near_copy is None else np.asarray(result.near_copy, bool),
        "duplicate": duplicate_flags(text),
        "semantic-duplicate": None if info is None or info.semantic is None
        else info.semantic.flag.copy(),
        "contaminated": flag("contaminated"),
        "empty": flag("empty"),
        "refusal": flag("refusal"),
        "pii": None if "pii" not in text else np.asarray(text["pii"]) != "",
        "language-drift": flag("language_drift"),
        "outlier": None if info is None else info.outliers.outlier.copy(),
        "label-suspect": None if getattr(result, "label_suspect", None) is None
        else np.asarray(result.label_suspect, dtype=bool),
    }


def parse_drop(value: str | Sequence[str], option: str = "--drop") -> tuple[str, ...]:
    """The flag names of ``--drop near-copy,duplicate`` (comma-separated, or a sequence);
    an unknown name is an error naming the option, the value and the valid names.

    Examples
    --------
    >>> from synthgain.audit import parse_drop
    >>> parse_drop("near-copy, duplicate")
    ('near-copy', 'duplicate')
    """
    names = [v.strip() for v in (value.split(",") if isinstance(value, str) else value)]
    names = [n for n in names if n]
    bad = [n for n in names if n not in DROP_NAMES]
    if bad or not names:
        raise ValidationError(
            f"`{option}` got {value!r}: {('unknown name ' + repr(bad[0])) if bad else 'no name'}"
            f". Valid names: {', '.join(DROP_NAMES)} (comma-separated, e.g. "
            f"{option} {','.join(DEFAULT_DROP)}).")
    return tuple(dict.fromkeys(names))


def drop_mask(result: Any, names: Sequence[str]) -> tuple[np.ndarray, dict[str, int],
                                                           list[str]]:
    """Which synthetic rows to drop for the flags ``names``: the mask, the rows each flag
    marks, and the flags that were not measured (and so drop nothing).

    Examples
    --------
    Rows flagged as near-copies are dropped; a flag the run did not measure (the text flags
    on embeddings) drops nothing and is named:

    >>> import numpy as np
    >>> from synthgain.audit import drop_mask, run_audit
    >>> g = np.random.default_rng(0)
    >>> a = g.normal(size=(200, 3))
    >>> res = run_audit(a, np.concatenate([a[:20] + 1e-9, g.normal(size=(180, 3))]), rng=0,
    ...                 repeats=4, workers=1)
    >>> mask, counts, missing = drop_mask(res, ("near-copy", "duplicate"))
    >>> bool(mask[:20].all()), counts["near-copy"] == int(mask.sum()), missing
    (True, True, ['duplicate'])
    """
    flags = row_flags(result)
    n = int(np.asarray(result.nearest_distance).shape[0])
    mask = np.zeros(n, dtype=bool)
    counts, missing = {}, []
    for name in names:
        f = flags[name]
        if f is None:
            missing.append(name)
            continue
        counts[name] = int(f.sum())
        mask |= f
    return mask, counts, missing


def row_table(result: Any) -> dict[str, np.ndarray]:
    """The per-row table of the synthetic data: column name -> array (length m), in order.

    Columns: ``id``, ``anchor_id`` (the prompt's anchors, ``;``-joined; only with
    provenance), ``nearest_anchor_id``, ``nearest_anchor_distance`` (embedding units),
    ``nearest_anchor_ratio``, ``near_copy``, ``outlier_score``, ``outlier``, then, when the
    text measures ran, ``length_chars``, ``length_tokens``, ``truncated``, ``empty``,
    ``refusal``, ``exact_duplicate``, ``duplicate_cluster``, ``duplicate_cluster_size``,
    ``duplicate`` (repeats an earlier row of its cluster: what ``--drop duplicate``
    removes) and ``contaminated``; ``topic`` and ``topic_name`` (the reference topic of
    its nearest centre); with the language model ``lm_loss`` and ``ifd`` (NaN
    for rows it did not score); with labels ``label_suspect`` (cleanlab); each only where
    measured. A column that does not apply
    is left out, never filled.

    Examples
    --------
    Twenty synthetic rows that copy anchors are flagged (with one more that falls within
    the margin by chance, as the near-copy rate's null allows):

    >>> import numpy as np
    >>> from synthgain.audit import row_table, run_audit
    >>> g = np.random.default_rng(0)
    >>> a = g.normal(size=(200, 3))
    >>> s = np.concatenate([a[:20] + 1e-9, g.normal(size=(180, 3))])
    >>> table = row_table(run_audit(a, s, rng=0, repeats=4, workers=1))
    >>> bool(table["near_copy"][:20].all()), list(table)[:3]
    (True, ['id', 'nearest_anchor_id', 'nearest_anchor_distance'])
    """
    info: RowInfo | None = getattr(result, "row_info", None)
    dist = np.asarray(result.nearest_distance, dtype=np.float64)
    m = dist.shape[0]
    cols: dict[str, np.ndarray] = {}
    if info is not None:
        cols["id"] = np.asarray(info.ids, dtype=object)
        if info.provenance is not None:
            cols["anchor_id"] = np.asarray([";".join(p) for p in info.provenance],
                                           dtype=object)
        cols["nearest_anchor_id"] = np.asarray(info.nearest_anchor, dtype=object)
    else:
        cols["id"] = np.asarray([str(i) for i in range(m)], dtype=object)
    cols["nearest_anchor_distance"] = dist
    if info is not None:
        cols["nearest_anchor_ratio"] = np.asarray(info.ratio, dtype=np.float64)
    if result.near_copy is not None:
        cols["near_copy"] = np.asarray(result.near_copy, dtype=bool)
    if info is not None:
        cols["outlier_score"] = np.asarray(info.outliers.score, dtype=np.float64)
        cols["outlier"] = np.asarray(info.outliers.outlier, dtype=bool)
    if info is not None and info.semantic is not None:
        cols["semantic_duplicate_cluster"] = info.semantic.cluster.copy()
        cols["semantic_duplicate_cluster_size"] = info.semantic.size.copy()
        cols["semantic_duplicate"] = info.semantic.flag.copy()
    top = getattr(result, "topics", None)
    if top is not None:
        cols["topic"] = top.topic.copy()
        cols["topic_name"] = np.asarray([top.names[int(j)] for j in top.topic], dtype=object)
    text = _text_rows(result)
    for key in _TEXT_COLUMNS:
        if key in text:
            cols[key] = text[key]
        if key == "duplicate_cluster_size":
            dup = duplicate_flags(text)
            if dup is not None:
                cols["duplicate"] = dup
    model = getattr(result, "model_rows", None) or {}
    for key in ("lm_loss", "ifd"):
        if key in model:
            cols[key] = np.asarray(model[key], dtype=np.float64)
    if getattr(result, "label_suspect", None) is not None:
        cols["label_suspect"] = np.asarray(result.label_suspect, dtype=bool)
    for key, col in cols.items():
        if col.shape[0] != m:
            raise ValidationError(
                f"Row column {key!r} has {col.shape[0]} entries but the synthetic data has "
                f"{m} rows.")
    return cols
