"""Lexical diversity of a corpus: distinct-n, the repeated n-gram share, the share of
the most common opening, the gzip compression ratio and self-BLEU.

Every one depends on the corpus size, so the audit compares them at matched sizes
(:mod:`.audit`); the functions here measure one corpus.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterable, Sequence

import numpy as np

from .corpus import _Corpus, _corpus, _run_counts, _sorted_unique, _words

__all__ = ["compression_ratio", "distinct_n", "opening_share", "repeated_ngram_share",
           "self_bleu"]

#: words of a text's opening (template dominance)
OPENING_WORDS = 3
#: n of the repeated n-gram share
REPEATED_N = 4
#: rows scored for the descriptive (full-size) self-BLEU of a large dataset
SELF_BLEU_SAMPLE = 10_000


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


