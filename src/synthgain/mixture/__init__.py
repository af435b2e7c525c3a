"""Gaussian mixtures: parameters, densities, sampling and batched EM fitting."""

from ._em import (
    BatchFit,
    BicCandidate,
    MixtureFit,
    fit_gmm,
    fit_gmm_batched,
    gmm_bic_path,
    n_parameters,
    select_gmm,
)
from ._gaussian_mixture import GaussianMixture
from ._kernels import LOG_2PI, logsumexp
from ._stack import MixtureStack

__all__ = [
    "LOG_2PI",
    "BatchFit",
    "BicCandidate",
    "GaussianMixture",
    "MixtureFit",
    "MixtureStack",
    "fit_gmm",
    "fit_gmm_batched",
    "gmm_bic_path",
    "logsumexp",
    "n_parameters",
    "select_gmm",
]
