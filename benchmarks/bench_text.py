"""The audit's text measures on many short texts, against a straightforward Python/pandas
implementation of the same measures, timed in the same run.

Each implementation runs in its own child process (so that each peak resident memory is
its own, from ``resource.getrusage``) on the same generated texts: ``--rows`` synthetic
texts of 5-30 words (a Zipf vocabulary of 20,000 words, 30 openings, 5 % exact and 5 %
near-duplicates) and a target of ``--rows / 50`` texts, some holding a 13-word run of a
synthetic text.

Measures: distinct-1/2/3, the repeated 4-gram share, the most common opening's share, the
gzip compression ratio (the same stdlib call in both), exact duplicates, MinHash
near-duplicate clusters (datasketch in both: the baseline as its documentation shows it,
one ``MinHash`` per text updated with each shingle's bytes, default LSH parameters, and
Jaccard verification with Python sets) and 13-gram contamination with the target
(Python sets of word tuples). Self-BLEU is timed apart, at ``--bleu-rows`` texts,
against sacrebleu's ``sentence_score`` of each text against the others.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_text.py --rows 1000000 \\
        --compare-rows 1000000 --docs   # both at 1M rows: about 12 minutes, 10 GiB

``--row-checks`` times only what the language and personal-data checks add: the text
measures at ``--rows`` without them, with them, and without them again, each in its own
process (the languages run in a worker process beside the other checks from 50,000 texts;
its CPU time is not in the parent's)::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_text.py --rows 1000000 --row-checks
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
_WORD = re.compile(r"\w+")


def make_texts(rows: int, seed: int = 0) -> tuple[list[str], list[str]]:
    g = np.random.default_rng(seed)
    vocab = np.array([f"w{i}" for i in range(20_000)])
    p = 1.0 / np.arange(1, vocab.size + 1)
    p /= p.sum()
    openings = [" ".join(g.choice(vocab[:300], 3)) for _ in range(30)]
    lens = g.integers(5, 31, rows)
    words = g.choice(vocab, int(lens.sum()), p=p)
    texts, at = [], 0
    for i, n in enumerate(lens):
        body = " ".join(words[at : at + n])
        at += n
        texts.append(f"{openings[i % 30]} {body}" if i % 3 == 0 else body)
    k = rows // 20
    src = g.integers(0, rows, 2 * k)
    for s in src[:k]:  # exact duplicates (case and spacing changed)
        texts[int(g.integers(rows))] = texts[int(s)].upper() + "  "
    for s in src[k:]:  # near-duplicates: one word appended
        texts[int(g.integers(rows))] = texts[int(s)] + " extra"
    target = [" ".join(g.choice(vocab, 20, p=p)) for _ in range(max(rows // 50, 10))]
    for j in range(0, len(target), 10):  # a 13-word run of a long synthetic text
        s = texts[int(g.integers(rows))].split()
        if len(s) >= 13:
            target[j] = "q " + " ".join(s[:13]) + " ?"
    return texts, target


def ours(texts: list[str], target: list[str]) -> dict[str, object]:
    sys.path.insert(0, str(ROOT / "src"))
    from synthgain.audit.text import (
        compression_ratio,
        distinct_n,
        repeated_ngram_share,
        text_row_flags,
    )
    from synthgain.audit.text.corpus import _Corpus
    from synthgain.audit.text.lexical import _opening

    out: dict[str, object] = {}
    t0 = time.perf_counter()
    c = _Corpus.build(texts)
    out.update({f"distinct_{n}": distinct_n(c, n) for n in (1, 2, 3)})  # type: ignore[arg-type]
    out["repeated_4grams"] = repeated_ngram_share(c)  # type: ignore[arg-type]
    out["opening_share"] = _opening(c, 3)[0]
    del c
    t1 = time.perf_counter()
    out["compression_ratio"] = compression_ratio(texts)
    t2 = time.perf_counter()
    r = text_row_flags(texts, target=target)
    t3 = time.perf_counter()
    out["exact_duplicates"] = int(r["exact_duplicate"].sum())
    out["rows_in_clusters"] = int((r["duplicate_cluster"] >= 0).sum())
    out["contaminated"] = int(r["contaminated"].sum())
    out["seconds"] = {"lexical": t1 - t0, "compression": t2 - t1,
                      "duplicates_contamination": t3 - t2}
    return out


def _ngrams(w: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(w[i : i + n]) for i in range(len(w) - n + 1)]


def baseline(texts: list[str], target: list[str]) -> dict[str, object]:
    import gzip

    import pandas as pd
    from datasketch import MinHash, MinHashLSH

    out: dict[str, object] = {}
    t0 = time.perf_counter()
    toks = [_WORD.findall(t.lower()) for t in texts]
    for n in (1, 2, 3):
        grams = [g for w in toks for g in _ngrams(w, n)]
        out[f"distinct_{n}"] = len(set(grams)) / len(grams)
        del grams
    counts = Counter(g for w in toks for g in _ngrams(w, 4))
    total = sum(counts.values())
    out["repeated_4grams"] = sum(c for c in counts.values() if c > 1) / total
    del counts
    openings = pd.Series([" ".join(w[:3]) for w in toks if w])
    out["opening_share"] = float(openings.value_counts().iloc[0] / len(openings))
    t1 = time.perf_counter()
    data = "\n".join(texts).encode("utf-8")
    out["compression_ratio"] = len(data) / len(gzip.compress(data, 9))
    del data
    t2 = time.perf_counter()
    norm = pd.Series([" ".join(t.lower().split()) for t in texts])
    dup = norm.duplicated(keep="first").to_numpy()
    out["exact_duplicates"] = int(dup.sum())
    shingles = [set(_ngrams(w, 5)) if len(w) >= 5 else {tuple(w)} for w in toks]
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    mh = []
    for i, s in enumerate(shingles):
        m = MinHash(num_perm=128)
        for sh in s:
            m.update(" ".join(sh).encode("utf-8"))
        mh.append(m)
        if not dup[i]:
            lsh.insert(i, m)
    parent = list(range(len(texts)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    first = norm.drop_duplicates().index.to_numpy()
    first_of = dict(zip(norm.iloc[first], first, strict=True))
    for i in np.flatnonzero(dup):
        parent[find(int(i))] = find(int(first_of[norm.iloc[i]]))
    for i in range(len(texts)):
        if dup[i]:
            continue
        for j in lsh.query(mh[i]):
            if j > i:
                a, b = shingles[i], shingles[j]
                if len(a & b) / len(a | b) >= 0.8:
                    parent[find(i)] = find(j)
    roots = Counter(find(i) for i in range(len(texts)))
    out["rows_in_clusters"] = sum(c for c in roots.values() if c > 1)
    target_grams = {g for t in target for g in _ngrams(_WORD.findall(t.lower()), 13)}
    hit = [any(g in target_grams for g in _ngrams(w, 13)) for w in toks]
    # (the MinHash half of contamination: target rows queried against the index)
    for t in target:
        w = _WORD.findall(t.lower())
        s = set(_ngrams(w, 5)) if len(w) >= 5 else {tuple(w)}
        m = MinHash(num_perm=128)
        for sh in s:
            m.update(" ".join(sh).encode("utf-8"))
        for j in lsh.query(m):
            if len(s & shingles[j]) / len(s | shingles[j]) >= 0.8:
                hit[j] = True
    out["contaminated"] = int(sum(hit))
    t3 = time.perf_counter()
    out["seconds"] = {"lexical": t1 - t0, "compression": t2 - t1,
                      "duplicates_contamination": t3 - t2}
    return out


def bleu(rows: int) -> dict[str, float]:
    sys.path.insert(0, str(ROOT / "src"))
    from sacrebleu.metrics import BLEU

    from synthgain.audit.text import self_bleu
    from synthgain.audit.text.corpus import _words

    texts = [" ".join(_words(t)) for t in make_texts(rows, seed=1)[0]]
    t0 = time.perf_counter()
    mine = self_bleu(texts)
    t1 = time.perf_counter()
    b = BLEU(tokenize="none", effective_order=True)
    ref = float(np.mean([b.sentence_score(texts[i], texts[:i] + texts[i + 1:]).score / 100
                         for i in range(len(texts))]))
    t2 = time.perf_counter()
    return {"ours_s": t1 - t0, "sacrebleu_s": t2 - t1, "ours": mine, "sacrebleu": ref}


def _without_language_and_pii() -> None:
    """The per-row checks with the language and personal-data checks left out (each
    returns its "nothing found" column): the text measures as they were before those
    checks, for ``--row-checks``."""
    sys.path.insert(0, str(ROOT / "src"))
    import synthgain.audit.text.rows as rows_mod

    def und(texts: tuple[list[str], list[str] | None]) -> tuple[np.ndarray, None]:
        return np.full(len(texts[0]), "und"), None

    rows_mod._languages_of = und  # type: ignore[assignment]
    rows_mod.personal_flags = lambda t: {"pii": np.full(len(t), "", dtype=object)}  # type: ignore[assignment]


_WORKER_PEAK_MIB: list[float] = []


def _watch_language_worker() -> None:
    """Record the language worker's peak resident memory (``VmHWM`` of its process, read
    just before it is shut down): ``RUSAGE_CHILDREN`` would count the pages it shared
    with this process at fork."""
    import synthgain.audit.text.rows as rows_mod

    real = rows_mod._Languages.__exit__

    def exiting(self: object, *exc: object) -> None:
        pool = getattr(self, "_pool", None)
        for proc in (getattr(pool, "_processes", None) or {}).values():
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    _WORKER_PEAK_MIB.append(int(line.split()[1]) / 1024)
        real(self, *exc)  # type: ignore[arg-type]

    rows_mod._Languages.__exit__ = exiting  # type: ignore[method-assign]


def _child(impl: str, rows: int) -> dict[str, object]:
    t0 = time.perf_counter()
    texts, target = make_texts(rows)
    gen = time.perf_counter() - t0
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if impl == "ours_plain":
        _without_language_and_pii()
    elif impl == "ours":
        sys.path.insert(0, str(ROOT / "src"))
        _watch_language_worker()
    c0 = time.process_time()
    out = (baseline if impl == "baseline" else ours)(texts, target)
    out["cpu_s"] = time.process_time() - c0
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # the language worker, when used
    out["children_cpu_s"] = kids.ru_utime + kids.ru_stime
    out["worker_peak_rss_mib"] = max(_WORKER_PEAK_MIB, default=0.0)
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["rss_after_generation_mib"] = rss0 / 1024
    out["generation_s"] = gen
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--compare-rows", type=int, default=100_000,
                    help="rows of the timed comparison with the baseline (both at this size)")
    ap.add_argument("--bleu-rows", type=int, default=300)
    ap.add_argument("--docs", action="store_true", help="write docs/performance.md's section")
    ap.add_argument("--row-checks", action="store_true",
                    help="only the cost of the language and personal-data checks: the text "
                         "measures at --rows with and without them, one after the other")
    ap.add_argument("--child", choices=["ours", "ours_plain", "baseline"])
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.rows)))
        return
    if args.row_checks:
        _row_checks(args)
        return
    res = {}
    for name, impl, rows in (("ours", "ours", args.compare_rows),
                             ("baseline", "baseline", args.compare_rows),
                             ("ours_full", "ours", args.rows)):
        p = subprocess.run([sys.executable, __file__, "--child", impl, "--rows", str(rows)],
                           capture_output=True, text=True, check=True)
        res[name] = json.loads(p.stdout.strip().splitlines()[-1])
        print(name, rows, res[name], flush=True)
    res["bleu"] = bleu(args.bleu_rows)
    print("self-BLEU", res["bleu"], flush=True)
    if args.docs:
        _write_docs(res, args)


def _row_checks(args: argparse.Namespace) -> None:
    """The text measures at ``--rows`` without, with, and again without the language and
    personal-data checks, each in its own process; the ratio of with to the mean of the
    two without, and each peak resident memory."""
    res = {}
    for name, impl in (("plain_1", "ours_plain"), ("with", "ours"), ("plain_2", "ours_plain")):
        p = subprocess.run([sys.executable, __file__, "--child", impl, "--rows",
                            str(args.rows)], capture_output=True, text=True, check=True)
        res[name] = json.loads(p.stdout.strip().splitlines()[-1])
        r = res[name]
        print(f"{name}: {sum(r['seconds'].values()):.1f} s wall, {r['cpu_s']:.1f} s CPU "
              f"(this process) + {r['children_cpu_s']:.1f} s (its child processes), peak "
              f"{r['peak_rss_mib']:.0f} MiB + {r['worker_peak_rss_mib']:.0f} MiB (the "
              "language worker)", flush=True)
    wall = {k: sum(v["seconds"].values()) for k, v in res.items()}
    plain = (wall["plain_1"] + wall["plain_2"]) / 2
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{args.rows:,} texts: with the language and personal-data checks "
          f"{wall['with']:.1f} s, without {wall['plain_1']:.1f} / {wall['plain_2']:.1f} s: "
          f"{wall['with'] / plain:.2f}x; peak {res['with']['peak_rss_mib']:.0f} MiB + "
          f"{res['with']['worker_peak_rss_mib']:.0f} MiB in the language worker (without: "
          f"{res['plain_1']['peak_rss_mib']:.0f} MiB); load average {load}")


def _write_docs(res: dict, args: argparse.Namespace) -> None:
    o, b, f = res["ours"], res["baseline"], res["ours_full"]
    same = args.rows == args.compare_rows  # synthgain twice at one size: before and after
    rows = []
    for stage in ("lexical", "compression", "duplicates_contamination"):
        so, sb, sf = (x["seconds"][stage] for x in (o, b, f))
        ratio = f"{sb / so:.1f}x" + (f" / {sb / sf:.1f}x" if same else "")
        rows.append(f"| {stage.replace('_', ' + ')} | {so:.1f} | {sb:.1f} | {ratio} | "
                    f"{sf:.1f} |")
    to, tb, tf = (sum(x["seconds"].values()) for x in (o, b, f))
    ratio = f"{tb / to:.1f}x" + (f" / {tb / tf:.1f}x" if same else "")
    rows.append(f"| **all** | **{to:.1f}** | **{tb:.1f}** | **{ratio}** | **{tf:.1f}** |")
    bl = res["bleu"]
    agree = ", ".join(f"{k} {o[k]:.6g} / {b[k]:.6g}" for k in
                      ("distinct_1", "distinct_2", "distinct_3", "repeated_4grams",
                       "opening_share", "compression_ratio", "exact_duplicates",
                       "rows_in_clusters", "contaminated"))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    timing = (f"synthgain runs before the baseline and again after it, all at {args.rows:,} "
              "rows" if same else f"it is timed at {args.compare_rows:,} rows, where it takes "
              f"minutes; synthgain is also run at {args.rows:,}")
    text = f"""<!-- bench-text:start -->
Written by `OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_text.py --rows {args.rows} --compare-rows {args.compare_rows} --docs` (at {commit}, {platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores, load average {load} at the end; the ratios are of runs made one after the other). Texts: 5-30 words, 5 % exact and 5 % near-duplicates, a target of rows / 50; each run in its own process, wall seconds. The baseline is the same measures in plain Python and pandas (sets and Counters of word tuples, datasketch used as its documentation shows); {timing}.

| measures | synthgain, {args.compare_rows:,} rows (s) | baseline, {args.compare_rows:,} rows (s) | ratio{" (run 1 / run 2)" if same else ""} | synthgain{", run 2" if same else ""}, {args.rows:,} rows (s) |
|---|---|---|---|---|
{chr(10).join(rows)}

Peak resident memory (texts included): at {args.compare_rows:,} rows synthgain {o['peak_rss_mib']:.0f} MiB, baseline {b['peak_rss_mib']:.0f} MiB; synthgain at {args.rows:,} rows **{f['peak_rss_mib']:.0f} MiB** ({f['rss_after_generation_mib']:.0f} MiB after generating the texts). Values at {args.compare_rows:,} rows (synthgain / baseline): {agree}; the compression ratio is stdlib zlib at gzip's level 9 in both (the baseline one `gzip.compress` call, synthgain 1 MiB blocks on threads, pigz-style), and the baseline's near-duplicate clusters use datasketch's default LSH bands, which miss pairs near Jaccard 0.8 (docs/audit.md).

Self-BLEU of {args.bleu_rows} texts: {bl['ours_s']:.3f} s (sufficient statistics from hashed n-grams, scored by sacrebleu) against {bl['sacrebleu_s']:.1f} s (sacrebleu's `sentence_score` of each text against the others), {bl['sacrebleu_s'] / bl['ours_s']:.0f}x; values {bl['ours']:.6f} / {bl['sacrebleu']:.6f}.
<!-- bench-text:end -->"""
    path = ROOT / "docs" / "performance.md"
    doc = path.read_text()
    if "<!-- bench-text:start -->" in doc:
        head, rest = doc.split("<!-- bench-text:start -->", 1)
        doc = head + text + rest.split("<!-- bench-text:end -->", 1)[1]
    else:
        doc = doc.rstrip("\n") + "\n\n## Text measures\n\n" + text + "\n"
    path.write_text(doc)


if __name__ == "__main__":
    main()
