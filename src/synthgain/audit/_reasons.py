"""Reasons and notes with stable codes.

Every value the audit withholds says why, and every note says what was done, in a
sentence for people and a code for programs: metrics.json carries both (``reason`` and
``reason_code`` beside a withheld value; ``{"code", "text"}`` per note), so a program
can tell reasons apart without reading prose, and the prose can be reworded without
breaking it. The codes are listed in :data:`CODES` and in docs/audit.md.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CODES", "Reason", "brief", "code_of"]

#: code -> what it means (docs/audit.md lists the same)
CODES: dict[str, str] = {
    # why a value is withheld
    "near_copies_above_limit": "more synthetic rows are near-copies of anchors than "
                               "--near-copy-limit allows; the kNN and classifier "
                               "estimators are invalid between samples that share rows",
    "below_calibrated_size": "the calibration table shows the estimator valid only from "
                             "more rows per dataset than the comparison has",
    "not_valid_at_any_size": "the calibration table shows the estimator valid at no "
                             "tabulated size in this dimension",
    "too_few_rows": "fewer rows per dataset at matched sizes than the measure needs",
    "below_chance": "the estimate is below what chance gives by more than its interval "
                    "allows, which the quantity cannot be: the estimator is not valid "
                    "for these data",
    "no_provenance": "too few synthetic rows carry the ids of their prompt anchors",
    "part_withheld": "a difference whose parts are not both measured",
    "no_nonzero_embedding": "every row of one side embeds to zero (no word known to the "
                            "embedder)",
    "single_class": "the labels hold one class, so a probe measures nothing",
    "not_finite": "the estimate came out as NaN or infinite on these data",
    "undefined_on_texts": "no text has enough words for the measure's n-grams",
    "no_prompts": "IFD needs each row's prompt, which the layout does not hold",
    # notes
    "comparison_design": "how every comparison is made: matched sizes, repeats, nulls",
    "near_copy_count": "how many synthetic rows are near-copies of an anchor",
    "semantic_duplicates": "how many synthetic rows repeat an earlier one in other words "
                           "(embedding clusters; the threshold calibrated on the anchors)",
    "knn_subspace": "a kNN divergence is computed in the anchors' principal subspace",
    "no_target": "no target set: the KL gap and the probe are not computed",
    "no_labels": "not every dataset has labels: the probe is not run",
    "vendi_zero_rows": "the Vendi score leaves out all-zero embedding rows",
    "provenance_rows": "the rows with provenance that dI uses",
    "bound": "a value is a bound (lower or upper), not an estimate",
    "withheld": "a value withheld, with its reason (one note per value)",
    "warning": "a Python warning raised during the audit",
    "text_tokens": "embedder tokens are not counted with this embedding",
    "text_design": "how the lexical text measures are compared",
    "topics": "the topics the reference rows were cut into, and those the synthetic "
              "data misses or over-fills",
    "forecast": "what more synthetic rows would reach (cells not yet seen)",
    "lm_rows": "the rows the language model scored, and the time it took",
    "lm_skipped": "the language-model measures need texts in every dataset",
}


class Reason(str):
    """A sentence with a stable code (one of :data:`CODES`).

    A ``str`` (its sentence), so that it prints, joins and compares as text; ``code``
    names the reason for programs and tests.

    Examples
    --------
    >>> from synthgain.audit._reasons import Reason
    >>> r = Reason("no_target", "No target set.")
    >>> r, r.code, r.to_dict()
    ('No target set.', 'no_target', {'code': 'no_target', 'text': 'No target set.'})
    """

    code: str

    def __new__(cls, code: str, text: str) -> Reason:
        if code not in CODES:
            raise ValueError(f"unknown reason code {code!r}; add it to CODES")
        obj = super().__new__(cls, text)
        obj.code = code
        return obj

    def __reduce__(self) -> tuple[Any, ...]:
        return (Reason, (self.code, str(self)))

    def to_dict(self) -> dict[str, str]:
        """``{"code": ..., "text": ...}``, as metrics.json writes a note."""
        return {"code": self.code, "text": str(self)}


def code_of(text: str | None) -> str | None:
    """The code of a :class:`Reason` (None for None or a plain string)."""
    return getattr(text, "code", None)


def brief(text: str | None) -> str:
    """A withheld reason as the verdict and the headline say it: the failing cell of a
    measure valid at no size lives in its record (metrics.json, the report's table), so
    there it reads in a few words; every other reason in full.

    Examples
    --------
    >>> from synthgain.audit._reasons import Reason, brief
    >>> brief(Reason("not_valid_at_any_size", "the table shows ... (cell ...)"))
    'valid at no tabulated size (calibration table, docs/estimators.md)'
    >>> brief(Reason("no_target", "No target set."))
    'No target set.'
    """
    if code_of(text) == "not_valid_at_any_size":
        return "valid at no tabulated size (calibration table, docs/estimators.md)"
    return str(text)
