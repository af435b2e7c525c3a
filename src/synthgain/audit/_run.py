"""One run of the audit: its inputs, options, random streams, records, notes and the
state its stages build; and the one way a comparison of two datasets becomes records.

The stages (:mod:`._stages`) read and write a :class:`Run`: each reads the fields of
``run.state`` that earlier stages set (reading one no stage has set is an error naming
it) and appends its measures to ``run.records`` and its notes to ``run.notes``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .._rng import RNGLike, child_generator, seed_sequence
from ._calibration import why_invalid
from ._embed import Progress
from ._estimators import BOUNDS
from ._io import Dataset
from ._null import Comparison, compare, matched_rows
from ._reasons import Reason
from ._records import Metric, metric

__all__ = ["CALIBRATED", "Compared", "Options", "Run", "State", "record_comparison"]

#: the estimators that have rows in the calibration table (the others, PRDC, Vendi and
#: novelty, have no known truth to calibrate against and are read against their null only)
CALIBRATED = frozenset({"knn_kl", "c2st", "mixture_kl_gap", "knn_kl_gap", "entropy_diff",
                        "crossfit_dh", "ksg_mi", "mixture_mi", "crossfit_mi"})


@dataclass(frozen=True)
class Options:
    """The audit's settings, checked by :func:`~._pipeline.run_audit` (its docstring
    says what each means); ``cap`` is ``compare_rows``."""

    model: str
    cache_dir: Any
    cap: int
    repeats: int
    n_pca: int
    k: int
    copy_ratio: float
    near_copy_limit: float
    max_near_copies: int
    workers: int
    progress: Progress | None = None
    embed: dict[str, Any] = field(default_factory=dict)
    lm: str = "none"
    lm_dim: int = 1024
    lm_rows: str = "compared"
    lm_threads: int = 1


class State:
    """What the stages have computed so far (each field set by one stage, in
    :data:`~._stages.STAGES` order; the stage table says which)."""

    emb: dict[str, np.ndarray]          # embed: each dataset's embeddings
    model_used: str                     # embed: the text model, or "given"
    n: dict[str, int]                   # embed: rows per dataset
    dims: dict[str, int]                # embed: dimension per dataset
    text_rows: dict[str, np.ndarray] | None  # text: per-row text facts (None: no texts)
    nov: Any                            # novelty: the nearest-anchor search (Novelty)
    near: list[dict[str, Any]]          # novelty: the near-copy rows for the report
    row_info: Any                       # novelty: the per-row table's columns (RowInfo)
    over: str | None                    # novelty: that share in words, above the limit
    copies: Reason | None               # novelty: the reason it withholds kNN/classifier
    topics: Any                         # topics: the Topics of the reference rows
    proj: Any                           # space: the whitened principal projection
    sub_a: np.ndarray                   # space: the anchors in it
    points: dict[str, np.ndarray]       # map: each dataset on the 2-d map
    map_mix: dict[str, Any]             # map: the mixtures drawn on it
    lm: dict[str, Any] | None           # model: rows scored, their Scores, the sketch spec
    model_rows: dict[str, np.ndarray] | None  # model: lm_loss and ifd per synthetic row
    label_suspect: np.ndarray | None    # labels: cleanlab's flag per synthetic row

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"the audit's state {name!r} is read before a stage set it "
                             "(a stage needs it but does not come after the one that "
                             "gives it)")


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


class Run:
    """One run of the audit: inputs, options, the root seed, and what the stages add."""

    def __init__(self, data: dict[str, Dataset], evaluation: Dataset | None,
                 options: Options, rng: RNGLike) -> None:
        self.data, self.evaluation, self.opt = data, evaluation, options
        self.rng = rng
        self.root = seed_sequence(rng)
        self.records: list[Metric] = []
        self.notes: list[Reason] = []
        self.state = State()
        self.clock = _Clock()

    def stream(self, *key: int | str) -> np.random.Generator:
        """The generator of the named child stream ``key`` of the root seed."""
        return child_generator(self.root, *key)

    def note(self, code: str, text: str) -> None:
        """Add a note with its code (:data:`~._reasons.CODES`)."""
        self.notes.append(Reason(code, text))

    def withhold(self, group: str, keys: Mapping[str, str], reason: Reason, *,
                 kinds: Mapping[str, str] | None = None,
                 datasets: tuple[str, ...] = ()) -> None:
        """Record each output of ``keys`` (output -> metrics key) as withheld."""
        for out, key in keys.items():
            self.records.append(metric(group, key, None, kind=(kinds or {}).get(out),
                                       datasets=datasets, reason=reason))

    def update_params(self, group: str, key: str, **params: Any) -> None:
        """Add ``params`` to the estimate of record ``(group, key)`` (a new record and a
        new estimate: both are frozen)."""
        i = next(i for i, r in enumerate(self.records) if (r.group, r.key) == (group, key))
        est = self.records[i].estimate
        if est is not None:
            self.records[i] = replace(self.records[i], estimate=replace(
                est, params={**est.params, **params}))


@dataclass(frozen=True)
class Compared:
    """One comparison of datasets ``p`` and ``q`` to record.

    Attributes
    ----------
    group : str
        Section of metrics.json.
    keys : mapping of str to str
        Each output of the measure -> its metrics key.
    estimators : tuple of (str, measure)
        The estimator's name and measure, several in order of preference: the first the
        calibration table shows valid for every output at the matched size and
        dimension is run; when none is, the first is run (its raw value and null are
        kept) and the outputs are withheld with every alternative's reason.
    p, q : str
        The datasets compared (their embeddings unless ``x``/``y`` are given).
    x, y : ndarray, optional
        The rows to compare instead of the datasets' embeddings (a projection).
    reference : str, optional
        The dataset whose split is the null (``"anchors"``, ``"target"``), with ``ref_x``
        its rows; needed by ``null="split"``.
    null : {"split", "permutation", "pairing"}
    min_rows : int
        Fewest rows per dataset at matched sizes the measure needs.
    space_dim : int, optional
        The dimension the calibration table is read at (default: the rows' own).
    kinds : mapping of str to str
        Output -> the record's kind (``kl``, ``js``, ...), for its label.
    withhold : Reason, optional
        Record every output as withheld for this reason, without running.
    fixed : ndarray, optional
        A third sample the measure uses whole (the KL gap's target).
    stream : tuple
        Added to the name of the comparison's random stream.
    """

    group: str
    keys: Mapping[str, str]
    estimators: tuple[tuple[str, Any], ...]
    p: str
    q: str
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    reference: str | None = None
    ref_x: np.ndarray | None = None
    null: str = "split"
    min_rows: int = 2
    space_dim: int | None = None
    kinds: Mapping[str, str] = field(default_factory=dict)
    withhold: Reason | None = None
    fixed: np.ndarray | None = None
    stream: tuple[int | str, ...] = ()


def record_comparison(run: Run, spec: Compared) -> dict[str, Comparison]:
    """Run ``spec`` through :func:`~._null.compare` and record each output named in its
    keys; withheld outputs get None and the reason. Returns the comparisons ({} when
    nothing ran)."""
    xp = run.state.emb[spec.p] if spec.x is None else spec.x
    yq = run.state.emb[spec.q] if spec.y is None else spec.y
    sizes = [xp.shape[0], yq.shape[0]]
    if spec.null == "split":
        sizes.append(_ref(spec).shape[0] // 2)
    m = matched_rows(*sizes, cap=run.opt.cap)
    d = xp.shape[1] if spec.space_dim is None else spec.space_dim
    invalid = {name: [why for out in spec.keys
                      if (why := why_invalid(name, out, m, d)) is not None]
               if name in CALIBRATED else [] for name, _ in spec.estimators}
    pick = next((i for i, (name, _) in enumerate(spec.estimators) if not invalid[name]), 0)
    estimator, measure = spec.estimators[pick]
    ds = (spec.p, spec.q)
    if spec.withhold is not None:
        run.withhold(spec.group, spec.keys, spec.withhold, kinds=spec.kinds, datasets=ds)
        return {}
    if m < spec.min_rows:
        run.withhold(spec.group, spec.keys, _too_few(spec, m), kinds=spec.kinds,
                     datasets=ds)
        return {}
    res = compare(measure, xp, yq, spec.ref_x, rows=m, repeats=run.opt.repeats,
                  null=spec.null,  # type: ignore[arg-type]
                  reference_name=spec.reference or "", method=estimator,
                  bounds=BOUNDS.get(estimator), fixed=spec.fixed,
                  rng=run.stream("compare", spec.group, *spec.stream, *ds))
    whys = [w for name, _ in spec.estimators for w in invalid[name]]
    for out, key in spec.keys.items():
        c = res[out]
        reason = (Reason(_code_of(whys), "; ".join(dict.fromkeys(whys))) if invalid[estimator]
                  else _below_chance(c, out) if c.outside else None)
        run.records.append(metric(spec.group, key, None if reason is not None else
                                  c.estimate, kind=spec.kinds.get(out), datasets=ds,
                                  raw=c.raw, null=c.null, reason=reason))
    return res


def _code_of(whys: list[Reason]) -> str:
    """The code of several alternatives' reasons: ``below_calibrated_size`` when one of
    them would be valid with more rows (the actionable one), else the first's."""
    codes = [w.code for w in whys]
    return "below_calibrated_size" if "below_calibrated_size" in codes else codes[0]


def _ref(spec: Compared) -> np.ndarray:
    if spec.ref_x is None or spec.reference is None:
        raise ValueError("a split null needs `reference` and `ref_x`")
    return spec.ref_x


def _too_few(spec: Compared, m: int) -> Reason:
    src = (f"{spec.reference} (split in two)" if spec.null == "split" and
           spec.ref_x is not None and spec.ref_x.shape[0] // 2 == m else
           "the smaller dataset")
    return Reason("too_few_rows", f"needs at least {spec.min_rows} rows per dataset at "
                                  f"matched sizes; {src} gives {m}")


def _below_chance(c: Comparison, out: str) -> Reason:
    return Reason("below_chance",
                  f"the estimate ({c.raw:.3g}) is below what chance gives "
                  f"({c.null.value:.3g}) by more than its interval allows, which a "
                  f"{'divergence' if out != 'mi' else 'mutual information'} cannot "
                  "be: the estimator is not valid for these data (duplicate or tied "
                  "rows, or datasets in different regions of the space)")
