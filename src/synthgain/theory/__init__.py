"""The paper's quantities and bounds, computed in the Gaussian-mixture simulation.

See ``docs/theory.md`` for how each symbol of Gan & Liu (ICLR 2025) is made concrete.
"""

from ._chain import Chain, ChainDraws, make_chain, simulate_chain
from ._information import (
    asymptotic_parameter_information,
    crossed_mutual_information,
    gaussian_entropy,
    gaussian_mean_estimation_mi,
    mixture_entropy,
    noisy_mutual_information,
    total_variation_mc,
)
from ._sweep import chain_from_setup, sweep_terms
from ._terms import TheoryTerms, Verdict, check_inequalities, compute_terms

__all__ = [
    "Chain",
    "ChainDraws",
    "TheoryTerms",
    "Verdict",
    "asymptotic_parameter_information",
    "chain_from_setup",
    "check_inequalities",
    "compute_terms",
    "crossed_mutual_information",
    "gaussian_entropy",
    "gaussian_mean_estimation_mi",
    "make_chain",
    "mixture_entropy",
    "noisy_mutual_information",
    "simulate_chain",
    "sweep_terms",
    "total_variation_mc",
]
