"""Gaussian mixtures: parameters, densities, sampling and batched EM fitting."""

from ._em import BatchFit, MixtureFit, fit_gmm, fit_gmm_batched, n_parameters, select_gmm
from ._gaussian_mixture import GaussianMixture
from ._kernels import LOG_2PI, logsumexp
from ._stack import MixtureStack

__all__ = [
    "LOG_2PI",
    "BatchFit",
    "GaussianMixture",
    "MixtureFit",
    "MixtureStack",
    "fit_gmm",
    "fit_gmm_batched",
    "logsumexp",
    "n_parameters",
    "select_gmm",
]
