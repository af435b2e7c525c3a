"""The paper's quantities and bounds, computed in the Gaussian-mixture simulation.

See ``docs/theory.md`` for how each symbol of Gan & Liu (ICLR 2025) is made concrete.
"""

from ._information import (
    asymptotic_parameter_information,
    crossed_mutual_information,
    gaussian_entropy,
    gaussian_mean_estimation_mi,
    mixture_entropy,
    noisy_mutual_information,
    total_variation_mc,
)

__all__ = [
    "asymptotic_parameter_information",
    "crossed_mutual_information",
    "gaussian_entropy",
    "gaussian_mean_estimation_mi",
    "mixture_entropy",
    "noisy_mutual_information",
    "total_variation_mc",
]
