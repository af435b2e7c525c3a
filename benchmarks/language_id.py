"""Language identification on short texts: py3langid (the audit's) against
lingua-language-detector, right answers and speed, and the check's cost in the audit.

The texts: for each of 24 languages, ``--per-length`` texts of 2, 4, 8 and 16 words drawn
at random from Faker's word list of that language (``faker.providers.lorem``: the
language's common words; joined without spaces in Japanese, Chinese and Thai), seeded.
Word salad rather than sentences, but of the language's own words: what a bag of
character n-grams sees in a short text. Reported per length: the share right at the
identifier's best guess, and for py3langid with the audit's probability floor
(``LANGUAGE_MIN_PROB``) the share told (not ``und``) and the share wrong among all.
lingua runs when installed (``pip install lingua-language-detector``; not a dependency).
The cost: ``languages`` and the other per-row text checks (``scan``) on
``bench_text.make_texts(--cost-rows)``, in this process, one run each.

    .venv/bin/pip install faker lingua-language-detector   # faker: in the dev extra
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/language_id.py
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

#: Faker locale -> ISO 639-1 code
LOCALES = {"ar_AA": "ar", "az_AZ": "az", "bn_BD": "bn", "cs_CZ": "cs", "da_DK": "da",
           "de_DE": "de", "el_GR": "el", "en_US": "en", "es_ES": "es", "fa_IR": "fa",
           "fr_FR": "fr", "he_IL": "he", "hy_AM": "hy", "it_IT": "it", "ja_JP": "ja",
           "mk_MK": "mk", "nl_NL": "nl", "pl_PL": "pl", "ru_RU": "ru", "th_TH": "th",
           "tl_PH": "tl", "uk_UA": "uk", "vi_VN": "vi", "zh_CN": "zh"}
LENGTHS = (2, 4, 8, 16)


def make(per_length: int, seed: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    from faker import Faker

    g = np.random.default_rng(seed)
    texts, langs, lens = [], [], []
    for loc, lang in LOCALES.items():
        words = Faker(loc).get_words_list()
        sep = "" if lang in ("ja", "zh", "th") else " "
        for n in LENGTHS:
            for _ in range(per_length):
                texts.append(sep.join(g.choice(words, n)))
                langs.append(lang)
                lens.append(n)
    return texts, np.array(langs), np.array(lens)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--per-length", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cost-rows", type=int, default=100_000)
    args = ap.parse_args()
    from synthgain.audit.text.language import LANGUAGE_MIN_PROB, _identifier, languages

    texts, langs, lens = make(args.per_length, args.seed)
    ident = _identifier()
    t = time.perf_counter()
    raw = [ident.classify(x) for x in texts]
    t_py = time.perf_counter() - t
    best = np.array([c for c, _ in raw])
    codes = languages(texts)[0]
    out = {"py3langid": best}
    speed = {"py3langid": len(texts) / t_py}
    try:
        from lingua import LanguageDetectorBuilder
    except ImportError:
        print("lingua-language-detector not installed: py3langid only")
    else:
        det = LanguageDetectorBuilder.from_all_languages().build()
        t = time.perf_counter()
        found = det.detect_languages_in_parallel_of(texts)
        speed["lingua"] = len(texts) / (time.perf_counter() - t)
        out["lingua"] = np.array([r.iso_code_639_1.name.lower() if r is not None else ""
                                  for r in found])
    print(f"{len(texts):,} texts, {len(LOCALES)} languages, seed {args.seed}")
    head = " | ".join(f"{k} right" for k in out)
    print(f"| words | {head} | py3langid >= {LANGUAGE_MIN_PROB}: told | wrong |")
    print("|---|" + "---|" * (len(out) + 2))
    for n in LENGTHS:
        m = lens == n
        cells = " | ".join(f"{np.mean(v[m] == langs[m]):.3f}" for v in out.values())
        told = codes[m] != "und"
        wrong = np.mean(told & (codes[m] != langs[m]))
        print(f"| {n} | {cells} | {told.mean():.3f} | {wrong:.3f} |")
    print("texts per second (this machine): "
          + ", ".join(f"{k} {v:,.0f}" for k, v in speed.items()))
    from bench_text import make_texts
    from synthgain.audit.text.rows import scan

    cost = make_texts(args.cost_rows)[0]
    anchors = cost[: args.cost_rows // 10]
    t = time.perf_counter()
    languages(cost)
    languages(anchors)
    t_lang = time.perf_counter() - t
    t = time.perf_counter()
    scan(cost, anchor=anchors)
    t_scan = time.perf_counter() - t
    print(f"cost on bench_text.make_texts({args.cost_rows:,}), the first tenth also as "
          f"anchors: every per-row text check (scan) {t_scan:.2f} s, of which the language "
          f"of both sets {t_lang:.2f} s: {t_scan / (t_scan - t_lang):.2f} times the checks "
          "without it")

if __name__ == "__main__":
    main()
