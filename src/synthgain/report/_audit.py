"""The audit report: one HTML file, figures embedded, a reading beside every number."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..experiments.provenance import check_output, claim_directory, write_bytes_atomic
from ..plots.audit import interval_chart, map_figure, novelty_histogram, topic_chart
from ._files import write_rows
from ._readings import reading

__all__ = ["READING_GUIDE", "render_audit_report", "write_audit"]

@dataclass(frozen=True)
class _Chart:
    """One interval chart of a section: the measures of the given kinds (None: all)."""

    title: str
    unit: str
    ref: float | None
    kinds: tuple[str, ...] | None  # Metric.kind values, in display order


_KL = _Chart("KL divergence over chance, both directions (kNN)", "nats", 0.0, ("kl",))
_JS_TV = _Chart("JS and TV lower bounds over chance (calibrated classifier)",
                "JS: nats, 0 to log 2 = 0.693; TV: probability, 0 to 1", 0.0,
                ("js", "tv"))

#: one line, said once at the top of the report, on how to read every comparison
READING_GUIDE = (
    "Every comparison below is made at matched sizes (the same number of rows from each "
    "dataset) and read against chance: the same measure on two random halves of real "
    "data of one distribution (the anchors, or the target), at the same sizes. The value "
    "shown is the measure minus that null, so 0 means \"no more than chance gives\"; the "
    "95% interval includes the sampling error of the rows. Divergences below 0 are shown "
    "as 0 (no detectable difference; the raw value is kept in metrics.json). A measure "
    "is withheld, with the reason, where its estimator is not valid at the sizes at hand "
    "(calibration table, docs/estimators.md). Information quantities are in nats "
    "(natural-log units: 1 nat = 1.44 bits); entropies are differences, taken in a "
    "whitened space, so they do not depend on the units of the embedding.")

_SECTIONS = (
    ("novelty", "Novelty",
     "How new the synthetic rows are: near-copies of anchors, and distance to the nearest "
     "anchor relative to the anchors' own spacing, each against held-out anchors.",
     (_Chart("Novelty over chance", "share of rows; distance ratio", 0.0, None),)),
    ("divergences", "Divergences",
     "How different each pair of datasets is, beyond what two samples of one distribution "
     "differ by chance. KL by k-nearest neighbours (unbounded, in nats); JS and TV as lower "
     "bounds from a calibrated classifier that tries to tell the two samples apart "
     "(bounded; shown apart from KL so that their scale is readable).", (_KL, _JS_TV)),
    ("kl_gap", "KL gap against the target",
     "The paper's metric on real data: is a model of the synthetic data closer to the "
     "target than a model of the anchors? The null relabels rows between anchors and "
     "synthetic data at random (same sizes, same target).",
     (_Chart("KL gap over chance (positive: the synthetic data moves the model towards "
             "the target)", "nats", 0.0, ("kl_gap",)),
      _Chart("KL of each fitted model to the target model, over chance", "nats", 0.0,
             ("model_kl",)))),
    ("information", "Information terms of the paper",
     "dH, and with provenance I(prompt; synthetic) and the information gain dI, by kNN "
     "estimators in the whitened principal subspace of the anchor and synthetic rows.",
     (_Chart("dH, entropy and dI relative to the anchors' entropy", "nats", 0.0,
             ("delta_h", "entropy", "information_gain")),
      _Chart("Information the prompts carry, over chance", "nats", 0.0,
             ("mutual_information",)))),
    ("fidelity", "Fidelity and coverage (Naeem et al. 2020)",
     "Precision and density say whether synthetic rows look real; recall and coverage "
     "whether they reach the variety of the anchors. Each is shown minus what held-out "
     "anchors score against the other anchors.",
     (_Chart("Precision, recall, density and coverage over chance",
             "share of rows (density: neighbourhoods per row, over k)", 0.0, None),)),
    ("diversity", "Diversity (Vendi score)",
     "The effective number of distinct directions under the cosine kernel, as a difference "
     "from the anchors' at the same size.",
     (_Chart("Vendi score minus the anchors'", "effective number of directions", 0.0,
             None),)),
    ("text", "Text measures",
     "Lexical diversity of the synthetic texts minus the anchors', at matched sizes and "
     "over chance (two splits of the anchors); each dataset's value at its full size is "
     "in metrics.json. Lengths are descriptive; duplicates, copies, contamination, "
     "refusals, empty texts and personal data are counts over every synthetic row "
     "(examples below); contamination is also read over the anchors' own overlap with "
     "the same set.",
     (_Chart("Lexical measures, synthetic minus anchors, over chance", "share", 0.0,
             ("text_lexical",)),
      _Chart("gzip compression ratio, synthetic minus anchors, over chance",
             "ratio (higher: more repetitive)", 0.0, ("text_ratio",)))),
    ("topics", "Topic coverage",
     "The anchors cut into topics in the embedding space, each named by its most "
     "distinctive words; each synthetic (and target) row belongs to the topic of its "
     "nearest centre. The shift is the total variation "
     "between the topic shares of the synthetic rows and the anchors, over two splits of "
     "the anchors; a topic is marked where its synthetic count lies outside what chance "
     "allows (beta-binomial null, Holm over the topics). The table below lists every "
     "topic.",
     (_Chart("Topic shift over chance", "total variation of the topic shares", 0.0,
             ("topic_shift",)),)),
    ("forecast", "What more generation would buy",
     "The anchors cut into finer cells; from how the synthetic rows occupy them "
     "(rows seen once, twice), unseen-species estimators (Chao1, its extrapolation, "
     "Good-Turing) say how many cells the generator has not reached yet and how many new "
     "ones more rows would reach. Reliable to about twice the rows at hand; further out, "
     "a lower bound.",
     (_Chart("Cells more rows would reach", "cells (topics)", None, ("forecast_cells",)),
      _Chart("Share of the next rows in a new cell", "share", None,
             ("forecast_share",)))),
    ("probe", "Probe: measured generalization gain",
     "A logistic regression trained on anchors, on synthetic data, and on both, scored on "
     "the labelled target set. The gains are the ground truth the measures above try to "
     "predict.",
     (_Chart("Probe accuracy on the target set", "accuracy", None, ("accuracy",)),
      _Chart("Accuracy gain over the anchors alone", "accuracy difference", 0.0,
             ("gain",)))),
    ("model", "What a small model learns (SmolLM2-135M)",
     "Per-row loss, IFD and gradient sketches of the packaged language model. G-Vendi: "
     "how many directions the synthetic rows' gradients span, minus the anchors'; "
     "gradient alignment: how well a step on the synthetic rows agrees with a step on the "
     "target (the anchors without one), minus two splits of that reference; loss and IFD: "
     "synthetic minus anchors. Each over chance at matched sizes. Which of these predict "
     "the gain of synthetic data is the subject of docs/study.md.",
     (_Chart("G-Vendi, synthetic minus anchors, over chance", "directions", 0.0,
             ("g_vendi",)),
      _Chart("Gradient alignment over chance", "cosine", 0.0, ("alignment",)),
      _Chart("LM loss and IFD, synthetic minus anchors, over chance",
             "nats per token; ratio", 0.0, ("lm_loss", "ifd")))),
    ("labels", "What the labels teach",
     "Accuracy on real rows of a classifier trained on the synthetic rows, minus one "
     "trained on as many real rows; the share of synthetic rows whose label cleanlab "
     "flags, minus the anchors' share; with the language model, G-Vendi and the "
     "alignment of the gradients of the label given the text.",
     (_Chart("Train-on-synthetic accuracy over the real data's own", "accuracy "
             "difference", 0.0, ("accuracy",)),
      _Chart("Label-issue rate, synthetic minus anchors, over chance", "share", 0.0,
             ("label_issues",)),
      _Chart("Label gradients: G-Vendi and alignment over chance",
             "directions; cosine", 0.0, ("g_vendi", "alignment")))),
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
    every = [r for r in result.records if r.group == group]
    records = [r for r in every if r.estimate is not None]
    if not every:
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
    for rec in every:
        raw = "" if rec.raw is None else _fmt(rec.raw)
        chance = "" if rec.null is None else _fmt(rec.null.value)
        if rec.estimate is None:
            rows.append({"name": rec.label, "value": "withheld", "ci": "", "raw": raw,
                         "chance": chance, "reading": reading(rec)})
            continue
        lo, hi = rec.estimate.ci()
        ci = "" if rec.kind in ("text_count", "text_length", "topic_count") else f"{_fmt(lo)} to {_fmt(hi)}"
        rows.append({"name": rec.label, "value": _fmt(rec.estimate.value),
                     "ci": ci, "raw": raw, "chance": chance,
                     "reading": reading(rec)})
    return {"title": title, "intro": intro, "rows": rows, "figures": figures}


def _headline(result: Any) -> list[dict[str, str]]:
    picks = [("kl_gap", "mixture", "KL gap (mixture), nats over chance"),
             ("information", "information_gain", "dI - H(anchor), nats"),
             ("divergences", "js_anchor_synthetic", "JS(anchor, synthetic) over chance"),
             ("fidelity", "precision", "precision over chance"),
             ("fidelity", "coverage", "coverage over chance"),
             ("diversity", "vendi_synthetic", "Vendi(synthetic) - Vendi(anchor)"),
             ("novelty", "memorisation", "near-copy rate over chance"),
             ("probe", "gain_both", "probe gain, anchor + synthetic")]
    recs = {(r.group, r.key): r for r in result.records}
    cards = []
    for group, key, label in picks:
        rec = recs.get((group, key))
        if rec is None:
            continue
        if rec.estimate is None:
            cards.append({"value": "withheld", "label": label})
            continue
        est = rec.estimate
        value = f"{est.value:+.1%}" if key == "memorisation" else _fmt(est.value)
        if rec.bound is not None:  # a bound reads as one
            value = f"{'≤' if rec.bound == 'upper' else '≥'} {value}"
        cards.append({"value": value, "label": label})
    return cards


def _text_examples(result: Any) -> list[dict[str, str]]:
    """Example rows of the text counts (duplicates, copies, contamination, refusals)."""
    out = []
    for rec in result.records:
        if rec.group != "text" or rec.kind != "text_count" or rec.estimate is None:
            continue
        for ex in rec.estimate.params.get("examples", []):
            detail = {k: v for k, v in ex.items() if k not in ("id", "text")}
            match = detail.pop("match", None)
            if match:
                detail = {**detail, **match}
            out.append({"measure": rec.label, "id": str(ex["id"]), "text": ex["text"],
                        "detail": "; ".join(f"{k}: {v}" for k, v in detail.items())})
    return out


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
    top = doc.get("topics")
    if top is not None:
        figures["topics"] = topic_chart(top["table"])
    flags = result.near_copy
    count = 0 if flags is None else int(flags.sum())
    total = int(result.nearest_distance.shape[0])
    near_copy_intro = (
        f"{count:,} of {total:,} synthetic rows ({count / max(total, 1):.1%}, all rows) are "
        f"near-copies: within {result.copy_threshold_ratio:g} times the distance from their "
        "nearest anchor to that anchor's own nearest neighbour. Median distance from a "
        "synthetic row to its nearest anchor: "
        f"{_fmt(float(np.median(result.nearest_distance)))} (embedding units)."
        + (f" The table lists the {len(doc['near_copies'])} closest." if doc["near_copies"]
           else ""))
    return env.get_template("audit.html.j2").render(
        doc=doc, figures=figures, sections=sections, headline=_headline(result),
        near_copy_intro=near_copy_intro, guide=READING_GUIDE, topics=top,
        text_examples=_text_examples(result), verdict=doc["verdict"])


#: The files :func:`write_audit` writes into its directory.
AUDIT_FILES = ("metrics.json", "report.html", "rows.parquet", "rows.csv")


def write_audit(result: Any, out_dir: str | Path) -> dict[str, Path]:
    """Write ``metrics.json``, ``report.html``, ``rows.parquet`` and ``rows.csv`` (one row
    per synthetic record) of an AuditResult into ``out_dir``, each atomically.

    ``metrics.json`` is written last: where it is missing or older than the others, the
    run did not finish. ``out_dir`` may not be, or lie inside, a file or directory the
    audit read (:func:`~synthgain.experiments.provenance.check_output`).

    Returns ``{"metrics": path, "report": path, "rows_parquet": path, "rows_csv": path}``.
    """
    sources = [v["source"] for v in result.inputs.values()
               if v.get("source") and v["source"] != "<array>"]
    out = check_output(out_dir, "`out_dir`", directory=True, inputs=sources,
                       files=AUDIT_FILES)
    claim_directory(out)
    doc = result.to_dict()
    rows = write_rows(result, out)
    rpath = out / "report.html"
    write_bytes_atomic(rpath, render_audit_report(result, doc).encode())
    mpath = out / "metrics.json"
    write_bytes_atomic(mpath, (json.dumps(doc, indent=2, allow_nan=False) + "\n").encode())
    return {"metrics": mpath, "report": rpath, **rows}
