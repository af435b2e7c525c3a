"""Plain-language readings of the audit's numbers, one sentence or two per measure."""

from __future__ import annotations

from typing import Any

__all__ = ["LABELS", "reading"]

LABELS = {
    "kl": "KL divergence (kNN, full space)",
    "js": "Jensen-Shannon divergence (classifier lower bound)",
    "tv": "total variation (classifier lower bound)",
}


def _ci(est: Any) -> str:
    lo, hi = est.ci()
    return f"{est.value:.3g} (95% CI {lo:.3g} to {hi:.3g})"


def _divergence(kind: str, datasets: tuple[str, ...], est: Any) -> str:
    p, q = datasets
    if kind == "kl":
        return (f"KL({p} || {q}) = {_ci(est)} nats: how much a {p} point is surprising "
                f"under the {q} data. 0 means indistinguishable; kNN estimates in high "
                "dimension are rough, so compare them with each other rather than read "
                "them alone.")
    lo, _ = est.ci()
    verdict = ("the classifier cannot tell them apart (no detectable difference)"
               if lo <= 0 else "the classifier tells them apart")
    scale = "log 2 = 0.693" if kind == "js" else "1"
    return (f"{kind.upper()}({p}, {q}) >= {_ci(est)}, on a scale from 0 to {scale}: "
            f"{verdict}. It is a lower bound: the true divergence is at least this.")


_FIXED = {
    "entropy_anchor": "Differential entropy of the anchors in the whitened principal "
                      "subspace (nats): their spread.",
    "entropy_synthetic": "Differential entropy of the synthetic data in the same subspace.",
    "delta_h": "dH = H(anchor) - H(synthetic). Negative: the synthetic data is more spread "
               "out than the anchors; positive: it is more concentrated.",
    "mi_prompt_synthetic": "I(prompt anchors; synthetic): how much of each synthetic row is "
                           "predictable from the anchors in its prompt.",
    "information_gain": "dI = H(synthetic) - I(anchors; synthetic): the paper's information "
                        "gain, what the generator adds beyond its prompts. Larger tightens "
                        "the paper's generalization bound (Theorem 4.10).",
    "mixture": "KL Gap = KL(anchor model || target model) - KL(synthetic model || target "
               "model), with mixtures fitted in the principal subspace. Positive: a model "
               "of the synthetic data is closer to the target than a model of the anchors, "
               "the paper's sign of generalization gain.",
    "knn": "The same gap from kNN estimates in the full embedding space.",
    "mixture_kl_anchor_target": "KL(anchor model || target model), nats.",
    "mixture_kl_synthetic_target": "KL(synthetic model || target model), nats.",
    "precision": "Share of synthetic rows that fall inside the anchors' neighbourhoods "
                 "(faithfulness). 1 = all look real.",
    "recall": "Share of anchors that fall inside the synthetic rows' neighbourhoods: how "
              "much of the real variety the synthetic data reaches.",
    "density": "How many anchor neighbourhoods the average synthetic row sits in, over k. "
               "About 1 for data like the anchors; above 1 means crowded in dense regions.",
    "coverage": "Share of anchors with a synthetic row inside their neighbourhood. About "
                "1 - 2^-k (0.97 for k = 5) when both come from one distribution.",
    "mean_nearest_anchor_distance": "Mean distance from a synthetic row to its nearest "
                                    "anchor: how new the synthetic rows are.",
    "memorisation": "Share of synthetic rows that are near-copies of an anchor (much closer "
                    "to it than any other anchor is).",
    "accuracy_anchor": "Target accuracy of the probe trained on the anchors only.",
    "accuracy_synthetic": "Target accuracy of the probe trained on the synthetic data only.",
    "accuracy_both": "Target accuracy of the probe trained on anchors and synthetic data.",
    "gain_both": "Measured generalization gain: accuracy(anchor + synthetic) - accuracy("
                 "anchor). This is what the other measures try to predict.",
    "gain_synthetic": "accuracy(synthetic) - accuracy(anchor): can the synthetic data "
                      "replace the anchors?",
}


def reading(record: Any) -> str:
    """One plain sentence (or two) saying what the number of an audit ``Metric`` means."""
    est = record.estimate
    if record.kind in ("kl", "js", "tv"):
        return _divergence(record.kind, record.datasets, est)
    if record.kind == "vendi":
        return (f"Vendi score of the {record.datasets[0]} data = {_ci(est)}: the effective "
                "number of distinct directions in it (1 = all alike).")
    text = _FIXED.get(record.key, "")
    if record.kind == "memorisation":
        text += f" Here {est.value:.1%} ({int(est.params.get('count', 0)):,} rows)."
    return f"{_ci(est)}. {text}"
