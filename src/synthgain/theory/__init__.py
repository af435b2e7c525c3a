"""The paper's quantities and bounds, computed in the Gaussian-mixture simulation.

See ``docs/theory.md`` for how each symbol of Gan & Liu (ICLR 2025) is made concrete.
Entropies and total variation of known distributions come from
:mod:`synthgain.measures`.
"""

from ._chain import Chain, ChainDraws, make_chain, simulate_chain
from ._information import (
    asymptotic_parameter_information,
    crossed_mutual_information,
    gaussian_mean_estimation_mi,
    noisy_mutual_information,
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
    "gaussian_mean_estimation_mi",
    "make_chain",
    "noisy_mutual_information",
    "simulate_chain",
    "sweep_terms",
]
