"""The paper's quantities and bounds, computed in the Gaussian-mixture simulation.

See ``docs/theory.md`` for how each symbol of Gan & Liu (ICLR 2025) is made concrete.
Entropies and total variation of known distributions come from
:mod:`synthgain.measures`.
"""

from ._chain import FIT_RIDGE, Chain, ChainDraws, chain_from_setup, simulate_chain
from ._discrete import curation_counterexample, discrete_terms, z4_counterexample
from ._information import (
    asymptotic_parameter_information,
    check_information_estimators,
    crossed_mutual_information,
    design_covariances,
    gaussian_design_mi,
    gaussian_mean_estimation_mi,
    noisy_mutual_information,
)
from ._sweep import (
    PROCESS_STREAM,
    SWEEP_PARAMS,
    TERMS_STREAM,
    SweepSetting,
    sweep_settings,
    sweep_terms,
)
from ._terms import (
    BASES,
    NOISE_REPS,
    REFERENCES,
    TheoryTerms,
    Verdict,
    check_inequalities,
    compute_terms,
    differential_margin,
    unit_dependence,
)

__all__ = [
    "BASES",
    "FIT_RIDGE",
    "NOISE_REPS",
    "PROCESS_STREAM",
    "REFERENCES",
    "SWEEP_PARAMS",
    "TERMS_STREAM",
    "Chain",
    "ChainDraws",
    "SweepSetting",
    "TheoryTerms",
    "Verdict",
    "asymptotic_parameter_information",
    "chain_from_setup",
    "check_inequalities",
    "check_information_estimators",
    "compute_terms",
    "crossed_mutual_information",
    "curation_counterexample",
    "design_covariances",
    "differential_margin",
    "discrete_terms",
    "gaussian_design_mi",
    "gaussian_mean_estimation_mi",
    "noisy_mutual_information",
    "simulate_chain",
    "sweep_settings",
    "sweep_terms",
    "unit_dependence",
    "z4_counterexample",
]
