"""The audit report: one HTML file, figures embedded, a reading beside every number."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..plots.audit import interval_chart, map_figure, novelty_histogram
from ._readings import reading

__all__ = ["render_audit_report", "write_audit"]

@dataclass(frozen=True)
class _Chart:
    """One interval chart of a section: the measures of the given kinds (None: all)."""

    title: str
    unit: str
    ref: float | None
    kinds: tuple[str, ...] | None  # Metric.kind values, in display order


_KL = _Chart("KL divergence, both directions (kNN, full embedding space)", "nats", 0.0,
             ("kl",))
_JS_TV = _Chart("JS and TV lower bounds (calibrated classifier)",
                "JS: nats, 0 to log 2 = 0.693; TV: probability, 0 to 1", 0.0,
                ("js", "tv"))

_SECTIONS = (
    ("divergences", "Divergences",
     "How different each pair of datasets is. KL by k-nearest neighbours in the full "
     "embedding space (unbounded, in nats); JS and TV as lower bounds from a calibrated "
     "classifier that tries to tell the two samples apart (bounded; shown apart from KL so "
     "that their scale is readable).", (_KL, _JS_TV)),
    ("kl_gap", "KL gap against the target",
     "The paper's metric on real data: is a model of the synthetic data closer to the "
     "target than a model of the anchors?",
     (_Chart("KL gap (positive: the synthetic data moves the model towards the target)",
             "nats", 0.0, ("kl_gap",)),
      _Chart("KL of each fitted model to the target model (PCA space)", "nats", None,
             ("model_kl",)))),
    ("information", "Information terms of the paper",
     "Entropies, dH and the information gain dI, by kNN estimators in the whitened "
     "principal subspace of the target (or the anchors without a target).",
     (_Chart("Entropies and the information gain dI", "nats", None,
             ("entropy", "information_gain")),
      _Chart("dH and the information the prompts carry", "nats", 0.0,
             ("delta_h", "mutual_information")))),
    ("fidelity", "Fidelity and coverage (Naeem et al. 2020)",
     "Precision and density say whether synthetic rows look real; recall and coverage "
     "whether they reach the variety of the anchors.",
     (_Chart("Precision, recall, density and coverage",
             "share of rows (density: neighbourhoods per row, over k)", 1.0, None),)),
    ("diversity", "Diversity (Vendi score)",
     "The effective number of distinct directions under the cosine kernel (covariance "
     "form; interval from a delete-a-group jackknife).",
     (_Chart("Vendi score of each dataset", "effective number of directions", None,
             None),)),
    ("probe", "Probe: measured generalization gain",
     "A logistic regression trained on anchors, on synthetic data, and on both, scored on "
     "the labelled target set. The gains are the ground truth the measures above try to "
     "predict.",
     (_Chart("Probe accuracy on the target set", "accuracy", None, ("accuracy",)),
      _Chart("Accuracy gain over the anchors alone", "accuracy difference", 0.0,
             ("gain",)))),
)

def _chart_records(chart: _Chart, records: list[Any]) -> list[Any]:
    """The records a chart shows: those of its kinds, kind by kind, in audit order."""
    if chart.kinds is None:
        return list(records)
    return [r for kind in chart.kinds for r in records if r.kind == kind]


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def _section(result: Any, group: str, title: str, intro: str, charts: tuple[_Chart, ...]
             ) -> dict[str, Any] | None:
    records = [r for r in result.records if r.group == group and r.estimate is not None]
    if not records:
        return None
    order: list[Any] = []
    figures = []
    for chart in charts:
        shown = _chart_records(chart, [r for r in records if r not in order])
        if shown:
            order += shown
            figures.append({"alt": chart.title, "uri": interval_chart(
                [(r.label, r.estimate) for r in shown], chart.title, chart.unit,
                ref=chart.ref)})
    order += [r for r in records if r not in order]  # (none: every measure has a chart)
    rows = []
    for rec in order:
        lo, hi = rec.estimate.ci()
        rows.append({"name": rec.label, "value": _fmt(rec.estimate.value),
                     "ci": f"{_fmt(lo)} to {_fmt(hi)}", "reading": reading(rec)})
    return {"title": title, "intro": intro, "rows": rows, "figures": figures}


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
    mean_d = result.metrics["novelty"]["mean_nearest_anchor_distance"]
    lo, hi = mean_d.ci()
    near_copy_intro = (
        f"{int(mem.params['count']):,} of {mem.n[1]:,} synthetic rows ({mem.value:.1%}) are "
        f"near-copies: within {result.copy_threshold_ratio:g} times the distance from their "
        "nearest anchor to that anchor's own nearest neighbour. Mean distance from a "
        f"synthetic row to its nearest anchor (how new the synthetic rows are): "
        f"{_fmt(mean_d.value)} (95% CI {_fmt(lo)} to {_fmt(hi)}), median "
        f"{_fmt(mean_d.params['median'])}."
        + (f" The table lists the {len(doc['near_copies'])} closest." if doc["near_copies"]
           else ""))
    return env.get_template("audit.html.j2").render(
        doc=doc, figures=figures, sections=sections, headline=_headline(result),
        near_copy_intro=near_copy_intro)


def write_audit(result: Any, out_dir: str | Path) -> dict[str, Path]:
    """Write ``metrics.json`` and ``report.html`` of an AuditResult into ``out_dir``.

    Returns ``{"metrics": path, "report": path}``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    doc = result.to_dict()
    mpath = out / "metrics.json"
    mpath.write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    rpath = out / "report.html"
    rpath.write_text(render_audit_report(result, doc), encoding="utf-8")
    return {"metrics": mpath, "report": rpath}
