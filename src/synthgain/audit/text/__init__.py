"""Text checks of the audit, on the measured texts (``--field``) of each dataset, one
module per check:

- :mod:`.boilerplate`: lengths (characters, whitespace tokens and, with MiniLM, the
  embedder's word pieces: it reads at most :data:`EMBEDDER_MAX_TOKENS`, longer texts are
  truncated), **empty** texts and **refusal** boilerplate (:data:`REFUSAL_PATTERNS`).
- :mod:`.lexical`: lexical diversity: distinct-1/2/3 (unique word n-grams / all word
  n-grams of the corpus), the gzip compression ratio (original bytes / compressed bytes:
  higher is more repetitive), self-BLEU (each text's sentence BLEU against all the
  others, averaged), the share of 4-gram occurrences whose 4-gram occurs more than once
  in the corpus, and the share of texts opening with the most common first three words.
- :mod:`.duplicates`: **duplicates** in the synthetic set: exact (after case and
  whitespace normalisation) and near (MinHash LSH on word 5-gram shingles), grouped into
  clusters.
- :mod:`.contamination`: **copies of anchors** by n-gram containment, and
  **contamination** with the target and an evaluation set (a shared 13-gram, or a
  verified MinHash near-duplicate), read against the anchors' own overlap with the
  same set.
- :mod:`.personal`: **personal data and secrets**: e-mail addresses, phone numbers, IP
  addresses, payment card numbers, IBANs and credential-like strings, each candidate
  validated (checksums, numbering plans) so that dates, versions and ISBNs are not
  flagged.
- :mod:`.language`: each text's **language** (py3langid, told above a probability
  floor) and **language drift**: synthetic rows in a language fewer than 1 % of the
  anchors use, against the anchors' own share.
- :mod:`.rows`: the per-row table those checks fill (:func:`text_row_flags`).
- :mod:`.audit`: the audit's records (:func:`audit_texts`).
- :mod:`.corpus`: the words, n-grams and shingles every check shares, as hashes.

Every corpus-level lexical measure depends on the corpus size, so the synthetic-minus-
anchor difference of each goes through :func:`synthgain.audit._null.compare` (matched
sizes, a split of the anchors as the null); the value at each dataset's full size is
kept beside it as a description. Duplicates, contamination, refusals and empty texts are
counts, with example rows.
"""

from .audit import TextAudit, audit_texts, text_counts_line
from .boilerplate import EMBEDDER_MAX_TOKENS, REFUSAL_PATTERNS, minilm_token_counts
from .contamination import CONTAMINATION_N
from .language import languages
from .lexical import (
    compression_ratio,
    distinct_n,
    opening_share,
    repeated_ngram_share,
    self_bleu,
)
from .personal import PII_KINDS, personal_data
from .rows import text_row_flags

__all__ = [
    "CONTAMINATION_N",
    "EMBEDDER_MAX_TOKENS",
    "PII_KINDS",
    "REFUSAL_PATTERNS",
    "TextAudit",
    "audit_texts",
    "compression_ratio",
    "distinct_n",
    "languages",
    "minilm_token_counts",
    "opening_share",
    "personal_data",
    "repeated_ngram_share",
    "self_bleu",
    "text_counts_line",
    "text_row_flags",
]
