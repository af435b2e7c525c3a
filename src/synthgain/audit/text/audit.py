"""The text measures as audit records (group ``text``): lengths, lexical comparisons at
matched sizes against a split of the anchors (or of the target), and counts with example
rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..._rng import RNGLike, child_generator, seed_sequence
from ...exceptions import ValidationError
from ...measures import Estimate
from .._metrics import baseline_null, share_excess
from .._null import compare, matched_rows
from .._reasons import Reason
from .._records import Metric
from .boilerplate import EMBEDDER_MAX_TOKENS, REFUSAL_PATTERNS, TokenCounter, text_lengths
from .contamination import CONTAMINATION_N, COPY_CONTAINMENT, _copy_share
from .corpus import SHINGLE_N, _Corpus, _WordHashes, _words
from .duplicates import JACCARD, LSH_BANDS, NUM_PERM
from .language import LANGUAGE_MIN_PROB, LANGUAGE_RARE
from .lexical import OPENING_WORDS, SELF_BLEU_SAMPLE, _lexical, _opening
from .personal import PHONE_REGION, PII_KINDS
from .rows import Scan, scan

__all__ = ["TextAudit", "audit_texts", "text_counts_line"]

#: example rows kept per count
MAX_EXAMPLES = 5
_EXAMPLE_CHARS = 200


#: comparison outputs: key -> (label, kind, unit)
_COMPARED = {
    "distinct_1": ("distinct-1, synthetic - anchors", "text_lexical", "share"),
    "distinct_2": ("distinct-2, synthetic - anchors", "text_lexical", "share"),
    "distinct_3": ("distinct-3, synthetic - anchors", "text_lexical", "share"),
    "self_bleu": ("self-BLEU, synthetic - anchors", "text_lexical", "share"),
    "repeated_4grams": ("repeated 4-gram share, synthetic - anchors", "text_lexical",
                        "share"),
    "opening_share": ("most common opening's share, synthetic - anchors", "text_lexical",
                      "share"),
    "anchor_ngram_copy_rate": ("n-gram copies of anchors (containment >= 0.8)",
                               "text_lexical", "share"),
    "compression_ratio": ("gzip compression ratio, synthetic - anchors", "text_ratio",
                          "ratio"),
}


@dataclass
class TextAudit:
    """The text measures of one audit.

    Attributes
    ----------
    records : list of Metric
        Group ``text``: the lexical comparisons (synthetic minus anchors over chance),
        the length distributions (descriptive) and the counts (with example rows).
    notes : list of Reason
    rows : dict of str to ndarray
        :func:`text_row_flags` of the synthetic rows.
    """

    records: list[Metric]
    notes: list[Reason]
    rows: dict[str, np.ndarray]


def _quantiles(x: np.ndarray) -> dict[str, float]:
    q = np.quantile(x, [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0]) if x.size else [np.nan] * 7
    keys = ("min", "p05", "p25", "median", "p75", "p95", "max")
    return {k: float(v) for k, v in zip(keys, q, strict=True)} | {
        "mean": float(x.mean()) if x.size else float("nan")}


def _snippet(t: str) -> str:
    return t if len(t) <= _EXAMPLE_CHARS else t[: _EXAMPLE_CHARS - 1] + "…"


def _pair_measure(pool: _Corpus) -> Callable[..., dict[str, float]]:
    """The compared measure on rows of ``pool`` (anchors first): each lexical measure of
    ``y`` minus that of ``x``, and the share of ``y``'s rows that copy ``x``'s n-grams."""

    def measure(x: np.ndarray, y: np.ndarray, gen: np.random.Generator) -> dict[str, float]:
        cx, cy = pool.take(x), pool.take(y)
        fx, fy = _lexical(cx), _lexical(cy)
        out = {k: fy[k] - fx[k] for k in fx}
        share = _copy_share(cx, cy)
        out["anchor_ngram_copy_rate"] = float(np.mean(np.nan_to_num(share) >=
                                                      COPY_CONTAINMENT))
        return out

    return measure


def _compared(ref: str, reference: Any, s_texts: list[str], corpora: dict[str, _Corpus],
              full: dict[str, dict[str, float]], openings: dict[str, str],
              rows: dict[str, np.ndarray], cache: _WordHashes, *, compare_rows: int,
              repeats: int, rng: np.random.Generator) -> list[Metric]:
    """The lexical measures of the synthetic texts minus those of ``ref`` (anchors or
    target) through :func:`compare`, the null a split of ``ref``; each record keeps both
    datasets' values at their full sizes."""
    nr, ns = len(corpora[ref]), len(s_texts)
    pool = _Corpus.build([*reference.texts, *s_texts], cache)
    m = matched_rows(nr, ns, nr // 2, cap=compare_rows)
    name = "anchors" if ref == "anchor" else "target"
    res = None
    if m >= 2:
        res = compare(_pair_measure(pool), np.arange(nr), np.arange(nr, nr + ns),
                      np.arange(nr), rows=m, repeats=repeats, null="split",
                      reference_name=name, method="text", rng=rng)
    out = []
    for key, (label, kind, unit) in _COMPARED.items():
        if ref == "target" and key == "anchor_ngram_copy_rate":
            continue  # copies of the target are contamination, counted on every row
        described = {k: full[k].get(key) for k in (ref, "synthetic")}
        if key == "anchor_ngram_copy_rate":
            described = {"synthetic": float(np.mean(rows["anchor_copy"]))}
        extra: dict[str, Any] = {"full_size": described,
                                 "full_size_rows": {k: len(corpora[k]) for k in
                                                    (ref, "synthetic")}}
        if key == "opening_share":
            extra["openings"] = {k: openings[k] for k in (ref, "synthetic")}
        if key == "self_bleu":
            extra["descriptive_sample"] = SELF_BLEU_SAMPLE
        if ref == "target":
            key, label = f"{key}_vs_target", label.replace("- anchors", "- target")
        reason = None
        if res is None:
            reason = Reason("too_few_rows", f"needs at least 2 rows per dataset at matched "
                                            f"sizes; the {name} (split in two) give {m}")
        else:
            c = res[key.removesuffix("_vs_target")]
            if not (np.isfinite(c.raw) and np.isfinite(c.null.value)):
                reason = Reason("undefined_on_texts", "undefined on these texts (no text has "
                                                      "enough words for its n-grams)")
        if reason is not None:
            out.append(Metric("text", key, None, label, kind, unit, (ref, "synthetic"),
                              reason=reason))
            continue
        est = replace(c.estimate, params={**c.estimate.params, **extra})
        out.append(Metric("text", key, est, label, kind, unit, (ref, "synthetic"),
                          raw=c.raw, null=c.null))
    return out


def _count(key: str, label: str, count: int, n: int, examples: list[dict[str, Any]],
           **params: Any) -> Metric:
    est = Estimate(float(count), None, "count", (n,),
                   {"share": count / n if n else float("nan"), "rows": n,
                    "examples": examples, **params})
    return Metric("text", key, est, label, "text_count", "rows", ("synthetic",))


def text_counts_line(records: Iterable[Metric]) -> str | None:
    """One terminal line of the text counts among ``records`` (exact duplicates, near-
    duplicate clusters, contamination, refusals, empty texts, personal data and truncated
    texts); None when the text measures did not run."""
    rec = {r.key: r.estimate for r in records if r.group == "text" and r.kind == "text_count"}
    if "exact_duplicates" not in rec or rec["exact_duplicates"] is None:
        return None

    def num(key: str) -> int:
        est = rec[key]
        return int(est.value) if est is not None else 0

    near = rec["near_duplicate_rows"]
    clusters = near.params["clusters"] if near is not None else 0
    parts = [f"{num('exact_duplicates'):,} exact duplicates",
             f"{clusters:,} duplicate clusters ({num('near_duplicate_rows'):,} rows)"]
    parts += [f"{num(f'contamination_{k}'):,} contaminated with the {k} set"
              for k in ("target", "eval") if f"contamination_{k}" in rec]
    parts += [f"{num('refusals'):,} refusals", f"{num('empty'):,} empty"]
    if "pii" in rec:
        parts.append(f"{num('pii'):,} with personal data or secrets")
    if "language_drift_rows" in rec:
        parts.append(f"{num('language_drift_rows'):,} in a language the anchors do not use")
    if "truncated" in rec:
        parts.append(f"{num('truncated'):,} truncated")
    rows = rec["exact_duplicates"].params["rows"]
    return f"text ({rows:,} synthetic rows): " + ", ".join(parts)


def audit_texts(
    anchor: Any,
    synthetic: Any,
    target: Any | None = None,
    evaluation: Any | None = None,
    *,
    compare_rows: int = 1000,
    repeats: int = 10,
    token_counts: TokenCounter | None = None,
    rng: RNGLike = None,
) -> TextAudit:
    """The text measures of the audit (group ``text``), on :class:`Dataset` s with texts.

    Parameters
    ----------
    anchor, synthetic, target, evaluation : Dataset
        ``target`` and ``evaluation`` optional; ``evaluation`` is used only for
        contamination.
    compare_rows, repeats : int
        Matched size cap and repeats of the comparisons (as in :func:`run_audit`).
    token_counts : callable, optional
        The embedder's token counter (:func:`minilm_token_counts` with MiniLM).
    rng : None, int, SeedSequence or Generator
        Subsets and splits of the comparisons (stream ``"compare"``), and the sample of
        the descriptive self-BLEU (``"self_bleu_sample"``).

    Returns
    -------
    TextAudit

    Examples
    --------
    A duplicate that differs only in case and spacing, a copy of an anchor, and a refusal:

    >>> from synthgain.audit import Dataset, audit_texts
    >>> a = Dataset.from_arrays(texts=["alpha beta gamma delta eps zeta",
    ...                                "red green blue cyan pink gray"], name="anchor")
    >>> s = Dataset.from_arrays(texts=["red green blue cyan pink gray",
    ...                                "Red green blue  cyan pink gray",
    ...                                "I am sorry, but I cannot help with that."],
    ...                         name="synthetic")
    >>> counts = {r.key: int(r.estimate.value) for r in audit_texts(a, s, rng=0).records
    ...           if r.kind == "text_count"}
    >>> counts["exact_duplicates"], counts["anchor_ngram_copies"], counts["refusals"]
    (1, 2, 1)
    """
    root = seed_sequence(rng)
    sets = {"anchor": anchor, "synthetic": synthetic}
    if target is not None:
        sets["target"] = target
    for name, d in [*sets.items(), ("eval", evaluation)]:
        if d is not None and d.texts is None:
            raise ValidationError(f"The {name} data has no texts: the text measures need "
                                  "text inputs for every dataset.")
    s_texts = list(synthetic.texts)
    refs = {k: list(d.texts) for k, d in (("target", target), ("eval", evaluation))
            if d is not None}
    found = scan(s_texts, anchor=list(anchor.texts), references=refs,
                 token_counts=token_counts)
    cache = _WordHashes()
    corpora = {k: _Corpus.build(list(d.texts), cache) for k, d in sets.items()}
    records = _length_records(sets, found.rows, token_counts)
    # lexical comparisons: matched sizes, the null a split of the anchors (synthetic vs
    # anchors) or of the target (synthetic vs target), as for the embedding measures
    full = {k: _lexical(c, child_generator(root, "self_bleu_sample", k), SELF_BLEU_SAMPLE)
            for k, c in corpora.items()}
    openings = {k: _opening(c, OPENING_WORDS)[1] for k, c in corpora.items()}
    for ref in ("anchor", "target") if target is not None else ("anchor",):
        records += _compared(ref, sets[ref], s_texts, corpora, full, openings, found.rows,
                             cache, compare_rows=compare_rows, repeats=repeats,
                             rng=child_generator(root, "compare" if ref == "anchor" else
                                                 "compare_target"))
    examples = _Examples(list(synthetic.ids), s_texts)
    records += _duplicate_counts(found, examples)
    for name, d in (("target", target), ("eval", evaluation)):
        if d is not None:
            records.append(_contamination_count(name, d, found, examples))
            records.append(_contamination_excess(name, found))
    records += _boilerplate_counts(found.rows, examples, token_counts is not None)
    records += _language_records(found, examples)
    notes = [] if token_counts is not None else [Reason(
        "text_tokens", "Embedder tokens are counted only with the MiniLM model (the LSA "
                       "embedding reads every word): no text is truncated.")]
    notes.append(Reason(
        "text_design", "The lexical text measures compare the synthetic texts with the "
        f"anchors{' and the target' if target is not None else ''} at matched sizes of at "
        f"most {compare_rows:,} texts, {repeats} random subsets, against two splits of the "
        "anchors (of the target); duplicates, copies, contamination, refusals and empty "
        "texts are counted on every row."))
    return TextAudit(records, notes, found.rows)


def _length_records(sets: dict[str, Any], rows: dict[str, np.ndarray],
                    token_counts: TokenCounter | None) -> list[Metric]:
    """Lengths (descriptive, every row of each dataset): quantiles of characters,
    whitespace tokens and, with a token counter, embedder tokens."""
    records = []
    units = {"length_chars": "characters", "length_tokens": "whitespace tokens",
             "embedder_tokens": "embedder tokens"}
    for name, d in sets.items():
        texts = list(d.texts)
        # the synthetic rows' lengths are already in the per-row table
        lengths = ({k: rows[k] for k in ("length_chars", "length_tokens")}
                   if name == "synthetic" else text_lengths(texts))
        if token_counts is not None:
            lengths["embedder_tokens"] = (rows["embedder_tokens"] if name == "synthetic"
                                          else np.asarray(token_counts(texts), np.int64))
        for key, x in lengths.items():
            q = _quantiles(x)
            params: dict[str, Any] = {"quantiles": q, "rows": len(texts)}
            if key == "embedder_tokens":
                trunc = int((x > EMBEDDER_MAX_TOKENS).sum())
                params |= {"truncated": trunc, "max_tokens": EMBEDDER_MAX_TOKENS}
            est = Estimate(q["median"], None, "median", (len(texts),), params)
            records.append(Metric("text", f"{key}_{name}", est, f"{units[key]} per text "
                                  f"({name}, median)", "text_length", units[key], (name,)))
    return records


@dataclass(frozen=True)
class _Examples:
    """Example rows of a count: the first :data:`MAX_EXAMPLES` flagged rows, each with
    its id, a snippet of its text and the columns asked for."""

    ids: list[str]
    texts: list[str]

    def __call__(self, mask: np.ndarray, **cols: Any) -> list[dict[str, Any]]:
        out = []
        for j in np.flatnonzero(mask)[:MAX_EXAMPLES]:
            row = {"id": self.ids[j], "text": _snippet(self.texts[j])}
            row |= {k: (v(int(j)) if callable(v) else v) for k, v in cols.items()}
            out.append(row)
        return out


def _duplicate_counts(found: Scan, ex: _Examples) -> list[Metric]:
    """Exact duplicates, rows in duplicate clusters, n-gram copies of anchors."""
    rows, n = found.rows, len(ex.ids)
    cl, exact = rows["duplicate_cluster"], rows["exact_duplicate"]
    in_cluster = cl >= 0
    largest = found.clusters[0] if found.clusters.size else 0
    return [
        _count("exact_duplicates", "exact duplicates (rows after the first)",
               int(exact.sum()), n, ex(exact, cluster=lambda j: int(cl[j])),
               groups=found.exact_groups),
        _count("near_duplicate_rows", "rows in duplicate clusters (exact or MinHash near)",
               int(in_cluster.sum()), n,
               ex(in_cluster & (rows["duplicate_cluster_size"] == largest),
                  cluster=lambda j: int(cl[j])),
               clusters=int(found.clusters.size), largest=found.clusters[:10].tolist(),
               rows_removable=int(in_cluster.sum() - found.clusters.size),
               verified_pairs=found.near_pairs, jaccard=JACCARD, shingle_words=SHINGLE_N,
               num_perm=NUM_PERM, lsh_bands=list(LSH_BANDS)),
        _count("anchor_ngram_copies", "n-gram copies of anchors (all rows, all anchors)",
               int(rows["anchor_copy"].sum()), n,
               ex(rows["anchor_copy"],
                  overlap=lambda j: float(rows["anchor_ngram_overlap"][j])),
               containment=COPY_CONTAINMENT, shingle_words=SHINGLE_N),
    ]


def _contamination_count(name: str, d: Any, found: Scan, ex: _Examples) -> Metric:
    """Rows contaminated with the ``name`` set, each example with its match."""
    h, flag = found.hits[name], found.rows[f"contaminated_{name}"]
    rids, rtexts = list(d.ids), list(d.texts)

    def detail(j: int) -> dict[str, Any]:
        k = int(h["ngram"][j]) if h["ngram"][j] >= 0 else int(h["minhash"][j])
        how = "ngram" if h["ngram"][j] >= 0 else "minhash"
        out: dict[str, Any] = {"by": how, "match_id": rids[k],
                               "match_text": _snippet(rtexts[k])}
        if how == "ngram":
            at = int(h["ngram_at"][j])
            out["ngram"] = " ".join(_words(ex.texts[j])[at : at + CONTAMINATION_N])
        return out

    return _count(
        f"contamination_{name}", f"rows contaminated with the {name} set",
        int(flag.sum()), len(ex.ids), ex(flag, match=detail),
        by_ngram=int((h["ngram"] >= 0).sum()), by_minhash=int((h["minhash"] >= 0).sum()),
        ngram_words=CONTAMINATION_N, jaccard=JACCARD, source=d.source,
        reference_rows=len(rtexts))


def _contamination_excess(name: str, found: Scan) -> Metric:
    """The synthetic rows' contamination with the ``name`` set over the anchors' own
    (each anchor checked against the same set by the same rule): shared domain text that
    the anchors have too is not leakage by the generator. Every row of both sets; rows of
    one duplicate cluster are one sampling unit (:func:`~.._metrics.share_excess`)."""
    flag = found.rows[f"contaminated_{name}"]
    est = share_excess(flag, found.anchor_contaminated[name],
                       clusters=found.rows["duplicate_cluster"])
    p = est.params
    null = baseline_null(p["baseline_share"], p["baseline_rows"],
                         f"the anchors against the {name} set")
    return Metric("text", f"contamination_{name}_excess", est,
                  f"rows contaminated with the {name} set, synthetic - anchors",
                  "text_lexical", "share", ("anchor", "synthetic"), raw=p["share"],
                  null=null)


def _language_records(found: Scan, ex: _Examples) -> list[Metric]:
    """The rows in a language fewer than 1 % of the anchors use (a count with examples,
    and the languages of both sets), and their share over the anchors' own (each anchor
    against the others), rows of one duplicate cluster one sampling unit."""
    rows, n = found.rows, len(ex.ids)
    lang, drift = rows["language"], rows["language_drift"]
    a_lang, a_drift = found.anchor_language, found.anchor_language_drift
    assert a_lang is not None and a_drift is not None
    count = _count("language_drift_rows", "rows in a language the anchors do not use",
                   int(drift.sum()), n, ex(drift, language=lambda j: str(lang[j])),
                   languages_synthetic=dict(Counter(lang.tolist()).most_common(10)),
                   languages_anchor=dict(Counter(a_lang.tolist()).most_common(10)),
                   rare_share=LANGUAGE_RARE, min_probability=LANGUAGE_MIN_PROB)
    est = share_excess(drift, a_drift, clusters=rows["duplicate_cluster"])
    p = est.params
    null = baseline_null(p["baseline_share"], p["baseline_rows"],
                         "the anchors against one another (leave-one-out)")
    return [count, Metric("text", "language_drift", est,
                          "rows in a language the anchors do not use, synthetic - anchors",
                          "text_lexical", "share", ("anchor", "synthetic"),
                          raw=p["share"], null=null)]


def _boilerplate_counts(rows: dict[str, np.ndarray], ex: _Examples, tokens: bool
                        ) -> list[Metric]:
    """Refusals, empty texts and, with the embedder's token counts, truncated texts."""
    n = len(ex.ids)
    out = [_count("refusals", "refusal / assistant boilerplate", int(rows["refusal"].sum()),
                  n, ex(rows["refusal"]), patterns=list(REFUSAL_PATTERNS)),
           _count("empty", "empty texts (no word character)", int(rows["empty"].sum()), n,
                  ex(rows["empty"]))]
    pii = np.asarray(rows["pii"]) != ""
    kinds = [k for v in rows["pii"] for k in str(v).split(",") if k]
    out.append(_count("pii", "personal data or secrets", int(pii.sum()), n,
                      ex(pii, kinds=lambda j: str(rows["pii"][j]).split(",")),
                      by_kind={k: kinds.count(k) for k in PII_KINDS if k in kinds},
                      phone_region=PHONE_REGION))
    if tokens:
        out.append(_count("truncated", f"truncated by the embedder (> {EMBEDDER_MAX_TOKENS} "
                                       "tokens)", int(rows["truncated"].sum()), n,
                          ex(rows["truncated"],
                             tokens=lambda j: int(rows["embedder_tokens"][j]))))
    return out
