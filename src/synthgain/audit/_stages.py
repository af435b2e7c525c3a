"""The audit's stages, in order: each a function of the :class:`~._run.Run`, with the
state it needs and the state it gives declared in :data:`STAGES`.

========== ================================================ ===========================
stage      what it measures                                 gives
========== ================================================ ===========================
embed      the embeddings of every dataset                  emb, model_used, n, dims
text       the lexical measures and per-row text flags      text_rows
novelty    near-copies, nearest anchors, outlier scores     nov, near, row_info, over,
                                                            copies
topics     the anchors' topics, those the synthetic rows    topics
           miss or over-fill; the forecast of new
           cells (:mod:`._topics`)
space      the anchors' and synthetic rows' whitened        proj, sub_a
           principal subspace
divergences KL (kNN), JS and TV (classifier) per pair
information dH, H(synthetic), I(prompt; synthetic), dI
kl_gap     the KL gap against the target (mixture, kNN)
fidelity   precision, recall, density, coverage
diversity  Vendi(synthetic) - Vendi(anchor) (and target)
probe      a classifier trained on each, scored on target
model      loss, IFD and gradient sketches of a small LM  lm, model_rows
           (G-Vendi, gradient alignment; :mod:`._model`)
labels     train-on-synthetic accuracy, label issues      label_suspect
           (cleanlab), label-aware sketches
map        the 2-d map and its mixtures (report)            points, map_mix
========== ================================================ ===========================

Adding a measure is adding a stage (a function and one entry) or one call of
:func:`~._run.record_comparison` in a stage; ``tests/audit/test_pipeline.py`` checks
that every stage needs only what earlier stages give.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..exceptions import ValidationError
from ..measures import Estimate
from ..mixture import fit_gmm
from ._calibration import why_invalid
from ._embed import available_models, embed_texts
from ._estimators import (
    c2st,
    crossfit_dh,
    crossfit_mi,
    distance_ratio,
    entropy_diff,
    knn_kl,
    knn_kl_gap,
    ksg_mi,
    mixture_kl_gap,
    mixture_mi,
    prdc_measure,
    topic_shift,
    vendi_diff,
)
from ._information import difference, project
from ._io import Dataset
from ._metrics import agresti_coull_se, near_copy_excess, novelty
from ._model import labels_stage, model_stage
from ._null import Null, matched_rows
from ._probe import probe
from ._reasons import Reason
from ._records import metric
from ._rows import RowInfo, outlier_scores
from ._run import Compared, Run, record_comparison
from ._semantic import SemanticDuplicates, semantic_duplicates
from ._topics import ALPHA as TOPIC_ALPHA
from ._topics import FORECAST_ROWS, Topics, topics
from .text import audit_texts, minilm_token_counts

__all__ = ["STAGES", "Stage"]

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
#: The probe's measures, as :func:`probe` returns them.
PROBE_KEYS = ("accuracy_anchor", "accuracy_synthetic", "accuracy_both", "gain_both",
              "gain_synthetic")


@dataclass(frozen=True)
class Stage:
    """One step of the audit: ``run(run)`` reads ``needs`` from ``run.state`` and sets
    ``gives``; it is timed under ``name``."""

    name: str
    run: Callable[[Run], None]
    needs: tuple[str, ...] = ()
    gives: tuple[str, ...] = ()


def _sub(x: np.ndarray, m: int, gen: np.random.Generator) -> np.ndarray:
    return x if x.shape[0] <= m else x[np.sort(gen.choice(x.shape[0], m, replace=False))]


# --- embed ---------------------------------------------------------------------------


def embed(run: Run) -> None:
    """Embeddings of every dataset (given, or from the text model fitted on the anchor
    and synthetic texts), their sizes and dimensions."""
    data, opt = run.data, run.opt
    if all(d.embeddings is not None for d in data.values()):
        emb = {k: np.asarray(d.embeddings, dtype=np.float64) for k, d in data.items()}
        used = "given"
    else:
        emb, used = _embed_texts(data, opt.model, opt.cache_dir, opt.progress, opt.embed)
    dims = {k: v.shape[1] for k, v in emb.items()}
    if len(set(dims.values())) > 1:
        raise ValidationError(f"The datasets' embeddings differ in size: {dims}.")
    st = run.state
    st.emb, st.model_used, st.dims = emb, used, dims
    st.n = {k: v.shape[0] for k, v in emb.items()}


def _embed_texts(data: dict[str, Dataset], model: str, cache_dir: Any, progress: Any,
                 options: dict[str, Any]) -> tuple[dict[str, np.ndarray], str]:
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


# --- text ----------------------------------------------------------------------------


def text(run: Run) -> None:
    """The lexical measures and per-row text flags, when every dataset has texts."""
    data = run.data
    run.state.text_rows = None
    if not all(d.texts is not None for d in data.values()):
        return
    txt = audit_texts(data["anchor"], data["synthetic"], data.get("target"), run.evaluation,
                      compare_rows=run.opt.cap, repeats=run.opt.repeats,
                      token_counts=minilm_token_counts
                      if run.state.model_used == "minilm" else None,
                      rng=run.stream("text"))
    run.records += txt.records
    run.notes += txt.notes
    run.state.text_rows = txt.rows


# --- novelty -------------------------------------------------------------------------


def novelty_stage(run: Run) -> None:
    """Each synthetic row's nearest anchor, near-copy flag and outlier score; the
    near-copy rate and distance ratio against a split of the anchors; the share of
    near-copies, and the reason it gives for withholding the estimators that break on
    shared rows."""
    opt, st, data = run.opt, run.state, run.data
    emb, n = st.emb, st.n
    run.note("comparison_design",
             f"Every comparison uses matched sizes of at most {opt.cap:,} rows per dataset, "
             f"{opt.repeats} random subsets, and is read against its null: the same measure "
             "on two splits of the anchors (anchor vs synthetic) or of the target (pairs "
             "with the target), on the two datasets' rows permuted (the KL gaps, the "
             "entropy differences) or with the pairing shuffled (I(prompt; synthetic)), at "
             "the same sizes.")
    # one search of the anchors for the near-copies and the outlier scores
    k_out = max(1, min(opt.k, n["anchor"] - 1))
    with _search_backend(opt.embed) as cluster:
        nov = novelty(emb["anchor"], emb["synthetic"], copy_ratio=opt.copy_ratio,
                      workers=opt.workers, k=k_out, backend=cluster)
    # against the anchors, like the near-copies: the flags do not move with the
    # optional target, and the embedding space (LSA) was fitted on the anchors
    out = outlier_scores(emb["synthetic"], emb["anchor"], k=opt.k, reference_name="anchor",
                         workers=opt.workers,
                         distances=nov.kth_distance if k_out > 1 else nov.distance)
    st.nov, st.near = nov, _near_copy_rows(data, nov, opt.max_near_copies)
    # the audit needs 5 anchors, the threshold 3: always computed
    sem = semantic_duplicates(emb["synthetic"], emb["anchor"],
                              rng=run.stream("semantic_duplicates"))
    st.row_info = RowInfo(data["synthetic"].ids, data["synthetic"].anchor_ids,
                          [data["anchor"].ids[int(i)] for i in nov.nearest], nov.ratio, out,
                          data["synthetic"].texts, sem)
    _semantic_note(run, sem)
    rate = float(nov.memorisation.value)
    _near_copy_rate_and_distance_ratio(run, nov)
    run.note("near_copy_count",
             f"{int(nov.memorisation.params['count']):,} of {n['synthetic']:,} synthetic "
             f"rows ({rate:.1%}) are near-copies of an anchor (all rows; listed in the "
             "report).")
    # the share of near-copies when above the limit (None below it), and the reason it
    # gives for withholding the kNN and classifier estimates
    st.over = (f"{rate:.1%} of the synthetic rows are near-copies of anchors (limit "
               f"{opt.near_copy_limit:.0%})" if rate > opt.near_copy_limit else None)
    st.copies = (None if st.over is None else Reason(
        "near_copies_above_limit",
        f"{st.over}: kNN and classifier estimates between samples that share rows are "
        "invalid (calibration table, near-duplicate case)"))


def _semantic_note(run: Run, sem: SemanticDuplicates) -> None:
    n, flagged = sem.flag.shape[0], int(sem.flag.sum())
    run.note("semantic_duplicates",
             f"{flagged:,} of {n:,} synthetic rows ({flagged / n:.1%}) repeat an earlier row "
             f"in other words: {sem.clusters:,} clusters of rows whose embeddings' cosine "
             f"similarity is at least {sem.threshold:.3f}, which {sem.anchor_share:.1%} of "
             f"{sem.rows:,} anchors reach to their nearest other anchor (rows file "
             "'semantic_duplicate_cluster'; --drop semantic-duplicate keeps one per "
             "cluster).")


def _search_backend(options: dict[str, Any]) -> Any:
    """With ``backend="dask"`` or ``"ray"``, the cluster the nearest-anchor search runs on
    (closed after it); else a context giving None (the search runs here)."""
    from contextlib import nullcontext

    if options.get("backend", "local") == "local":
        return nullcontext(None)
    from ..experiments.backends import get_backend

    return get_backend(options["backend"], scheduler=options.get("scheduler"))


def _near_copy_rate_and_distance_ratio(run: Run, nov: Any) -> None:
    """The near-copy rate, every synthetic row against every anchor (the rows the per-row
    table flags), over the anchors' own rate (each against the others), with a
    delete-a-group jackknife interval (:func:`~._metrics.near_copy_excess`); and the
    distance ratio at matched sizes against a split of the anchors, like every other
    comparison."""
    a, s, opt = run.state.emb["anchor"], run.state.emb["synthetic"], run.opt
    if a.shape[0] >= 3:
        est = near_copy_excess(a, s, nov.near_copy, copy_ratio=opt.copy_ratio,
                               workers=opt.workers, rng=run.stream("near_copy_jackknife"))
        anchor_share, n_a = est.params["anchor_share"], a.shape[0]
        null = Null(anchor_share, agresti_coull_se(anchor_share, n_a),
                    "the anchors against one another (leave-one-out)",
                    int(est.params["groups"]), n_a)
        run.records.append(metric("novelty", "memorisation", est,
                                  raw=est.params["share_all_rows"], null=null))
    else:
        run.withhold("novelty", {"rate": "memorisation"}, Reason(
            "too_few_rows", f"needs at least 3 anchors (each is compared with the "
                            f"others); the anchors have {a.shape[0]}"))
    record_comparison(run, Compared(
        "novelty", {"distance_ratio": "distance_ratio"},
        (("distance_ratio", distance_ratio(opt.workers)),), "anchor", "synthetic",
        reference="anchors", ref_x=a, min_rows=3))


def _near_copy_rows(data: dict[str, Dataset], nov: Any, limit: int) -> list[dict[str, Any]]:
    idx = np.flatnonzero(nov.near_copy)
    idx = idx[np.argsort(nov.ratio[idx], kind="stable")][:limit]
    a, s = data["anchor"], data["synthetic"]
    rows = []
    for j in idx:
        i = int(nov.nearest[j])
        ratio = float(nov.ratio[j])
        rows.append({
            "synthetic_id": s.ids[j], "anchor_id": a.ids[i],
            "distance": float(nov.distance[j]), "ratio": ratio if np.isfinite(ratio) else None,
            "synthetic_text": None if s.texts is None else s.texts[j],
            "anchor_text": None if a.texts is None else a.texts[i],
        })
    return rows


# --- topics ------------------------------------------------------------------------


def topics_stage(run: Run) -> None:
    """The anchors' topics, each synthetic row's topic (and the target's share of each),
    the topics the synthetic data misses or over-fills, the shift of the topic shares
    over chance, and what more rows would reach (:mod:`._topics`)."""
    emb, data = run.state.emb, run.data
    texts = {n_: d.texts for n_, d in data.items()}
    top = run.state.topics = topics(
        emb["anchor"], emb["synthetic"], emb.get("target"), anchor_texts=texts["anchor"],
        rng=run.stream("topics"))
    marked = top.marked
    run.records.append(metric("topics", "marked_topics", Estimate(
        float(len(marked)), method="betabinomial_holm", n=(int(top.synthetic_counts.sum()),),
        params={"topics": len(top.names), "alpha": TOPIC_ALPHA,
                "marked": [top.names[j] for j in marked]})))
    record_comparison(run, Compared(
        "topics", {"topic_shift": "topic_shift"}, (("topic_shift", topic_shift(top.centres)),),
        "anchor", "synthetic", reference="anchors", ref_x=emb["anchor"], min_rows=2))
    for key, est in top.forecast.items():
        run.records.append(metric("forecast", key, est))
    _topics_note(run, top)


def _topics_note(run: Run, top: Topics) -> None:
    k = len(top.names)
    words = "; ".join(f"'{top.names[j]}' {top.status[j]} ({int(top.synthetic_counts[j]):,} "
                      f"rows, chance {int(top.expected_low[j]):,} to "
                      f"{int(top.expected_high[j]):,})" for j in top.marked[:5])
    run.note("topics", f"The anchors were cut into {k} topics (k-means in the embedding "
                       f"space); {len(top.marked)} {'is' if len(top.marked) == 1 else 'are'} "
                       "missed or over-filled by the synthetic rows beyond chance (Holm, "
                       f"5 %){': ' + words if words else ''} (rows file 'topic').")
    f = top.forecast
    new = [f"{f[f'cells_new_{e}'].value:.1f} new cells in {e:,} more rows"
           for e in FORECAST_ROWS]
    run.note("forecast", f"The synthetic rows reach {int(f['cells_unseen'].params['seen'])} "
                         f"of {top.cells} finer cells of the anchors; more rows would "
                         f"reach {' and '.join(new)}, and "
                         f"{f['new_row_share'].value:.1%} of the next rows would land in a "
                         "cell not yet reached (Chao1 extrapolation, Good-Turing; reliable "
                         "to about twice the rows at hand, a lower bound beyond).")


# --- space ---------------------------------------------------------------------------


def space(run: Run) -> None:
    """The information space: the whitened principal subspace of the anchor and
    synthetic rows pooled (both sides of every comparison made in it are in the fit, as
    are the splits of the null; a subspace fitted on one side only would favour that
    side), and the anchors in it."""
    emb = run.state.emb
    proj = run.state.proj = project(np.concatenate([emb["anchor"], emb["synthetic"]]),
                                    run.opt.n_pca)
    run.state.sub_a = proj(emb["anchor"])


# --- divergences ---------------------------------------------------------------------


def divergences(run: Run) -> None:
    """KL both ways (kNN; in the information space where the full space is not valid at
    the size at hand) and JS and TV (a classifier) for every pair of datasets."""
    st, opt = run.state, run.opt
    emb, n, dims, proj = st.emb, st.n, st.dims, st.proj
    for i, (p, q) in enumerate(_PAIRS):
        if p not in emb or q not in emb:
            continue
        ref, ref_name = (("anchor", "anchors") if (p, q) == ("anchor", "synthetic")
                         else ("target", "target"))
        m = matched_rows(n[p], n[q], n[ref] // 2, cap=opt.cap)
        full = why_invalid("knn_kl", "kl", m, dims[p]) is None
        sp = proj if not full else None
        view = {k: emb[k] if sp is None else sp(emb[k]) for k in dict.fromkeys((p, q, ref))}
        for a_, b_ in ((p, q), (q, p)):
            record_comparison(run, Compared(
                "divergences", {"kl": f"kl_{a_}_{b_}"}, (("knn_kl", knn_kl(opt.k)),), a_,
                b_, x=view[a_], y=view[b_], reference=ref_name, ref_x=view[ref],
                kinds={"kl": "kl"}, min_rows=3, stream=(i,),
                withhold=st.copies if {a_, b_} == {"anchor", "synthetic"} else None))
        if sp is not None:
            run.note("knn_subspace",
                     f"KL({p}, {q}) is computed in the {proj.components.shape[0]}-d "
                     "whitened principal subspace of the anchor and synthetic rows: the "
                     f"kNN estimator is not valid in {dims[p]} dimensions at {m:,} rows "
                     "(calibration table).")
        # near-copies fool the classifier test too (each row's twin sits in another
        # fold: TV 0.53 on near-duplicates of one distribution at 50 rows in 64-d,
        # calibration table)
        record_comparison(run, Compared(
            "divergences", {"js": f"js_{p}_{q}", "tv": f"tv_{p}_{q}"}, (("c2st", c2st()),),
            p, q, reference=ref_name, ref_x=emb[ref], kinds={"js": "js", "tv": "tv"},
            min_rows=10, stream=(i,),
            withhold=st.copies if (p, q) == ("anchor", "synthetic") else None))


# --- information ---------------------------------------------------------------------


#: the entropy differences' and the mutual information's estimators, in the order tried:
#: the audit reports the first the calibration table shows valid at the matched size
_ENTROPY = (("entropy_diff", entropy_diff()), ("crossfit_dh", crossfit_dh()))
_MUTUAL = (("ksg_mi", ksg_mi()), ("mixture_mi", mixture_mi()), ("crossfit_mi", crossfit_mi()))


def information(run: Run) -> None:
    """dH, and with provenance I(prompt; synthetic) and dI, in the information space
    (unit-free: rescaling the embedding does not move them).

    With near-copies above the limit, I(prompt; synthetic) is that of near-duplicates,
    which the mixture fit's ridge caps (about r/2 log(1/(2 ridge)), 25 nats in r = 8;
    calibration table: -12 nats at a truth of 37): its value is then a lower bound and
    dI's an upper bound, which the records' params and a note say.
    """
    st = run.state
    proj, sub_a = st.proj, st.sub_a
    r = proj.components.shape[0]
    s_proj = proj(st.emb["synthetic"])
    # the entropy difference is read against a permutation of the two datasets (its
    # null truth is 0), which needs no split of the anchors: valid from 100 rows each
    record_comparison(run, Compared(
        "information", {"dh": "delta_h"}, _ENTROPY, "anchor",
        "synthetic", x=sub_a, y=s_proj, null="permutation", min_rows=r + 2, space_dim=r))
    prompts = _prompts(run.data["anchor"], run.data["synthetic"], st.emb["anchor"])
    keys = ("entropy_synthetic", "mi_prompt_synthetic", "information_gain")
    if prompts is None:
        run.note("no_provenance",
                 "No provenance (anchor_id) on enough synthetic rows: the information gain "
                 "dI = H(S_gen) - I(anchor; synthetic) is not computed.")
        run.withhold("information", {k: k for k in keys}, Reason(
            "no_provenance", f"needs provenance (anchor_id) on at least {_MIN_PROMPTED_ROWS} "
                             "synthetic rows"), datasets=("anchor", "synthetic"))
        return
    vecs, rows = prompts
    sp = s_proj[rows]
    run.note("provenance_rows", f"dI uses the {rows.shape[0]:,} synthetic rows with anchor "
                                "ids.")
    h = record_comparison(run, Compared(
        "information", {"dh": "entropy_synthetic"}, _ENTROPY,
        "synthetic", "anchor", x=sp, y=sub_a, null="permutation", min_rows=r + 2,
        space_dim=r, stream=("provenance",)))
    # KSG where the calibration table shows it valid (nowhere so far), else the mixture fit
    mi = record_comparison(run, Compared(
        "information", {"mi": "mi_prompt_synthetic"},
        _MUTUAL, "anchor", "synthetic",
        x=proj(vecs), y=sp, null="pairing", min_rows=r + 2, space_dim=r))
    _information_gain(run, h, mi, keys)


def _information_gain(run: Run, h: dict[str, Any], mi: dict[str, Any],
                      keys: tuple[str, ...]) -> None:
    """dI - H(anchor) = (H(synthetic) - H(anchor)) - I(prompt; synthetic), when both
    parts are measured; bounds where near-copies cap the mutual information."""
    rec = {m_.key: m_ for m_ in run.records if m_.group == "information"}
    h_est, mi_est = rec[keys[0]].estimate, rec[keys[1]].estimate
    if not (h and mi and h_est is not None and mi_est is not None):
        run.withhold("information", {"gain": "information_gain"},
                     Reason("part_withheld", "one of its parts is withheld"),
                     datasets=("anchor", "synthetic"))
        return
    gain = difference(h_est, mi_est, "information_gain_minus_anchor_entropy")
    if run.state.over is not None and mi_est.method.startswith(("mixture_mi",
                                                                 "crossfit_mi")):
        run.update_params("information", keys[1], bound="lower")
        gain = replace(gain, params={**gain.params, "bound": "upper"})
        run.note("bound",
                 "I(prompt; synthetic) is a lower bound and dI - H(anchor) an upper bound: "
                 f"{run.state.over}, and the mutual information of near-duplicates is "
                 "larger than the mixture fit can show (calibration table, near-duplicate "
                 "case).")
    run.records.append(metric("information", "information_gain", gain,
                              datasets=("anchor", "synthetic"),
                              raw=h["dh"].raw - mi["mi"].raw))


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


# --- kl_gap, fidelity, diversity, probe, map -----------------------------------------


def kl_gap(run: Run) -> None:
    """The KL gap against the target: mixture fits in the target's principal subspace,
    and kNN in the full space."""
    emb, opt = run.state.emb, run.opt
    if "target" not in emb:
        run.note("no_target", "No target set: the KL-gap analogue and the probe are not "
                              "computed.")
        return
    t_sub = _sub(emb["target"], opt.cap, run.stream("kl_gap_target"))
    record_comparison(run, Compared(
        "kl_gap", {"gap": "mixture", "kl_x": "mixture_kl_anchor_target",
                   "kl_y": "mixture_kl_synthetic_target"},
        (("mixture_kl_gap", mixture_kl_gap(opt.n_pca)),), "anchor", "synthetic",
        null="permutation", min_rows=10, fixed=t_sub))
    record_comparison(run, Compared(
        "kl_gap", {"gap": "knn"}, (("knn_kl_gap", knn_kl_gap(opt.k)),), "anchor",
        "synthetic", null="permutation", min_rows=3, fixed=t_sub))


def fidelity(run: Run) -> None:
    """Precision, recall, density and coverage (PRDC) of the synthetic rows."""
    opt = run.opt
    record_comparison(run, Compared(
        "fidelity", {o: o for o in ("precision", "recall", "density", "coverage")},
        (("prdc", prdc_measure(opt.k, opt.workers)),), "anchor", "synthetic",
        reference="anchors", ref_x=run.state.emb["anchor"], min_rows=3))


def diversity(run: Run) -> None:
    """Vendi(synthetic) - Vendi(anchor) (and the target's), withheld where one side has no
    non-zero embedding row."""
    emb, n = run.state.emb, run.state.n
    zeros = {}
    for name, x in emb.items():
        zeros[name] = int((~np.any(x != 0, axis=1)).sum())
        if zeros[name] and zeros[name] < n[name]:
            run.note("vendi_zero_rows",
                     f"The Vendi score of the {name} data leaves out {zeros[name]:,} all-zero "
                     "embedding rows (e.g. texts with no word known to the embedder).")
    for name in ("synthetic", "target"):
        if name not in emb:
            continue
        empty = [d for d in (name, "anchor") if zeros[d] == n[d]]
        record_comparison(run, Compared(
            "diversity", {"vendi": f"vendi_{name}"}, (("vendi_diff", vendi_diff()),), name,
            "anchor", reference="anchors", ref_x=emb["anchor"], kinds={"vendi": "vendi"},
            min_rows=2, withhold=None if not empty else Reason(
                "no_nonzero_embedding",
                f"no {empty[0]} row has a non-zero embedding (e.g. texts of only emoji or "
                "punctuation, with no word known to the embedder): the diversity of "
                "nothing is not defined")))


def probe_stage(run: Run) -> None:
    """A classifier trained on the anchors, the synthetic rows and both, scored on the
    labelled target; withheld where the labels hold one class."""
    data, emb = run.data, run.state.emb
    if "target" not in emb:
        return
    if not all(d.labels is not None for d in data.values()):
        run.note("no_labels", "No labels on every dataset: the probe is not run.")
        return
    single = _single_class(data)
    if single is not None:
        run.withhold("probe", {k: k for k in PROBE_KEYS}, single)
        return
    for key, est in probe(emb["anchor"], data["anchor"].labels, emb["synthetic"],
                          data["synthetic"].labels, emb["target"],
                          data["target"].labels).items():
        run.records.append(metric("probe", key, est))


def _single_class(data: dict[str, Dataset]) -> Reason | None:
    """Why the probe cannot be read (the target, or all the training rows together, hold
    one class: every accuracy is then 0 or 1 by construction), or None."""
    target = np.unique(np.asarray(data["target"].labels).astype(str))
    train = np.unique(np.concatenate([np.asarray(data[k].labels).astype(str)
                                      for k in ("anchor", "synthetic")]))
    for what, classes in (("target", target), ("anchor and synthetic", train)):
        if classes.size < 2:
            return Reason("single_class",
                          f"the {what} labels hold one class ('{classes[0]}'): a probe "
                          "scored on or trained with one class measures nothing (its "
                          "accuracy is 0 or 1 by construction)")
    return None


def map_stage(run: Run) -> None:
    """Every dataset on the first two principal axes of the pooled data, and a mixture
    fitted to the anchors' and synthetic rows' points (the report's map)."""
    emb = run.state.emb
    pool_gen = run.stream("map_pool")
    pooled = np.concatenate([_sub(x, _MAP_POINTS, pool_gen) for x in emb.values()])
    p2 = project(pooled, 2)
    points = run.state.points = {
        n_: p2(_sub(x, _MAP_POINTS, run.stream("map_points", n_))) for n_, x in emb.items()}
    run.state.map_mix = {
        n_: fit_gmm(pts, min(_MAP_COMPONENTS, pts.shape[0] // _MAP_POINTS_PER_COMPONENT or 1),
                    rng=run.stream("map_mixture", n_)).mixture
        for n_, pts in points.items() if n_ != "target"}


#: The audit, stage by stage: each needs only what an earlier one gives.
STAGES: tuple[Stage, ...] = (
    Stage("embed", embed, gives=("emb", "model_used", "n", "dims")),
    Stage("text", text, needs=("model_used",), gives=("text_rows",)),
    Stage("novelty", novelty_stage, needs=("emb", "n"),
          gives=("nov", "near", "row_info", "over", "copies")),
    Stage("topics", topics_stage, needs=("emb",), gives=("topics",)),
    Stage("space", space, needs=("emb",), gives=("proj", "sub_a")),
    Stage("divergences", divergences, needs=("emb", "n", "dims", "proj", "copies")),
    Stage("information", information, needs=("emb", "proj", "sub_a", "over")),
    Stage("kl_gap", kl_gap, needs=("emb",)),
    Stage("fidelity", fidelity, needs=("emb",)),
    Stage("diversity", diversity, needs=("emb", "n")),
    Stage("probe", probe_stage, needs=("emb",)),
    Stage("model", model_stage, gives=("lm", "model_rows")),
    Stage("labels", labels_stage, needs=("emb", "lm", "copies"), gives=("label_suspect",)),
    Stage("map", map_stage, needs=("emb",), gives=("points", "map_mix")),
)
