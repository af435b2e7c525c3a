"""The audit: every measure of anchor, synthetic and target data, in one result."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from .._rng import RNGLike, child_generator, seed_sequence
from .._validation import check_choice, check_int, check_real
from ..exceptions import ValidationError
from ..measures import Estimate
from ..mixture import fit_gmm
from ._calibration import why_invalid
from ._embed import Progress, available_models, embed_texts
from ._estimators import (
    BOUNDS,
    c2st,
    distance_ratio,
    entropy_diff,
    knn_kl,
    knn_kl_gap,
    ksg_mi,
    mixture_kl_gap,
    mixture_mi,
    near_copy_rate,
    prdc_measure,
    vendi_diff,
)
from ._information import difference, project
from ._io import Dataset
from ._metrics import novelty
from ._null import compare, matched_rows
from ._probe import probe
from ._records import Metric, metric
from ._rows import RowInfo, outlier_scores
from ._text import audit_texts, minilm_token_counts, text_counts_line
from ._verdict import Thresholds, build_verdict, verdict_lines

__all__ = ["MIN_ROWS", "SCHEMA", "AuditResult", "run_audit"]

SCHEMA = "synthgain.audit/2"
#: fewest rows of any dataset the audit accepts
MIN_ROWS = 5
#: the estimators that have rows in the calibration table (the others, PRDC, Vendi and
#: novelty, have no known truth to calibrate against and are read against their null only)
CALIBRATED = frozenset({"knn_kl", "c2st", "mixture_kl_gap", "knn_kl_gap", "entropy_diff",
                        "ksg_mi", "mixture_mi"})
#: points per dataset drawn on the report's map (enough to see the shape, few enough
#: that the PNG stays small and the scatter readable)
_MAP_POINTS = 2000
#: components of the mixture drawn on the map, at most one per _MAP_POINTS_PER_COMPONENT
#: points shown (fewer points cannot place a 2-d Gaussian's ellipse reliably)
_MAP_COMPONENTS = 4
_MAP_POINTS_PER_COMPONENT = 10
#: synthetic rows with anchor ids needed before dI is computed (below this, no estimator
#: of I(prompt; synthetic) is near valid: the calibration table's smallest n is 10)
_MIN_PROMPTED_ROWS = 10
_PAIRS = (("anchor", "synthetic"), ("synthetic", "target"), ("anchor", "target"))


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
    notes : list of str
        Subsampling and skipped measures, in plain words.
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
    """

    records: list[Metric]
    inputs: dict[str, Any]
    config: dict[str, Any]
    near_copies: list[dict[str, Any]]
    notes: list[str]
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
            "notes": list(self.notes),
            "metrics": self._metrics_doc(),
            "near_copies": self.near_copies,
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
        rows = [
            ("divergences", "js_anchor_synthetic", "JS(anchor, synthetic) over chance"),
            ("divergences", "js_synthetic_target", "JS(synthetic, target) over chance"),
            ("kl_gap", "mixture", "KL gap (mixture, PCA space) over chance"),
            ("information", "information_gain", "dI - H(anchor)"),
            ("fidelity", "precision", "precision over chance"),
            ("fidelity", "coverage", "coverage over chance"),
            ("diversity", "vendi_synthetic", "Vendi(synthetic) - Vendi(anchor)"),
            ("novelty", "memorisation", "near-copy rate over chance"),
            ("probe", "gain_both", "probe accuracy gain (anchor+synthetic vs anchor)"),
        ]
        recs = {(r.group, r.key): r for r in self.records}
        lines = verdict_lines(self.verdict())
        for group, key, label in rows:
            rec = recs.get((group, key))
            if rec is None:
                continue
            if rec.estimate is None:
                lines.append(f"{label}: withheld ({rec.reason})")
                continue
            lo, hi = rec.estimate.ci()
            lines.append(f"{label}: {rec.estimate.value:.4g} (95% CI {lo:.3g} to {hi:.3g})")
        text = text_counts_line(self.records)
        return lines if text is None else [*lines, text]


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


def _embed_all(data: dict[str, Dataset], model: str, cache_dir: Any, progress: Progress | None,
               **options: Any) -> tuple[dict[str, np.ndarray], str]:
    if all(d.embeddings is not None for d in data.values()):
        return {k: np.asarray(d.embeddings, dtype=np.float64) for k, d in data.items()}, "given"
    missing = [k for k, d in data.items() if d.embeddings is None and d.texts is None]
    if missing:
        raise ValidationError(f"Dataset {missing[0]!r} has neither texts nor embeddings.")
    if any(d.embeddings is not None for d in data.values()):
        raise ValidationError(
            "Mix of precomputed embeddings and raw text: give embeddings for every dataset, "
            "or text for every dataset."
        )
    resolved = available_models()[0] if model == "auto" else model
    texts = [t for d in data.values() for t in (d.texts or [])]
    # the space is fitted on the anchor and synthetic texts only (a fitted model such as
    # LSA would otherwise move with the optional target)
    corpus = [t for n, d in data.items() if n != "target" for t in (d.texts or [])]
    emb = embed_texts(texts, model=resolved, cache_dir=cache_dir, progress=progress,
                      fit_on=corpus, **options)
    out, start = {}, 0
    for k, d in data.items():
        out[k] = np.asarray(emb[start : start + len(d)], dtype=np.float64)
        start += len(d)
    return out, resolved


def _prompts(anchor: Dataset, synthetic: Dataset, ea: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray] | None:
    """Mean embedding of each synthetic row's anchors, and the rows that have some."""
    if synthetic.anchor_ids is None:
        return None
    index = {a: i for i, a in enumerate(anchor.ids)}
    rows, vecs = [], []
    for j, ids in enumerate(synthetic.anchor_ids):
        if not ids:
            continue
        for a in ids:
            if a not in index:
                raise ValidationError(
                    f"{synthetic.locate(j)}, column 'anchor_id': anchor id "
                    f"{a!r} is not an id of the anchor data ('{anchor.source}'). Anchor ids "
                    "refer to the anchors' `id` column, or their 0-based row index."
                )
        rows.append(j)
        vecs.append(ea[[index[a] for a in ids]].mean(axis=0))
    if len(rows) < _MIN_PROMPTED_ROWS:
        return None
    return np.asarray(vecs), np.asarray(rows)


class _Clock:
    """Wall-clock and process CPU seconds of each named stage."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        w0, c0 = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.wall[name] = self.wall.get(name, 0.0) + time.perf_counter() - w0
            self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - c0


def _sub(x: np.ndarray, m: int, gen: np.random.Generator) -> np.ndarray:
    return x if x.shape[0] <= m else x[np.sort(gen.choice(x.shape[0], m, replace=False))]


def _as_dataset(x: Any, name: str) -> Dataset:
    if isinstance(x, Dataset):
        return x
    return Dataset.from_arrays(x, name=name)


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
    thresholds : Thresholds or dict of str to float, optional
        The verdict's thresholds (:class:`synthgain.audit.Thresholds`; a dict sets some,
        e.g. ``{"near_copy_rate": 0.1}``); they change no measure.
    batch_size : int
        Texts per batch of the text model (:func:`embed_texts`); embeddings do not depend
        on it beyond float rounding.
    backend : {"local", "dask"}
        Where the text model and the nearest-anchor search of every synthetic row (the
        near-copies, nearest ids and outlier scores; :func:`novelty`, 20,000 synthetic
        rows per task) run: here, or on dask.distributed (the scheduler at
        ``scheduler``, else a LocalCluster on 127.0.0.1); see :func:`embed_texts`. The
        results are the same; everything else runs here either way.
    scheduler : str, optional
        Dask scheduler address (``tcp://host:8786``), with ``backend="dask"``.

    Returns
    -------
    AuditResult
    """
    compare_rows = check_int(compare_rows, "compare_rows", low=2)
    repeats = check_int(repeats, "repeats", low=2)
    workers = check_int(workers, "workers", low=-1)
    embed_options = {"batch_size": check_int(batch_size, "batch_size", low=1),
                     "backend": check_choice(backend, "backend", ("local", "dask")),
                     "scheduler": scheduler}
    near_copy_limit = check_real(near_copy_limit, "near_copy_limit", low=0.0, high=1.0)
    if workers == 0:
        raise ValidationError("`workers` must be -1 (all cores) or at least 1. Got 0 instead.")
    th = Thresholds.of(thresholds)
    # a warning raised on the way (a degenerate fit, ...) becomes a note of the result,
    # in metrics.json and the report, once per message (the filters in force still apply)
    with threadpool_limits(limits=1, user_api="blas"), \
            warnings.catch_warnings(record=True) as caught:
        result = _Audit(anchor, synthetic, target, model=model, cache_dir=cache_dir,
                      cap=compare_rows, repeats=repeats, n_pca=n_pca, k=k,
                      copy_ratio=copy_ratio, near_copy_limit=near_copy_limit,
                      max_near_copies=max_near_copies, rng=rng, workers=workers,
                      progress=progress, evaluation=evaluation,
                      embed_options=embed_options).run()
    result.notes += list(dict.fromkeys(f"{w.category.__name__}: {w.message}"
                                       for w in caught))
    result.thresholds = th
    return result


def _check_sizes(data: dict[str, Dataset]) -> None:
    for name, d in data.items():
        if len(d) < MIN_ROWS:
            raise ValidationError(
                f"{'File ' + repr(d.source) if d.source != '<array>' else 'The ' + name + ' data'}"
                f" has {len(d)} row{'s' if len(d) != 1 else ''}; the audit needs at least "
                f"{MIN_ROWS} {name} rows (it compares samples, and below {MIN_ROWS} rows no "
                "measure of a sample is defined). Add rows to it.")


class _Audit:
    """One run of the audit: its inputs, streams, records and notes."""

    def __init__(self, anchor: Any, synthetic: Any, target: Any, *, model: str,
                 cache_dir: Any, cap: int, repeats: int, n_pca: int, k: int,
                 copy_ratio: float, near_copy_limit: float, max_near_copies: int,
                 rng: RNGLike, workers: int, progress: Progress | None,
                 evaluation: Dataset | None = None,
                 embed_options: dict[str, Any] | None = None) -> None:
        self.data = {"anchor": _as_dataset(anchor, "anchor"),
                     "synthetic": _as_dataset(synthetic, "synthetic")}
        if target is not None:
            self.data["target"] = _as_dataset(target, "target")
        _check_sizes(self.data)
        self.evaluation = evaluation
        if evaluation is not None and (evaluation.texts is None or any(
                d.texts is None for d in self.data.values())):
            raise ValidationError("`evaluation` (--eval) is used for the text measures only, "
                                  "which need texts in every dataset and in the evaluation "
                                  "set. Give text files, or leave it out.")
        self.model, self.cache_dir, self.progress = model, cache_dir, progress
        self.embed_options = embed_options or {}
        self.cap, self.repeats, self.n_pca, self.k = cap, repeats, n_pca, k
        self.copy_ratio, self.near_copy_limit = copy_ratio, near_copy_limit
        self.max_near_copies, self.workers, self.rng = max_near_copies, workers, rng
        self.root = seed_sequence(rng)
        self.records: list[Metric] = []
        self.notes: list[str] = []
        self.clock = _Clock()

    def stream(self, *key: int | str) -> np.random.Generator:
        return child_generator(self.root, *key)

    @contextmanager
    def _search_backend(self) -> Iterator[Any]:
        """With ``backend="dask"``, the cluster the nearest-anchor search runs on (closed
        after it); else None (the search runs here)."""
        if self.embed_options.get("backend", "local") == "local":
            yield None
            return
        from ..experiments.backends import get_backend

        with get_backend("dask", scheduler=self.embed_options.get("scheduler")) as cluster:
            yield cluster

    # --- one comparison -> records ------------------------------------------------------
    def compare(self, group: str, keys: dict[str, str], estimator: str | tuple[str, ...],
                measure: Any, p: str, q: str, *, x: np.ndarray | None = None,
                y: np.ndarray | None = None,
                reference: str | None = None, ref_x: np.ndarray | None = None,
                null: str = "split", min_rows: int = 2, space_dim: int | None = None,
                kinds: dict[str, str] | None = None, withhold: str | None = None,
                fixed: np.ndarray | None = None,
                stream: tuple[int | str, ...] = ()) -> dict[str, Any]:
        """Run ``measure`` on datasets ``p`` and ``q`` through :func:`compare` and record
        each output named in ``keys`` (output -> metrics key); withheld outputs get None
        and the reason.

        ``estimator`` and ``measure`` may be tuples of alternatives, in order of
        preference: the first that the calibration table shows valid for every output at
        the matched size and dimension is run; when none is, the first is run (its raw
        value and null are kept) and the outputs are withheld with every alternative's
        reason."""
        xp = self.emb[p] if x is None else x
        yq = self.emb[q] if y is None else y
        sizes = [xp.shape[0], yq.shape[0]]
        if null == "split":
            assert ref_x is not None and reference is not None
            sizes.append(ref_x.shape[0] // 2)
        m = matched_rows(*sizes, cap=self.cap)
        d = xp.shape[1] if space_dim is None else space_dim
        kinds = kinds or {}
        ds = (p, q)
        names = (estimator,) if isinstance(estimator, str) else tuple(estimator)
        measures = (measure,) if isinstance(estimator, str) else tuple(measure)
        invalid = {name: [why for out in keys
                          if (why := why_invalid(name, out, m, d)) is not None]
                   if name in CALIBRATED else [] for name in names}
        pick = next((i for i, name in enumerate(names) if not invalid[name]), 0)
        estimator, measure = names[pick], measures[pick]

        def withheld(reason: str) -> dict[str, Any]:
            for out, key in keys.items():
                self.records.append(metric(group, key, None, kind=kinds.get(out),
                                           datasets=ds, reason=reason))
            return {}

        if withhold is not None:
            return withheld(withhold)
        if m < min_rows:
            src = (f"{reference} (split in two)" if null == "split" and
                   ref_x is not None and ref_x.shape[0] // 2 == m else
                   "the smaller dataset")
            return withheld(f"needs at least {min_rows} rows per dataset at matched sizes; "
                            f"{src} gives {m}")
        res = compare(measure, xp, yq, ref_x, rows=m, repeats=self.repeats,
                      null=null,  # type: ignore[arg-type]
                      reference_name=reference or "", method=estimator,
                      bounds=BOUNDS.get(estimator), fixed=fixed,
                      rng=self.stream("compare", group, *stream, *ds))
        for out, key in keys.items():
            c = res[out]
            reason = ("; ".join(dict.fromkeys(w for name in names for w in invalid[name]))
                      if invalid[estimator] else None)
            if reason is None and c.outside:
                reason = (f"the estimate ({c.raw:.3g}) is below what chance gives "
                          f"({c.null.value:.3g}) by more than its interval allows, which a "
                          f"{'divergence' if out != 'mi' else 'mutual information'} cannot "
                          "be: the estimator is not valid for these data (duplicate or tied "
                          "rows, or datasets in different regions of the space)")
            est = None if reason is not None else c.estimate
            self.records.append(metric(group, key, est, kind=kinds.get(out), datasets=ds,
                                       raw=c.raw, null=c.null, reason=reason))
        return res

    # --- the stages ------------------------------------------------------------------------
    def run(self) -> AuditResult:
        data, clock = self.data, self.clock
        with clock.stage("embed"):
            self.emb, model_used = _embed_all(data, self.model, self.cache_dir, self.progress,
                                              **self.embed_options)
        text_rows = None
        if all(d.texts is not None for d in data.values()):
            with clock.stage("text"):
                txt = audit_texts(data["anchor"], data["synthetic"], data.get("target"),
                                  self.evaluation, compare_rows=self.cap, repeats=self.repeats,
                                  token_counts=minilm_token_counts
                                  if model_used == "minilm" else None,
                                  rng=self.stream("text"))
                self.records += txt.records
                self.notes += txt.notes
                text_rows = txt.rows
        dims = {k_: v.shape[1] for k_, v in self.emb.items()}
        if len(set(dims.values())) > 1:
            raise ValidationError(f"The datasets' embeddings differ in size: {dims}.")
        emb, has_t = self.emb, "target" in self.emb
        n = {k_: v.shape[0] for k_, v in emb.items()}
        self.notes.append(
            f"Every comparison uses matched sizes of at most {self.cap:,} rows per dataset, "
            f"{self.repeats} random subsets, and is read against its null: the same measure "
            "on two splits of the anchors (anchor vs synthetic) or of the target (pairs with "
            "the target), on the two datasets' rows permuted (the KL gaps, the entropy "
            "differences) or with the pairing shuffled (I(prompt; synthetic)), at the same "
            "sizes.")
        with clock.stage("novelty"):
            # one search of the anchors for the near-copies and the outlier scores
            k_out = max(1, min(self.k, n["anchor"] - 1))
            with self._search_backend() as cluster:
                nov = novelty(emb["anchor"], emb["synthetic"], copy_ratio=self.copy_ratio,
                              workers=self.workers, k=k_out, backend=cluster)
            near = _near_copy_rows(data, nov, self.max_near_copies)
            # against the anchors, like the near-copies: the flags do not move with the
            # optional target, and the embedding space (LSA) was fitted on the anchors
            out = outlier_scores(emb["synthetic"], emb["anchor"], k=self.k,
                                 reference_name="anchor", workers=self.workers,
                                 distances=nov.kth_distance if k_out > 1 else
                                 nov.distance)
            row_info = RowInfo(data["synthetic"].ids, data["synthetic"].anchor_ids,
                               [data["anchor"].ids[int(i)] for i in nov.nearest],
                               nov.ratio, out, data["synthetic"].texts)
            rate = float(nov.memorisation.value)
            self._novelty_against_held_out_anchors(nov)
            self.notes.append(f"{int(nov.memorisation.params['count']):,} of {n['synthetic']:,}"
                              f" synthetic rows ({rate:.1%}) are near-copies of an anchor "
                              "(all rows; listed in the report).")
        # the share of near-copies when above the limit (None below it), and the reason
        # it gives for withholding the kNN and classifier estimates
        over = (f"{rate:.1%} of the synthetic rows are near-copies of anchors (limit "
                f"{self.near_copy_limit:.0%})" if rate > self.near_copy_limit else None)
        copies = (None if over is None else
                  f"{over}: kNN and classifier estimates between samples that share rows "
                  "are invalid (calibration table, near-duplicate case)")
        # the information space: the whitened principal subspace of the anchor and synthetic
        # rows pooled (both sides of every comparison made in it are in the fit, as are the
        # splits of the null; a subspace fitted on one side only would favour that side)
        proj = project(np.concatenate([emb["anchor"], emb["synthetic"]]), self.n_pca)
        r = proj.components.shape[0]
        sub_a = proj(emb["anchor"])

        with clock.stage("divergences"):
            for i, (p, q) in enumerate(_PAIRS):
                if p not in emb or q not in emb:
                    continue
                ref, ref_name = (("anchor", "anchors") if (p, q) == ("anchor", "synthetic")
                                 else ("target", "target"))
                sizes = [n[p], n[q], n[ref] // 2]
                m = matched_rows(*sizes, cap=self.cap)
                full = why_invalid("knn_kl", "kl", m, dims[p]) is None
                space = proj if not full else None
                for a_, b_ in ((p, q), (q, p)):
                    x = emb[a_] if space is None else space(emb[a_])
                    y = emb[b_] if space is None else space(emb[b_])
                    rx = emb[ref] if space is None else space(emb[ref])
                    self.compare("divergences", {"kl": f"kl_{a_}_{b_}"}, "knn_kl",
                                 knn_kl(self.k), a_, b_, x=x, y=y, reference=ref_name,
                                 ref_x=rx, kinds={"kl": "kl"}, min_rows=3,
                                 withhold=copies if {a_, b_} == {"anchor", "synthetic"}
                                 else None, stream=(i,))
                if space is not None:
                    self.notes.append(f"KL({p}, {q}) is computed in the {r}-d whitened "
                                      "principal subspace of the anchor and synthetic rows: "
                                      "the kNN estimator "
                                      f"is not valid in {dims[p]} dimensions at {m:,} rows "
                                      "(calibration table).")
                # near-copies fool the classifier test too (each row's twin sits in
                # another fold: TV 0.53 on near-duplicates of one distribution at 50 rows
                # in 64-d, calibration table)
                self.compare("divergences", {"js": f"js_{p}_{q}", "tv": f"tv_{p}_{q}"},
                             "c2st", c2st(), p, q, reference=ref_name, ref_x=emb[ref],
                             kinds={"js": "js", "tv": "tv"}, min_rows=10, stream=(i,),
                             withhold=copies if (p, q) == ("anchor", "synthetic") else None)

        with clock.stage("information"):
            self._information(proj, sub_a, n, over)

        with clock.stage("kl_gap"):
            if has_t:
                t_sub = _sub(emb["target"], self.cap, self.stream("kl_gap_target"))
                self.compare("kl_gap", {"gap": "mixture", "kl_x": "mixture_kl_anchor_target",
                                        "kl_y": "mixture_kl_synthetic_target"},
                             "mixture_kl_gap", mixture_kl_gap(self.n_pca),
                             "anchor", "synthetic", null="permutation", min_rows=10,
                             fixed=t_sub)
                self.compare("kl_gap", {"gap": "knn"}, "knn_kl_gap", knn_kl_gap(self.k),
                             "anchor", "synthetic", null="permutation", min_rows=3,
                             fixed=t_sub)
            else:
                self.notes.append("No target set: the KL-gap analogue and the probe are not "
                                  "computed.")

        with clock.stage("fidelity"):
            self.compare("fidelity", {o: o for o in ("precision", "recall", "density",
                                                     "coverage")},
                         "prdc", prdc_measure(self.k, self.workers), "anchor", "synthetic",
                         reference="anchors", ref_x=emb["anchor"], min_rows=3)

        with clock.stage("diversity"):
            zeros = {}
            for name, x in emb.items():
                zeros[name] = int((~np.any(x != 0, axis=1)).sum())
                if zeros[name] and zeros[name] < n[name]:
                    self.notes.append(f"The Vendi score of the {name} data leaves out "
                                      f"{zeros[name]:,} all-zero embedding rows (e.g. texts "
                                      "with no word known to the embedder).")
            for name in ("synthetic", "target"):
                if name in emb:
                    empty = [d for d in (name, "anchor") if zeros[d] == n[d]]
                    self.compare("diversity", {"vendi": f"vendi_{name}"}, "vendi_diff",
                                 vendi_diff(), name, "anchor", reference="anchors",
                                 ref_x=emb["anchor"], kinds={"vendi": "vendi"}, min_rows=2,
                                 withhold=None if not empty else
                                 f"no {empty[0]} row has a non-zero embedding (e.g. texts of "
                                 "only emoji or punctuation, with no word known to the "
                                 "embedder): the diversity of nothing is not defined")

        with clock.stage("probe"):
            if has_t and all(d.labels is not None for d in data.values()):
                single = _single_class(data)
                if single is not None:
                    for key in _PROBE_KEYS:
                        self.records.append(metric("probe", key, None, reason=single))
                else:
                    for key, est in probe(emb["anchor"], data["anchor"].labels,
                                          emb["synthetic"], data["synthetic"].labels,
                                          emb["target"], data["target"].labels).items():
                        self.records.append(metric("probe", key, est))
            elif has_t:
                self.notes.append("No labels on every dataset: the probe is not run.")

        with clock.stage("map"):
            pool_gen = self.stream("map_pool")
            pooled = np.concatenate([_sub(x, _MAP_POINTS, pool_gen) for x in emb.values()])
            p2 = project(pooled, 2)
            points = {n_: p2(_sub(x, _MAP_POINTS, self.stream("map_points", n_)))
                      for n_, x in emb.items()}
            map_mix = {n_: fit_gmm(pts, min(_MAP_COMPONENTS,
                                            pts.shape[0] // _MAP_POINTS_PER_COMPONENT or 1),
                                   rng=self.stream("map_mixture", n_)).mixture
                       for n_, pts in points.items() if n_ != "target"}
        withheld = [f"{m_.label}: {m_.reason}" for m_ in self.records if m_.estimate is None
                    and m_.reason]
        self.notes += [f"Withheld: {w}." for w in withheld]
        inputs = {n_: {"rows": len(d), "source": d.source, "dim": int(emb[n_].shape[1]),
                       "labels": d.labels is not None, "provenance": d.anchor_ids is not None}
                  for n_, d in data.items()}
        config = {"model": model_used, "compare_rows": self.cap, "repeats": self.repeats,
                  "n_pca": self.n_pca, "k": self.k, "copy_ratio": self.copy_ratio,
                  "near_copy_limit": self.near_copy_limit,
                  "rng": self.rng if isinstance(self.rng, int) else None,
                  # the root seed whatever ``rng`` was (None, a Generator, ...):
                  # run_audit(..., rng=SeedSequence(**config["seed"])) reruns every number
                  "seed": _seed_record(self.root)}
        return AuditResult(self.records, inputs, config, near, self.notes, points,
                           nov.distance, self.copy_ratio, clock.wall, map_mix, clock.cpu,
                           nov.near_copy, row_info=row_info, text_rows=text_rows)

    def _novelty_against_held_out_anchors(self, nov: Any) -> None:
        """Near-copy rate and distance ratio at matched sizes against a split of the
        anchors, like every other comparison.

        The synthetic rows are compared with a random half of the anchors, so a generator
        that copies shows about half its copies in the value; the share over all rows and
        all anchors is kept in ``params["share_all_rows"]`` (and flags every row). A
        leave-one-out null with a binomial interval treats the flags as independent; they
        are not (near-duplicate anchors flag in pairs, and every row's flag depends on the
        same anchors): its interval covered the null in 40% of clustered 64-d null audits.
        """
        a = self.emb["anchor"]
        res = self.compare("novelty", {"near_copy_rate": "memorisation"}, "near_copy_rate",
                           near_copy_rate(self.copy_ratio, self.workers), "anchor",
                           "synthetic", reference="anchors", ref_x=a, min_rows=3)
        if res:
            share = float(nov.memorisation.value)
            rec = self.records[-1]
            assert rec.estimate is not None
            rec.estimate.params.update(share_all_rows=share,
                                       count_all_rows=int(nov.near_copy.sum()))
        self.compare("novelty", {"distance_ratio": "distance_ratio"}, "distance_ratio",
                     distance_ratio(self.workers), "anchor", "synthetic",
                     reference="anchors", ref_x=a, min_rows=3)

    def _information(self, proj: Any, sub_a: np.ndarray, n: dict[str, int],
                     near_copies: str | None = None) -> None:
        """dH, and with provenance I(prompt; synthetic) and dI, in the whitened principal
        subspace of the anchor and synthetic rows (unit-free: rescaling the embedding does
        not move them).

        With near-copies above the limit (``near_copies``: their share, in words),
        I(prompt; synthetic) is that of near-duplicates, which the mixture fit's ridge
        caps (about r/2 log(1/(2 ridge)), 25 nats in r = 8; calibration table: -12 nats at
        a truth of 37): its value is then a lower bound and dI's an upper bound, which the
        record's params and a note say.
        """
        emb = self.emb
        r = proj.components.shape[0]
        s_proj = proj(emb["synthetic"])
        # the entropy difference is read against a permutation of the two datasets (its
        # null truth is 0), which needs no split of the anchors: valid from 100 rows each
        self.compare("information", {"dh": "delta_h"}, "entropy_diff", entropy_diff(),
                     "anchor", "synthetic", x=sub_a, y=s_proj, null="permutation",
                     min_rows=r + 2, space_dim=r)
        prompts = _prompts(self.data["anchor"], self.data["synthetic"], emb["anchor"])
        keys = ("entropy_synthetic", "mi_prompt_synthetic", "information_gain")
        if prompts is None:
            why = (f"needs provenance (anchor_id) on at least {_MIN_PROMPTED_ROWS} synthetic "
                   "rows")
            self.notes.append("No provenance (anchor_id) on enough synthetic rows: the "
                              "information gain dI = H(S_gen) - I(anchor; synthetic) is not "
                              "computed.")
            for key in keys:
                self.records.append(metric("information", key, None,
                                           datasets=("anchor", "synthetic"), reason=why))
            return
        vecs, rows = prompts
        sp = s_proj[rows]
        self.notes.append(f"dI uses the {rows.shape[0]:,} synthetic rows with anchor ids.")
        h = self.compare("information", {"dh": "entropy_synthetic"}, "entropy_diff",
                         entropy_diff(), "synthetic", "anchor", x=sp, y=sub_a, null="permutation",
                         min_rows=r + 2, space_dim=r, stream=("provenance",))
        # KSG where the calibration table shows it valid (nowhere so far), else the
        # mixture fit
        mi = self.compare("information", {"mi": "mi_prompt_synthetic"},
                          ("ksg_mi", "mixture_mi"), (ksg_mi(), mixture_mi()),
                          "anchor", "synthetic", x=proj(vecs), y=sp, null="pairing",
                          min_rows=r + 2, space_dim=r)
        rec = {m_.key: m_ for m_ in self.records if m_.group == "information"}
        h_est, mi_est = rec[keys[0]].estimate, rec[keys[1]].estimate
        if h and mi and h_est is not None and mi_est is not None:
            gain = difference(h_est, mi_est, "information_gain_minus_anchor_entropy")
            if near_copies is not None and mi_est.method.startswith("mixture_mi"):
                mi_est.params["bound"], gain.params["bound"] = "lower", "upper"
                self.notes.append(
                    "I(prompt; synthetic) is a lower bound and dI - H(anchor) an upper "
                    f"bound: {near_copies}, and the mutual information of "
                    "near-duplicates is larger than the mixture fit can show (calibration "
                    "table, near-duplicate case).")
            self.records.append(metric("information", "information_gain", gain,
                                       datasets=("anchor", "synthetic"),
                                       raw=h["dh"].raw - mi["mi"].raw))
        else:
            self.records.append(metric("information", "information_gain", None,
                                       datasets=("anchor", "synthetic"),
                                       reason="one of its parts is withheld"))


def _seed_record(root: np.random.SeedSequence) -> dict[str, Any]:
    """``root`` as JSON: its entropy (an int, or a list of ints) and spawn key."""
    ent = root.entropy
    return {"entropy": [int(e) for e in ent] if isinstance(ent, list | tuple | np.ndarray)
            else int(ent),  # type: ignore[arg-type]
            "spawn_key": [int(k) for k in root.spawn_key]}


#: The probe's measures, as :func:`probe` returns them.
_PROBE_KEYS = ("accuracy_anchor", "accuracy_synthetic", "accuracy_both", "gain_both",
               "gain_synthetic")


def _single_class(data: dict[str, Dataset]) -> str | None:
    """Why the probe cannot be read (the target, or all the training rows together, hold
    one class: every accuracy is then 0 or 1 by construction), or None."""
    target = np.unique(np.asarray(data["target"].labels).astype(str))
    train = np.unique(np.concatenate([np.asarray(data[k].labels).astype(str)
                                      for k in ("anchor", "synthetic")]))
    for what, classes in (("target", target), ("anchor and synthetic", train)):
        if classes.size < 2:
            return (f"the {what} labels hold one class ('{classes[0]}'): a probe scored on "
                    "or trained with one class measures nothing (its accuracy is 0 or 1 by "
                    "construction)")
    return None


def _near_copy_rows(data: dict[str, Dataset], nov: Any, limit: int) -> list[dict[str, Any]]:
    idx = np.flatnonzero(nov.near_copy)
    idx = idx[np.argsort(nov.ratio[idx], kind="stable")][:limit]
    a, s = data["anchor"], data["synthetic"]
    rows = []
    for j in idx:
        i = int(nov.nearest[j])
        rows.append({
            "synthetic_id": s.ids[j], "anchor_id": a.ids[i],
            "distance": float(nov.distance[j]), "ratio": _jsonable(float(nov.ratio[j])),
            "synthetic_text": None if s.texts is None else s.texts[j],
            "anchor_text": None if a.texts is None else a.texts[i],
        })
    return rows
