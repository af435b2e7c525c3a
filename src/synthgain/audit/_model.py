"""The audit's model and label stages: what a small model learns from the rows.

``model`` (``lm="smollm2"``, texts in every dataset): SmolLM2-135M-Instruct
(:mod:`synthgain.lm`) scores the rows the comparisons use, giving each its mean token
loss, IFD and gradient sketch; then, each at matched sizes against its null like every
comparison of the audit (metrics.json group ``model``):

- ``g_vendi``: G-Vendi (Jung et al. 2025), the Vendi score of the unit sketches,
  synthetic minus anchors, over the same difference between two splits of the anchors;
- ``gradient_alignment``: cosine between the mean sketch of the synthetic rows and that
  of the target (the anchors without one), minus the same cosine between two splits of
  that reference (LESS, Xia et al. 2024: below 0, a step on the synthetic rows lowers the
  reference's loss less than a step on real rows of its own distribution does);
- ``loss``, ``ifd``: mean(synthetic) - mean(anchors) of the per-row loss and IFD, over
  the same between two splits of the anchors.

``labels`` (labels on the anchors and the synthetic rows; group ``labels``):

- ``tstr_accuracy``: a logistic regression on the embeddings trained on the synthetic
  rows and scored on the anchors, minus the anchors' own accuracy (trained on one split,
  scored on the other) at the same training size (withheld above the near-copy limit:
  copies of the anchors put the test rows in the training rows);
  ``tstr_accuracy_target`` likewise on a labelled target;
- ``label_agreement``: the share of synthetic labels that a logistic regression trained
  on all the anchors predicts, minus the anchors' own share (cross-fitted over folds of
  the anchors) (Study 4's best predictor of the gain, docs/study.md);
- ``label_issue_rate``: the share of synthetic rows cleanlab flags on those
  out-of-sample probabilities (the anchors' model: what the anchors teach, unmoved by
  the synthetic labels), minus the anchors' own flagged share; per row
  ``label_suspect``. Both leave near-copies of anchors out of the synthetic share, with
  the interval of :func:`~._metrics.share_excess`;
- ``g_vendi_labels``, ``gradient_alignment_labels`` (with the model): the same as above on
  sketches of the loss of the label given the text (:data:`LABEL_TEMPLATE`).
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
from scipy import stats

from ..lm import MODEL_NAME, SketchSpec, score_texts
from ..measures import Estimate
from ._estimators import alignment, mean_diff, tstr, vendi_diff
from ._io import Dataset
from ._metrics import baseline_null, share_excess
from ._probe import anchor_label_checks
from ._reasons import Reason
from ._records import metric
from ._run import Compared, Run, record_comparison

__all__ = ["LABEL_TEMPLATE", "labels_stage", "model_stage"]

#: the prompt whose answer is the row's label, for the label-aware sketches
LABEL_TEMPLATE = "{text}\n\nWhich category does this belong to? Answer with its name."


def _picked(n: int, limit: int, gen: np.random.Generator) -> np.ndarray:
    return np.arange(n) if n <= limit else np.sort(gen.choice(n, limit, replace=False))


def _rows_scored(run: Run) -> dict[str, np.ndarray]:
    """Which rows of each dataset the model scores: the synthetic rows a comparison
    uses (at most ``compare_rows``), and of the anchors and the target what their split
    nulls need too (twice that); every row with ``lm_rows="all"``."""
    cap = run.opt.cap
    out = {}
    for name, d in run.data.items():
        limit = len(d) if run.opt.lm_rows == "all" else cap * (1 if name == "synthetic"
                                                               else 2)
        out[name] = _picked(len(d), limit, run.stream("lm_rows", name))
    return out


def _prompts(d: Dataset, idx: np.ndarray) -> list[str | None] | None:
    prompts = d.meta.get("prompts")
    return None if prompts is None else [prompts[int(i)] for i in idx]


def model_stage(run: Run) -> None:
    """Loss, IFD and gradient sketches of the rows compared, and the model measures."""
    st, opt, data = run.state, run.opt, run.data
    st.lm = None
    st.model_rows = None
    if opt.lm == "none":
        return
    if not all(d.texts is not None for d in data.values()):
        run.note("lm_skipped", "The language-model measures need texts in every dataset; "
                               "they are not computed for precomputed embeddings.")
        return
    picks = _rows_scored(run)
    spec = SketchSpec(dim=opt.lm_dim, seed=0)
    t0 = time.perf_counter()
    scores = {name: score_texts([str(data[name].texts[int(i)]) for i in idx],  # type: ignore[index]
                                _prompts(data[name], idx), sketch=spec,
                                cache_dir=opt.cache_dir, threads=opt.lm_threads)
              for name, idx in picks.items()}
    st.lm = {"rows": picks, "scores": scores, "spec": spec}
    counts = ", ".join(f"{idx.size:,} {name}" for name, idx in picks.items())
    run.note("lm_rows", f"{MODEL_NAME} scored {counts} rows in "
                        f"{time.perf_counter() - t0:.0f} s (the rows the model measures "
                        "compare; lm_loss and ifd are in the per-row table for the "
                        "synthetic rows scored).")
    n_s = len(data["synthetic"])
    rows = {"lm_loss": np.full(n_s, np.nan), "ifd": np.full(n_s, np.nan)}
    rows["lm_loss"][picks["synthetic"]] = scores["synthetic"].loss
    rows["ifd"][picks["synthetic"]] = scores["synthetic"].ifd
    st.model_rows = rows
    sk: dict[str, np.ndarray] = {name: np.asarray(s.sketch) for name, s in scores.items()}
    _sketch_comparisons(run, "model", sk, "")
    for key in ("loss", "ifd"):
        col = {name: (s.loss if key == "loss" else s.ifd)[:, None]
               for name, s in scores.items()}
        finite = {name: int(np.isfinite(c).sum()) for name, c in col.items()}
        record_comparison(run, Compared(
            "model", {"mean": key}, (("mean_diff", mean_diff()),), "synthetic", "anchor",
            x=col["synthetic"], y=col["anchor"], reference="anchors", ref_x=col["anchor"],
            min_rows=3, stream=(key,), withhold=None if min(
                finite["synthetic"], finite["anchor"]) >= 3 else Reason(
                "no_prompts", "IFD needs each row's prompt (a layout with prompts: chat, "
                              "alpaca, sharegpt, preference) in the anchors and the "
                              "synthetic rows")))


def _sketch_comparisons(run: Run, group: str, sk: dict[str, np.ndarray], suffix: str
                        ) -> None:
    """G-Vendi (synthetic vs anchors) and the alignment with the target (the anchors
    without one), on the sketches ``sk``."""
    record_comparison(run, Compared(
        group, {"vendi": f"g_vendi{suffix}"}, (("g_vendi", vendi_diff()),), "synthetic",
        "anchor", x=sk["synthetic"], y=sk["anchor"], reference="anchors",
        ref_x=sk["anchor"], min_rows=2, stream=("g_vendi",)))
    ref = "target" if "target" in sk else "anchor"
    record_comparison(run, Compared(
        group, {"alignment": f"gradient_alignment{suffix}"},
        (("gradient_alignment", alignment()),), "synthetic", ref, x=sk["synthetic"],
        y=sk[ref], reference="target" if ref == "target" else "anchors", ref_x=sk[ref],
        min_rows=2, stream=("alignment",)))


def _codes(data: dict[str, Dataset], names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Each dataset's labels as codes of one shared class list."""
    labels = {k: np.asarray(data[k].labels).astype(str) for k in names}
    classes = np.unique(np.concatenate(list(labels.values())))
    return {k: np.searchsorted(classes, v).astype(float) for k, v in labels.items()}


def labels_stage(run: Run) -> None:
    """Train-on-synthetic accuracy, the label agreement, the label-issue rate and, with the
    model, the label-aware sketches."""
    data, st = run.data, run.state
    st.label_suspect = None
    if not all(data[k].labels is not None for k in ("anchor", "synthetic")):
        return
    names = tuple(k for k in data if data[k].labels is not None)
    codes = _codes(data, names)
    xy = {k: np.column_stack([st.emb[k], codes[k]]) for k in names}
    # scored on the anchors, near-copies of them leak the test rows into the training
    # rows (the worked example: +0.25 over the anchors' own with 39 % near-copies)
    record_comparison(run, Compared(
        "labels", {"accuracy": "tstr_accuracy"}, (("tstr", tstr()),), "synthetic", "anchor",
        x=xy["synthetic"], y=xy["anchor"], reference="anchors", ref_x=xy["anchor"],
        min_rows=4, stream=("tstr",), withhold=st.copies))
    if "target" in xy:
        record_comparison(run, Compared(
            "labels", {"accuracy": "tstr_accuracy_target"}, (("tstr", tstr()),),
            "synthetic", "target", x=xy["synthetic"], y=xy["target"], reference="target",
            ref_x=xy["target"], min_rows=4, stream=("tstr_target",)))
    _anchor_label_measures(run, codes)
    if st.lm is not None:
        _label_sketches(run, names)


#: the two label measures read against what the anchors teach: key -> (row check, what
#: the anchors' own share is)
_ANCHOR_LABEL = {"label_agreement": "agree", "label_issue_rate": "issue"}


def anchor_share_excess(checks: dict[str, np.ndarray], check: str, scored: np.ndarray
                        ) -> Estimate:
    """The synthetic rows' share of ``check`` (``"agree"`` or ``"issue"``, of
    :func:`~._probe.anchor_label_checks`) among the ``scored`` rows, over the anchors'
    own: :func:`~._metrics.share_excess`, its variance joined by the synthetic share's
    over models of the anchors less one fold (a delete-a-group jackknife): the share rests
    on one model fitted on the anchors, which the rows' binomial variance leaves out."""
    est = share_excess(checks[f"{check}_synthetic"][scored], checks[f"{check}_anchor"])
    theta = checks[f"{check}_folds"][:, scored].mean(axis=1)
    g = theta.size
    jack = (g - 1) / g * float(np.sum((theta - theta.mean()) ** 2))
    se = float(np.sqrt(float(est.stderr or 0.0) ** 2 + jack))
    z = float(stats.norm.ppf(0.975))
    params = {**est.params, "near_copies_left_out": int((~scored).sum()),
              "model_folds": g, "model_se": float(np.sqrt(jack))}
    return replace(est, stderr=se, params=params,
                   interval=(est.value - z * se, est.value + z * se))


def _anchor_label_measures(run: Run, codes: dict[str, np.ndarray]) -> None:
    """``label_agreement`` and ``label_issue_rate``: the share of synthetic rows whose
    label a classifier of all the anchors predicts (that cleanlab flags on those
    out-of-sample probabilities), minus the anchors' own cross-fitted share, with the
    interval of :func:`~._metrics.share_excess`. Near-copies of anchors are left out of
    the synthetic share (a copy is scored by a model that saw its twin); every row keeps
    its ``label_suspect`` flag."""
    st = run.state
    checks = anchor_label_checks(st.emb["anchor"], codes["anchor"], st.emb["synthetic"],
                                 codes["synthetic"], rng=run.stream("label_issues"))
    if checks is None:
        st.label_suspect = np.zeros(st.emb["synthetic"].shape[0], bool)
        run.withhold("labels", dict(zip(_ANCHOR_LABEL, _ANCHOR_LABEL, strict=True)),
                     Reason("single_class", "the anchors hold fewer than two classes of "
                                            "two rows: no classifier of them to ask"))
        return
    st.label_suspect = checks["issue_synthetic"]
    scored = ~np.asarray(st.nov.near_copy, bool)
    for key, check in _ANCHOR_LABEL.items():
        if scored.sum() < 3:
            run.withhold("labels", {key: key}, Reason(
                "too_few_rows", f"needs at least 3 synthetic rows that are not near-copies "
                                f"of anchors; {int(scored.sum())} here"))
            continue
        est = anchor_share_excess(checks, check, scored)
        params = est.params
        null = baseline_null(params["baseline_share"], params["baseline_rows"],
                             "the anchors' own, cross-fitted")
        run.records.append(metric("labels", key, est, raw=params["share"], null=null))


def _label_sketches(run: Run, names: tuple[str, ...]) -> None:
    data, lm = run.data, run.state.lm
    if lm is None:  # called with the model's state only
        return
    sk: dict[str, np.ndarray] = {}
    for name in names:
        idx, d = lm["rows"][name], data[name]
        sk[name] = score_texts([str(d.labels[int(i)]) for i in idx],  # type: ignore[index]
                               [LABEL_TEMPLATE.format(text=d.texts[int(i)])  # type: ignore[index]
                                for i in idx], sketch=lm["spec"],
                               cache_dir=run.opt.cache_dir,
                               threads=run.opt.lm_threads).sketch  # type: ignore[assignment]
    _sketch_comparisons(run, "labels", sk, "_labels")
