"""The paper's generation process (Gan & Liu 2025, Section 3.2 and Appendix B).

``S_anchor -> p -> M(p) -> S_gen``, simulated with Gaussian mixtures: a :class:`Setup`
holds the parameters of one setting, :func:`simulate` draws the ground truth ``G``, the
anchors, the generator ``M`` and the synthetic data ``S_gen = M(p) + eps``.
"""

from ._covariance import COVARIANCE_MODELS, random_covariances
from ._setup import FIT_COMPONENTS, Setup
from ._simulate import (
    ANCHOR,
    GENERATOR_RIDGE,
    GROUP_NAMES,
    IRRELEVANT,
    UNSAMPLED,
    Simulation,
    reestimate_components,
    simulate,
)

__all__ = [
    "ANCHOR",
    "COVARIANCE_MODELS",
    "FIT_COMPONENTS",
    "GENERATOR_RIDGE",
    "GROUP_NAMES",
    "IRRELEVANT",
    "UNSAMPLED",
    "Setup",
    "Simulation",
    "random_covariances",
    "reestimate_components",
    "simulate",
]
