"""Audit real synthetic datasets: loaders, embedders, measures, probe, report.

Given anchor data (the real seed examples), the synthetic data made from them and,
optionally, a held-out target set, :func:`run_audit` measures what the synthetic data
adds, in Gan & Liu's terms (KL gap, entropies, information gain) and in the terms
practitioners use (divergences, precision/recall/density/coverage, Vendi score, novelty,
a probe of real generalization). The result holds data; ``synthgain.report.write_audit``
saves metrics.json and a self-contained report.html.
"""

from ._c2st import classifier_two_sample_test
from ._demo import markov_generate, quotes_by_series, run_text_demo
from ._embed import GRAM_MAX_ROWS, LSAEmbedder, available_models, embed_texts
from ._information import (
    Projection,
    difference,
    information_terms,
    kl_gap_mixture,
    project,
)
from ._io import Dataset, load_dataset
from ._metrics import NoveltyResult, novelty, prdc, vendi_score
from ._pipeline import SCHEMA, AuditResult, run_audit
from ._probe import probe
from ._records import Metric

__all__ = [
    "GRAM_MAX_ROWS",
    "SCHEMA",
    "AuditResult",
    "Dataset",
    "LSAEmbedder",
    "Metric",
    "NoveltyResult",
    "Projection",
    "available_models",
    "classifier_two_sample_test",
    "difference",
    "embed_texts",
    "information_terms",
    "kl_gap_mixture",
    "load_dataset",
    "markov_generate",
    "novelty",
    "prdc",
    "probe",
    "project",
    "quotes_by_series",
    "run_audit",
    "run_text_demo",
    "vendi_score",
]
