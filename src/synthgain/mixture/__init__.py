"""Gaussian mixtures: parameters, densities, sampling and batched EM fitting."""

from ._em import BatchFit, MixtureFit, fit_gmm, fit_gmm_batched
from ._gaussian_mixture import GaussianMixture

__all__ = ["BatchFit", "GaussianMixture", "MixtureFit", "fit_gmm", "fit_gmm_batched"]
