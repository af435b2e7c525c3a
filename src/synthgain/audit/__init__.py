"""Audit real synthetic datasets: loaders, embedders, measures, probe, report.

Given anchor data (the real seed examples), the synthetic data made from them and,
optionally, a held-out target set, :func:`run_audit` measures what the synthetic data
adds, in Gan & Liu's terms (KL gap, entropies, information gain) and in the terms
practitioners use (divergences, precision/recall/density/coverage, Vendi score, novelty,
a probe of real generalization). The result holds data; ``synthgain.report.write_audit``
saves metrics.json and a self-contained report.html.
"""

from ..lm import quiet_libraries, torch_threads
from ._c2st import classifier_two_sample_test
from ._containers import read_rows
from ._demo import markov_generate, quotes_by_series, run_text_demo, write_chat_example
from ._embed import GRAM_MAX_ROWS, LSAEmbedder, available_models, embed_texts
from ._gate import GateResult, evaluate_gate, parse_conditions
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
from ._probe import label_issues, probe
from ._records import Metric
from ._rows import (
    DEFAULT_DROP,
    DROP_NAMES,
    OutlierScores,
    RowInfo,
    drop_mask,
    outlier_scores,
    parse_drop,
    row_flags,
    row_table,
)
from ._verdict import Thresholds, parse_thresholds
from .text import TextAudit, audit_texts, text_row_flags

__all__ = [
    "DEFAULT_DROP",
    "DROP_NAMES",
    "GRAM_MAX_ROWS",
    "SCHEMA",
    "AuditResult",
    "Dataset",
    "GateResult",
    "LSAEmbedder",
    "Metric",
    "NoveltyResult",
    "OutlierScores",
    "Projection",
    "RowInfo",
    "TextAudit",
    "Thresholds",
    "audit_texts",
    "available_models",
    "classifier_two_sample_test",
    "difference",
    "drop_mask",
    "embed_texts",
    "evaluate_gate",
    "information_terms",
    "kl_gap_mixture",
    "label_issues",
    "load_dataset",
    "markov_generate",
    "novelty",
    "outlier_scores",
    "parse_conditions",
    "parse_drop",
    "parse_thresholds",
    "prdc",
    "probe",
    "project",
    "quiet_libraries",
    "quotes_by_series",
    "read_rows",
    "row_flags",
    "row_table",
    "run_audit",
    "run_text_demo",
    "text_row_flags",
    "torch_threads",
    "vendi_score",
    "write_chat_example",
]
