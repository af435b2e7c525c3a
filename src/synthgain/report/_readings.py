"""Plain-language readings of the audit's numbers: one line per measure, relative to its
null (what chance gives at the same sizes)."""

from __future__ import annotations

from typing import Any

__all__ = ["LABELS", "reading"]

LABELS = {
    "kl": "KL divergence (kNN)",
    "js": "Jensen-Shannon divergence (classifier lower bound)",
    "tv": "total variation (classifier lower bound)",
}


def _ci(est: Any) -> str:
    lo, hi = est.ci()
    return f"{est.value:.3g} (95% CI {lo:.3g} to {hi:.3g})"


def _verdict(est: Any, positive: str, negative: str, none: str) -> str:
    lo, hi = est.ci()
    if lo > 0:
        return positive
    if hi < 0:
        return negative
    return none


def _divergence(kind: str, datasets: tuple[str, ...], est: Any) -> str:
    p, q = datasets
    name = f"KL({p} || {q})" if kind == "kl" else f"{kind.upper()}({p}, {q})"
    found = _verdict(est, f"the {p} and {q} data differ by more than chance",
                     "", "no difference beyond chance is detected")
    bound = "" if kind == "kl" else " (a lower bound: the true divergence is at least this)"
    return f"{name} over chance = {_ci(est)}{bound}: {found}."


_FIXED = {
    "topic_shift": ("TV between the topic shares of the synthetic rows and the anchors, "
                    "over chance",
                    "the synthetic rows spread over the topics otherwise than the anchors",
                    "", "spread over the topics like the anchors, within chance"),
    "delta_h": ("dH = H(anchor) - H(synthetic) over chance",
                "the synthetic data is more concentrated than the anchors",
                "the synthetic data is more spread out than the anchors",
                "as spread out as the anchors, within chance"),
    "entropy_synthetic": ("H(synthetic) - H(anchor), provenance rows, over chance",
                          "more spread out than the anchors", "more concentrated than "
                          "the anchors", "as spread out as the anchors, within chance"),
    "mi_prompt_synthetic": ("I(prompt anchors; synthetic) over chance (pairing shuffled)",
                            "the rows depend on their prompts' anchors", "",
                            "no dependence on the prompts beyond chance"),
    "information_gain": ("dI - H(anchor) = [H(synthetic) - H(anchor)] - I(prompt; "
                         "synthetic)",
                         "the generator adds more spread than the anchors have, beyond "
                         "what the prompts explain",
                         "less is left beyond the prompts than the anchors' own spread",
                         "what is left beyond the prompts is as spread as the anchors"),
    "mixture": ("KL gap (mixtures) over chance",
                "a model of the synthetic data is closer to the target than one of the "
                "anchors (the paper's sign of gain)",
                "a model of the synthetic data is further from the target than one of the "
                "anchors", "no gap beyond chance"),
    "knn": ("KL gap (kNN) over chance", "the synthetic data is closer to the target",
            "the synthetic data is further from the target", "no gap beyond chance"),
    "mixture_kl_anchor_target": ("KL(anchor model || target) minus that of a model of "
                                 "anchor and synthetic rows mixed at random (the "
                                 "permutation null: it depends on the synthetic data too)",
                                 "the anchors are further from the target than the mix",
                                 "the anchors are closer to the target than the mix",
                                 "as close as the mix"),
    "mixture_kl_synthetic_target": ("KL(synthetic model || target) minus that of a model of "
                                    "anchor and synthetic rows mixed at random",
                                    "the synthetic data is further from the target than the "
                                    "mix", "the synthetic data is closer to the target than "
                                    "the mix", "as close as the mix"),
    "precision": ("precision over chance", "synthetic rows fall inside the anchors' "
                  "neighbourhoods more often than held-out anchors do",
                  "synthetic rows look less real than held-out anchors",
                  "synthetic rows look as real as held-out anchors"),
    "recall": ("recall over chance", "", "the synthetic data reaches less of the anchors' "
               "variety than held-out anchors do", "reaches the anchors' variety as "
               "held-out anchors do"),
    "density": ("density over chance", "synthetic rows crowd into the anchors' dense "
                "regions", "synthetic rows sit in sparser regions than held-out anchors",
                "as dense as held-out anchors"),
    "coverage": ("coverage over chance", "", "fewer anchors have a synthetic row nearby "
                 "than have a held-out anchor nearby", "covers the anchors as held-out "
                 "anchors do"),
    "distance_ratio": ("nearest-anchor distance ratio over chance", "synthetic rows are "
                       "further from the anchors than held-out anchors are (new, or off "
                       "the task)", "synthetic rows sit closer to anchors than held-out "
                       "anchors do (copying)", "as far from the anchors as held-out "
                       "anchors"),
    "memorisation": ("near-copy rate over chance (every row against every anchor, over "
                     "the anchors' own rate)",
                     "more synthetic rows are near-copies of anchors than anchors are of "
                     "one another", "", "no more near-copies than the anchors have among "
                     "themselves"),
    "g_vendi": ("G-Vendi(synthetic) - G-Vendi(anchor) over chance (gradient directions)",
                "the synthetic rows push a small model in more directions than as many "
                "anchors", "the synthetic rows push a small model in fewer directions "
                "than as many anchors", "as many gradient directions as the anchors"),
    "gradient_alignment": ("gradient alignment with the target (the anchors without one) "
                           "over two splits of it", "",
                           "a step on the synthetic rows agrees less with a step on the "
                           "reference than the reference's own rows do",
                           "agrees with the reference as its own rows do"),
    "loss": ("LM loss, synthetic - anchor, over chance (nats per token)",
             "the model finds the synthetic responses harder to predict",
             "the model finds the synthetic responses easier to predict",
             "as predictable as the anchors"),
    "ifd": ("IFD, synthetic - anchor, over chance", "the prompts help the model predict the "
            "synthetic responses less than the anchors'", "the prompts help more than the "
            "anchors'", "the prompts help as much as the anchors'"),
    "tstr_accuracy": ("accuracy on the anchors when trained on synthetic rows, over the "
                      "anchors' own at the same size", "the synthetic labels teach more "
                      "than as many anchors", "the synthetic labels teach less than as "
                      "many anchors", "the synthetic labels teach as much as the anchors'"),
    "label_agreement": ("share of synthetic labels a classifier of the anchors agrees with, "
                        "over the anchors' own held-out agreement at the same size",
                        "the synthetic labels agree with what the anchors teach more than "
                        "held-out anchors do", "the synthetic labels disagree with what the "
                        "anchors teach more than the anchors' own (label noise, or other "
                        "classes)", "the synthetic labels agree with what the anchors teach "
                        "as the anchors' own do"),
    "tstr_accuracy_target": ("accuracy on the target when trained on synthetic rows, over "
                             "the target's own at the same size", "", "the synthetic "
                             "labels teach less than real labelled rows", "the synthetic "
                             "labels teach as much as real ones"),
    "label_issue_rate": ("label-issue rate (cleanlab), synthetic - anchor, over chance",
                         "more synthetic labels look wrong than anchor labels", "",
                         "no more suspect labels than the anchors have"),
    "g_vendi_labels": ("G-Vendi of label gradients, synthetic - anchor, over chance",
                       "the synthetic labels push the model in more directions",
                       "the synthetic labels push the model in fewer directions",
                       "as many label-gradient directions as the anchors"),
    "gradient_alignment_labels": ("label-gradient alignment with the target (the anchors "
                                  "without one) over two splits of it", "",
                                  "what the synthetic labels teach agrees less with the "
                                  "reference than its own labels do",
                                  "agrees with the reference as its own labels do"),
}

_PROBE = {
    "accuracy_anchor": "Target accuracy of the probe trained on the anchors only.",
    "accuracy_synthetic": "Target accuracy of the probe trained on the synthetic data only.",
    "accuracy_both": "Target accuracy of the probe trained on anchors and synthetic data.",
    "gain_both": "Measured generalization gain: accuracy(anchor + synthetic) - accuracy("
                 "anchor). This is what the other measures try to predict.",
    "gain_synthetic": "accuracy(synthetic) - accuracy(anchor): can the synthetic data "
                      "replace the anchors?",
}


_TEXT = {
    "distinct": ("the synthetic texts use more varied n-grams than the anchors",
                 "the synthetic texts repeat their n-grams more than the anchors (less "
                 "lexical diversity)", "as varied as the anchors, within chance"),
    "self_bleu": ("the synthetic texts resemble one another more than the anchors do "
                  "(homogenised)", "the synthetic texts are less alike than the anchors",
                  "as alike as the anchors, within chance"),
    "repeated_4grams": ("more of the synthetic text is repeated 4-grams (stock phrases)",
                        "fewer repeated 4-grams than the anchors",
                        "as repetitive as the anchors, within chance"),
    "opening_share": ("one opening dominates the synthetic texts more than the anchors (a "
                      "template)", "the openings are more varied than the anchors'",
                      "openings as varied as the anchors', within chance"),
    "anchor_ngram_copy_rate": ("more synthetic rows copy anchors' word 5-grams than held-out "
                               "anchors copy the other anchors", "",
                               "no more n-gram copies than held-out anchors, within chance"),
    "compression_ratio": ("the synthetic texts compress better: more repetitive than the "
                          "anchors", "the synthetic texts compress worse: less repetitive",
                          "as compressible as the anchors, within chance"),
}
_COUNTS = {
    "exact_duplicates": "repeat an earlier row after case and whitespace normalisation "
                        "(0 is expected)",
    "near_duplicate_rows": "are in clusters of exact or near-duplicates (MinHash, Jaccard "
                           ">= 0.8 on word 5-grams); dropping all but one per cluster "
                           "removes {rows_removable:,}",
    "anchor_ngram_copies": "have at least 80% of their word 5-grams in the anchors (copies "
                           "of anchor text)",
    "contamination_target": "share a 13-word n-gram or are near-duplicates of a target row "
                            "(0 is expected: the target must stay unseen)",
    "contamination_eval": "share a 13-word n-gram or are near-duplicates of an evaluation "
                          "row (0 is expected: evaluation results would be inflated)",
    "refusals": "contain refusal or assistant boilerplate (drop or regenerate them)",
    "empty": "are empty (no word character)",
    "pii": "contain personal data or secrets (e-mail addresses, phone numbers, IP "
           "addresses, card numbers, IBANs, credentials; 0 is expected: drop them with "
           "--drop pii)",
    "language_drift_rows": "are in a language that fewer than 1 % of the anchors use "
                           "(drop them with --drop language-drift)",
    "truncated": "are longer than the embedder reads (256 tokens): their ends are not "
                 "embedded",
}


def _text_reading(record: Any) -> str:
    est, p = record.estimate, record.estimate.params
    if record.kind == "text_count":
        return (f"{int(est.value):,} of {p['rows']:,} synthetic rows ({p['share']:.1%}) "
                + _COUNTS[record.key].format(**p) + ".")
    if record.kind == "text_length":
        q = p["quantiles"]
        extra = (f"; {p['truncated']:,} longer than {p['max_tokens']}" if "truncated" in p
                 else "")
        return (f"Descriptive (all {p['rows']:,} rows): median {q['median']:.4g}, 5-95% "
                f"{q['p05']:.4g} to {q['p95']:.4g}, max {q['max']:.4g}{extra}.")
    if record.key.startswith("contamination_") and record.key.endswith("_excess"):
        ref = record.key.split("_")[1]
        return (f"Rows contaminated with the {ref} set: synthetic {p['share']:.1%} minus "
                f"the anchors' {p['baseline_share']:.1%} (each row checked against the "
                f"{ref} set by the same rule) = {_ci(est)}: "
                + _verdict(est, f"the synthetic rows overlap the {ref} set more than the "
                                "anchors do: leakage beyond shared domain text",
                           f"less overlap with the {ref} set than the anchors have",
                           f"no more overlap with the {ref} set than the anchors have: "
                           "shared domain text, not leakage by the generator") + ".")
    if record.key == "language_drift":
        return (f"Rows in a language the anchors do not use: synthetic {p['share']:.1%} "
                f"minus the anchors' own {p['baseline_share']:.1%} (each anchor against the "
                f"others) = {_ci(est)}: "
                + _verdict(est, "the generator drifts into other languages",
                           "fewer rows in rare languages than the anchors have",
                           "no more language drift than the anchors' own") + ".")
    key = record.key.removesuffix("_vs_target")
    pos, neg, none = (w.replace("the anchors", "the target") if key != record.key else w
                      for w in _TEXT["distinct" if key.startswith("distinct") else key])
    full = ", ".join(f"{k} {v:.3g}" for k, v in p.get("full_size", {}).items()
                     if v is not None)
    return (f"{record.label} over chance = {_ci(est)}: "
            f"{_verdict(est, pos or none, neg or none, none)}"
            + (f" (each at its full size: {full})" if full else "") + ".")


def _topic_reading(record: Any) -> str:
    """The marked topics and the forecast of more generation, in words."""
    est, p = record.estimate, record.estimate.params
    if record.key == "marked_topics":
        names = ", ".join(f"'{t}'" for t in p["marked"][:5])
        return (f"{int(est.value)} of {p['topics']} topics hold fewer or more synthetic rows "
                f"than chance allows (Holm, {p['alpha']:.0%} family-wise)"
                + (f": {names}" if names else "") + ". The topic table lists each.")
    if record.key == "new_row_share":
        return (f"{_ci(est)}: about this share of the next synthetic rows would land in a "
                "cell no row has reached yet (Good-Turing); near 0, more rows of this "
                "generator mostly repeat the cells it has reached.")
    return (f"{_ci(est)} {record.unit}: {p['what']}, beyond the {p['seen']} the synthetic "
            "rows reach"
            + (" (capped: the partition has no more)" if p.get("capped") else "")
            + ". Reliable to about twice the rows at hand; a lower bound further out.")


def reading(record: Any) -> str:
    """One plain line saying what the number of an audit ``Metric`` means, relative to its
    null; for a withheld measure, why it is withheld."""
    est = record.estimate
    if est is None:
        code = getattr(record, "code", None)
        return (f"Withheld: {record.reason or 'not computable'}."
                + (f" [{code}]" if code else ""))
    if record.group == "text":
        return _text_reading(record)
    if record.kind in ("kl", "js", "tv"):
        return _divergence(record.kind, record.datasets, est)
    if record.kind == "vendi":
        a, b = record.datasets
        return (f"Vendi({a}) - Vendi({b}) over chance = {_ci(est)} directions: "
                + _verdict(est, f"the {a} data is more diverse than the {b} data",
                           f"the {a} data is less diverse than the {b} data",
                           "as diverse, within chance") + ".")
    if record.key in _PROBE:
        return f"{_ci(est)}. {_PROBE[record.key]}"
    if record.group in ("topics", "forecast") and record.key != "topic_shift":
        return _topic_reading(record)
    name, pos, neg, none = _FIXED[record.key]
    return f"{name} = {_ci(est)}: {_verdict(est, pos or none, neg or none, none)}."
