"""Copies and leaks: each synthetic text's n-gram containment in the anchors (a copy of
an anchor), and its contamination with a target or evaluation set: a shared 13-gram, or
a verified MinHash near-duplicate."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .corpus import _Corpus, _member, _sorted_unique
from .duplicates import Duplicates, _band_keys, _cross_pairs, _jaccard, _signatures

__all__ = ["CONTAMINATION_N", "COPY_CONTAINMENT", "anchor_copies", "contamination"]

#: word n-gram length shared with a target/eval text that flags contamination (the
#: 13-gram overlap of LLM decontamination, Brown et al. 2020, GPT-3 appendix C)
CONTAMINATION_N = 13
#: share of a synthetic text's shingles found in the anchors from which it is a copy
COPY_CONTAINMENT = 0.8


def _copy_share(ref: _Corpus, rows: _Corpus) -> np.ndarray:
    """Share of each row's shingles found among the shingles of ``ref`` (NaN: none)."""
    vals, off = rows.shingles()
    found = np.concatenate([[0], np.cumsum(_member(vals, _sorted_unique(ref.shingles()[0])))])
    hit, n = found[off[1:]] - found[off[:-1]], np.diff(off)
    return np.where(n > 0, hit / np.maximum(n, 1), np.nan)



def anchor_copies(anchors: _Corpus, corpus: _Corpus) -> dict[str, np.ndarray]:
    """Per synthetic row: ``anchor_ngram_overlap`` (share of its shingles found in the
    anchors) and ``anchor_copy`` (at least :data:`COPY_CONTAINMENT`)."""
    overlap = _copy_share(anchors, corpus)
    return {"anchor_ngram_overlap": overlap,
            "anchor_copy": np.nan_to_num(overlap) >= COPY_CONTAINMENT}


def contamination(corpus: _Corpus, dup: Duplicates, references: Mapping[str, _Corpus], *,
                  threshold: float, num_perm: int, ngram: int
                  ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, np.ndarray]]]:
    """Per synthetic row, ``contaminated_<name>`` for each reference set and
    ``contaminated`` (any); and per set the hits: the matching reference row by n-gram
    (``ngram``, with ``ngram_at`` the first word of the shared n-gram) and by MinHash."""
    n = len(corpus)
    rows: dict[str, np.ndarray] = {}
    hits: dict[str, dict[str, np.ndarray]] = {}
    g, t, start = corpus.ngrams(ngram)
    contaminated = np.zeros(n, dtype=bool)
    for name, r in references.items():
        by_ngram, at = _ngram_hits(corpus, r, g, t, start, ngram)
        by_minhash = _minhash_hits(r, dup, n, threshold=threshold, num_perm=num_perm)
        flag = (by_ngram >= 0) | (by_minhash >= 0)
        rows[f"contaminated_{name}"] = flag
        contaminated |= flag
        hits[name] = {"ngram": by_ngram, "ngram_at": at, "minhash": by_minhash}
    rows["contaminated"] = contaminated
    return rows, hits


def _ngram_hits(corpus: _Corpus, r: _Corpus, g: np.ndarray, t: np.ndarray,
                start: np.ndarray, ngram: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's first n-gram found in ``r``: the matching reference row and the first
    word of the n-gram (-1 where none)."""
    n = len(corpus)
    rg, rt, _ = r.ngrams(ngram)
    order = np.argsort(rg, kind="stable")
    rg, rt = rg[order], rt[order]
    pos = np.searchsorted(rg, g)
    ok = pos < rg.size
    ok[ok] = rg[pos[ok]] == g[ok]
    by_ngram = np.full(n, -1, dtype=np.int64)  # matching reference row
    at = np.full(n, -1, dtype=np.int64)  # first word of the shared n-gram
    hit_t = t[ok][::-1]
    by_ngram[hit_t] = rt[pos[ok]][::-1]  # the first hit in each row wins
    at[hit_t] = (start[ok] - corpus.off[t[ok]])[::-1]
    return by_ngram, at


def _minhash_hits(r: _Corpus, dup: Duplicates, n: int, *, threshold: float,
                  num_perm: int) -> np.ndarray:
    """Each row's first verified MinHash near-duplicate in ``r`` (-1 where none); an
    exact duplicate shares its representative's."""
    rv, roff = r.shingles()
    rsig, rhas = _signatures(rv, roff, num_perm)
    si, rk = _cross_pairs(dup.keys, dup.reps, _band_keys(rsig), np.flatnonzero(rhas))
    by_minhash = np.full(n, -1, dtype=np.int64)
    vals, off = dup.vals, dup.off
    for j, k in zip(si.tolist(), rk.tolist(), strict=True):
        if by_minhash[j] < 0 and _jaccard(vals[off[j] : off[j + 1]],
                                          rv[roff[k] : roff[k + 1]]) >= threshold:
            by_minhash[j] = k
    return np.where(by_minhash >= 0, by_minhash, by_minhash[dup.first_of])
