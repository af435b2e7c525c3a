"""Rank correlation between a measure and the real gain, with a bootstrap over configurations."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from .._rng import RNGLike, check_rng
from .._validation import check_array, check_int, check_real
from ..exceptions import ValidationError
from ..measures import Estimate

__all__ = ["spearman_bootstrap"]


def _spearman_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman's rho of each row pair of ``x`` and ``y`` (shape (B, n)); NaN if constant.

    Does no argument checking. Ranks with ties averaged (``scipy.stats.rankdata``), then
    Pearson's correlation of the ranks, row by row.
    """
    rx = stats.rankdata(x, axis=1)
    ry = stats.rankdata(y, axis=1)
    rx -= rx.mean(axis=1, keepdims=True)
    ry -= ry.mean(axis=1, keepdims=True)
    num = np.einsum("bi,bi->b", rx, ry)  # sum_i rx_bi ry_bi
    den = np.sqrt(np.einsum("bi,bi->b", rx, rx) * np.einsum("bi,bi->b", ry, ry))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def spearman_bootstrap(
    x: Any,
    y: Any,
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    rng: RNGLike = 0,
) -> Estimate:
    """Spearman's rank correlation with a percentile bootstrap interval.

    Parameters
    ----------
    x, y : array_like of shape (n,)
        One value per configuration (e.g. a measure's mean and the mean real gain).
        Pairs with a NaN are dropped.
    n_boot : int
        Bootstrap resamples of the configurations (with replacement).
    level : float
        Confidence level of the interval.
    rng : seed
        The resampling.

    Returns
    -------
    Estimate
        ``value`` = rho on all pairs, ``stderr`` = the bootstrap standard deviation,
        ``interval`` = the percentile interval; ``params`` holds the permutation-free
        two-sided p-value of ``scipy.stats.spearmanr`` and the number of resamples whose
        rho was defined.

    Notes
    -----
    ``rho = corr(rank(x), rank(y))``. The bootstrap treats configurations as the units
    drawn: it answers how much rho would move with another set of configurations like
    these, not with another replicate of the same ones. Resamples in which either
    variable is constant have no rho and are left out.
    """
    xa = check_array(x, "x", ndim=1, finite=False)
    ya = check_array(y, "y", ndim=1, finite=False)
    if xa.shape != ya.shape:
        raise ValidationError(f"`x` and `y` must have the same length. Got {xa.shape[0]} "
                              f"and {ya.shape[0]}.")
    n_boot = check_int(n_boot, "n_boot", low=10)
    level = check_real(level, "level", low=0.0, high=1.0, closed="neither")
    ok = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[ok], ya[ok]
    n = xa.shape[0]
    if n < 3:
        return Estimate(float("nan"), None, "spearman_bootstrap", (n,), {"n_boot": n_boot})
    rho = float(_spearman_rows(xa[None], ya[None])[0])
    idx = check_rng(rng).integers(n, size=(n_boot, n))
    boot = _spearman_rows(xa[idx], ya[idx])
    boot = boot[np.isfinite(boot)]
    p = float(stats.spearmanr(xa, ya).pvalue) if np.isfinite(rho) else float("nan")
    params = {"n_boot": n_boot, "n_defined": int(boot.size), "p_value": p}
    if boot.size < 10 or not np.isfinite(rho):
        return Estimate(rho, None, "spearman_bootstrap", (n,), params)
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(boot, [a, 1.0 - a])
    return Estimate(rho, float(boot.std(ddof=1)), "spearman_bootstrap", (n,), params,
                    interval=(float(lo), float(hi)), interval_level=level)
