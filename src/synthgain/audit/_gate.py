"""The audit as a CI gate: conditions such as ``near_copy_rate>0.2`` checked on a result.

A condition is ``name op number`` with ``op`` one of ``>``, ``>=``, ``<``, ``<=``,
``==``, ``!=``; several are separated by commas. A condition that *holds* fails the gate
(``--fail-on``). Names:

- the shares of synthetic rows flagged (:data:`ROW_RATES`): ``near_copy_rate``,
  ``duplicate_rate``, ``semantic_duplicate_rate``, ``contamination``, ``refusal_rate``,
  ``empty_rate``, ``pii_rate``, ``language_drift_rate``, ``outlier_rate`` (each in [0, 1], over every synthetic row);
- any measure of metrics.json by ``group.key`` (its value over chance, e.g.
  ``kl_gap.mixture``), or one of its fields with a suffix: ``.ci_low``, ``.ci_high``,
  ``.raw`` (e.g. ``kl_gap.mixture.ci_low<0``).

A value the audit withheld, or did not measure (a text flag without text measures, a
target measure without a target), cannot be checked: the condition is reported as "could
not be checked" with the reason, and fails the gate, so a gate never passes on numbers it
did not see.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..exceptions import ValidationError
from ._rows import row_flags

__all__ = ["LM_KEYS", "METRIC_KEYS", "OPERATORS", "ROW_RATES", "Condition", "GateResult", "Outcome",
           "evaluate_gate", "parse_conditions"]

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
    ">": operator.gt, "<": operator.lt,
}
#: gate name -> the row flag (:func:`row_flags`) whose share it is
ROW_RATES = {"near_copy_rate": "near-copy", "duplicate_rate": "duplicate",
             "semantic_duplicate_rate": "semantic-duplicate",
             "contamination": "contaminated", "refusal_rate": "refusal",
             "empty_rate": "empty", "pii_rate": "pii",
             "language_drift_rate": "language-drift", "outlier_rate": "outlier",
             "label_suspect_rate": "label-suspect"}
#: every measure of metrics.json, ``group.key`` (tests/audit/test_gate.py checks this
#: against a full audit)
METRIC_KEYS = (
    "novelty.memorisation", "novelty.distance_ratio",
    *(f"divergences.{key}" for p, q in (("anchor", "synthetic"), ("synthetic", "target"),
                                        ("anchor", "target"))
      for key in (f"kl_{p}_{q}", f"kl_{q}_{p}", f"js_{p}_{q}", f"tv_{p}_{q}")),
    "information.delta_h", "information.entropy_synthetic",
    "information.mi_prompt_synthetic", "information.information_gain",
    "kl_gap.mixture", "kl_gap.mixture_kl_anchor_target",
    "kl_gap.mixture_kl_synthetic_target", "kl_gap.knn",
    "fidelity.precision", "fidelity.recall", "fidelity.density", "fidelity.coverage",
    "diversity.vendi_synthetic", "diversity.vendi_target",
    "probe.accuracy_anchor", "probe.accuracy_synthetic", "probe.accuracy_both",
    "probe.gain_both", "probe.gain_synthetic",
    "model.g_vendi", "model.gradient_alignment", "model.loss", "model.ifd",
    "labels.tstr_accuracy", "labels.label_agreement", "labels.tstr_accuracy_target", "labels.label_issue_rate",
    "labels.g_vendi_labels", "labels.gradient_alignment_labels",
    "topics.marked_topics", "topics.topic_shift",
    "forecast.cells_unseen", "forecast.cells_new_1000", "forecast.cells_new_10000",
    "forecast.topics_unseen", "forecast.new_row_share",
)
#: the keys only an audit with the language model records
LM_KEYS = frozenset(k for k in METRIC_KEYS if k.startswith("model.") or k.endswith("_labels"))
_FIELDS = ("ci_low", "ci_high", "raw")
_CONDITION = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(>=|<=|==|!=|>|<)\s*(\S+)\s*$")


@dataclass(frozen=True)
class Condition:
    """One condition: ``name op threshold`` (``field``: ``value``, ``ci_low``, ...)."""

    text: str
    name: str
    op: str
    threshold: float
    field: str = "value"

    def holds(self, value: float) -> bool:
        return OPERATORS[self.op](value, self.threshold)


def parse_conditions(text: str, option: str = "--fail-on") -> list[Condition]:
    """Parse ``"near_copy_rate>0.2,kl_gap.mixture.ci_low<0"``; a malformed condition or an
    unknown name is a :class:`ValidationError` naming ``option`` and the condition.

    Examples
    --------
    >>> from synthgain.audit import parse_conditions
    >>> [(c.name, c.op, c.threshold) for c in parse_conditions("near_copy_rate>0.2, contamination>0")]
    [('near_copy_rate', '>', 0.2), ('contamination', '>', 0.0)]
    """
    valid = frozenset(METRIC_KEYS)
    out = []
    parts = text.split(",")
    if not any(p.strip() for p in parts):
        raise ValidationError(f"`{option}` got {text!r}: no condition. Write conditions as "
                              f"name op number, e.g. {option} \"near_copy_rate>0.2\".")
    for part in parts:
        m = _CONDITION.match(part)
        if m is None:
            raise ValidationError(
                f"`{option}`: condition {part.strip()!r} is not `name op number` (op one of "
                f"{', '.join(sorted(OPERATORS, key=len))}), e.g. {option} "
                "\"near_copy_rate>0.2,contamination>0\".")
        name, op, number = m.groups()
        try:
            threshold = float(number)
        except ValueError:
            threshold = math.nan
        if not math.isfinite(threshold):
            raise ValidationError(
                f"`{option}`: condition {part.strip()!r}: {number!r} is not a finite number.")
        base, fld = name, "value"
        if name not in ROW_RATES and name not in valid and name.rsplit(".", 1)[-1] in _FIELDS:
            base, fld = name.rsplit(".", 1)
        if base not in ROW_RATES and base not in valid:
            raise ValidationError(
                f"`{option}`: condition {part.strip()!r}: unknown name {base!r}. Use one of "
                f"{', '.join(ROW_RATES)}, or a measure of metrics.json as group.key (e.g. "
                "kl_gap.mixture, divergences.js_synthetic_target), optionally with .ci_low, "
                ".ci_high or .raw (docs/audit.md, 'The CI gate').")
        if base in ROW_RATES and fld != "value":
            raise ValidationError(
                f"`{option}`: condition {part.strip()!r}: {base} is a share of rows; it has "
                "no interval.")
        out.append(Condition(part.strip(), base, op, threshold, fld))
    return out


@dataclass(frozen=True)
class Outcome:
    """One condition checked: its value (None: could not be checked, ``reason`` says
    why) and whether it fails the gate."""

    condition: Condition
    value: float | None
    failed: bool
    reason: str | None = None

    def line(self) -> str:
        c = self.condition
        if self.value is None:
            return f"{c.text}: could not be checked ({self.reason})"
        return f"{c.text}: {c.name}{'' if c.field == 'value' else '.' + c.field} = " \
               f"{self.value:.4g}"


@dataclass(frozen=True)
class GateResult:
    """Every condition checked; ``failed`` lists those that fail the gate."""

    outcomes: list[Outcome]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.failed]

    @property
    def passed(self) -> bool:
        return not self.failed


def _row_rate(result: Any, name: str) -> tuple[float | None, str | None]:
    flags = row_flags(result)[ROW_RATES[name]]
    if flags is None:
        why = ("no outlier scores in this result" if name == "outlier_rate" else
               "not measured: the text measures did not run on these data")
        return None, why
    return (float(flags.mean()) if flags.size else 0.0), None


def _metric_value(result: Any, name: str, fld: str) -> tuple[float | None, str | None]:
    group, key = name.split(".", 1)
    rec = next((r for r in result.records if r.group == group and r.key == key), None)
    if rec is None:
        return None, f"{name} was not computed in this audit (e.g. no target set, no labels)"
    if rec.estimate is None:
        return None, f"withheld: {rec.reason or 'no reason recorded'}"
    if fld == "raw":
        return (None, f"{name} has no raw value") if rec.raw is None else (float(rec.raw),
                                                                          None)
    if fld == "value":
        return float(rec.estimate.value), None
    lo, hi = rec.estimate.ci()
    return float(lo if fld == "ci_low" else hi), None


def evaluate_gate(conditions: list[Condition], result: Any) -> GateResult:
    """Check each condition on an :class:`AuditResult`; one that holds, or cannot be
    checked (withheld or not measured), fails the gate.

    Examples
    --------
    >>> import numpy as np
    >>> from synthgain.audit import evaluate_gate, parse_conditions, run_audit
    >>> a = np.random.default_rng(0).normal(size=(50, 3))
    >>> res = run_audit(a, a + 1e-9, rng=0, repeats=4, workers=1)
    >>> gate = evaluate_gate(parse_conditions("near_copy_rate>0.5"), res)
    >>> gate.passed, [c.line() for c in gate.failed]
    (False, ['near_copy_rate>0.5: near_copy_rate = 1'])
    """
    outcomes = []
    for c in conditions:
        value, reason = (_row_rate(result, c.name) if c.name in ROW_RATES
                         else _metric_value(result, c.name, c.field))
        if value is None or not math.isfinite(value):
            outcomes.append(Outcome(c, None, True, reason or "not a finite number"))
        else:
            outcomes.append(Outcome(c, value, c.holds(value)))
    return GateResult(outcomes)
