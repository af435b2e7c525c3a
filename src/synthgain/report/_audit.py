"""The audit report: one HTML file, figures embedded, a reading beside every number."""

from __future__ import annotations

from typing import Any

from ._figures import interval_chart, map_figure, novelty_histogram
from ._readings import reading

__all__ = ["render_audit_report"]

_SECTIONS = (
    ("divergences", "Divergences",
     "How different each pair of datasets is. KL by k-nearest neighbours in the full "
     "embedding space; JS and TV as lower bounds from a calibrated classifier that tries "
     "to tell the two samples apart.", "nats (JS, KL) or probability (TV)", 0.0),
    ("kl_gap", "KL gap against the target",
     "The paper's metric on real data: is a model of the synthetic data closer to the "
     "target than a model of the anchors?", "nats", 0.0),
    ("information", "Information terms of the paper",
     "Entropies, dH and the information gain dI, by kNN estimators in the whitened "
     "principal subspace of the target (or the anchors without a target).", "nats", None),
    ("fidelity", "Fidelity and coverage (Naeem et al. 2020)",
     "Precision and density say whether synthetic rows look real; recall and coverage "
     "whether they reach the variety of the anchors.", "share", None),
    ("diversity", "Diversity (Vendi score)",
     "The effective number of distinct directions under the cosine kernel (covariance "
     "form; interval from a delete-a-group jackknife).", "effective number", None),
    ("probe", "Probe: measured generalization gain",
     "A logistic regression trained on anchors, on synthetic data, and on both, scored on "
     "the labelled target set. The gains are the ground truth the measures above try to "
     "predict.", "accuracy", 0.0),
)


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def _section(result: Any, group: str, title: str, intro: str, unit: str, ref: float | None
             ) -> dict[str, Any] | None:
    ests = {k: v for k, v in result.metrics.get(group, {}).items() if v is not None}
    if not ests:
        return None
    rows = []
    for key, est in ests.items():
        lo, hi = est.ci()
        rows.append({"name": key.replace("_", " "), "value": _fmt(est.value),
                     "ci": f"{_fmt(lo)} to {_fmt(hi)}", "reading": reading(group, key, est)})
    figure = interval_chart([(k.replace("_", " "), v) for k, v in ests.items()], title, unit,
                            ref=ref)
    return {"title": title, "intro": intro, "rows": rows, "figure": figure}


def _headline(result: Any) -> list[dict[str, str]]:
    picks = [("kl_gap", "mixture", "KL gap (mixture)"),
             ("information", "information_gain", "information gain dI (nats)"),
             ("divergences", "js_anchor_synthetic", "JS(anchor, synthetic) lower bound"),
             ("fidelity", "precision", "precision"), ("fidelity", "coverage", "coverage"),
             ("diversity", "vendi_synthetic", "Vendi score, synthetic"),
             ("novelty", "memorisation", "near-copy rate"),
             ("probe", "gain_both", "probe gain, anchor + synthetic")]
    cards = []
    for group, key, label in picks:
        est = result.metrics.get(group, {}).get(key)
        if est is not None:
            value = f"{est.value:.1%}" if key == "memorisation" else _fmt(est.value)
            cards.append({"value": value, "label": label})
    return cards


def render_audit_report(result: Any, doc: dict[str, Any]) -> str:
    """Render the audit as one self-contained HTML page.

    Parameters
    ----------
    result : AuditResult
    doc : dict
        ``result.to_dict()``, so that the page and metrics.json show the same numbers.
    """
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("synthgain.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    sections = [s for s in (_section(result, *spec) for spec in _SECTIONS) if s is not None]
    figures = {"map": map_figure(result.points_2d, result.map_mixtures),
               "novelty": novelty_histogram(result.nearest_distance)}
    mem = result.metrics["novelty"]["memorisation"]
    near_copy_intro = (
        f"{int(mem.params['count']):,} of {mem.n[1]:,} synthetic rows ({mem.value:.1%}) are "
        f"near-copies: within {result.copy_threshold_ratio:g} times the distance from their "
        "nearest anchor to that anchor's own nearest neighbour. "
        + reading("novelty", "mean_nearest_anchor_distance",
                  result.metrics["novelty"]["mean_nearest_anchor_distance"])
        + (f" The table lists the {len(doc['near_copies'])} closest." if doc["near_copies"]
           else ""))
    return env.get_template("audit.html.j2").render(
        doc=doc, figures=figures, sections=sections, headline=_headline(result),
        near_copy_intro=near_copy_intro)
