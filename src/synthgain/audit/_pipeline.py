"""The audit: every measure of anchor, synthetic and target data, in one result."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from .._rng import RNGLike, child_generator, seed_sequence
from .._validation import check_int
from ..exceptions import ValidationError
from ..measures import Estimate, kl_divergence
from ..mixture import fit_gmm
from ._c2st import classifier_two_sample_test
from ._embed import Progress, available_models, embed_texts
from ._information import information_terms, kl_gap_knn, kl_gap_mixture, project
from ._io import Dataset
from ._metrics import novelty, prdc, vendi_score
from ._probe import probe
from ._records import Metric, metric

__all__ = ["SCHEMA", "AuditResult", "run_audit"]

SCHEMA = "synthgain.audit/1"
#: points per dataset drawn on the report's map (enough to see the shape, few enough
#: that the PNG stays small and the scatter readable)
_MAP_POINTS = 2000
#: components of the mixture drawn on the map, at most one per _MAP_POINTS_PER_COMPONENT
#: points shown (fewer points cannot place a 2-d Gaussian's ellipse reliably)
_MAP_COMPONENTS = 4
_MAP_POINTS_PER_COMPONENT = 10
#: synthetic rows with anchor ids needed before dI is computed: with fewer, the KSG
#: estimate of I(prompt; synthetic) is mostly bias
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
    timings, cpu_timings : dict of str to float
        Wall-clock and process CPU seconds of each stage.
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
            "metrics": {
                g: {k: (None if v is None else _jsonable(v.to_dict())) for k, v in d.items()}
                for g, d in self.metrics.items()
            },
            "near_copies": self.near_copies,
            "timings_seconds": {k: round(v, 3) for k, v in self.timings.items()},
            "cpu_seconds": {k: round(v, 3) for k, v in self.cpu_timings.items()},
        }

    def summary(self) -> list[str]:
        """A few lines for the terminal: the headline numbers with their intervals."""
        rows = [
            ("divergences", "js_anchor_synthetic", "JS(anchor, synthetic)"),
            ("divergences", "js_synthetic_target", "JS(synthetic, target)"),
            ("kl_gap", "mixture", "KL gap (mixture, PCA space)"),
            ("information", "information_gain", "information gain dI"),
            ("fidelity", "precision", "precision"),
            ("fidelity", "coverage", "coverage"),
            ("diversity", "vendi_synthetic", "Vendi score (synthetic)"),
            ("novelty", "memorisation", "near-copy rate"),
            ("probe", "gain_both", "probe accuracy gain (anchor+synthetic vs anchor)"),
        ]
        lines = []
        for group, key, label in rows:
            est = self.metrics.get(group, {}).get(key)
            if est is not None:
                lo, hi = est.ci()
                lines.append(f"{label}: {est.value:.4g} (95% CI {lo:.3g} to {hi:.3g})")
        return lines


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


def _embed_all(data: dict[str, Dataset], model: str, cache_dir: Any, progress: Progress | None
               ) -> tuple[dict[str, np.ndarray], str]:
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
    emb = embed_texts(texts, model=resolved, cache_dir=cache_dir, progress=progress)
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
    row_numbers = synthetic.meta.get("rows")
    for j, ids in enumerate(synthetic.anchor_ids):
        if not ids:
            continue
        for a in ids:
            if a not in index:
                row = row_numbers[j] if row_numbers else j
                raise ValidationError(
                    f"File '{synthetic.source}', row {row}, column 'anchor_id': anchor id "
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


def _nonzero_rows(x: np.ndarray, name: str, notes: list[str]) -> np.ndarray:
    """Rows with a non-zero norm (the cosine kernel of the Vendi score is undefined at 0)."""
    keep = np.any(x != 0, axis=1)
    if not keep.all():
        notes.append(f"The Vendi score of the {name} data leaves out {int((~keep).sum()):,} "
                     "all-zero embedding rows (e.g. texts with no word known to the embedder).")
    return x[keep]


def run_audit(
    anchor: Dataset | Any,
    synthetic: Dataset | Any,
    target: Dataset | Any | None = None,
    *,
    model: str = "auto",
    cache_dir: str | Path | None = None,
    max_rows: int = 10_000,
    knn_rows: int = 5_000,
    n_pca: int = 8,
    k: int = 5,
    copy_ratio: float = 0.25,
    max_near_copies: int = 50,
    rng: RNGLike = None,
    workers: int = -1,
    progress: Progress | None = None,
) -> AuditResult:
    """Audit synthetic data against its anchors and, optionally, a held-out target set.

    Parameters
    ----------
    anchor, synthetic, target : Dataset or array_like of shape (n, d)
        The real seed examples, the synthetic data made from them, and a held-out sample
        of the task's distribution (optional: without it the target-based measures are
        skipped). Arrays are taken as precomputed embeddings.
    model : {"auto", "minilm", "lsa"}
        Text model, used when the datasets hold text (see :func:`embed_texts`).
    cache_dir : path, optional
        Embedding cache.
    max_rows : int
        Rows per dataset used by precision/recall/density/coverage (uniform subsample,
        same size for anchor and synthetic; stated in ``notes``).
    knn_rows : int
        Rows per dataset for the kNN divergences, entropies and mutual information, and
        for each side of the classifier test.
    n_pca : int
        Dimension of the whitened principal subspace for entropies, dI and the mixture
        KL gap.
    k : int
        Neighbours for PRDC and the kNN KL divergences.
    copy_ratio : float
        Near-copy margin (see :func:`novelty`).
    rng : None, int, SeedSequence or Generator
        Root seed; each step draws from its own named child stream
        (``child_generator(rng, "knn_subsample")``, ...), so results are reproducible
        and ``rng=s`` equals ``rng=SeedSequence(s)``. None: fresh entropy.
    workers : int
        Threads for the neighbour searches (-1: all cores). BLAS runs single-threaded
        inside the audit (the searches parallelise over blocks instead; threaded LAPACK
        on small matrices is slow on a shared machine). Results do not depend on it.

    Returns
    -------
    AuditResult

    Notes
    -----
    ``timings`` / ``cpu_timings`` of the result hold each stage's wall-clock and CPU
    seconds: embed, divergences, information, kl_gap, fidelity, diversity, novelty,
    probe, map.
    """
    max_rows = check_int(max_rows, "max_rows", low=10)
    knn_rows = check_int(knn_rows, "knn_rows", low=10)
    workers = check_int(workers, "workers", low=-1)
    if workers == 0:
        raise ValidationError("`workers` must be -1 (all cores) or at least 1. Got 0 instead.")
    with threadpool_limits(limits=1, user_api="blas"):
        return _audit(anchor, synthetic, target, model=model, cache_dir=cache_dir,
                      max_rows=max_rows, knn_rows=knn_rows, n_pca=n_pca, k=k,
                      copy_ratio=copy_ratio, max_near_copies=max_near_copies, rng=rng,
                      workers=workers, progress=progress)


def _audit(anchor: Any, synthetic: Any, target: Any, *, model: str, cache_dir: Any,
           max_rows: int, knn_rows: int, n_pca: int, k: int, copy_ratio: float,
           max_near_copies: int, rng: RNGLike, workers: int, progress: Progress | None
           ) -> AuditResult:
    data = {"anchor": _as_dataset(anchor, "anchor"), "synthetic": _as_dataset(synthetic,
                                                                              "synthetic")}
    if target is not None:
        data["target"] = _as_dataset(target, "target")
    clock = _Clock()
    with clock.stage("embed"):
        emb, model_used = _embed_all(data, model, cache_dir, progress)
    dims = {k_: v.shape[1] for k_, v in emb.items()}
    if len(set(dims.values())) > 1:
        raise ValidationError(f"The datasets' embeddings differ in size: {dims}.")
    root = seed_sequence(rng)

    def stream(*key: int | str) -> np.random.Generator:
        return child_generator(root, *key)

    notes: list[str] = []
    for name, x in emb.items():
        if x.shape[0] > knn_rows:
            notes.append(f"kNN divergences, entropies and the classifier test use a uniform "
                         f"subsample of {knn_rows:,} of the {x.shape[0]:,} {name} rows.")
    knn_gen = stream("knn_subsample")
    sub = {n_: _sub(x, knn_rows, knn_gen) for n_, x in emb.items()}
    metrics: dict[str, dict[str, Estimate | None]] = {}
    parts: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}  # kind and datasets

    with clock.stage("divergences"):
        div: dict[str, Estimate | None] = {}
        kl_gen = stream("kl_knn")
        for i, (p, q) in enumerate(_PAIRS):
            if p not in emb or q not in emb:
                continue
            for a_, b_ in ((p, q), (q, p)):
                parts["divergences", f"kl_{a_}_{b_}"] = ("kl", (a_, b_))
                div[f"kl_{a_}_{b_}"] = kl_divergence(sub[a_], sub[b_], k=k,
                                                     method="wang_kulkarni_verdu", rng=kl_gen)
            c2 = classifier_two_sample_test(sub[p], sub[q], max_rows=knn_rows,
                                            rng=stream("c2st", i))
            div[f"js_{p}_{q}"], div[f"tv_{p}_{q}"] = c2["js"], c2["tv"]
            parts["divergences", f"js_{p}_{q}"] = ("js", (p, q))
            parts["divergences", f"tv_{p}_{q}"] = ("tv", (p, q))
        metrics["divergences"] = div

    with clock.stage("information"):
        ref = emb.get("target", emb["anchor"])
        proj = project(ref, n_pca)
        prompts = _prompts(data["anchor"], data["synthetic"], emb["anchor"])
        p_sub = None
        s_for_info = sub["synthetic"]
        if prompts is not None:
            vecs, rows = prompts
            n_keep = min(knn_rows, rows.shape[0])
            keep = np.sort(stream("prompt_subsample").choice(rows.shape[0], n_keep,
                                                             replace=False))
            s_for_info, p_sub = emb["synthetic"][rows[keep]], proj(vecs[keep])
            notes.append(f"dI uses the {rows.shape[0]:,} synthetic rows with anchor ids"
                         + (f" (subsample of {keep.shape[0]:,})."
                            if keep.shape[0] < rows.shape[0] else "."))
        else:
            notes.append("No provenance (anchor_id) on the synthetic rows: the information "
                         "gain dI = H(S_gen) - I(anchor; synthetic) is not computed.")
        metrics["information"] = information_terms(proj(sub["anchor"]), proj(s_for_info),
                                                   p_sub, rng=stream("information"))

    with clock.stage("kl_gap"):
        if "target" in emb:
            mix = kl_gap_mixture(sub["anchor"], sub["synthetic"], sub["target"], n_pca=n_pca,
                                 rng=stream("kl_gap_mixture"))
            knn = kl_gap_knn(sub["anchor"], sub["synthetic"], sub["target"], k=k,
                             rng=stream("kl_gap_knn"))
            metrics["kl_gap"] = {"mixture": mix["gap"], "knn": knn["gap"],
                                 "mixture_kl_anchor_target": mix["kl_anchor_target"],
                                 "mixture_kl_synthetic_target": mix["kl_synthetic_target"]}
        else:
            notes.append("No target set: the KL-gap analogue and the probe are not computed.")

    with clock.stage("fidelity"):
        m = min(emb["anchor"].shape[0], emb["synthetic"].shape[0], max_rows)
        if m < max(emb["anchor"].shape[0], emb["synthetic"].shape[0]):
            notes.append(f"Precision, recall, density and coverage use {m:,} rows of each of "
                         "the anchor and synthetic data (equal sizes, uniform subsample).")
        xa_m = _sub(emb["anchor"], m, stream("prdc_anchor_subsample"))
        xs_m = _sub(emb["synthetic"], m, stream("prdc_synthetic_subsample"))
        metrics["fidelity"] = dict(prdc(xa_m, xs_m, k=min(k, m - 1),
                                        workers=workers))

    with clock.stage("diversity"):
        metrics["diversity"] = {f"vendi_{n_}": vendi_score(_nonzero_rows(x, n_, notes),
                                                          rng=stream("vendi", n_))
                                for n_, x in emb.items()}
        parts.update({("diversity", f"vendi_{n_}"): ("vendi", (n_,)) for n_ in emb})
    with clock.stage("novelty"):
        nov = novelty(emb["anchor"], emb["synthetic"], copy_ratio=copy_ratio, workers=workers)
        metrics["novelty"] = {"mean_nearest_anchor_distance": nov.novelty,
                              "memorisation": nov.memorisation}
        near = _near_copy_rows(data, nov, max_near_copies)

    with clock.stage("probe"):
        if "target" in emb and all(d.labels is not None for d in data.values()):
            metrics["probe"] = dict(probe(emb["anchor"], data["anchor"].labels,
                                          emb["synthetic"], data["synthetic"].labels,
                                          emb["target"], data["target"].labels))
        elif "target" in emb:
            notes.append("No labels on every dataset: the probe is not run.")

    with clock.stage("map"):
        pool_gen = stream("map_pool")
        pooled = np.concatenate([_sub(x, _MAP_POINTS, pool_gen) for x in emb.values()])
        p2 = project(pooled, 2)
        points = {n_: p2(_sub(x, _MAP_POINTS, stream("map_points", n_))) for n_, x in emb.items()}
        map_mix = {n_: fit_gmm(pts, min(_MAP_COMPONENTS, pts.shape[0] // _MAP_POINTS_PER_COMPONENT or 1),
                               rng=stream("map_mixture", n_)).mixture
                   for n_, pts in points.items() if n_ != "target"}
    inputs = {n_: {"rows": len(d), "source": d.source, "dim": int(emb[n_].shape[1]),
                   "labels": d.labels is not None, "provenance": d.anchor_ids is not None}
              for n_, d in data.items()}
    config = {"model": model_used, "max_rows": max_rows, "knn_rows": knn_rows, "n_pca": n_pca,
              "k": k, "copy_ratio": copy_ratio, "rng": rng if isinstance(rng, int) else None}
    records = [metric(g, key, est, kind=parts.get((g, key), (None, ()))[0],
                      datasets=parts.get((g, key), (None, ()))[1])
               for g, group in metrics.items() for key, est in group.items()]
    return AuditResult(records, inputs, config, near, notes, points, nov.distance,
                       copy_ratio, clock.wall, map_mix, clock.cpu)


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
