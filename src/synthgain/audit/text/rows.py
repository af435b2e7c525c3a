"""The per-row text table: every text fact of each synthetic row, from the checks of
this package (lengths and boilerplate, duplicates, copies of anchors, contamination)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...exceptions import ValidationError
from .boilerplate import TokenCounter, length_flags
from .contamination import CONTAMINATION_N, anchor_copies, contamination
from .corpus import _Corpus, _WordHashes
from .duplicates import JACCARD, NUM_PERM, duplicates
from .language import language_drift, languages
from .personal import personal_flags

__all__ = ["BACKGROUND_LANGUAGE_ROWS", "Scan", "scan", "text_row_flags"]

#: from this many texts (synthetic and anchors together), and with two cores or more, the
#: languages are identified in a worker process while this one runs the other checks
#: (py3langid reads one text at a time in Python: 10,000 texts a second); below it the
#: worker's start costs more than it saves. The result is the same either way.
BACKGROUND_LANGUAGE_ROWS = 50_000


def _languages_of(texts: tuple[list[str], list[str] | None]
                  ) -> tuple[np.ndarray, np.ndarray | None]:
    synthetic, anchor = texts
    return languages(synthetic)[0], None if anchor is None else languages(anchor)[0]


class _Languages:
    """The languages of the synthetic texts and the anchors: started in a worker
    process (its own, shut down on exit) when there are enough texts and cores
    (:data:`BACKGROUND_LANGUAGE_ROWS`), else computed here when asked for."""

    def __init__(self, synthetic: Sequence[str], anchor: Sequence[str] | None) -> None:
        self._texts = (list(synthetic), None if anchor is None else list(anchor))
        self._n = len(synthetic) + (0 if anchor is None else len(anchor))
        self._pool: Any = None
        self._future: Any = None

    def __enter__(self) -> _Languages:
        from ...experiments.backends import usable_cores

        if self._n >= BACKGROUND_LANGUAGE_ROWS and usable_cores() >= 2:
            # loky's executor (joblib's): a fresh interpreter that does not re-run the
            # caller's script, so an unguarded script or a notebook works as well
            from joblib.externals.loky import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(max_workers=1)
            self._future = self._pool.submit(_languages_of, self._texts)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, kill_workers=True)

    def result(self) -> tuple[np.ndarray, np.ndarray | None]:
        if self._future is not None:
            return self._future.result()  # type: ignore[no-any-return]
        return _languages_of(self._texts)


@dataclass
class Scan:
    """Everything :func:`text_row_flags` and :func:`~.audit.audit_texts` know per
    synthetic row."""

    rows: dict[str, np.ndarray]
    exact_groups: int
    near_pairs: int
    clusters: np.ndarray  # sizes of the clusters of >= 2 rows, largest first
    hits: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    #: the baseline of contamination: per reference set, each anchor's flag by the same
    #: rule (with anchors and reference sets given)
    anchor_contaminated: dict[str, np.ndarray] = field(default_factory=dict)
    #: each anchor's language and its drift flag against the other anchors (with anchors)
    anchor_language: np.ndarray | None = None
    anchor_language_drift: np.ndarray | None = None


def scan(synthetic: Sequence[str], *, anchor: Sequence[str] | None = None,
         references: Mapping[str, Sequence[str]] | None = None,
         token_counts: TokenCounter | None = None, threshold: float = JACCARD,
         num_perm: int = NUM_PERM, ngram: int = CONTAMINATION_N) -> Scan:
    """Run every per-row check on the synthetic texts (no argument checking)."""
    # the languages in a worker while the rest runs, when that pays
    with _Languages(synthetic, anchor) as lang:
        rows, dup, hits, baseline, a_lang, a_drift = _checks(
            synthetic, anchor, references, token_counts, threshold, num_perm, ngram, lang)
    return Scan(rows, dup.exact_groups, dup.near_pairs, dup.clusters, hits, baseline, a_lang,
                a_drift)


def _checks(synthetic: Sequence[str], anchor: Sequence[str] | None,
            references: Mapping[str, Sequence[str]] | None, token_counts: TokenCounter | None,
            threshold: float, num_perm: int, ngram: int, lang: _Languages) -> Any:
    """The checks of :func:`scan`, the languages last (from ``lang``)."""
    cache = _WordHashes()
    s = _Corpus.build(list(synthetic), cache)
    rows = length_flags(synthetic, s, token_counts) | personal_flags(synthetic)
    dup = duplicates(synthetic, s, threshold=threshold, num_perm=num_perm)
    rows |= dup.rows
    refs = {k: _Corpus.build(list(v), cache) for k, v in (references or {}).items()}
    baseline: dict[str, np.ndarray] = {}
    a_lang = a_drift = None
    if anchor is not None:
        a = _Corpus.build(list(anchor), cache)
        rows |= anchor_copies(a, s)
        if refs:  # the anchors' own overlap with each set, by the same rule
            a_found, _ = contamination(a, duplicates(anchor, a, threshold=threshold,
                                                     num_perm=num_perm),
                                       refs, threshold=threshold, num_perm=num_perm,
                                       ngram=ngram)
            baseline = {k: a_found[f"contaminated_{k}"] for k in refs}
    found, hits = contamination(s, dup, refs, threshold=threshold, num_perm=num_perm,
                                ngram=ngram)
    rows |= found
    rows["language"], a_lang = lang.result()
    if a_lang is not None:
        rows["language_drift"], a_drift = language_drift(rows["language"], a_lang)
    return rows, dup, hits, baseline, a_lang, a_drift


def text_row_flags(
    synthetic: Sequence[str],
    *,
    anchor: Sequence[str] | None = None,
    target: Sequence[str] | None = None,
    evaluation: Sequence[str] | None = None,
    token_counts: TokenCounter | None = None,
    threshold: float = JACCARD,
    ngram: int = CONTAMINATION_N,
) -> dict[str, np.ndarray]:
    """The text facts of each synthetic row, one array entry per row.

    Parameters
    ----------
    synthetic : sequence of str
        The measured texts of the synthetic rows.
    anchor : sequence of str, optional
        The anchors' texts (for ``anchor_ngram_overlap`` and ``anchor_copy``).
    target, evaluation : sequence of str, optional
        Texts a synthetic row must not contain (for ``contaminated``).
    token_counts : callable, optional
        ``texts -> int array`` of the embedder's tokens (:func:`minilm_token_counts`);
        without it ``truncated`` is all False and ``embedder_tokens`` absent.
    threshold : float
        Jaccard similarity of word 5-gram shingle sets from which two texts are
        near-duplicates.
    ngram : int
        Length of the word n-gram whose presence in a target/evaluation text flags
        contamination.

    Returns
    -------
    dict of str to ndarray of shape (n,)
        ``pii`` (the kinds of personal data and secrets found, comma-separated, "" when
        none: :func:`~.personal.personal_data`),
        ``length_chars``, ``length_tokens`` (whitespace tokens), ``length_words`` (the
        ``\\w+`` words of the n-gram measures), ``embedder_tokens`` (with
        ``token_counts``), ``truncated`` (more than 256 embedder tokens), ``empty`` (no
        word character), ``refusal`` (matches :data:`REFUSAL_PATTERNS`),
        ``exact_duplicate`` (the normalised text occurred in an earlier row: dropping
        these keeps one of each), ``duplicate_cluster`` (the row's cluster of exact and
        near-duplicates, numbered 0, 1, ... by first row; -1: in none),
        ``duplicate_cluster_size`` (1 for a row in none), ``anchor_ngram_overlap`` and
        ``anchor_copy`` (with ``anchor``: share of the row's shingles found in the
        anchors, and whether it is at least 0.8), ``contaminated_target``,
        ``contaminated_eval`` (with those sets) and ``contaminated`` (either),
        ``language`` (ISO 639-1 code, ``"und"`` where not told:
        :func:`~.language.languages`) and, with ``anchor``, ``language_drift`` (a
        language that fewer than 1 % of the anchors use).

    Examples
    --------
    Case and whitespace do not hide a duplicate; a refusal is flagged:

    >>> from synthgain.audit import text_row_flags
    >>> rows = text_row_flags(["a b c d e f", "A b  c d e f", "I'm sorry, but I can't help."])
    >>> rows["exact_duplicate"].tolist(), rows["refusal"].tolist()
    ([False, True, False], [False, False, True])
    """
    threshold = float(threshold)
    if not 0.0 < threshold <= 1.0:
        raise ValidationError(f"`threshold` must be in (0, 1]. Got {threshold!r} instead.")
    if int(ngram) < 1:
        raise ValidationError(f"`ngram` must be at least 1. Got {ngram!r} instead.")
    refs = {k: v for k, v in (("target", target), ("eval", evaluation)) if v is not None}
    return scan(synthetic, anchor=anchor, references=refs, token_counts=token_counts,
                threshold=threshold, ngram=int(ngram)).rows
