"""Public information measures: one function per quantity, ``method=`` picks the estimator.

Arguments are distributions (:class:`Gaussian`, :class:`~synthgain.mixture.GaussianMixture`)
or samples (arrays of shape (n, d); a 1-D array is one feature). Every function returns
an :class:`Estimate` in nats.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._rng import RNGLike, check_rng
from .._validation import check_array, check_choice, check_int, check_real
from ..exceptions import ValidationError
from ..mixture import GaussianMixture
from . import _gaussian, _histogram, _knn_estimators, _mixture
from ._estimate import Estimate
from ._gaussian import Gaussian

__all__ = [
    "entropy",
    "js_divergence",
    "kl_divergence",
    "label_mutual_information",
    "mutual_information",
    "total_variation",
]

Distribution = Gaussian | GaussianMixture
_TIES = ["jitter", "remove", "raise"]


# --- argument handling -------------------------------------------------------------------
def _is_dist(obj: Any) -> bool:
    return isinstance(obj, Gaussian | GaussianMixture)


def _as_sample(x: Any, name: str) -> np.ndarray:
    arr = check_array(x, name, ndim=(1, 2))
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.shape[0] < 2:
        raise ValidationError(
            f"`{name}` must have at least 2 points (rows). Got {arr.shape[0]} instead."
        )
    if arr.shape[1] < 1:
        raise ValidationError(f"`{name}` must have at least one column. Got shape {arr.shape}.")
    return arr


def _as_mixture(dist: Distribution) -> GaussianMixture:
    return dist.to_mixture() if isinstance(dist, Gaussian) else dist


def _pair(p: Any, q: Any) -> tuple[str, Any, Any]:
    """Classify (p, q) as two distributions or two samples of the same dimension."""
    if _is_dist(p) and _is_dist(q):
        if p.dim != q.dim:
            raise ValidationError(
                f"`p` and `q` must have the same dimension. Got {p.dim} and {q.dim} instead."
            )
        return "dist", p, q
    if _is_dist(p) or _is_dist(q):
        raise ValidationError(
            "`p` and `q` must be both distributions (Gaussian, GaussianMixture) or both "
            f"samples (arrays). Got {type(p).__name__} and {type(q).__name__}; sample the "
            "distribution with .sample(n) to compare it with data."
        )
    xp, xq = _as_sample(p, "p"), _as_sample(q, "q")
    if xp.shape[1] != xq.shape[1]:
        raise ValidationError(
            f"`p` and `q` must have the same dimension. Got samples with {xp.shape[1]} and "
            f"{xq.shape[1]} columns instead."
        )
    return "sample", xp, xq


def _check_k(k: Any, n_ref: int, what: str) -> int:
    k = check_int(k, "k", low=1)
    if k > n_ref:
        raise ValidationError(
            f"`k` must be an int in [1, {n_ref}] ({what}). Got {k} instead; use a smaller "
            "k or more points."
        )
    return k


def _ratio_k(k: Any, p: np.ndarray, q: np.ndarray) -> int:
    n_ref = min(p.shape[0], q.shape[0]) - 1
    if isinstance(k, str):
        check_choice(k, "k", ["auto"])
        return min(max(5, math.ceil(math.sqrt(n_ref + 1))), n_ref)
    return _check_k(k, n_ref, "at most min(n, m) - 1")


class _SampleOptions:
    """Options shared by the kNN estimators, validated once."""

    def __init__(
        self,
        ties: str,
        standardize: bool,
        bias_correction: str | None,
        n_permutations: int,
        n_bootstrap: int,
        algorithm: str,
        rng: RNGLike,
    ) -> None:
        self.ties = check_choice(ties, "ties", _TIES)
        self.standardize = bool(standardize)
        if bias_correction is not None:
            check_choice(bias_correction, "bias_correction", ["permutation"])
        self.bias_correction = bias_correction
        self.n_permutations = check_int(n_permutations, "n_permutations", low=2)
        self.n_bootstrap = check_int(n_bootstrap, "n_bootstrap", low=0)
        self.algorithm = check_choice(algorithm, "algorithm", ["auto", "kdtree", "brute", "faiss"])
        self.gen = check_rng(rng)

    def params(self) -> dict[str, Any]:
        return {
            "ties": self.ties,
            "standardize": self.standardize,
            "bias_correction": self.bias_correction,
            "n_permutations": self.n_permutations if self.bias_correction else 0,
            "n_bootstrap": self.n_bootstrap,
            "algorithm": self.algorithm,
        }


PartsFn = Callable[[list[np.ndarray]], _mixture.Parts]


def _from_samples(
    method: str,
    compute: PartsFn,
    arrays: list[np.ndarray],
    opts: _SampleOptions,
    extra: dict[str, Any],
    *,
    permute: Callable[[list[np.ndarray], np.random.Generator], list[np.ndarray]] | None,
    restore_scale: bool = False,
) -> Estimate:
    """Run a per-point kNN kernel with ties, standardisation, bootstrap and permutation."""
    arrays = _knn_estimators.handle_ties(arrays, opts.ties, opts.gen)
    shift = 0.0
    if opts.standardize:
        arrays, log_scale = _knn_estimators.standardise(arrays)
        shift = log_scale if restore_scale else 0.0
    parts = compute(arrays)
    value, se = _mixture.summarise(parts)
    value += shift
    params = {**extra, **opts.params()}
    interval = None
    if opts.n_bootstrap:
        boots = np.empty(opts.n_bootstrap)
        for b in range(opts.n_bootstrap):
            boots[b] = sum(
                w * float(np.mean(t[opts.gen.integers(0, t.size, t.size)])) for w, t in parts
            )
        lo, hi = np.percentile(boots + shift, [2.5, 97.5])
        interval = (float(lo), float(hi))
    if opts.bias_correction == "permutation":
        if permute is None:
            raise ValidationError(
                f"`bias_correction='permutation'` is not defined for {method}; it needs a "
                "quantity that is 0 under a permutation (a divergence or mutual information)."
            )
        base = np.array(
            [_mixture.summarise(compute(permute(arrays, opts.gen)))[0]
             for _ in range(opts.n_permutations)]
        )
        value -= float(base.mean())
        se = math.sqrt(se**2 + float(base.var(ddof=1)) / base.size)
        params["permutation_baseline"] = float(base.mean())
        if interval is not None:
            interval = (interval[0] - float(base.mean()), interval[1] - float(base.mean()))
    return Estimate(
        value=float(value), stderr=se, method=method, n=tuple(a.shape[0] for a in arrays),
        params=params, interval=interval,
    )


def _split_permutation(arrays: list[np.ndarray], gen: np.random.Generator) -> list[np.ndarray]:
    """Pool two samples and split them at random into the original sizes (null p = q)."""
    pooled = gen.permutation(np.concatenate(arrays, axis=0))
    return [pooled[: arrays[0].shape[0]], pooled[arrays[0].shape[0]:]]


def _monte_carlo(
    method: str,
    draw: Callable[[int, np.random.Generator], _mixture.Parts],
    n_samples: int,
    target_stderr: float | None,
    max_samples: int,
    rng: RNGLike,
    **extra: Any,
) -> Estimate:
    n_samples = check_int(n_samples, "n_samples", low=2)
    max_samples = check_int(max_samples, "max_samples", low=2)
    if target_stderr is not None:
        target_stderr = check_real(target_stderr, "target_stderr", low=0, closed="neither")
    value, se, n = _mixture.run_monte_carlo(
        draw, n_samples, target_stderr, max_samples, check_rng(rng)
    )
    params = {"n_samples": n, "target_stderr": target_stderr}
    return Estimate(value=value, stderr=se, method=method, n=(n,), params=params, **extra)


# --- entropy -------------------------------------------------------------------------
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
        Scale features to unit variance before the neighbour search; the entropy of the
        original data is reported (``sum log s_j`` is added back).
    n_bootstrap : int, default 0
        Bootstrap replicates of the per-point terms (neighbours fixed) for a 95% interval.
    algorithm : {"auto", "kdtree", "brute", "faiss"}
        Neighbour search backend, see :func:`knn_distances`.
    bins : int or "auto"
        Histogram bins per axis (``"auto"``: ``ceil(2 n^(1/(d+2)))``).
    n_samples, target_stderr, max_samples : Monte Carlo sample count, an optional target
        standard error that sets it (``n_samples`` is then the pilot), and its cap.
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
        return _histogram_estimate(lambda b: _histogram.entropy(arr, b), [arr], bins, ties, rng)
    k = _check_k(k, arr.shape[0] - 1, "at most the number of points minus 1")
    opts = _SampleOptions(ties, standardize, None, 2, n_bootstrap, algorithm, rng)
    return _from_samples(
        "kozachenko_leonenko",
        lambda a: [(1.0, _knn_estimators._kl_entropy_terms(a[0], k, opts.algorithm))],
        [arr], opts, {"k": k}, permute=None, restore_scale=True,
    )


def _histogram_estimate(
    fn: Callable[[int], float], arrays: list[np.ndarray], bins: int | str, ties: str,
    rng: RNGLike, **extra: Any,
) -> Estimate:
    d = arrays[0].shape[1]
    if d > _histogram.MAX_DIM:
        raise ValidationError(
            f"method='histogram' is for dimension <= {_histogram.MAX_DIM}. Got {d}; use a "
            "nearest-neighbour method."
        )
    n = min(a.shape[0] for a in arrays)
    if isinstance(bins, str):
        check_choice(bins, "bins", ["auto"])
        nb = _histogram.auto_bins(n, d)
    else:
        nb = check_int(bins, "bins", low=1)
    return Estimate(
        value=fn(nb), method="histogram", n=tuple(a.shape[0] for a in arrays),
        params={"bins": nb, **extra},
    )


# --- divergences ---------------------------------------------------------------------
def kl_divergence(
    p: Any,
    q: Any,
    *,
    method: str = "auto",
    k: int = 1,
    ties: str = "jitter",
    standardize: bool = False,
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
        d <= 3, add-``alpha`` smoothing). ``"auto"``: closed form for two Gaussians, Monte
        Carlo for mixtures, Wang-Kulkarni-Verdu for samples.
    k : int, default 1
        Neighbour order (the same k in both samples).
    bias_correction : {None, "permutation"}
        Subtract the mean estimate over ``n_permutations`` random re-splits of the pooled
        samples into sizes (n, m), where the true divergence is 0. This removes the bias
        exactly at (and near) p = q; far from it the bias differs (for the ratio estimators
        of JS and TV it over-corrects large values).
    alpha : float, default 0.5
        Histogram pseudo-count per cell.
    ties, standardize, n_bootstrap, algorithm, bins, n_samples, target_stderr,
    max_samples, rng : see :func:`entropy`. ``standardize`` uses the pooled scale, to which
    KL is invariant.

    Returns
    -------
    Estimate

    Notes
    -----
    Gaussians: :math:`\frac12[\operatorname{tr}(\Sigma_q^{-1}\Sigma_p) + \Delta^T
    \Sigma_q^{-1}\Delta - d + \log\frac{|\Sigma_q|}{|\Sigma_p|}]`.
    Wang-Kulkarni-Verdu (2009, eq. 5): :math:`\hat D = \frac dn \sum_i
    \log\frac{\nu_k(i)}{\rho_k(i)} + \log\frac{m}{n-1}`, with :math:`\rho_k` the k-th
    neighbour distance within the p-sample (self excluded) and :math:`\nu_k` in the
    q-sample; correct for :math:`n \ne m`.
    """
    kind, p, q = _pair(p, q)
    if kind == "dist":
        return _kl_dist(p, q, method, n_samples, target_stderr, max_samples, rng)
    method = check_choice(method, "method", ["auto", "wang_kulkarni_verdu", "histogram"])
    if method == "histogram":
        a = check_real(alpha, "alpha", low=0, closed="neither")
        return _histogram_estimate(lambda b: _histogram.kl(p, q, b, a), [p, q], bins, ties, rng,
                                   alpha=a)
    k = _check_k(k, min(p.shape[0] - 1, q.shape[0]), "at most n - 1 and m")
    opts = _SampleOptions(ties, standardize, bias_correction, n_permutations, n_bootstrap,
                          algorithm, rng)
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


def js_divergence(
    p: Any,
    q: Any,
    *,
    method: str = "auto",
    k: int | str = "auto",
    ties: str = "jitter",
    standardize: bool = False,
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
    Other parameters : see :func:`kl_divergence`.

    Notes
    -----
    :math:`JS = \frac12 E_p[\log\frac{2p}{p+q}] + \frac12 E_q[\log\frac{2q}{p+q}]`.
    """
    kind, p, q = _pair(p, q)
    if kind == "dist":
        check_choice(method, "method", ["auto", "monte_carlo"])
        f, g = _as_mixture(p), _as_mixture(q)
        return _monte_carlo("monte_carlo", lambda n, gen: _mixture.mc_js_parts(f, g, n, gen),
                            n_samples, target_stderr, max_samples, rng)
    method = check_choice(method, "method", ["auto", "knn_ratio", "histogram"])
    if method == "histogram":
        return _histogram_estimate(lambda b: _histogram.js(p, q, b), [p, q], bins, ties, rng)
    k = _ratio_k(k, p, q)
    opts = _SampleOptions(ties, standardize, bias_correction, n_permutations, n_bootstrap,
                          algorithm, rng)

    def parts(a: list[np.ndarray]) -> _mixture.Parts:
        tp, tq = _knn_estimators._js_terms(a[0], a[1], k, opts.algorithm)
        return [(0.5, tp), (0.5, tq)]

    return _from_samples("knn_ratio", parts, [p, q], opts, {"k": k}, permute=_split_permutation)


def total_variation(
    p: Any,
    q: Any,
    *,
    method: str = "auto",
    k: int | str = "auto",
    ties: str = "jitter",
    standardize: bool = False,
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
    Other parameters : see :func:`js_divergence`.

    Notes
    -----
    1-D Gaussians: the densities cross at the roots of a quadratic and TV is the
    difference of the two probabilities of the interval between them. Equal covariances:
    :math:`TV = 2\Phi(\Delta/2) - 1`, :math:`\Delta` the Mahalanobis distance.
    """
    kind, p, q = _pair(p, q)
    if kind == "dist":
        return _tv_dist(p, q, method, n_samples, target_stderr, max_samples, rng)
    method = check_choice(method, "method", ["auto", "knn_ratio", "histogram"])
    if method == "histogram":
        return _histogram_estimate(lambda b: _histogram.tv(p, q, b), [p, q], bins, ties, rng)
    k = _ratio_k(k, p, q)
    opts = _SampleOptions(ties, standardize, bias_correction, n_permutations, n_bootstrap,
                          algorithm, rng)
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


# --- mutual information ----------------------------------------------------------------
def mutual_information(
    x: Any,
    y: Any,
    *,
    method: str = "auto",
    k: int = 3,
    ties: str = "jitter",
    standardize: bool = False,
    bias_correction: str | None = None,
    n_permutations: int = 20,
    n_bootstrap: int = 0,
    bins: int | str = "auto",
    n_samples: int = 10_000,
    target_stderr: float | None = None,
    max_samples: int = 10_000_000,
    rng: RNGLike = None,
) -> Estimate:
    r"""Mutual information :math:`I(X; Y)` in nats.

    Parameters
    ----------
    x : Gaussian, GaussianMixture or array_like of shape (n, dx)
        A joint distribution of (X, Y), or the X sample.
    y : sequence of int or array_like of shape (n, dy)
        For a distribution: the coordinates forming Y (X is the rest). For samples: the Y
        sample, paired row by row with ``x``.
    method : str, default "auto"
        ``"closed_form"`` (Gaussian: jointly normal blocks), ``"monte_carlo"`` (mixture),
        ``"ksg1"``, ``"ksg2"`` (samples; Kraskov-Stoegbauer-Grassberger, maximum norm),
        ``"histogram"`` (samples, dx + dy <= 3). ``"auto"``: closed form, Monte Carlo,
        KSG1 respectively.
    bias_correction : {None, "permutation"}
        Subtract the mean estimate over ``n_permutations`` random shufflings of ``y``'s
        rows (independence, I = 0).
    Other parameters : see :func:`entropy`.

    Notes
    -----
    Gaussian: :math:`I = \frac12 \log\frac{|\Sigma_{XX}||\Sigma_{YY}|}{|\Sigma|}`.
    KSG1: :math:`\psi(k) + \psi(N) - \langle\psi(n_x+1) + \psi(n_y+1)\rangle`.
    KSG2: :math:`\psi(k) - 1/k + \psi(N) - \langle\psi(n_x) + \psi(n_y)\rangle`.
    Ties (a variable with itself, discrete values) are dequantised independently in X and
    in Y, so ``I(X; X)`` of a discrete X stays near its discrete entropy instead of
    diverging.
    """
    if _is_dist(x):
        iy = _check_block(y, x.dim)
        if isinstance(x, Gaussian):
            method = check_choice(method, "method", ["auto", "closed_form", "monte_carlo"])
            if method != "monte_carlo":
                return Estimate(value=_gaussian._mutual_information_blocks(x, iy),
                                method="closed_form")
        else:
            check_choice(method, "method", ["auto", "monte_carlo"])
        f = _as_mixture(x)
        return _monte_carlo("monte_carlo", lambda n, g: _mixture.mc_block_mi_parts(f, iy, n, g),
                            n_samples, target_stderr, max_samples, rng)
    xa, ya = _as_sample(x, "x"), _as_sample(y, "y")
    if xa.shape[0] != ya.shape[0]:
        raise ValidationError(
            f"`x` and `y` must have the same number of rows (paired samples). Got "
            f"{xa.shape[0]} and {ya.shape[0]} instead."
        )
    method = check_choice(method, "method", ["auto", "ksg1", "ksg2", "histogram"])
    dx = xa.shape[1]
    if method == "histogram":
        return _histogram_estimate(
            lambda b: _histogram.mutual_information(xa, ya, b), [np.hstack([xa, ya])], bins,
            ties, rng,
        )
    variant = 2 if method == "ksg2" else 1
    k = _check_k(k, xa.shape[0] - 1, "at most the number of points minus 1")
    opts = _SampleOptions(ties, standardize, bias_correction, n_permutations, n_bootstrap,
                          "kdtree", rng)

    def parts(a: list[np.ndarray]) -> _mixture.Parts:
        z = a[0]
        return [(1.0, _knn_estimators._ksg_terms(z[:, :dx], z[:, dx:], k, variant))]

    def shuffle(a: list[np.ndarray], gen: np.random.Generator) -> list[np.ndarray]:
        z = a[0]
        return [np.hstack([z[:, :dx], gen.permutation(z[:, dx:])])]

    return _from_samples(f"ksg{variant}", parts, [np.hstack([xa, ya])], opts, {"k": k},
                         permute=shuffle)


def _check_block(y: Any, d: int) -> np.ndarray:
    try:
        iy = np.unique(np.asarray(y, dtype=int).reshape(-1))
    except (TypeError, ValueError):
        iy = np.array([-1])
    if iy.size == 0 or iy.size >= d or iy.min() < 0 or iy.max() >= d:
        raise ValidationError(
            f"`y` must list the coordinates of Y, a non-empty proper subset of 0..{d - 1} "
            f"(X is the rest). Got {y!r} instead."
        )
    return iy


def label_mutual_information(
    mixture: Distribution,
    groups: Sequence[Sequence[int]] | None = None,
    *,
    n_samples: int = 10_000,
    target_stderr: float | None = None,
    max_samples: int = 10_000_000,
    rng: RNGLike = None,
) -> Estimate:
    r"""Mutual information :math:`I(Z; X)` between a mixture's component label and the point.

    Parameters
    ----------
    mixture : GaussianMixture (or Gaussian, for which it is 0)
    groups : list of lists of int, optional
        A partition of the component indices; Z is then the group of the component
        (e.g. which anchor a synthetic cluster came from). Default: one group per
        component.
    n_samples, target_stderr, max_samples, rng : Monte Carlo settings (see :func:`entropy`).

    Returns
    -------
    Estimate
        Monte Carlo value with standard error; ``lower = 0`` and ``upper = H(Z)``.

    Notes
    -----
    :math:`I(Z; X) = H(Z) - E_X[H(Z \mid X)]`, with :math:`H(Z) = -\sum_g \pi_g \log \pi_g`
    exact and the posterior entropy :math:`-\sum_g r_g(x) \log r_g(x)`,
    :math:`r_g(x) = \sum_{j \in g} \pi_j N(x; \mu_j, \Sigma_j) / p(x)`, averaged over
    points drawn from the mixture.
    """
    if not _is_dist(mixture):
        raise ValidationError(
            f"`mixture` must be a GaussianMixture (or Gaussian). Got {type(mixture).__name__}."
        )
    f = _as_mixture(mixture)
    grp = _mixture.check_groups(groups, f.n_components)
    prior = np.array([f.weights[g].sum() for g in grp])
    h_z = float(-np.sum(prior[prior > 0] * np.log(prior[prior > 0])))
    est = _monte_carlo("monte_carlo", lambda n, g: _mixture.mc_label_mi_parts(f, grp, n, g),
                       n_samples, target_stderr, max_samples, rng, lower=0.0, upper=h_z)
    return est
