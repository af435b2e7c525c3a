import numpy as np
import pytest

from synthgain.exceptions import ValidationError
from synthgain.study import StudyConfig, TextSplit, add_word_noise, assign_classes, generate_text
from synthgain.study._text import fit_text_embedder


def _split():
    rng = np.random.default_rng(0)
    parts, labels = {}, {}
    classes = ["a", "b", "c", "d", "e"]
    for part, n in (("pool", 30), ("anchor", 6), ("reference", 8), ("test", 8)):
        texts, labs = [], []
        for c in classes:
            for i in range(n):
                words = [f"{c}{int(w)}" for w in rng.integers(0, 12, size=8)]
                texts.append(" ".join(words) + f" end{i % 3}")
                labs.append(c)
        parts[part], labels[part] = texts, np.asarray(labs)
    return TextSplit(parts, labels, classes)


@pytest.mark.parametrize("generator", ["unigram", "markov1", "markov2"])
def test_generated_text_keeps_proportions_and_uses_each_class_pool(generator):
    split = _split()
    cfg = StudyConfig(K=1, J=2, L=2, per_class=12, generator=generator)
    classes = assign_classes(cfg, split.classes, np.random.default_rng(1))
    at, ya = split.take("anchor", classes["anchored"])
    syn = generate_text(split, classes, at[:3], ya[:3], cfg, rng=2)
    assert len(syn.texts) == 12 * 5
    irrelevant = np.isin(syn.source, classes["irrelevant"])
    assert irrelevant.mean() == pytest.approx(2 / 5)
    assert set(syn.labels) <= set(classes["task"])
    for text, src in zip(syn.texts, syn.source, strict=True):
        # every word comes from the source class's pool (class prefix or the shared "end")
        assert all(w.startswith((src, "end")) for w in text.split()), text
    has = syn.prompt_anchor >= 0
    assert np.all(syn.labels[has] == classes["anchored"][0])
    if generator != "unigram":  # Markov chains start from the prompt's opening words
        rows = np.flatnonzero(has & ~irrelevant)
        for r in rows:
            assert syn.texts[r].split()[0] == at[syn.prompt_anchor[r]].split()[0]


def test_word_noise_replaces_the_stated_fraction():
    texts = [" ".join(["w"] * 50)] * 100
    vocab = [f"v{i}" for i in range(30)]
    noisy = add_word_noise(texts, 0.3, vocab, rng=0)
    words = [w for t in noisy for w in t.split()]
    n = len(words)
    rate = np.mean([w != "w" for w in words])
    assert abs(rate - 0.3) < 4 * np.sqrt(0.3 * 0.7 / n)
    assert add_word_noise(texts, 0.0, vocab, rng=0) == texts
    with pytest.raises(ValidationError, match=r"`noise` must be a finite real number in \[0, 1\]"):
        add_word_noise(texts, 1.5, vocab)


def test_lsa_embedder_is_fixed_by_its_corpus():
    split = _split()
    embed = fit_text_embedder(split.texts["pool"], dim=16)
    a = embed(split.texts["test"][:5])
    b = embed([*split.texts["test"][:5], "a1 a2 a3"])[:5]  # other texts do not move it
    np.testing.assert_allclose(a, b)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0)
