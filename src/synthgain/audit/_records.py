"""The audit's metric records: each measured number with its name, kind, unit and the
datasets it is about, so that writers read fields and never parse key strings."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..measures import Estimate
from ._null import Null
from ._reasons import Reason, code_of

__all__ = ["Metric", "metric"]


@dataclass(frozen=True)
class Metric:
    """One measure of the audit.

    Attributes
    ----------
    group : str
        Section of metrics.json (``divergences``, ``information``, ``kl_gap``,
        ``fidelity``, ``diversity``, ``novelty``, ``probe``, ``text``, ``model``,
        ``labels``).
    key : str
        Name inside the group, as in metrics.json (``kl_anchor_synthetic``).
    estimate : Estimate or None
        The value with its uncertainty; None when it could not be computed (the reason
        is in the result's ``notes``).
    label : str
        Human-readable name (``KL(anchor || synthetic)``).
    kind : str
        What is measured (``kl``, ``js``, ``tv``, ``kl_gap``, ``model_kl``, ``entropy``,
        ``delta_h``, ``mutual_information``, ``information_gain``, ``precision``,
        ``recall``, ``density``, ``coverage``, ``vendi``, ``novelty``, ``memorisation``,
        ``accuracy``, ``gain``; the model and label measures: ``g_vendi``,
        ``alignment``, ``lm_loss``, ``ifd``, ``label_issues``; the text measures: ``text_lexical``, ``text_ratio``,
        ``text_length``, ``text_count``).
    unit : str
        ``nats``, ``share``, ``directions``, ``ratio``, ``accuracy`` or ``cosine``.
    datasets : tuple of str
        The datasets it is about, in order (``("anchor", "synthetic")``).
    raw : float or None
        For a comparison: the measure itself at matched sizes, before chance (the null)
        is taken off; ``estimate`` is then the excess over the null.
    null : Null or None
        For a comparison: what chance gives at the same sizes, and how it was measured.
    reason : str or None
        Why the value is withheld (``estimate`` None), in plain words: a
        :class:`~._reasons.Reason`, whose ``code`` (:attr:`code`) is stable.
    """

    group: str
    key: str
    estimate: Estimate | None
    label: str
    kind: str
    unit: str
    datasets: tuple[str, ...] = ()
    raw: float | None = None
    null: Null | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        # a value that is not a finite number is no finding: withheld, with the reason
        est = self.estimate
        if est is None:
            return
        parts = [est.value, est.stderr, *(est.interval or ())]
        if all(v is None or math.isfinite(v) for v in parts):
            return
        object.__setattr__(self, "estimate", None)
        if self.reason is None:
            object.__setattr__(self, "reason", Reason(
                "not_finite",
                f"could not be measured on these data: the estimate came out as {est.value} "
                f"with standard error {est.stderr} (degenerate data, e.g. constant or empty "
                "rows)"))

    @property
    def bound(self) -> str | None:
        """``"lower"`` or ``"upper"`` where the value is a bound, not an estimate (the
        notes say why), else None."""
        return None if self.estimate is None else self.estimate.params.get("bound")

    @property
    def code(self) -> str | None:
        """The stable code of :attr:`reason` (docs/audit.md), or None."""
        return code_of(self.reason)

    def to_dict(self) -> dict[str, Any]:
        """The metric's entry in metrics.json: the estimate's fields (``value`` None when
        withheld), and ``raw``, ``null`` and ``reason`` where they apply."""
        out: dict[str, Any] = ({"value": None} if self.estimate is None
                               else self.estimate.to_dict())
        if self.bound is not None:
            out["bound"] = self.bound  # the value is a lower or an upper bound
        if self.raw is not None:
            out["raw"] = self.raw
        if self.null is not None:
            out["null"] = self.null.to_dict()
        if self.reason is not None:
            out["reason"] = str(self.reason)
            out["reason_code"] = self.code
        return out


#: how a bound reads before its value
BOUND_WORDS = {"lower": "at least", "upper": "at most"}

#: key -> (label, kind, unit) of the measures whose key names no dataset pair
_FIXED: dict[str, tuple[str, str, str]] = {
    "delta_h": ("dH = H(anchor) - H(synthetic)", "delta_h", "nats"),
    "entropy_synthetic": ("H(synthetic) - H(anchor), rows with provenance", "entropy",
                          "nats"),
    "mi_prompt_synthetic": ("I(prompt anchors; synthetic)", "mutual_information", "nats"),
    "information_gain": ("dI - H(anchor): information gain from the anchors' entropy",
                         "information_gain", "nats"),
    "mixture": ("KL gap (mixture, PCA space)", "kl_gap", "nats"),
    "knn": ("KL gap (kNN, full space)", "kl_gap", "nats"),
    "mixture_kl_anchor_target": ("KL(anchor model || target) - KL(mix model || target)",
                                 "model_kl", "nats"),
    "mixture_kl_synthetic_target": ("KL(synthetic model || target) - KL(mix model || "
                                    "target)", "model_kl", "nats"),
    "precision": ("precision", "precision", "share"),
    "recall": ("recall", "recall", "share"),
    "density": ("density", "density", "share"),
    "coverage": ("coverage", "coverage", "share"),
    "distance_ratio": ("nearest-anchor distance / anchors' own", "novelty", "ratio"),
    "memorisation": ("near-copy rate", "memorisation", "share"),
    "topic_shift": ("topic shares, TV(synthetic, anchor)", "topic_shift", "share"),
    "marked_topics": ("topics the synthetic data misses or over-fills", "topic_count",
                      "topics"),
    "cells_unseen": ("cells not yet reached (Chao1)", "forecast_cells", "cells"),
    "cells_new_1000": ("new cells the next 1,000 rows would reach", "forecast_cells",
                       "cells"),
    "cells_new_10000": ("new cells the next 10,000 rows would reach", "forecast_cells",
                        "cells"),
    "topics_unseen": ("topics not yet reached (Chao1)", "forecast_cells", "topics"),
    "new_row_share": ("share of the next rows in a cell not yet reached (Good-Turing)",
                      "forecast_share", "share"),
    "accuracy_anchor": ("accuracy anchor", "accuracy", "accuracy"),
    "accuracy_synthetic": ("accuracy synthetic", "accuracy", "accuracy"),
    "accuracy_both": ("accuracy both", "accuracy", "accuracy"),
    "gain_both": ("gain: anchor + synthetic", "gain", "accuracy"),
    "gain_synthetic": ("gain: synthetic alone", "gain", "accuracy"),
    "g_vendi": ("G-Vendi(synthetic) - G-Vendi(anchor) (gradient diversity)", "g_vendi",
                "directions"),
    "gradient_alignment": ("gradient alignment with the target (anchors without one)",
                           "alignment", "cosine"),
    "loss": ("LM loss: synthetic - anchor", "lm_loss", "nats"),
    "ifd": ("IFD: synthetic - anchor", "ifd", "ratio"),
    "tstr_accuracy": ("accuracy on the anchors, trained on synthetic rows", "accuracy",
                      "accuracy"),
    "label_agreement": ("synthetic labels an anchors-trained classifier agrees with",
                        "accuracy", "accuracy"),
    "tstr_accuracy_target": ("accuracy on the target, trained on synthetic rows",
                             "accuracy", "accuracy"),
    "label_issue_rate": ("label-issue rate (cleanlab)", "label_issues", "share"),
    "g_vendi_labels": ("G-Vendi of label gradients: synthetic - anchor", "g_vendi",
                       "directions"),
    "gradient_alignment_labels": ("label-gradient alignment with the target (anchors "
                                  "without one)", "alignment", "cosine"),
}


def metric(group: str, key: str, estimate: Estimate | None, *, kind: str | None = None,
           datasets: tuple[str, ...] = (), raw: float | None = None, null: Null | None = None,
           reason: str | None = None) -> Metric:
    """The record of one measure: a divergence (``kind`` ``kl``/``js``/``tv``) or a
    Vendi score (``vendi``) names its ``datasets``; the others are looked up by key."""
    if kind in ("kl", "js", "tv"):
        p, q = datasets
        label = f"KL({p} || {q})" if kind == "kl" else f"{kind.upper()}({p}, {q})"
        unit = "nats" if kind != "tv" else "share"
    elif kind == "vendi":
        label, unit = f"Vendi({datasets[0]}) - Vendi({datasets[1]})", "directions"
    else:
        label, kind, unit = _FIXED[key]
    return Metric(group, key, estimate, label, kind, unit, datasets, raw, null, reason)
