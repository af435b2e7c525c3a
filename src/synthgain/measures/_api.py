"""Public information measures: one function per quantity, ``method=`` picks the estimator.

Arguments are distributions (:class:`Gaussian`, :class:`~synthgain.mixture.GaussianMixture`)
or samples (arrays of shape (n, d); a 1-D array is one feature). Every function returns
an :class:`Estimate` in nats.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._rng import RNGLike
from .._validation import check_choice, check_real
from ..exceptions import ValidationError
from . import _gaussian, _histogram, _knn_estimators, _mixture
from ._common import (
    Distribution,
    _as_mixture,
    _as_sample,
    _check_k,
    _from_samples,
    _histogram_estimate,
    _is_dist,
    _monte_carlo,
    _pair,
    _ratio_k,
    _SampleOptions,
    _split_permutation,
)
from ._estimate import Estimate
from ._gaussian import Gaussian
from ._mutual import label_mutual_information, mutual_information
from ._options import HISTOGRAM, KNN, KNN_DIVERGENCE, MONTE_CARLO, NONE, applies

__all__ = [
    "entropy",
    "js_divergence",
    "kl_divergence",
    "label_mutual_information",
    "mutual_information",
    "total_variation",
]


# --- entropy -------------------------------------------------------------------------
@applies({"closed_form": NONE, "monte_carlo": MONTE_CARLO, "bounds": NONE,
          "kozachenko_leonenko": KNN, "histogram": HISTOGRAM},
         auto_dist="closed_form|monte_carlo", auto_sample="kozachenko_leonenko",
         is_dist=_is_dist)
def entropy(
    x: Any,
    *,
    method: str = "auto",
    k: int = 3,
    ties: str = "jitter",
    standardize: bool = False,
    n_bootstrap: int = 0,
    algorithm: str = "auto",
    bins: int | str = "auto",
    n_samples: int = 10_000,
    target_stderr: float | None = None,
    max_samples: int = 10_000_000,
    rng: RNGLike = None,
) -> Estimate:
    r"""Differential entropy :math:`H(X) = -\int p \log p` in nats.

    Parameters
    ----------
    x : Gaussian, GaussianMixture or array_like of shape (n, d)
        A distribution or a sample (a 1-D array is one feature).
    method : str, default "auto"
        ``"closed_form"`` (Gaussian), ``"monte_carlo"`` (mixtures; Gaussian too),
        ``"bounds"`` (mixtures: Huber et al. 2008 lower/upper bounds in ``lower``/``upper``,
        value their midpoint), ``"kozachenko_leonenko"`` (samples), ``"histogram"``
        (samples, d <= 3). ``"auto"``: closed form for a Gaussian, Monte Carlo for a
        mixture, Kozachenko-Leonenko for samples.
    k : int, default 3
        Neighbour order of the kNN estimator.
    ties : {"jitter", "remove", "raise"}
        Duplicate handling for samples (see ``synthgain.measures._knn_estimators``):
        "jitter" dequantises tied features with uniform noise of their grid step.
    standardize : bool, default False
        Centre and scale each feature to unit standard deviation before the neighbour
        search; the entropy of the original data is still reported (``sum_j log s_j`` is
        added back), so only the metric of the search changes. Unlike the divergences and
        mutual information (default on), entropy is not invariant to scale:
        :math:`H(cX) = H(X) + d \log c`, so there is no unit-free value to protect, and
        the raw estimator already follows a common rescaling exactly (the estimate shifts
        by :math:`d \log c`). Read only by ``"kozachenko_leonenko"``.
    n_bootstrap : int, default 0
        Bootstrap replicates of the per-point terms (neighbours fixed) for a 95% interval.
    algorithm : {"auto", "kdtree", "brute", "faiss"}
        Neighbour search backend (:func:`knn_distances` describes each).
    bins : int or "auto"
        Histogram bins per axis (``"auto"``: ``ceil(2 n^(1/(d+2)))``).
    n_samples : int, default 10000
        Monte Carlo draws (the pilot when ``target_stderr`` is set).
    target_stderr : float, optional
        Standard error to reach; the draws are increased to it, up to ``max_samples``.
    max_samples : int, default 10000000
        Cap on the Monte Carlo draws.
    rng : seed, SeedSequence or Generator
        Monte Carlo draws and tie jitter.

    Returns
    -------
    Estimate

    Notes
    -----
    Gaussian: :math:`H = \frac12 (d \log 2\pi e + \log\det\Sigma)`. Monte Carlo:
    :math:`H = E_p[-\log p(X)]`, standard error from the sample variance.
    Kozachenko-Leonenko: :math:`\hat H = \psi(n) - \psi(k) + \log V_d +
    \frac dn \sum_i \log \varepsilon_i` (Kraskov et al. 2004, eq. 20); its standard
    error treats the per-point terms as independent.

    Examples
    --------
    The closed form of a Gaussian, ``(d / 2) log(2 pi e)`` for the identity covariance, and
    the Kozachenko-Leonenko estimate from 2,000 draws of a standard normal:

    >>> import numpy as np
    >>> from synthgain.measures import Gaussian, entropy
    >>> h = entropy(Gaussian(np.zeros(2), np.eye(2)))
    >>> bool(np.isclose(h.value, np.log(2 * np.pi * np.e)))
    True
    >>> x = np.random.default_rng(0).normal(size=(2000, 1))
    >>> est = entropy(x, method="kozachenko_leonenko", rng=0)
    >>> bool(abs(est.value - 0.5 * np.log(2 * np.pi * np.e)) < 0.05)
    True

    References
    ----------
    .. [1] L. F. Kozachenko and N. N. Leonenko, "Sample estimate of the entropy of a random
       vector", Problems of Information Transmission 23(2), 95-101 (1987).
    .. [2] M. N. Goria, N. N. Leonenko, V. V. Mergel and P. L. Novi Inverardi, "A new class
       of random vector entropy estimators and its applications in testing statistical
       hypotheses", Journal of Nonparametric Statistics 17(3), 277-297 (2005),
       doi:10.1080/10485250500309608.
    """
    if isinstance(x, Gaussian):
        method = check_choice(method, "method", ["auto", "closed_form", "monte_carlo"])
        if method in ("auto", "closed_form"):
            return Estimate(value=_gaussian._entropy(x), method="closed_form")
    if _is_dist(x):
        method = check_choice(method, "method", ["auto", "monte_carlo", "bounds"])
        gm = _as_mixture(x)
        lo, hi = _mixture._entropy_bounds(gm)
        if method == "bounds":
            return Estimate(value=0.5 * (lo + hi), method="bounds", lower=lo, upper=hi)
        return _monte_carlo(
            "monte_carlo", lambda n, g: _mixture.mc_entropy_parts(gm, n, g),
            n_samples, target_stderr, max_samples, rng, lower=lo, upper=hi,
        )
    method = check_choice(method, "method", ["auto", "kozachenko_leonenko", "histogram"])
    arr = _as_sample(x, "x")
    if method == "histogram":
        return _histogram_estimate(lambda b: _histogram.entropy(arr, b), [arr], bins)
    k = _check_k(k, arr.shape[0] - 1, "at most the number of points minus 1")
    opts = _SampleOptions(ties, standardize, None, 2, n_bootstrap, algorithm, rng,
                          scale_free=False)
    return _from_samples(
        "kozachenko_leonenko",
        lambda a: [(1.0, _knn_estimators._kl_entropy_terms(a[0], k, opts.algorithm))],
        [arr], opts, {"k": k}, permute=None, restore_scale=True,
    )


# --- divergences ---------------------------------------------------------------------
@applies({"closed_form": NONE, "monte_carlo": MONTE_CARLO, "hershey_olsen": NONE,
          "hershey_olsen_product": NONE, "durrieu": NONE,
          "wang_kulkarni_verdu": KNN_DIVERGENCE, "histogram": HISTOGRAM | {"alpha"}},
         auto_dist="closed_form|monte_carlo", auto_sample="wang_kulkarni_verdu",
         is_dist=_is_dist)
def kl_divergence(
    p: Any,
    q: Any,
    *,
    method: str = "auto",
    k: int = 1,
    ties: str = "jitter",
    standardize: bool | None = None,
    bias_correction: str | None = None,
    n_permutations: int = 20,
    n_bootstrap: int = 0,
    algorithm: str = "auto",
    bins: int | str = "auto",
    alpha: float = 0.5,
    n_samples: int = 10_000,
    target_stderr: float | None = None,
    max_samples: int = 10_000_000,
    rng: RNGLike = None,
) -> Estimate:
    r"""Kullback-Leibler divergence :math:`KL(p \| q) = E_p[\log p(X) - \log q(X)]` in nats.

    Parameters
    ----------
    p, q : Gaussian, GaussianMixture or array_like of shape (n, d) and (m, d)
        Two distributions or two samples of the same dimension.
    method : str, default "auto"
        ``"closed_form"`` (two Gaussians), ``"monte_carlo"`` (distributions; standard error
        from the sample variance, Durrieu bounds in ``lower``/``upper``),
        ``"hershey_olsen"`` (variational approximation), ``"hershey_olsen_product"``
        (product-of-Gaussians approximation), ``"durrieu"`` (lower/upper bounds, value
        their midpoint), ``"wang_kulkarni_verdu"`` (samples), ``"histogram"`` (samples,
        d <= 3, see Notes). ``"auto"``: closed form for two Gaussians, Monte
        Carlo for mixtures, Wang-Kulkarni-Verdu for samples.
    k : int, default 1
        Neighbour order (the same k in both samples).
    bias_correction : {None, "permutation"}
        Subtract the mean estimate over ``n_permutations`` random re-splits of the pooled
        samples into sizes (n, m), where the true divergence is 0. This removes the bias
        exactly at (and near) p = q; far from it the bias differs (for the ratio estimators
        of JS and TV it over-corrects large values).
    alpha : float, default 0.5
        Histogram pseudo-count, added to every cell that either sample occupies.
    standardize : bool or None, default None (on for the kNN method)
        Map every feature of both samples by one affine map, ``(x - mu_j) / s_j`` with the
        pooled mean and standard deviation of p and q together, before the neighbour
        search. KL, JS and TV are invariant to an invertible map applied to both
        distributions, so this changes no true value; it makes the estimate independent of
        the units of each feature (rescaling a feature leaves it unchanged up to rounding),
        where the raw neighbourhoods are dominated by the feature with the largest spread.
        The pooled scale, rather than that of one sample, keeps the map symmetric in p and
        q (so are the JS and TV estimates), is the same for every re-split of
        ``bias_correction="permutation"``, and is defined when a feature is constant in
        one sample only. Each call standardises its own pair: two estimates sharing a
        q-sample (a difference such as ``KL(a || q) - KL(s || q)``) use slightly different
        maps. ``None`` means True for ``"wang_kulkarni_verdu"`` (``"knn_ratio"`` in
        :func:`js_divergence` and :func:`total_variation`); pass ``False`` for the raw
        coordinates. Read only by the kNN method: any value given to another method is an
        error.
    n_permutations : int, default 20
        Re-splits for ``bias_correction="permutation"``.
    ties : {"jitter", "remove", "raise"}
        Duplicate handling for samples: "jitter" dequantises tied features with uniform
        noise of their grid step, "remove" drops repeated rows, "raise" refuses them.
    n_bootstrap : int, default 0
        Bootstrap replicates of the per-point terms (neighbours fixed) for a 95% interval.
    algorithm : {"auto", "kdtree", "brute", "faiss"}
        Neighbour search backend (:func:`knn_distances` describes each).
    bins : int or "auto"
        Histogram bins per axis (``"auto"``: ``ceil(2 n^(1/(d+2)))``).
    n_samples : int, default 10000
        Monte Carlo draws from ``p`` (the pilot when ``target_stderr`` is set).
    target_stderr : float, optional
        Standard error to reach; the draws are increased to it, up to ``max_samples``.
    max_samples : int, default 10000000
        Cap on the Monte Carlo draws.
    rng : None, int, SeedSequence or Generator
        Monte Carlo draws, tie jitter, permutations and bootstrap replicates.

    Returns
    -------
    Estimate

    Notes
    -----
    Gaussians: :math:`\frac12[\operatorname{tr}(\Sigma_q^{-1}\Sigma_p) + \Delta^T
    \Sigma_q^{-1}\Delta - d + \log\frac{|\Sigma_q|}{|\Sigma_p|}]`.
    Histogram: both samples binned on shared equal-width edges over the union of their
    ranges (``bins`` per axis; the KL-gap protocol, ``synthgain.experiments.klgap``,
    passes ``bins=10``, ``alpha=0.5``); with counts :math:`c_i, c'_i` and :math:`u` cells
    occupied by either sample, :math:`p_i = (c_i + \alpha) / (n + \alpha u)`,
    :math:`q_i = (c'_i + \alpha) / (m + \alpha u)` on those cells and
    :math:`\hat D = \sum_i p_i \log(p_i / q_i)`.
    Wang-Kulkarni-Verdu (2009, eq. 5): :math:`\hat D = \frac dn \sum_i
    \log\frac{\nu_k(i)}{\rho_k(i)} + \log\frac{m}{n-1}`, with :math:`\rho_k` the k-th
    neighbour distance within the p-sample (self excluded) and :math:`\nu_k` in the
    q-sample; correct for :math:`n \ne m`.

    Examples
    --------
    Between two Gaussians the closed form: ``KL(N(0, 1) || N(1, 1)) = 1/2``; and
    ``KL(p || p) = 0``:

    >>> import numpy as np
    >>> from synthgain.measures import Gaussian, kl_divergence
    >>> p, q = Gaussian(np.zeros(1), np.eye(1)), Gaussian(np.ones(1), np.eye(1))
    >>> float(kl_divergence(p, q).value), float(kl_divergence(p, p).value)
    (0.5, 0.0)

    References
    ----------
    .. [1] Q. Wang, S. R. Kulkarni and S. Verdu, "Divergence estimation for multidimensional
       densities via k-nearest-neighbor distances", IEEE Transactions on Information Theory
       55(5), 2392-2405 (2009), doi:10.1109/TIT.2009.2016060.
    .. [2] J. R. Hershey and P. A. Olsen, "Approximating the Kullback Leibler divergence
       between Gaussian mixture models", ICASSP 2007, IV-317-IV-320,
       doi:10.1109/ICASSP.2007.366913.
    """
    kind, p, q = _pair(p, q)
    if kind == "dist":
        return _kl_dist(p, q, method, n_samples, target_stderr, max_samples, rng)
    method = check_choice(method, "method", ["auto", "wang_kulkarni_verdu", "histogram"])
    if method == "histogram":
        a = check_real(alpha, "alpha", low=0, closed="neither")
        return _histogram_estimate(lambda b: _histogram.kl(p, q, b, a), [p, q], bins, alpha=a)
    k = _check_k(k, min(p.shape[0] - 1, q.shape[0]), "at most n - 1 and m")
    opts = _SampleOptions(ties, standardize, bias_correction, n_permutations, n_bootstrap,
                          algorithm, rng, scale_free=True)
    return _from_samples(
        "wang_kulkarni_verdu",
        lambda a: [(1.0, _knn_estimators._wkv_terms(a[0], a[1], k, opts.algorithm))],
        [p, q], opts, {"k": k}, permute=_split_permutation,
    )


def _kl_dist(
    p: Distribution, q: Distribution, method: str, n_samples: int,
    target_stderr: float | None, max_samples: int, rng: RNGLike,
) -> Estimate:
    both_gauss = isinstance(p, Gaussian) and isinstance(q, Gaussian)
    allowed = ["monte_carlo", "hershey_olsen", "hershey_olsen_product", "durrieu"]
    method = check_choice(method, "method", ["auto", *(["closed_form"] if both_gauss else []),
                                             *allowed])
    if isinstance(p, Gaussian) and isinstance(q, Gaussian) and method in ("auto", "closed_form"):
        return Estimate(value=_gaussian._kl(p, q), method="closed_form")
    f, g = _as_mixture(p), _as_mixture(q)
    lo, hi = _mixture._durrieu_bounds(f, g)
    if method == "hershey_olsen":
        return Estimate(_mixture._hershey_olsen_variational(f, g), method=method, lower=lo, upper=hi)
    if method == "hershey_olsen_product":
        return Estimate(_mixture._hershey_olsen_product(f, g), method=method, lower=lo, upper=hi)
    if method == "durrieu":
        return Estimate(0.5 * (lo + hi), method=method, lower=lo, upper=hi)
    return _monte_carlo("monte_carlo", lambda n, gen: _mixture.mc_kl_parts(f, g, n, gen),
                        n_samples, target_stderr, max_samples, rng, lower=lo, upper=hi)


@applies({"monte_carlo": MONTE_CARLO, "knn_ratio": KNN_DIVERGENCE, "histogram": HISTOGRAM},
         auto_dist="monte_carlo", auto_sample="knn_ratio", is_dist=_is_dist)
def js_divergence(
    p: Any,
    q: Any,
    *,
    method: str = "auto",
    k: int | str = "auto",
    ties: str = "jitter",
    standardize: bool | None = None,
    bias_correction: str | None = None,
    n_permutations: int = 20,
    n_bootstrap: int = 0,
    algorithm: str = "auto",
    bins: int | str = "auto",
    n_samples: int = 10_000,
    target_stderr: float | None = None,
    max_samples: int = 10_000_000,
    rng: RNGLike = None,
) -> Estimate:
    r"""Jensen-Shannon divergence :math:`\frac12 KL(p\|m) + \frac12 KL(q\|m)`,
    :math:`m = (p+q)/2`, in nats (between 0 and log 2).

    Parameters
    ----------
    p, q : Gaussian, GaussianMixture or array_like
    method : str, default "auto"
        ``"monte_carlo"`` (distributions; n_samples drawn from each), ``"knn_ratio"``
        (samples: plug-in of the kNN density ratio ``q/p = (n-1) rho^d / (m nu^d)``),
        ``"histogram"`` (samples, d <= 3). ``"auto"``: Monte Carlo for distributions
        (there is no closed form even for Gaussians), kNN ratio for samples.
    k : int or "auto", default "auto"
        Neighbour order of the density-ratio estimate; "auto" is
        ``max(5, ceil(sqrt(min(n, m))))``. The plug-in of a noisy ratio is biased by about
        1/k (noise) plus a smoothing bias growing with k/n; see docs/estimators.md.
    ties : {"jitter", "remove", "raise"}
        Duplicate handling for samples: "jitter" dequantises tied features with uniform
        noise of their grid step, "remove" drops repeated rows, "raise" refuses them.
    standardize : bool or None, default None (on for the kNN method)
        Map every feature of both samples by one affine map (the pooled mean and standard
        deviation of p and q) before the neighbour search; the divergence is invariant to
        it, so the estimate becomes independent of each feature's units. Read only by the
        kNN method.
    bias_correction : {None, "permutation"}
        Subtract the mean estimate over ``n_permutations`` random re-splits of the pooled
        samples into sizes (n, m), where the true divergence is 0.
    n_permutations : int, default 20
        Re-splits for ``bias_correction="permutation"``.
    n_bootstrap : int, default 0
        Bootstrap replicates of the per-point terms (neighbours fixed) for a 95% interval.
    algorithm : {"auto", "kdtree", "brute", "faiss"}
        Neighbour search backend (:func:`knn_distances` describes each).
    bins : int or "auto"
        Histogram bins per axis (``"auto"``: ``ceil(2 n^(1/(d+2)))``).
    n_samples : int, default 10000
        Monte Carlo draws from each distribution (the pilot when ``target_stderr`` is set).
    target_stderr : float, optional
        Standard error to reach; the draws are increased to it, up to ``max_samples``.
    max_samples : int, default 10000000
        Cap on the Monte Carlo draws.
    rng : None, int, SeedSequence or Generator
        Monte Carlo draws, tie jitter, permutations and bootstrap replicates.

    Notes
    -----
    :math:`JS = \frac12 E_p[\log\frac{2p}{p+q}] + \frac12 E_q[\log\frac{2q}{p+q}]`.

    Examples
    --------
    Zero between a distribution and itself, and at most ``log 2`` (nats):

    >>> import numpy as np
    >>> from synthgain.measures import Gaussian, js_divergence
    >>> p, q = Gaussian(np.zeros(1), np.eye(1)), Gaussian(np.ones(1), np.eye(1))
    >>> bool(abs(js_divergence(p, p, rng=0).value) < 1e-12)
    True
    >>> bool(0.0 < js_divergence(p, q, rng=0).value < np.log(2))
    True

    References
    ----------
    .. [1] J. Lin, "Divergence measures based on the Shannon entropy", IEEE Transactions on
       Information Theory 37(1), 145-151 (1991), doi:10.1109/18.61115.
    """
    kind, p, q = _pair(p, q)
    if kind == "dist":
        check_choice(method, "method", ["auto", "monte_carlo"])
        f, g = _as_mixture(p), _as_mixture(q)
        return _monte_carlo("monte_carlo", lambda n, gen: _mixture.mc_js_parts(f, g, n, gen),
                            n_samples, target_stderr, max_samples, rng)
    method = check_choice(method, "method", ["auto", "knn_ratio", "histogram"])
    if method == "histogram":
        return _histogram_estimate(lambda b: _histogram.js(p, q, b), [p, q], bins)
    k = _ratio_k(k, p, q)
    opts = _SampleOptions(ties, standardize, bias_correction, n_permutations, n_bootstrap,
                          algorithm, rng, scale_free=True)

    def parts(a: list[np.ndarray]) -> _mixture.Parts:
        tp, tq = _knn_estimators._js_terms(a[0], a[1], k, opts.algorithm)
        return [(0.5, tp), (0.5, tq)]

    return _from_samples("knn_ratio", parts, [p, q], opts, {"k": k}, permute=_split_permutation)


@applies({"closed_form": NONE, "bounds": NONE, "monte_carlo": MONTE_CARLO,
          "knn_ratio": KNN_DIVERGENCE, "histogram": HISTOGRAM},
         auto_dist="closed_form|monte_carlo", auto_sample="knn_ratio", is_dist=_is_dist)
def total_variation(
    p: Any,
    q: Any,
    *,
    method: str = "auto",
    k: int | str = "auto",
    ties: str = "jitter",
    standardize: bool | None = None,
    bias_correction: str | None = None,
    n_permutations: int = 20,
    n_bootstrap: int = 0,
    algorithm: str = "auto",
    bins: int | str = "auto",
    n_samples: int = 10_000,
    target_stderr: float | None = None,
    max_samples: int = 10_000_000,
    rng: RNGLike = None,
) -> Estimate:
    r"""Total variation distance :math:`TV(p, q) = \sup_A |P(A) - Q(A)|`, in [0, 1].

    Parameters
    ----------
    p, q : Gaussian, GaussianMixture or array_like
    method : str, default "auto"
        ``"closed_form"`` (two Gaussians in 1-D, or with equal covariances in any
        dimension: exact), ``"bounds"`` (two Gaussians: Devroye-Mehrabian-Reddad,
        Hellinger, Pinsker and Bretagnolle-Huber bounds combined, value their midpoint),
        ``"monte_carlo"`` (distributions: ``E_p[max(0, 1 - q/p)]``), ``"knn_ratio"``
        (samples), ``"histogram"`` (samples, d <= 3). ``"auto"``: the exact form where it
        exists, else Monte Carlo (with the Gaussian bounds in ``lower``/``upper`` for two
        Gaussians), kNN ratio for samples.
    k : int or "auto", default "auto"
        Neighbour order of the density-ratio estimate (as in :func:`js_divergence`:
        ``max(5, ceil(sqrt(min(n, m))))`` for "auto").
    ties : {"jitter", "remove", "raise"}
        Duplicate handling for samples: "jitter" dequantises tied features with uniform
        noise of their grid step, "remove" drops repeated rows, "raise" refuses them.
    standardize : bool or None, default None (on for the kNN method)
        Map every feature of both samples by one affine map (the pooled mean and standard
        deviation of p and q) before the neighbour search; the divergence is invariant to
        it, so the estimate becomes independent of each feature's units. Read only by the
        kNN method.
    bias_correction : {None, "permutation"}
        Subtract the mean estimate over ``n_permutations`` random re-splits of the pooled
        samples into sizes (n, m), where the true divergence is 0.
    n_permutations : int, default 20
        Re-splits for ``bias_correction="permutation"``.
    n_bootstrap : int, default 0
        Bootstrap replicates of the per-point terms (neighbours fixed) for a 95% interval.
    algorithm : {"auto", "kdtree", "brute", "faiss"}
        Neighbour search backend (:func:`knn_distances` describes each).
    bins : int or "auto"
        Histogram bins per axis (``"auto"``: ``ceil(2 n^(1/(d+2)))``).
    n_samples : int, default 10000
        Monte Carlo draws from each distribution (the pilot when ``target_stderr`` is set).
    target_stderr : float, optional
        Standard error to reach; the draws are increased to it, up to ``max_samples``.
    max_samples : int, default 10000000
        Cap on the Monte Carlo draws.
    rng : None, int, SeedSequence or Generator
        Monte Carlo draws, tie jitter, permutations and bootstrap replicates.

    Notes
    -----
    1-D Gaussians: the densities cross at the roots of a quadratic and TV is the
    difference of the two probabilities of the interval between them. Equal covariances:
    :math:`TV = 2\Phi(\Delta/2) - 1`, :math:`\Delta` the Mahalanobis distance.

    Examples
    --------
    Between two unit-variance Gaussians a distance ``delta`` apart the closed form is
    ``2 Phi(delta / 2) - 1`` (0.3829 at ``delta = 1``):

    >>> import numpy as np
    >>> from scipy.stats import norm
    >>> from synthgain.measures import Gaussian, total_variation
    >>> p, q = Gaussian(np.zeros(1), np.eye(1)), Gaussian(np.ones(1), np.eye(1))
    >>> bool(np.isclose(total_variation(p, q).value, 2 * norm.cdf(0.5) - 1))
    True

    References
    ----------
    .. [1] A. L. Gibbs and F. E. Su, "On choosing and bounding probability metrics",
       International Statistical Review 70(3), 419-435 (2002),
       doi:10.1111/j.1751-5823.2002.tb00178.x.
    """
    kind, p, q = _pair(p, q)
    if kind == "dist":
        return _tv_dist(p, q, method, n_samples, target_stderr, max_samples, rng)
    method = check_choice(method, "method", ["auto", "knn_ratio", "histogram"])
    if method == "histogram":
        return _histogram_estimate(lambda b: _histogram.tv(p, q, b), [p, q], bins)
    k = _ratio_k(k, p, q)
    opts = _SampleOptions(ties, standardize, bias_correction, n_permutations, n_bootstrap,
                          algorithm, rng, scale_free=True)
    return _from_samples(
        "knn_ratio",
        lambda a: [(1.0, _knn_estimators._tv_terms(a[0], a[1], k, opts.algorithm))],
        [p, q], opts, {"k": k}, permute=_split_permutation,
    )


def _tv_dist(
    p: Distribution, q: Distribution, method: str, n_samples: int,
    target_stderr: float | None, max_samples: int, rng: RNGLike,
) -> Estimate:
    both = isinstance(p, Gaussian) and isinstance(q, Gaussian)
    names = ["auto", "monte_carlo", *(["closed_form", "bounds"] if both else [])]
    method = check_choice(method, "method", names)
    lo = hi = None
    if isinstance(p, Gaussian) and isinstance(q, Gaussian):
        exact = _tv_exact(p, q)
        if method in ("auto", "closed_form") and exact is not None:
            return Estimate(value=exact, method="closed_form")
        if method == "closed_form":
            raise ValidationError(
                "method='closed_form' for total variation needs 1-D Gaussians or equal "
                "covariances; use method='monte_carlo' or method='bounds'."
            )
        lo, hi = _gaussian._tv_bounds(p, q)
        if method == "bounds":
            return Estimate(value=0.5 * (lo + hi), method="bounds", lower=lo, upper=hi)
    f, g = _as_mixture(p), _as_mixture(q)
    return _monte_carlo("monte_carlo", lambda n, gen: _mixture.mc_tv_parts(f, g, n, gen),
                        n_samples, target_stderr, max_samples, rng, lower=lo, upper=hi)


def _tv_exact(p: Gaussian, q: Gaussian) -> float | None:
    if p.dim == 1:
        return _gaussian._tv_1d(float(p.mean[0]), math.sqrt(p.cov[0, 0]),
                                float(q.mean[0]), math.sqrt(q.cov[0, 0]))
    if np.allclose(p.cov, q.cov, rtol=1e-12, atol=0.0):
        return _gaussian._tv_equal_cov(p, q)
    return None


