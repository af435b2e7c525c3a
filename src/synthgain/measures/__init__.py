"""Information measures: entropy, divergences and mutual information, with known error.

Functions take distributions (:class:`Gaussian`, :class:`~synthgain.mixture.GaussianMixture`)
or samples (arrays of shape (n, d)) and return an :class:`Estimate` in nats:

- :func:`entropy`, :func:`kl_divergence`, :func:`js_divergence`, :func:`total_variation`,
  :func:`mutual_information`, :func:`label_mutual_information`;
- :func:`nearest_neighbours` (distances and indices), :func:`knn_distances` (distances)
  and :func:`within_radius` (radius counts), the one exact neighbour search engine, used
  by the sample estimators and the audit;
- :func:`binned_probabilities`, :func:`binned_density_per_sample` and
  :func:`discrete_divergence`, the batched histogram kernels of ``method="histogram"``
  and of the KL-gap protocol (no checks);
- :func:`rank_correlation`, Spearman's rho with a bootstrap interval, and
  :func:`spearman_rows`, its batched kernel (many row pairs at once, no checks);
- :func:`mc_divergence_rows`, the batched Monte Carlo divergence kernel (KL, JS, TV
  from log-densities at draws, many rows at once, no checks);
- :func:`holm`, Holm's step-down adjustment of p-values (the audit's topic tests, Study 4);
- :func:`good_turing_unseen`, :func:`chao1` and :func:`richness_forecast`, the unseen-cell
  (richness) estimators: the unseen probability mass, the number of cells and the cells
  ``extra`` more draws would occupy, from the draws per cell.

Accuracy of every estimator against closed forms: docs/estimators.md.
"""

from ._api import (
    entropy,
    js_divergence,
    kl_divergence,
    label_mutual_information,
    mutual_information,
    total_variation,
)
from ._correlation import rank_correlation, spearman_rows
from ._estimate import Estimate
from ._gaussian import Gaussian
from ._histogram import binned_density_per_sample, binned_probabilities, discrete_divergence
from ._knn import knn_distances, nearest_neighbours, within_radius
from ._mixture import mc_divergence_rows
from ._multiple import holm
from ._richness import chao1, good_turing_unseen, richness_forecast

__all__ = [
    "Estimate",
    "Gaussian",
    "binned_density_per_sample",
    "binned_probabilities",
    "chao1",
    "discrete_divergence",
    "entropy",
    "good_turing_unseen",
    "holm",
    "js_divergence",
    "kl_divergence",
    "knn_distances",
    "label_mutual_information",
    "mc_divergence_rows",
    "mutual_information",
    "nearest_neighbours",
    "rank_correlation",
    "richness_forecast",
    "spearman_rows",
    "total_variation",
    "within_radius",
]
