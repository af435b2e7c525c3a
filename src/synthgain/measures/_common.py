"""Argument handling and the shared estimation driver of the public measures.

Private to ``synthgain.measures``: classify arguments, validate kNN options, run a
per-point kernel with ties/standardisation/bootstrap/permutation, run Monte Carlo.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._rng import RNGLike, check_rng
from .._validation import check_array, check_choice, check_int, check_real
from ..exceptions import ValidationError
from ..mixture import GaussianMixture
from . import _histogram, _knn_estimators, _mixture
from ._estimate import Estimate
from ._gaussian import Gaussian

__all__: list[str] = []

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
    """Options shared by the kNN estimators, validated once.

    ``standardize=None`` is the measure's default: ``scale_free`` says whether the
    quantity is invariant to invertible per-feature affine maps (KL, JS, TV, mutual
    information: standardise, so the estimate does not depend on the units of the
    features) or not (entropy: keep the data's scale).
    """

    def __init__(
        self,
        ties: str,
        standardize: bool | None,
        bias_correction: str | None,
        n_permutations: int,
        n_bootstrap: int,
        algorithm: str,
        rng: RNGLike,
        *,
        scale_free: bool,
    ) -> None:
        self.ties = check_choice(ties, "ties", _TIES)
        self.standardize = scale_free if standardize is None else bool(standardize)
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
    value, se = _mixture.parts_mean_stderr(parts)
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
            [_mixture.parts_mean_stderr(compute(permute(arrays, opts.gen)))[0]
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


def _histogram_estimate(
    fn: Callable[[int], float], arrays: list[np.ndarray], bins: int | str, **extra: Any
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


