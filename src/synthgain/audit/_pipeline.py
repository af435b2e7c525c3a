"""The audit: every measure of anchor, synthetic and target data, in one result."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from .._rng import RNGLike
from .._validation import (
    callable_or_none,
    instance,
    integer,
    one_of,
    real,
    seed_like,
    validate_params,
    workers_count,
)
from ..exceptions import ValidationError
from ..experiments.backends import usable_cores
from ..measures import Estimate
from ._embed import _MODELS, Progress
from ._html import headline, result_html
from ._io import Dataset
from ._reasons import Reason
from ._records import Metric
from ._rows import RowInfo
from ._run import Options, Run
from ._stages import STAGES
from ._topics import Topics
from ._verdict import Thresholds, build_verdict, verdict_lines
from .text import text_counts_line

__all__ = ["MIN_ROWS", "SCHEMA", "AuditResult", "run_audit"]

SCHEMA = "synthgain.audit/3"
#: fewest rows of any dataset the audit accepts
MIN_ROWS = 5
@dataclass
class AuditResult:
    """Everything the audit measured (data only).

    :func:`synthgain.report.write_audit` writes ``metrics.json`` (:meth:`to_dict`) and
    ``report.html`` from it.

    Attributes
    ----------
    records : list of Metric
        Every measure with its group, key, :class:`Estimate` (None: not computable, the
        reason is in ``notes``), label, kind, unit and the datasets it is about.
    metrics : dict of str to dict of str to Estimate or None
        (property) The same estimates by group (``divergences``, ``information``,
        ``kl_gap``, ``fidelity``, ``diversity``, ``novelty``, ``probe``) and key.
    inputs : dict
        Per dataset: rows, source file, embedding dimension, labels and provenance flags.
    near_copies : list of dict
        The synthetic rows flagged as near-copies, closest first.
    notes : list of Reason
        Subsampling and skipped measures, in plain words (each a ``str``), each with a
        stable ``code`` (docs/audit.md).
    points_2d : dict of str to ndarray of shape (n, 2)
        Each dataset on the first two principal axes of the pooled data (for the map).
    nearest_distance : ndarray
        Each synthetic row's distance to its nearest anchor (for the histogram).
    near_copy : ndarray of bool
        Each synthetic row's near-copy flag (all rows).
    timings, cpu_timings : dict of str to float
        Wall-clock and process CPU seconds of each stage.
    row_info : RowInfo or None
        Per synthetic row: id, provenance, nearest anchor, near-copy ratio, outlier score
        (the table of :func:`synthgain.audit.row_table`, rows.parquet).
    thresholds : Thresholds or None
        The thresholds of the verdict (:meth:`verdict`); None: the defaults.
    text_rows : dict of str to ndarray or None
        The text facts of each synthetic row (:func:`synthgain.audit.text_row_flags`:
        lengths, truncation, duplicate cluster, contamination, empty, refusal); None for
        precomputed embeddings.
    model_rows : dict of str to ndarray or None
        ``lm_loss`` and ``ifd`` of each synthetic row (NaN for rows the model did not
        score); None without the language model.
    label_suspect : ndarray of bool or None
        Each synthetic row whose label cleanlab flags; None without labels.
    topics : Topics or None
        The anchors' topics, the synthetic rows' share of each against chance
        and the forecast of what more rows would reach (:mod:`synthgain.audit._topics`;
        metrics.json ``topics``).
    """

    records: list[Metric]
    inputs: dict[str, Any]
    config: dict[str, Any]
    near_copies: list[dict[str, Any]]
    notes: list[Reason]
    points_2d: dict[str, np.ndarray]
    nearest_distance: np.ndarray
    copy_threshold_ratio: float
    timings: dict[str, float] = field(default_factory=dict)
    map_mixtures: dict[str, Any] = field(default_factory=dict)
    cpu_timings: dict[str, float] = field(default_factory=dict)
    near_copy: np.ndarray | None = None
    row_info: RowInfo | None = None
    thresholds: Thresholds | None = None
    text_rows: dict[str, np.ndarray] | None = None
    model_rows: dict[str, np.ndarray] | None = None
    label_suspect: np.ndarray | None = None
    topics: Topics | None = None

    def verdict(self, thresholds: Thresholds | Any = None) -> dict[str, Any]:
        """What the synthetic data adds and its three main problems, in plain words
        (metrics.json ``verdict``; thresholds: ``self.thresholds`` unless given)."""
        th = Thresholds.of(thresholds) if thresholds is not None else self.thresholds
        return _jsonable(build_verdict(self, th))

    @property
    def metrics(self) -> dict[str, dict[str, Estimate | None]]:
        """The estimates by group and key (the ``metrics`` of metrics.json)."""
        out: dict[str, dict[str, Estimate | None]] = {}
        for r in self.records:
            out.setdefault(r.group, {})[r.key] = r.estimate
        return out

    def to_dict(self) -> dict[str, Any]:
        """The metrics.json document (schema in docs/audit.md)."""
        from .. import __version__

        return {
            "schema": SCHEMA,
            "synthgain_version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "inputs": self.inputs,
            "config": self.config,
            "notes": [_note(n) for n in self.notes],
            "metrics": self._metrics_doc(),
            "near_copies": self.near_copies,
            **({} if self.topics is None else {"topics": {
                "cells": self.topics.cells,
                "table": self.topics.table()}}),
            "verdict": self.verdict(),
            "timings_seconds": {k: round(v, 3) for k, v in self.timings.items()},
            "cpu_seconds": {k: round(v, 3) for k, v in self.cpu_timings.items()},
        }

    def _metrics_doc(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for r in self.records:
            out.setdefault(r.group, {})[r.key] = _jsonable(r.to_dict())
        return out

    def summary(self) -> list[str]:
        """A few lines for the terminal: the verdict, the headline numbers with their
        intervals and, when the text measures ran, one line of their counts."""
        lines = verdict_lines(self.verdict())
        for label, value, why in headline(self.records):
            lines.append(f"{label}: withheld ({why})" if value is None
                         else f"{label}: {value} ({why})")
        text = text_counts_line(self.records)
        return lines if text is None else [*lines, text]

    def _repr_html_(self) -> str:
        """The notebook view: the verdict, what the data adds, the problems with an
        example row each, and the headline numbers (escaped HTML, no script)."""
        return result_html(self)


def _note(note: str) -> dict[str, Any]:
    return note.to_dict() if isinstance(note, Reason) else {"code": None, "text": note}


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


#: A dataset of the audit: a Dataset, or an array of embeddings (checked by _inputs,
#: before any work).
_DATA = instance(Dataset, np.ndarray, list, tuple, what="a Dataset or an array of "
                 "embeddings of shape (n, d)")


@validate_params(
    anchor=_DATA, synthetic=_DATA, target=instance(Dataset, np.ndarray, list, tuple,
                                                   none=True),
    evaluation=instance(Dataset, none=True), model=one_of(*_MODELS),
    cache_dir=instance(str, Path, none=True), compare_rows=integer(2), repeats=integer(2),
    n_pca=integer(1), k=integer(1), copy_ratio=real(0.0, closed="neither"),
    near_copy_limit=real(0.0, 1.0), max_near_copies=integer(0), rng=seed_like,
    workers=workers_count, progress=callable_or_none,
    thresholds=instance(Thresholds, dict, none=True), batch_size=integer(1),
    backend=one_of("local", "dask", "ray"), scheduler=instance(str, none=True),
    lm=one_of("none", "smollm2"), lm_dim=integer(1), lm_rows=one_of("compared", "all"))
def run_audit(
    anchor: Dataset | Any,
    synthetic: Dataset | Any,
    target: Dataset | Any | None = None,
    *,
    evaluation: Dataset | None = None,
    model: str = "auto",
    cache_dir: str | Path | None = None,
    compare_rows: int = 1000,
    repeats: int = 10,
    n_pca: int = 8,
    k: int = 5,
    copy_ratio: float = 0.25,
    near_copy_limit: float = 0.1,
    max_near_copies: int = 50,
    rng: RNGLike = None,
    workers: int = -1,
    progress: Progress | None = None,
    thresholds: Thresholds | dict[str, float] | None = None,
    batch_size: int = 64,
    backend: str = "local",
    scheduler: str | None = None,
    lm: str = "none",
    lm_dim: int = 1024,
    lm_rows: str = "compared",
) -> AuditResult:
    """Audit synthetic data against its anchors and, optionally, a held-out target set.

    Every comparison of two datasets is made at matched sizes and read against a null:
    the same measure on two splits of real data of one distribution at the same sizes
    (:func:`synthgain.audit.compare`); the number reported is the excess over that null,
    with an interval that includes the rows' sampling error. Comparisons of the anchors
    with the synthetic data use splits of the anchors; those with the target, splits of
    the target; so the anchor/synthetic numbers are the same with or without a target.
    An estimator is used only at the sizes where its calibration table shows it valid
    (docs/estimators.md); otherwise its value is withheld (None) with the reason.

    Parameters
    ----------
    anchor, synthetic, target : Dataset or array_like of shape (n, d)
        The real seed examples, the synthetic data made from them and a held-out sample
        of the task's distribution (optional: without it the target-based measures are
        skipped). Arrays are taken as precomputed embeddings. Each needs at least 5 rows.
    evaluation : Dataset, optional
        An evaluation set, with texts, used only for contamination (the text measures).
    model : {"auto", "minilm", "lsa"}
        Text model, used when the datasets hold text (see :func:`embed_texts`). ``lsa`` is
        fitted on the anchor and synthetic texts only, so the target does not move it.
    cache_dir : path, optional
        Embedding cache.
    compare_rows : int
        Largest matched size ``m`` (rows per dataset in each evaluation of a comparison).
    repeats : int
        Evaluations of each comparison and of its null (each on fresh random subsets).
    n_pca : int
        Dimension of the anchors' whitened principal subspace, where entropies, dI and
        (when the full space is not valid at the size at hand) kNN KL are computed, and of
        the target's for the mixture KL gap.
    k : int
        Neighbours for PRDC and the kNN KL divergences.
    copy_ratio : float
        Near-copy margin (see :func:`novelty`).
    max_near_copies : int
        The near-copy rows listed in the result and the report (closest first); every
        row is flagged in the per-row table whatever this is.
    near_copy_limit : float
        Above this share of near-copies, the kNN divergences and the classifier's JS and
        TV between the anchors and the synthetic data are withheld (samples that share
        rows break both; see the near-duplicate rows of the calibration table).
    rng : None, int, SeedSequence or Generator
        Root seed; each step draws from its own named child stream, so results are
        reproducible and ``rng=s`` equals ``rng=SeedSequence(s)``. None: fresh entropy.
        Whatever it is, the root seed used is recorded in ``result.config["seed"]``
        (entropy and spawn key, also in metrics.json), and
        ``rng=np.random.SeedSequence(**result.config["seed"])`` reruns every number.
    workers : int
        Threads for the neighbour searches (-1: all cores). Results do not depend on it.
    progress : callable, optional
        ``progress(done, total)``, called as the text model embeds each batch of texts.
    thresholds : Thresholds or dict of str to float, optional
        The verdict's thresholds (:class:`synthgain.audit.Thresholds`; a dict sets some,
        e.g. ``{"near_copy_rate": 0.1}``); they change no measure.
    batch_size : int
        Texts per batch of the text model (:func:`embed_texts`); embeddings do not depend
        on it beyond float rounding.
    backend : {"local", "dask", "ray"}
        Where the text model and the nearest-anchor search of every synthetic row (the
        near-copies, nearest ids and outlier scores; :func:`novelty`, 20,000 synthetic
        rows per task) run: here, on dask.distributed (the scheduler at ``scheduler``,
        else a LocalCluster on 127.0.0.1) or on Ray (the cluster at ``scheduler``, else
        a local Ray instance); see :func:`embed_texts`. The results are the same;
        everything else runs here either way.
    scheduler : str, optional
        Dask scheduler address (``tcp://host:8786``) or Ray cluster address
        (``ray://host:10001``, ``auto``), with ``backend="dask"`` or ``"ray"``.
    lm : {"none", "smollm2"}
        The language model whose per-row loss, IFD and gradient sketches give the
        ``model`` measures (G-Vendi, gradient alignment, loss, IFD) and the label-aware
        sketches (:mod:`synthgain.lm`; ``make lm-setup``). Off by default in the library
        (it costs minutes); the command line turns it on when the model is installed.
    lm_dim : int
        Numbers per gradient sketch.
    lm_rows : {"compared", "all"}
        The rows the model scores: those the comparisons use (at most ``compare_rows``
        synthetic rows, twice that of the anchors and the target), or every row (then
        ``lm_loss`` and ``ifd`` fill the whole per-row table).

    Returns
    -------
    AuditResult

    Raises
    ------
    ValidationError
        Before any work, for a parameter outside its declared constraint (each is
        declared once, in the decorator), too few rows, or an evaluation set without
        texts; the message names the parameter.

    Examples
    --------
    Synthetic rows drawn from the anchors' own distribution add nothing over chance; a set of
    near-copies of the anchors reads as such:

    >>> import numpy as np
    >>> from synthgain.audit import run_audit
    >>> g = np.random.default_rng(0)
    >>> anchors, fresh = g.normal(size=(200, 4)), g.normal(size=(200, 4))
    >>> res = run_audit(anchors, fresh, rng=0, repeats=4, workers=1)
    >>> rec = {(r.group, r.key): r for r in res.records}
    >>> lo, hi = rec["fidelity", "precision"].estimate.ci()
    >>> bool(lo <= 0.0 <= hi)
    True
    >>> copies = run_audit(anchors, anchors + 1e-9, rng=0, repeats=4, workers=1)
    >>> float(copies.near_copy.mean())
    1.0
    """
    th = Thresholds.of(thresholds)
    embed_options = {"batch_size": batch_size, "backend": backend, "scheduler": scheduler}
    options = Options(model=model, cache_dir=cache_dir, cap=compare_rows, repeats=repeats,
                      n_pca=n_pca, k=k, copy_ratio=copy_ratio,
                      near_copy_limit=near_copy_limit, max_near_copies=max_near_copies,
                      workers=workers, progress=progress, embed=embed_options, lm=lm,
                      lm_dim=lm_dim, lm_rows=lm_rows,
                      lm_threads=usable_cores() if workers == -1 else workers)
    # a warning raised on the way (a degenerate fit, ...) becomes a note of the result,
    # in metrics.json and the report, once per message (the filters in force still apply)
    with threadpool_limits(limits=1, user_api="blas"), \
            warnings.catch_warnings(record=True) as caught:
        result = _run_stages(Run(_inputs(anchor, synthetic, target, evaluation), evaluation,
                                 options, rng))
    result.notes += [Reason("warning", w) for w in dict.fromkeys(
        f"{w.category.__name__}: {w.message}" for w in caught)]
    result.thresholds = th
    return result


def _as_dataset(x: Any, name: str) -> Dataset:
    if isinstance(x, Dataset):
        return x
    return Dataset.from_arrays(x, name=name)


def _check_sizes(data: dict[str, Dataset]) -> None:
    for name, d in data.items():
        if len(d) < MIN_ROWS:
            raise ValidationError(
                f"{'File ' + repr(d.source) if d.source != '<array>' else 'The ' + name + ' data'}"
                f" has {len(d)} row{'s' if len(d) != 1 else ''}; the audit needs at least "
                f"{MIN_ROWS} {name} rows (it compares samples, and below {MIN_ROWS} rows no "
                "measure of a sample is defined). Add rows to it.")


def _inputs(anchor: Any, synthetic: Any, target: Any, evaluation: Dataset | None
            ) -> dict[str, Dataset]:
    """The datasets of the audit, checked: arrays taken as embeddings, at least
    :data:`MIN_ROWS` rows each, texts everywhere when an evaluation set is given."""
    data = {"anchor": _as_dataset(anchor, "anchor"),
            "synthetic": _as_dataset(synthetic, "synthetic")}
    if target is not None:
        data["target"] = _as_dataset(target, "target")
    _check_sizes(data)
    if evaluation is not None and (evaluation.texts is None or any(
            d.texts is None for d in data.values())):
        raise ValidationError("`evaluation` (--eval) is used for the text measures only, "
                              "which need texts in every dataset and in the evaluation "
                              "set. Give text files, or leave it out.")
    return data


def _run_stages(run: Run) -> AuditResult:
    """Every stage of :data:`~._stages.STAGES` in order, each timed; then the result."""
    for stage in STAGES:
        with run.clock.stage(stage.name):
            stage.run(run)
        missing = [g for g in stage.gives if g not in vars(run.state)]
        if missing:
            raise RuntimeError(f"stage {stage.name!r} did not set {missing}")
    return _result(run)


def _result(run: Run) -> AuditResult:
    st, opt = run.state, run.opt
    run.notes += _withheld_notes(run.records)
    inputs = {n_: {"rows": len(d), "source": d.source, "dim": int(st.emb[n_].shape[1]),
                   "labels": d.labels is not None, "provenance": d.anchor_ids is not None}
              for n_, d in run.data.items()}
    config = {"model": st.model_used, "compare_rows": opt.cap, "repeats": opt.repeats,
              "n_pca": opt.n_pca, "k": opt.k, "copy_ratio": opt.copy_ratio,
              "near_copy_limit": opt.near_copy_limit, "lm": opt.lm,
              **({"lm_dim": opt.lm_dim, "lm_rows": opt.lm_rows} if opt.lm != "none" else {}),
              "rng": run.rng if isinstance(run.rng, int) else None,
              # the root seed whatever ``rng`` was (None, a Generator, ...):
              # run_audit(..., rng=SeedSequence(**config["seed"])) reruns every number
              "seed": _seed_record(run.root)}
    return AuditResult(
        records=run.records, inputs=inputs, config=config, near_copies=st.near,
        notes=run.notes, points_2d=st.points, nearest_distance=st.nov.distance,
        copy_threshold_ratio=opt.copy_ratio, timings=run.clock.wall,
        map_mixtures=st.map_mix, cpu_timings=run.clock.cpu, near_copy=st.nov.near_copy,
        row_info=st.row_info, text_rows=st.text_rows, model_rows=st.model_rows,
        label_suspect=st.label_suspect, topics=st.topics)


def _withheld_notes(records: list[Metric]) -> list[Reason]:
    """One note per withheld value, except the values whose estimator the calibration
    table calls valid at no size here: one plain line names them all (they are withheld
    in every audit of that dimension, and one line each would bury the rest)."""
    withheld = [m for m in records if m.estimate is None and m.reason]
    never = [m for m in withheld if m.code == "not_valid_at_any_size"]
    notes = [Reason("withheld", f"Withheld: {m.label}: {m.reason}.") for m in withheld
             if len(never) < 2 or m.code != "not_valid_at_any_size"]
    if len(never) >= 2:
        notes.append(Reason(
            "withheld", f"Withheld, as in every audit at this dimension: "
            f"{', '.join(m.label for m in never)}. The calibration table (docs/estimators.md) "
            "finds their estimators valid at no sample size it tabulates in this many "
            "dimensions (the information measures: over its random families of data with "
            "provenance); metrics.json keeps each raw value and its null."))
    return notes


def _seed_record(root: np.random.SeedSequence) -> dict[str, Any]:
    """``root`` as JSON: its entropy (an int, or a list of ints) and spawn key."""
    ent = root.entropy
    return {"entropy": [int(e) for e in ent] if isinstance(ent, list | tuple | np.ndarray)
            else int(ent),  # type: ignore[arg-type]
            "spawn_key": [int(k) for k in root.spawn_key]}
