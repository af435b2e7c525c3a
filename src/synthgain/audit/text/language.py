"""Language: each text's language, and language drift, the synthetic rows written in a
language that the anchors do not use.

The identifier is py3langid (langid.py's naive Bayes model over byte n-grams; the
model ships inside its 4.6 MB wheel, so it runs offline). On short texts
it was measured against lingua-language-detector (benchmarks/language_id.py, docs/design.md):
lingua is right more often on 2- to 4-word texts but is 20 times slower and a 96 MB
wheel, and above :data:`LANGUAGE_MIN_PROB` py3langid made no error in 9,600 texts of 24
languages. A row's language is the identifier's best language where its normalised
probability is at least :data:`LANGUAGE_MIN_PROB`, else ``"und"`` (undetermined: too short
or mixed to tell; never counted as drift), and ``"und"`` for a text with no letter
(digits, punctuation, emoji).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = ["LANGUAGE_MIN_PROB", "LANGUAGE_RARE", "UNDETERMINED", "language_drift",
           "languages"]

#: a row's language is told only from this normalised probability on: at 0.8 py3langid
#: made no error on 9,600 texts of 2 to 16 words in 24 languages, and told 36 % of the
#: 2-word texts, 59 % of the 4-word ones and 94 % of the 16-word ones
#: (benchmarks/language_id.py)
LANGUAGE_MIN_PROB = 0.8
#: a synthetic row drifts when its language is used by fewer than this share of anchors
LANGUAGE_RARE = 0.01
#: the code of a text whose language is not told
UNDETERMINED = "und"
_LETTER = re.compile(r"[^\W\d_]")
_NOT_LANGUAGE = {"zxx", UNDETERMINED}  # py3langid's "no linguistic content"


@lru_cache(maxsize=1)
def _identifier() -> Any:
    """py3langid's identifier with normalised probabilities, loaded once."""
    from py3langid import langid

    return langid.LanguageIdentifier.from_modelpath(langid.MODEL_DIR / langid.MODEL_FILE,
                                                    norm_probs=True)


def languages(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each text's language (ISO 639-1 code, or ``"und"``) and the identifier's
    probability of it (NaN for a text with no letter).

    Examples
    --------
    >>> from synthgain.audit.text.language import languages
    >>> codes, prob = languages(["Das ist ein kurzer Satz auf Deutsch, nicht wahr?",
    ...                          "This is a short sentence written in English.", "🙂 123"])
    >>> codes.tolist()
    ['de', 'en', 'und']
    """
    ident = _identifier()
    n = len(texts)
    codes = np.full(n, UNDETERMINED, dtype=object)
    prob = np.full(n, np.nan)
    for i, t in enumerate(texts):
        if _LETTER.search(t) is None:
            continue
        code, p = ident.classify(t)
        prob[i] = float(p)
        if p >= LANGUAGE_MIN_PROB and code not in _NOT_LANGUAGE:
            codes[i] = code
    return codes.astype(str), prob


def language_drift(synthetic: np.ndarray, anchor: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Per synthetic row, whether its language is used by fewer than
    :data:`LANGUAGE_RARE` of the anchors; and the same rule for each anchor against the
    other anchors (leave-one-out: what a row drawn from the anchors' own distribution
    gives, the null of the drift share). Undetermined rows never drift.

    Examples
    --------
    >>> import numpy as np
    >>> from synthgain.audit.text.language import language_drift
    >>> s, a = language_drift(np.array(["en", "de", "und"]), np.array(["en"] * 99 + ["fr"]))
    >>> s.tolist(), int(a.sum())
    ([False, True, False], 1)
    """
    n = anchor.size
    counts = Counter(anchor.tolist())
    told = synthetic != UNDETERMINED
    used = np.array([counts.get(c, 0) for c in synthetic.tolist()], dtype=float)
    drift = told & (used < LANGUAGE_RARE * n)
    own = np.array([counts[c] - 1 for c in anchor.tolist()], dtype=float)
    anchor_drift = (anchor != UNDETERMINED) & (own < LANGUAGE_RARE * max(n - 1, 1))
    return drift, anchor_drift
