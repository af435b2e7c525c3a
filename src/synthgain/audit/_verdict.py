"""The audit's verdict in plain words: what the synthetic data adds, and its main problems.

What it adds is read from the null-calibrated measures the audit reports (each an excess
over chance with a 95% interval): the KL gap towards the target, the information gain
dI - H(anchor), the Vendi diversity against the anchors', and the probe's measured
accuracy gain. Each says "more than chance" when its interval lies above 0, "less" when
below, "no more than chance" when it holds 0, and "not measurable" with the reason when
withheld or not computed.

The problems are the rows flagged (near-copies, duplicates, contamination, refusals, empty
responses, outliers) and the divergence from the target; each is a problem when its share
of the synthetic rows (for the divergence: the TV lower bound over chance, interval above
0) exceeds its threshold (:class:`Thresholds`). The three most severe (share over
threshold; a threshold of 0 makes any flagged row the most severe) open the verdict, each
with its count and an example row.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np

from ..exceptions import ValidationError
from ._reasons import brief
from ._records import BOUND_WORDS
from ._rows import RowInfo, row_flags

__all__ = ["Thresholds", "build_verdict", "parse_thresholds", "verdict_lines"]

_EXAMPLE_CHARS = 160


@dataclass(frozen=True)
class Thresholds:
    """The thresholds behind the verdict: above each, the finding is a problem.

    Attributes
    ----------
    near_copy_rate, duplicate_rate, contamination, refusal_rate, empty_rate, pii_rate, \
language_drift_rate, outlier_rate
        Shares of the synthetic rows (in [0, 1]): a share strictly above its threshold is
        a problem. ``contamination``, ``empty_rate`` and ``pii_rate`` (personal data
        and secrets) default to 0 (any such row); ``language_drift_rate`` (rows in a
        language fewer than 1 % of the anchors use) to 0.01, and it is a problem only
        where its excess over the anchors' own share (``text.language_drift``) lies above
        0 as well;
        ``outlier_rate`` to 0.05, five times what rows of the reference's own
        distribution give (0.01 by construction of the outlier cut).
    divergence
        TV(synthetic, target) over chance (a lower bound on the total variation, share):
        a problem when above this and its interval lies above 0.
    missed_topics
        The share of the anchors in the topics
        the synthetic data misses (thin or missing beyond chance,
        :mod:`synthgain.audit._topics`): a problem when above this.
    """

    near_copy_rate: float = 0.05
    duplicate_rate: float = 0.05
    contamination: float = 0.0
    refusal_rate: float = 0.01
    empty_rate: float = 0.0
    pii_rate: float = 0.0
    language_drift_rate: float = 0.01
    outlier_rate: float = 0.05
    divergence: float = 0.1
    missed_topics: float = 0.05

    @classmethod
    def of(cls, value: Thresholds | Mapping[str, Any] | None, option: str = "thresholds"
           ) -> Thresholds:
        """Thresholds from None (the defaults), a mapping of names to values, or itself."""
        if value is None:
            return cls()
        if isinstance(value, Thresholds):
            return value
        names = [f.name for f in fields(cls)]
        out = cls()
        for name, v in dict(value).items():
            if name not in names:
                raise ValidationError(
                    f"`{option}`: unknown threshold {name!r}. Valid names: "
                    f"{', '.join(names)}.")
            try:
                x = float(v)
            except (TypeError, ValueError):
                x = math.nan
            if not (0.0 <= x <= 1.0):
                raise ValidationError(
                    f"`{option}`: threshold {name}={v!r} must be a number in [0, 1] (a "
                    "share of rows, or a TV bound).")
            out = replace(out, **{name: x})
        return out


def parse_thresholds(text: str, option: str = "--thresholds") -> Thresholds:
    """``"near_copy_rate=0.1,outlier_rate=0.02"`` -> :class:`Thresholds` (the others at
    their defaults); errors name the option and the item.

    Examples
    --------
    The thresholds named are set; the others keep their defaults:

    >>> from synthgain.audit import parse_thresholds
    >>> th = parse_thresholds("near_copy_rate=0.2")
    >>> th.near_copy_rate, th.duplicate_rate
    (0.2, 0.05)
    """
    items: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, eq, value = part.partition("=")
        if not eq or not name.strip() or not value.strip():
            raise ValidationError(
                f"`{option}`: {part!r} is not name=value, e.g. {option} "
                "\"near_copy_rate=0.1,refusal_rate=0\".")
        items[name.strip()] = value.strip()
    return Thresholds.of(items, option)


def _record(result: Any, group: str, key: str) -> Any:
    return next((r for r in result.records if r.group == group and r.key == key), None)


def _snippet(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    return text if len(text) <= _EXAMPLE_CHARS else text[:_EXAMPLE_CHARS - 1] + "\u2026"


#: what Study 4 (docs/study.md) found each measure of the "adds" lines to do: the probe's
#: gain on a labelled target is the gain itself (``measured``); the label agreement, the
#: label-issue rate and the gradient alignment ranked 200 synthetic datasets by that gain
#: and replicated on held-out designs (``predicts``); the others describe the data and did
#: not rank the datasets by their gain beyond size and label noise (``describes``)
STUDY4 = {
    "label_agreement": "predicted the gain in Study 4: the audit's own measure, Spearman "
                       "+0.58 at 40 anchors and +0.57 at 500 over 200 datasets, +0.66 and "
                       "+0.63 on held-out designs",
    "label_issue_rate": "predicted the gain in Study 4: the audit's own measure, Spearman "
                        "-0.64 at 40 anchors and -0.58 at 500 over 200 datasets, -0.57 and "
                        "-0.61 on held-out designs",
    "gradient_alignment": "predicted the gain weakly in Study 4: Spearman +0.25 at 500 "
                          "anchors, +0.28 on a held-out design",
    "describes": "did not predict the gain in Study 4 beyond dataset size and label noise",
}
#: (name, group, keys, more, less, none, kind, sign): what each measure of the "adds"
#: lines says in plain words; ``sign`` -1 where a higher value means less (label issues)
_GAINS = (
    ("probe", "probe", ("gain_both",),
     "improves a classifier's accuracy on the target when added to the anchors",
     "lowers a classifier's accuracy on the target when added to the anchors",
     "no detectable change in a classifier's accuracy on the target", "measured", 1),
    ("labels", "labels", ("label_agreement",),
     "its labels agree with what the anchors teach more than held-out anchors' do",
     "its labels disagree with what the anchors teach more than the anchors' own do "
     "(label noise, or other classes)",
     "its labels agree with what the anchors teach as the anchors' own do", "predicts", 1),
    ("label issues", "labels", ("label_issue_rate",),
     "fewer of its labels look wrong (cleanlab) than the anchors'",
     "more of its labels look wrong (cleanlab) than the anchors'",
     "no more suspect labels than the anchors", "predicts", -1),
    ("gradient alignment", "model", ("gradient_alignment",),
     "a training step on it agrees with the reference's gradient more than the reference's "
     "own rows do",
     "a training step on it lowers the reference's loss less than a step on real rows does",
     "a training step on it agrees with the reference's gradient as real rows do",
     "predicts", 1),
    ("towards the target", "kl_gap", ("mixture", "knn"),
     "moves a model of the data closer to the target than the anchors alone",
     "moves a model of the data away from the target, compared with the anchors alone",
     "no detectable move towards the target", "describes", 1),
    ("information", "information", ("information_gain",),
     "adds information beyond the anchors' own (dI - H(anchor) > 0)",
     "carries less information than the anchors' entropy",
     "no detectable information gain", "describes", 1),
    ("diversity", "diversity", ("vendi_synthetic",),
     "is more diverse than the anchors", "is less diverse than the anchors",
     "is as diverse as the anchors, within chance", "describes", 1),
)
#: why an "adds" measure is not there at all
_ABSENT = {"kl_gap": "no target set", "probe": "no target set with labels",
           "labels": "no labels on the anchors and synthetic rows (--label-column)",
           "model": "no language model (--lm)"}


def _gain(result: Any, spec: tuple[Any, ...]) -> dict[str, Any]:
    name, group, keys, more, less, none, kind, sign = spec
    evidence = STUDY4.get(keys[0], STUDY4["describes"]) if kind != "measured" else None
    out = _gain_status(result, name, group, keys, (more, less, none), sign)
    return {**out, "kind": kind, **({"evidence": evidence} if evidence else {})}


def _gain_status(result: Any, name: str, group: str, keys: tuple[str, ...],
                 words3: tuple[str, str, str], sign: int) -> dict[str, Any]:
    more, less, none = words3
    recs = [r for k in keys if (r := _record(result, group, k)) is not None]
    if not recs:
        why = _ABSENT.get(group, "not computed")
        return {"name": name, "measure": f"{group}.{keys[0]}", "status": "not measurable",
                "text": f"{name}: not measurable ({why})"}
    rec = next((r for r in recs if r.estimate is not None), recs[0])
    measure = f"{group}.{rec.key}"
    if rec.estimate is None:
        return {"name": name, "measure": measure, "status": "not measurable",
                "reason": rec.reason,
                "text": f"{name}: not measurable ({rec.label} withheld: {brief(rec.reason)})"}
    v = float(rec.estimate.value)
    lo, hi = (float(x) for x in rec.estimate.ci())
    unit = {"nats": " nats", "directions": " directions"}.get(rec.unit, "")
    if rec.estimate.params.get("bound") == "upper" and hi >= 0:
        # an upper bound (near-copies, see the notes) shows only a value below 0
        why = f"an upper bound only, {v:+.3g}{unit} (near-copies; see the notes)"
        return {"name": name, "measure": measure, "status": "not measurable",
                "reason": why, "text": f"{name}: not measurable ({rec.label}: {why})"}
    status, words = (("more", more) if sign * lo > 0 and sign * hi > 0 else
                     ("less", less) if sign * lo < 0 and sign * hi < 0 else ("chance", none))
    out = {"name": name, "measure": measure, "status": status, "value": v,
           "ci_low": lo, "ci_high": hi,
           "text": f"{name}: {words} ({rec.label} {_as_bound(rec.bound)}{v:+.3g}{unit} over "
                   f"chance, 95% CI {lo:.3g} to {hi:.3g})"}
    if rec.bound is not None:
        out["bound"] = rec.bound
    return out


def _as_bound(bound: str | None) -> str:
    """``"at most "`` for an upper bound, ``"at least "`` for a lower one, else ``""``."""
    return f"{BOUND_WORDS[bound]} " if bound else ""


def _example(info: RowInfo | None, j: int, detail: str) -> dict[str, Any]:
    out: dict[str, Any] = {"row": int(j), "detail": detail}
    if info is not None:
        out["id"] = info.ids[j]
        out["text"] = _snippet(info.texts[j]) if info.texts is not None else None
    else:
        out["id"], out["text"] = str(j), None
    return out


def _row_problem(result: Any, name: str, label: str, threshold: float,
                 flags: np.ndarray | None) -> dict[str, Any]:
    info: RowInfo | None = getattr(result, "row_info", None)
    if flags is None:
        return {"name": name, "label": label, "status": "not measured",
                "threshold": threshold}
    count, m = int(flags.sum()), int(flags.shape[0])
    rate = count / m if m else 0.0
    out: dict[str, Any] = {"name": name, "label": label, "count": count, "rows": m,
                           "rate": rate, "threshold": threshold,
                           "status": "problem" if rate > threshold else "ok"}
    if count:
        idx = np.flatnonzero(flags)
        out["example"] = _example(info, *_pick(result, name, idx, info))
    return out


def _pick(result: Any, name: str, idx: np.ndarray, info: RowInfo | None
          ) -> tuple[int, str]:
    """The example row of a problem (the clearest case) and a line on it."""
    if name == "near-copy" and info is not None:
        j = int(idx[np.argmin(info.ratio[idx])])
        return j, (f"distance {float(result.nearest_distance[j]):.3g} to anchor "
                   f"{info.nearest_anchor[j]}, {float(info.ratio[j]):.3g} times that "
                   "anchor's distance to its nearest anchor")
    if name == "outlier" and info is not None:
        o = info.outliers
        j = int(idx[np.argmax(o.score[idx])])
        return j, (f"outlier score {float(o.score[j]):.3g} (cut {o.cut:.3g}): its "
                   f"{o.k}-th nearest {o.reference} row is {float(o.score[j]):.3g} times "
                   f"the {o.reference}s' typical spacing away")
    text = getattr(result, "text_rows", None) or {}
    if name == "duplicate" and "duplicate_cluster" in text:
        cluster = np.asarray(text["duplicate_cluster"])
        size = np.asarray(text["duplicate_cluster_size"])
        j = int(idx[np.argmax(size[idx])])
        first = int(np.flatnonzero(cluster == cluster[j])[0])
        ident = info.ids[first] if info is not None else str(first)
        return j, f"one of {int(size[j])} rows of one duplicate cluster (first: row {ident})"
    if name == "language-drift" and "language" in text:
        return int(idx[0]), f"written in '{text['language'][int(idx[0])]}'"
    if name == "pii" and "pii" in text:
        return int(idx[0]), f"contains: {str(text['pii'][int(idx[0])]).replace(',', ', ')}"
    return int(idx[0]), {"duplicate": "an exact duplicate of an earlier row",
                         "contaminated": "overlaps the target set",
                         "empty": "empty response",
                         "refusal": "reads as a refusal"}.get(name, "")


def _divergence(result: Any, threshold: float) -> dict[str, Any] | None:
    rec = _record(result, "divergences", "tv_synthetic_target")
    label = "divergence from the target"
    if rec is None:
        return None
    if rec.estimate is None:
        return {"name": "divergence", "label": label, "status": "not measured",
                "threshold": threshold, "reason": rec.reason}
    v = float(rec.estimate.value)
    lo, hi = (float(x) for x in rec.estimate.ci())
    anchor = _record(result, "divergences", "tv_anchor_target")
    out: dict[str, Any] = {
        "name": "divergence", "label": label, "measure": "divergences.tv_synthetic_target",
        "value": v, "ci_low": lo, "ci_high": hi, "threshold": threshold,
        "status": "problem" if v > threshold and lo > 0 else "ok"}
    if anchor is not None and anchor.estimate is not None:
        out["anchor_value"] = float(anchor.estimate.value)
    info: RowInfo | None = getattr(result, "row_info", None)
    if info is not None:
        j = int(np.argmax(info.outliers.score))
        out["example"] = _example(info, j, f"the row farthest from the {info.outliers.reference}"
                                           f" data (outlier score "
                                           f"{float(info.outliers.score[j]):.3g})")
    return out


def _language_drift(result: Any, threshold: float, flags: np.ndarray | None
                    ) -> dict[str, Any]:
    """The language-drift check: a problem when the share is above ``threshold`` and its
    excess over the anchors' own share (each anchor against the others) is above 0."""
    out = _row_problem(result, "language-drift", "rows in a language the anchors do not use",
                       threshold, flags)
    base = _baseline(result, "language_drift", "anchor")
    if base is not None:
        out["baseline"] = [base]
        if out["status"] == "problem" and base["ci_low"] <= 0:
            out["status"] = "ok"  # no more than the anchors' own drift, as far as chance tells
    return out


def _baseline(result: Any, key: str, name: str) -> dict[str, Any] | None:
    """The anchors' own share and the synthetic share's excess over it, from the text
    record ``key`` (a :func:`~._metrics.share_excess`); None where it is absent."""
    rec = _record(result, "text", key)
    if rec is None or rec.estimate is None:
        return None
    lo, hi = (float(x) for x in rec.estimate.ci())
    return {"set": name, "anchor_rate": float(rec.estimate.params["baseline_share"]),
            "excess": float(rec.estimate.value), "ci_low": lo, "ci_high": hi}


def _contamination_baseline(result: Any, check: dict[str, Any]) -> None:
    """Beside the contaminated rows: per set, the anchors' own share by the same rule
    and the synthetic share's excess over it (``text.contamination_<set>_excess``)."""
    base = [b for name in ("target", "eval")
            if (b := _baseline(result, f"contamination_{name}_excess", name)) is not None]
    if base:
        check["baseline"] = base


def _topic_check(result: Any, threshold: float) -> dict[str, Any] | None:
    """The topics the synthetic data misses (thin or missing beyond chance): a problem
    when the anchors in them are more than ``threshold`` of all."""
    top = getattr(result, "topics", None)
    if top is None:
        return None
    missed = [j for j in top.marked if top.status[j] in ("thin", "missing")]
    over = [j for j in top.marked if top.status[j] == "over-filled"]
    share = float(top.anchor_counts[missed].sum() / max(top.anchor_counts.sum(), 1))
    out: dict[str, Any] = {
        "name": "topics", "label": "topics the synthetic data misses",
        "count": len(missed), "rows": len(top.names), "rate": share,
        "threshold": threshold, "status": "problem" if share > threshold else "ok",
        "missed": [{"topic": top.names[j], "status": top.status[j],
                    "anchor_share": float(top.anchor_counts[j]
                                          / max(top.anchor_counts.sum(), 1)),
                    "synthetic_rows": int(top.synthetic_counts[j])} for j in missed],
        "over_filled": [top.names[j] for j in over]}
    if missed and top.examples is not None:
        j = missed[0]
        out["example"] = {"row": None, "id": f"topic '{top.names[j]}'",
                          "detail": f"{int(top.synthetic_counts[j])} synthetic rows, chance "
                                    f"allows {int(top.expected_low[j])} to "
                                    f"{int(top.expected_high[j])}; an anchor of it",
                          "text": _snippet(top.examples[j])}
    return out


def _severity(p: dict[str, Any]) -> float:
    x = p.get("rate", p.get("value", 0.0))
    t = p["threshold"]
    return math.inf if t <= 0 else float(x) / t


def build_verdict(result: Any, thresholds: Thresholds | None = None) -> dict[str, Any]:
    """The verdict of an :class:`AuditResult` (module docstring); plain data, as written
    into metrics.json under ``"verdict"``."""
    th = thresholds or Thresholds()
    flags = row_flags(result)
    checks = [
        _row_problem(result, "near-copy", "near-copies of anchors", th.near_copy_rate,
                     flags["near-copy"]),
        _row_problem(result, "duplicate", "duplicates (repeats of an earlier row)",
                     th.duplicate_rate, flags["duplicate"]),
        _row_problem(result, "contaminated", "contamination (overlap with the target)",
                     th.contamination, flags["contaminated"]),
        _row_problem(result, "refusal", "refusals", th.refusal_rate, flags["refusal"]),
        _row_problem(result, "empty", "empty responses", th.empty_rate, flags["empty"]),
        _row_problem(result, "pii", "personal data or secrets", th.pii_rate, flags["pii"]),
        _language_drift(result, th.language_drift_rate, flags["language-drift"]),
        _row_problem(result, "outlier", "outliers (far from the anchors)", th.outlier_rate,
                     flags["outlier"]),
    ]
    _contamination_baseline(result, checks[2])
    div = _divergence(result, th.divergence)
    if div is not None:
        checks.append(div)
    top = _topic_check(result, th.missed_topics)
    if top is not None:
        checks.append(top)
    order = {c["name"]: i for i, c in enumerate(checks)}
    problems = sorted((c for c in checks if c["status"] == "problem"),
                      key=lambda c: (-_severity(c), order[c["name"]]))
    adds = [_gain(result, spec) for spec in _GAINS]
    return {"summary": _summary(adds, problems), "adds": adds, "problems": problems[:3],
            "checks": checks, "thresholds": asdict(th),
            "problems_found": bool(problems)}


def _problem_words(p: dict[str, Any]) -> str:
    if p["name"] == "divergence":
        return f"divergence from the target (TV {p['value']:.3g} over chance)"
    if p["name"] == "topics":
        names = ", ".join(f"'{t['topic']}' ({t['synthetic_rows']} rows)"
                          for t in p["missed"][:3])
        more = f" and {len(p['missed']) - 3} more" if len(p["missed"]) > 3 else ""
        return (f"misses {p['count']} of {p['rows']} topics ({p['rate']:.1%} of the "
                f"anchors): {names}{more}")
    words = f"{p['label']}: {p['count']:,} of {p['rows']:,} rows ({p['rate']:.1%})"
    base = [f"{b['anchor_rate']:.1%} (excess {b['excess']:+.1%}, 95 % CI "
            f"{b['ci_low']:+.1%} to {b['ci_high']:+.1%})" for b in p.get("baseline", ())]
    if p["name"] == "language-drift" and base:
        return words + f"; the anchors' own: {base[0]}"
    sets = [f"{b['set']} {t}" for b, t in zip(p.get("baseline", ()), base, strict=True)]
    return words + (f"; the anchors' own overlap: {', '.join(sets)}" if sets else "")


def _names(adds: list[dict[str, Any]]) -> str:
    return ", ".join(a["name"] for a in adds)


def _adds_sentence(adds: list[dict[str, Any]]) -> str:
    """What the data adds, in three parts: the probe's measured gain, the measures that
    predicted the gain in Study 4, and the descriptive ones."""
    ok = [a for a in adds if a["status"] != "not measurable"]
    parts = []
    measured = [a for a in ok if a["kind"] == "measured"]
    if measured:
        parts.append({"more": "Added to the anchors, it raises a classifier's accuracy on "
                              "the target.",
                      "less": "Added to the anchors, it lowers a classifier's accuracy on "
                              "the target.",
                      "chance": "Added to the anchors, it changes a classifier's accuracy "
                                "on the target by no more than chance."}[measured[0]["status"]])
    pred = [a for a in ok if a["kind"] == "predicts"]
    warn = [a for a in pred if a["status"] == "less"]
    if warn:
        parts.append(f"Of the measures that predicted the gain in Study 4, {_names(warn)} "
                     "warn: expect it to help less than data as consistent as the anchors.")
    elif any(a["status"] == "more" for a in pred):
        good = [a for a in pred if a["status"] == "more"]
        rest = [a for a in pred if a["status"] != "more"]
        parts.append(f"The measures that predicted the gain in Study 4 favour it "
                     f"({_names(good)}" + (f"; {_names(rest)} within chance" if rest else "")
                     + ").")
    elif pred:
        parts.append(f"The measures that predicted the gain in Study 4 ({_names(pred)}) "
                     "find nothing against it.")
    else:
        parts.append("None of the measures that predicted the gain in Study 4 is "
                     "measurable here (labels on the anchors and synthetic rows, "
                     "--label-column; the gradient alignment also needs the language "
                     "model).")
    desc = [a for a in ok if a["kind"] == "describes"]
    more = [a for a in desc if a["status"] == "more"]
    less = [a for a in desc if a["status"] == "less"]
    if desc:
        found = ([f"above chance in {_names(more)}"] if more else []) + (
            [f"below chance in {_names(less)}"] if less else [])
        parts.append("Descriptively (measures that did not predict the gain in Study 4), "
                     + (f"it is {' and '.join(found)}." if found else
                        f"it does not differ from chance ({_names(desc)})."))
    return " ".join(parts)


def _summary(adds: list[dict[str, Any]], problems: list[dict[str, Any]]) -> str:
    first = _adds_sentence(adds)
    if not problems:
        return first + " No problem is above its threshold."
    shown = problems[:3]
    return (first + f" {len(problems)} problem{'s' if len(problems) != 1 else ''} above "
            f"threshold: " + "; ".join(_problem_words(p) for p in shown)
            + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "") + ".")


def verdict_lines(verdict: Mapping[str, Any]) -> list[str]:
    """The verdict for the terminal: the summary, what it adds, the top problems."""
    lines = [f"Verdict: {verdict['summary']}"]
    lines += [f"  {a.get('kind', 'adds')}, {a['text']}" for a in verdict["adds"]]
    for i, p in enumerate(verdict["problems"], start=1):
        ex = p.get("example")
        where = f"; e.g. row {ex['id']}: {ex['detail']}" if ex else ""
        lines.append(f"  problem {i}: {_problem_words(p)}{where}")
    return lines

