"""Duplicates inside the synthetic set: exact (after case and whitespace normalisation)
and near (MinHash LSH on word 5-gram shingles: datasketch's MinHash, its signatures and
its LSH buckets computed for all texts at once in NumPy, bit for bit; every candidate
pair verified by its exact Jaccard similarity), grouped into clusters."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .corpus import _MUL, _Corpus, _mix, _sorted_unique

__all__ = ["JACCARD", "LSH_BANDS", "NUM_PERM", "Duplicates", "duplicates"]

#: Jaccard similarity of two shingle sets from which texts are near-duplicates
JACCARD = 0.8
#: MinHash permutations
NUM_PERM = 128
#: LSH bands and rows per band: a pair of Jaccard similarity J becomes a candidate with
#: probability 1 - (1 - J^6)^20: 0.998 at 0.8, 0.61 at 0.6, 0.27 at 0.5; every candidate is
#: verified by its exact Jaccard. (datasketch's default for threshold 0.8, 9 bands of 13
#: rows, balances false positives against false negatives and finds a pair of Jaccard 0.8
#: with probability 0.40: recall 0.77 on the suite's planted duplicates.)
LSH_BANDS = (20, 6)


def _normalised_hash(texts: Sequence[str]) -> np.ndarray:
    return np.fromiter(
        (int.from_bytes(hashlib.blake2b(" ".join(t.lower().split()).encode("utf-8"),
                                        digest_size=8).digest(), "little") for t in texts),
        dtype=np.uint64, count=len(texts))


def _jaccard(va: np.ndarray, vb: np.ndarray) -> float:
    inter = np.intersect1d(va, vb, assume_unique=True).size
    union = va.size + vb.size - inter
    return inter / union if union else 0.0


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser (datasketch's pre-mix of the "affine32" scheme)."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def _signatures(vals: np.ndarray, off: np.ndarray, num_perm: int = NUM_PERM
                ) -> tuple[np.ndarray, np.ndarray]:
    """MinHash signature of each shingle set, shape (n, num_perm) uint32, and which sets
    are not empty.

    Bit for bit datasketch's ``MinHash(num_perm, seed=1, scheme="affine32")`` updated
    with the low 32 bits of each shingle hash (its permutations, its pre-mix and its
    ``a * h + b mod 2^32``; tested), computed for a block of texts at once instead of one
    ``MinHash`` object per text.
    """
    from datasketch import MinHash

    a, b = MinHash(num_perm=num_perm, seed=1, scheme="affine32").permutations
    n = off.size - 1
    sig = np.full((n, num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    has = np.diff(off) > 0
    step = max(1, 2_000_000 // num_perm)  # shingles per block (~8 MB of uint32 per row)
    lo = 0
    while lo < n:
        hi = int(np.searchsorted(off, off[lo] + step, side="right")) - 1
        hi = min(max(hi, lo + 1), n)
        rows = np.flatnonzero(has[lo:hi]) + lo
        if rows.size:
            hv = _fmix32((vals[off[lo] : off[hi]] & np.uint64(0xFFFFFFFF)).astype(np.uint32))
            phv = hv[:, None] * a[None, :] + b[None, :]
            sig[rows] = np.minimum.reduceat(phv, off[rows] - off[lo], axis=0)
        lo = hi
    return sig, has


def _band_keys(sig: np.ndarray, bands: tuple[int, int] = LSH_BANDS) -> np.ndarray:
    """One 64-bit key per (band, row): the hash of the band's ``r`` signature values
    (equal bands, equal keys: datasketch's buckets; a collision of two different bands
    only adds a candidate, which the Jaccard verification then drops)."""
    nb, r = bands
    keys = np.empty((nb, sig.shape[0]), dtype=np.uint64)
    for k in range(nb):
        g = np.zeros(sig.shape[0], dtype=np.uint64)
        for c in range(k * r, (k + 1) * r):
            g = g * _MUL + sig[:, c].astype(np.uint64)
        keys[k] = _mix(g)
    return keys


def _candidate_pairs(keys: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``i < j`` of ``rows`` that share a bucket in some band (datasketch's
    ``MinHashLSH.query`` of every row, at once)."""
    n = int(rows.max()) + 1 if rows.size else 0
    found = []
    for k in range(keys.shape[0]):
        kk = keys[k, rows]
        o = np.argsort(kk, kind="stable")
        sk, sr = kk[o], rows[o]
        start = np.flatnonzero(np.append(True, sk[1:] != sk[:-1]))
        end = np.repeat(np.append(start[1:], sk.size), np.diff(np.append(start, sk.size)))
        later = end - np.arange(sk.size) - 1  # members of the bucket after this one
        left = np.repeat(np.arange(sk.size), later)
        right = left + np.arange(left.size) - np.repeat(np.cumsum(later) - later, later) + 1
        i, j = sr[left], sr[right]
        found.append(np.minimum(i, j) * n + np.maximum(i, j))
    pairs = _sorted_unique(np.concatenate(found)) if found else np.zeros(0, np.int64)
    return pairs // max(n, 1), pairs % max(n, 1)


def _cross_pairs(keys: np.ndarray, rows: np.ndarray, ref_keys: np.ndarray,
                 ref_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (row, reference row) that share a bucket in some band."""
    n_ref = int(ref_rows.max()) + 1 if ref_rows.size else 1
    found = []
    for k in range(keys.shape[0]):
        o = np.argsort(keys[k, rows], kind="stable")
        sk, sr = keys[k, rows][o], rows[o]
        q = ref_keys[k, ref_rows]
        lo, hi = np.searchsorted(sk, q, "left"), np.searchsorted(sk, q, "right")
        cnt = hi - lo
        ref = np.repeat(ref_rows, cnt)
        pos = np.repeat(lo, cnt) + np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt,
                                                                          cnt)
        found.append(sr[pos] * n_ref + ref)
    pairs = _sorted_unique(np.concatenate(found)) if found else np.zeros(0, np.int64)
    return pairs // n_ref, pairs % n_ref



@dataclass
class Duplicates:
    """The exact and near duplicates of a corpus, and its MinHash index (for the
    contamination search, :mod:`.contamination`).

    ``rows``: ``exact_duplicate``, ``duplicate_cluster`` (numbered 0, 1, ... by first
    row; -1: in none), ``duplicate_cluster_size``; ``first[inv]``: each row's first
    exact copy; ``keys``/``reps``: the LSH band keys and the rows indexed (one per exact
    group); ``vals``/``off``: the shingles."""

    rows: dict[str, np.ndarray]
    exact_groups: int
    near_pairs: int
    clusters: np.ndarray  # sizes of the clusters of >= 2 rows, largest first
    first_of: np.ndarray
    keys: np.ndarray
    reps: np.ndarray
    vals: np.ndarray
    off: np.ndarray


def duplicates(texts: Sequence[str], corpus: _Corpus, *, threshold: float = JACCARD,
               num_perm: int = NUM_PERM) -> Duplicates:
    """Exact duplicates (every occurrence after the first of a normalised text) and near
    duplicates (one representative per exact group in the LSH index, candidates verified
    at Jaccard >= ``threshold``), joined into clusters."""
    n = len(corpus)
    _, first, inv = np.unique(_normalised_hash(texts), return_index=True,
                              return_inverse=True)
    inv = inv.reshape(-1)
    exact = first[inv] != np.arange(n)
    vals, off = corpus.shingles()
    sig, has = _signatures(vals, off, num_perm)
    keys = _band_keys(sig)
    del sig
    reps = np.flatnonzero(~exact & has)
    ci, cj = _candidate_pairs(keys, reps)
    ok = np.fromiter((_jaccard(vals[off[i] : off[i + 1]], vals[off[j] : off[j + 1]])
                      >= threshold for i, j in zip(ci.tolist(), cj.tolist(), strict=True)),
                     dtype=bool, count=ci.size)
    ids, size = _clusters(n, exact, first[inv], ci[ok], cj[ok])
    multi = ids >= 0
    clusters = np.sort(np.bincount(ids[multi]))[::-1] if multi.any() else np.zeros(0, int)
    rows = {"exact_duplicate": exact, "duplicate_cluster": ids,
            "duplicate_cluster_size": size.astype(np.int64)}
    return Duplicates(rows, int((np.bincount(inv) > 1).sum()), int(ok.sum()), clusters,
                      first[inv], keys, reps, vals, off)


def _clusters(n: int, exact: np.ndarray, first_of: np.ndarray, near_i: np.ndarray,
              near_j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Connected components of the exact and near pairs: each row's cluster id (clusters
    of >= 2 rows numbered by their first row; -1 for the others) and cluster size."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    later = np.flatnonzero(exact)
    src = np.concatenate([later, np.asarray(near_i, dtype=np.int64)])
    dst = np.concatenate([first_of[later], np.asarray(near_j, dtype=np.int64)])
    graph = coo_matrix((np.ones(src.size), (src, dst)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    size = np.bincount(label)[label]
    multi = size > 1
    ids = np.full(n, -1, dtype=np.int64)
    if multi.any():
        _, firsts = np.unique(label[multi], return_index=True)
        order = np.argsort(np.flatnonzero(multi)[firsts], kind="stable")
        rank = np.empty(order.size, dtype=np.int64)
        rank[order] = np.arange(order.size)
        ids[multi] = rank[np.unique(label[multi], return_inverse=True)[1].reshape(-1)]
    return ids, size
