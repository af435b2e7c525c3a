"""Words, n-grams and shingles of a corpus as 64-bit hashes in NumPy arrays.

Words for the n-gram measures are the runs of word characters (``\\w+``) of the
lowercased text. Each word is hashed once (BLAKE2b, 8 bytes) and an n-gram's hash is a
polynomial of its words' hashes mod 2^64, finished by the splitmix64 mixer. Two distinct
n-grams collide with probability about 2^-64 per pair (10^-4 over 10^8 n-grams), which
moves no reported digit.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: texts tokenised and hashed per chunk
CHUNK = 20_000
#: word n-gram length of the MinHash shingles and of the anchor-copy containment (Lee et
#: al. 2022, "Deduplicating training data makes language models better": 5-grams, 0.8)
SHINGLE_N = 5
_WORD = re.compile(r"\w+")
_SEP = "\x1e"  # the ASCII record separator: not a word character
_WORD_OR_SEP = re.compile(r"\w+|\x1e")
_MUL = np.uint64(0x9E3779B97F4A7C15)  # odd multiplier of the n-gram polynomial


# --- hashing: words, n-grams, shingles ----------------------------------------------------
def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, elementwise on uint64 (wrapping arithmetic)."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


class _WordHashes(dict[str, int]):
    """64-bit hash of each distinct word (BLAKE2b), computed once."""

    def __missing__(self, word: str) -> int:
        v = int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(),
                           "little")
        self[word] = v
        return v


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


@dataclass
class _Corpus:
    """Word hashes of a list of texts, CSR: text ``i``'s words are
    ``h[off[i]:off[i + 1]]``."""

    texts: Sequence[str]
    h: np.ndarray  # uint64 (n_words,)
    off: np.ndarray  # int64 (n + 1,)

    @classmethod
    def build(cls, texts: Sequence[str], cache: _WordHashes | None = None) -> _Corpus:
        cache = _WordHashes() if cache is None else cache
        parts, lens = [], np.empty(len(texts), dtype=np.int64)
        sep = np.uint64(cache[_SEP])
        for start in range(0, len(texts), CHUNK):
            chunk = texts[start : start + CHUNK]
            joined = _SEP.join(chunk).lower()
            if joined.count(_SEP) == len(chunk) - 1:
                # one regex pass over the chunk, texts separated by a character that is no
                # word character (a Python loop over the texts cost twice as much)
                toks = _WORD_OR_SEP.findall(joined)
                arr = np.fromiter(map(cache.__getitem__, toks), dtype=np.uint64,
                                  count=len(toks))
                at = np.flatnonzero(arr == sep)
                lens[start : start + len(chunk)] = np.diff(np.concatenate(
                    [[-1], at, [arr.size]])) - 1
                parts.append(arr[arr != sep])
                continue
            flat: list[int] = []  # a text holds the separator itself
            for j, t in enumerate(chunk):
                ws = _words(t)
                lens[start + j] = len(ws)
                flat.extend(map(cache.__getitem__, ws))
            parts.append(np.fromiter(flat, dtype=np.uint64, count=len(flat)))
        h = np.concatenate(parts) if parts else np.zeros(0, np.uint64)
        return cls(texts, h, np.concatenate([[0], np.cumsum(lens)]).astype(np.int64))

    def __len__(self) -> int:
        return self.off.size - 1

    @property
    def lens(self) -> np.ndarray:
        return np.diff(self.off)

    def take(self, rows: np.ndarray) -> _Corpus:
        """The corpus of ``rows`` (in that order)."""
        rows = np.asarray(rows, dtype=np.int64)
        lens = self.lens[rows]
        total = int(lens.sum())
        first = np.repeat(self.off[rows] - (np.cumsum(lens) - lens), lens)
        h = self.h[first + np.arange(total)]
        return _Corpus([self.texts[i] for i in rows], h,
                       np.concatenate([[0], np.cumsum(lens)]).astype(np.int64))

    def ngrams(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Hash, text and first word (index into ``h``) of every word n-gram."""
        lens = self.lens
        cnt = np.maximum(lens - n + 1, 0)
        total = int(cnt.sum())
        text = np.repeat(np.arange(lens.size), cnt)
        start = np.repeat(self.off[:-1] - (np.cumsum(cnt) - cnt), cnt) + np.arange(total)
        if n == 1:
            return self.h[start], text, start
        g = self.h[start].copy()
        for k in range(1, n):
            g = g * _MUL + self.h[start + k]
        return _mix(g), text, start

    def prefix_hash(self, n: int) -> np.ndarray:
        """Hash of each text's first ``min(n, length)`` words (0 for a text of none)."""
        lens, g = self.lens, np.zeros(len(self), dtype=np.uint64)
        for k in range(n):
            has = lens > k
            g[has] = g[has] * _MUL + self.h[self.off[:-1][has] + k]
        return np.where(lens > 0, _mix(g ^ np.minimum(lens, n).astype(np.uint64)), 0)

    def shingles(self, n: int = SHINGLE_N) -> tuple[np.ndarray, np.ndarray]:
        """Each text's distinct word n-gram hashes, sorted, CSR ``(values, offsets)``; a
        text of 1 to ``n - 1`` words has one shingle, the hash of all its words."""
        g, t, _ = self.ngrams(n)
        lens = self.lens
        short = np.flatnonzero((lens > 0) & (lens < n))
        whole = self.take(short).prefix_hash(n) if short.size else np.zeros(0, np.uint64)
        g, t = np.concatenate([g, whole]), np.concatenate([t, short])
        order = np.lexsort((g, t))
        g, t = g[order], t[order]
        keep = np.ones(g.size, dtype=bool)
        keep[1:] = (g[1:] != g[:-1]) | (t[1:] != t[:-1])
        g, t = g[keep], t[keep]
        off = np.concatenate([[0], np.cumsum(np.bincount(t, minlength=len(self)))])
        return g, off.astype(np.int64)


# --- lexical measures of one corpus --------------------------------------------------------
def _sorted_unique(g: np.ndarray) -> np.ndarray:
    """The distinct values of ``g``, sorted (by sorting: NumPy 2.4's hash-based
    ``np.unique`` takes 1.66 s for 850,000 random uint64 values here, ``np.sort`` 0.09 s)."""
    s = np.sort(g)
    keep = np.ones(s.size, dtype=bool)
    keep[1:] = s[1:] != s[:-1]
    return s[keep]


def _run_counts(g: np.ndarray) -> np.ndarray:
    """How often each distinct value of ``g`` occurs."""
    s = np.sort(g)
    start = np.flatnonzero(np.append(True, s[1:] != s[:-1])) if s.size else np.zeros(0, int)
    return np.diff(np.append(start, s.size))


def _member(vals: np.ndarray, sorted_unique: np.ndarray) -> np.ndarray:
    """Whether each value is in ``sorted_unique``."""
    if not sorted_unique.size:
        return np.zeros(vals.shape, dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_unique, vals), sorted_unique.size - 1)
    return sorted_unique[pos] == vals


def _corpus(texts: Sequence[str] | _Corpus) -> _Corpus:
    return texts if isinstance(texts, _Corpus) else _Corpus.build(list(texts))


