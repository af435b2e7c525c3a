"""Multiple testing: Holm's step-down adjustment (SciPy's ``false_discovery_control``
has Benjamini-Hochberg and -Yekutieli only)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["holm"]


def holm(pvalues: Any) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN stays NaN, and is not counted).

    Parameters
    ----------
    pvalues : array_like of shape (m,)

    Returns
    -------
    ndarray of shape (m,)
        ``max_{j <= r} min(1, (m - j + 1) p_(j))`` for the p-value of rank ``r``; a family
        rejected where below ``alpha`` keeps the family-wise error at ``alpha``.

    Examples
    --------
    >>> from synthgain.measures import holm
    >>> holm([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.06, 0.06]

    References
    ----------
    .. [1] S. Holm, "A simple sequentially rejective multiple test procedure",
       Scandinavian Journal of Statistics 6(2), 65-70 (1979), doi:10.2307/4615733.
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    order = ok[np.argsort(p[ok])]
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p[i]))
        out[i] = running
    return out
