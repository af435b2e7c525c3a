"""An :class:`~._pipeline.AuditResult` as HTML for a notebook (``_repr_html_``): the
verdict, what the data adds, the problems with an example row each, and the headline
numbers with their intervals. Plain escaped HTML, no script and no external resource."""

from __future__ import annotations

from html import escape
from typing import Any

from ._reasons import brief
from ._records import BOUND_WORDS

__all__ = ["HEADLINE", "headline", "result_html"]

#: the headline numbers (group, key, label), in the order the summary and the notebook
#: view list them
HEADLINE = (
    ("divergences", "js_anchor_synthetic", "JS(anchor, synthetic) over chance"),
    ("divergences", "js_synthetic_target", "JS(synthetic, target) over chance"),
    ("kl_gap", "mixture", "KL gap (mixture, PCA space) over chance"),
    ("information", "information_gain", "dI - H(anchor)"),
    ("fidelity", "precision", "precision over chance"),
    ("fidelity", "coverage", "coverage over chance"),
    ("diversity", "vendi_synthetic", "Vendi(synthetic) - Vendi(anchor)"),
    ("novelty", "memorisation", "near-copy rate over chance"),
    ("probe", "gain_both", "probe accuracy gain (anchor+synthetic vs anchor)"),
)


def headline(records: Any) -> list[tuple[str, str | None, str]]:
    """(label, value in words or None when withheld, the interval or the reason) of each
    headline number the audit computed."""
    recs = {(r.group, r.key): r for r in records}
    out: list[tuple[str, str | None, str]] = []
    for group, key, label in HEADLINE:
        rec = recs.get((group, key))
        if rec is None:
            continue
        if rec.estimate is None:
            out.append((label, None, brief(rec.reason)))
            continue
        lo, hi = rec.estimate.ci()
        at = f"{BOUND_WORDS[rec.bound]} " if rec.bound else ""
        out.append((label, f"{at}{rec.estimate.value:.4g}", f"95% CI {lo:.3g} to {hi:.3g}"))
    return out


def _problems(verdict: dict[str, Any]) -> str:
    rows = []
    for p in verdict["problems"]:
        what = (f"{p['count']:,} of {p['rows']:,} rows ({p['rate']:.1%})" if "count" in p
                else f"{p.get('value', 0.0):.3g} over chance")
        ex = p.get("example") or {}
        example = "" if not ex else (
            f"row <code>{escape(str(ex.get('id', '')))}</code>: "
            f"{escape(str(ex.get('detail', '')))}"
            + (f"<br><q>{escape(str(ex['text']))}</q>" if ex.get("text") else ""))
        rows.append(f"<tr><td>{escape(p['label'])}</td><td>{escape(what)}</td>"
                    f"<td>{example}</td></tr>")
    if not rows:
        return "<p>No problem above its threshold.</p>"
    return ("<table><thead><tr><th>problem</th><th>share</th><th>example</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def result_html(result: Any) -> str:
    """The notebook view of an audit result (see the module docstring)."""
    verdict = result.verdict()
    adds = "".join(f"<li><i>{escape(a.get('kind', ''))}</i> <b>{escape(a['name'])}</b>: "
                   f"{escape(a['text'])}"
                   + (f" ({escape(a['evidence'])})" if a.get("evidence") else "") + "</li>"
                   for a in verdict["adds"])
    nums = "".join(
        f"<tr><td>{escape(label)}</td><td>{'withheld' if v is None else escape(v)}</td>"
        f"<td>{escape(why)}</td></tr>" for label, v, why in headline(result.records))
    return (
        "<div class='synthgain-audit'>"
        f"<p><b>Verdict.</b> {escape(verdict['summary'])}</p>"
        f"<p><b>What the synthetic data adds</b></p><ul>{adds}</ul>"
        f"<p><b>Problems</b> (the three most important; every check is in "
        f"<code>verdict()['checks']</code>)</p>{_problems(verdict)}"
        "<p><b>Headline numbers</b> (each over chance)</p><table><thead><tr><th>measure"
        "</th><th>value</th><th>interval or reason</th></tr></thead>"
        f"<tbody>{nums}</tbody></table></div>")
