"""The audit's metric records: each measured number with its name, kind, unit and the
datasets it is about, so that writers read fields and never parse key strings."""

from __future__ import annotations

from dataclasses import dataclass

from ..measures import Estimate

__all__ = ["Metric", "metric"]


@dataclass(frozen=True)
class Metric:
    """One measure of the audit.

    Attributes
    ----------
    group : str
        Section of metrics.json (``divergences``, ``information``, ``kl_gap``,
        ``fidelity``, ``diversity``, ``novelty``, ``probe``).
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
        ``accuracy``, ``gain``).
    unit : str
        ``nats``, ``share``, ``directions``, ``distance`` or ``accuracy``.
    datasets : tuple of str
        The datasets it is about, in order (``("anchor", "synthetic")``).
    """

    group: str
    key: str
    estimate: Estimate | None
    label: str
    kind: str
    unit: str
    datasets: tuple[str, ...] = ()


#: key -> (label, kind, unit) of the measures whose key names no dataset pair
_FIXED: dict[str, tuple[str, str, str]] = {
    "entropy_anchor": ("entropy anchor", "entropy", "nats"),
    "entropy_synthetic": ("entropy synthetic", "entropy", "nats"),
    "delta_h": ("dH = H(anchor) - H(synthetic)", "delta_h", "nats"),
    "mi_prompt_synthetic": ("I(prompt anchors; synthetic)", "mutual_information", "nats"),
    "information_gain": ("information gain dI", "information_gain", "nats"),
    "mixture": ("KL gap (mixture, PCA space)", "kl_gap", "nats"),
    "knn": ("KL gap (kNN, full space)", "kl_gap", "nats"),
    "mixture_kl_anchor_target": ("KL(anchor model || target model)", "model_kl", "nats"),
    "mixture_kl_synthetic_target": ("KL(synthetic model || target model)", "model_kl",
                                    "nats"),
    "precision": ("precision", "precision", "share"),
    "recall": ("recall", "recall", "share"),
    "density": ("density", "density", "share"),
    "coverage": ("coverage", "coverage", "share"),
    "mean_nearest_anchor_distance": ("mean nearest anchor distance", "novelty", "distance"),
    "memorisation": ("memorisation", "memorisation", "share"),
    "accuracy_anchor": ("accuracy anchor", "accuracy", "accuracy"),
    "accuracy_synthetic": ("accuracy synthetic", "accuracy", "accuracy"),
    "accuracy_both": ("accuracy both", "accuracy", "accuracy"),
    "gain_both": ("gain: anchor + synthetic", "gain", "accuracy"),
    "gain_synthetic": ("gain: synthetic alone", "gain", "accuracy"),
}


def metric(group: str, key: str, estimate: Estimate | None, *, kind: str | None = None,
           datasets: tuple[str, ...] = ()) -> Metric:
    """The record of one measure: a divergence (``kind`` ``kl``/``js``/``tv``) or a
    Vendi score (``vendi``) names its ``datasets``; the others are looked up by key."""
    if kind in ("kl", "js", "tv"):
        p, q = datasets
        label = f"KL({p} || {q})" if kind == "kl" else f"{kind.upper()}({p}, {q})"
        return Metric(group, key, estimate, label, kind, "nats" if kind != "tv" else "share",
                      datasets)
    if kind == "vendi":
        return Metric(group, key, estimate, datasets[0], kind, "directions", datasets)
    label, fixed_kind, unit = _FIXED[key]
    return Metric(group, key, estimate, label, fixed_kind, unit, datasets)
