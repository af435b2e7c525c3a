"""The paper's quantities and bounds, computed in the Gaussian-mixture simulation.

See ``docs/theory.md`` for how each symbol of Gan & Liu (ICLR 2025) is made concrete.
Entropies and total variation of known distributions come from
:mod:`synthgain.measures`.
"""

from ._chain import Chain, ChainDraws, chain_from_setup, simulate_chain
from ._information import (
    asymptotic_parameter_information,
    crossed_mutual_information,
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
from ._terms import NOISE_REPS, TheoryTerms, Verdict, check_inequalities, compute_terms

__all__ = [
    "NOISE_REPS",
    "PROCESS_STREAM",
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
    "compute_terms",
    "crossed_mutual_information",
    "gaussian_mean_estimation_mi",
    "noisy_mutual_information",
    "simulate_chain",
    "sweep_settings",
    "sweep_terms",
]
