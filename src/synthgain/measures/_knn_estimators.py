"""Nearest-neighbour estimators from samples: entropy, KL, KSG mutual information, ratios.

Kernels (``_kl_entropy_terms``, ``_wkv_terms``, ``_ksg_terms``, ``_ratio_terms``) do no
argument checking; they return one term per point, whose mean is the estimate, so the
caller can form the standard error and bootstrap intervals the same way for all of them.

Ties and duplicates
-------------------
kNN estimators assume continuous data: a duplicated point has a nearest-neighbour
distance of 0 and a log of minus infinity. With ``ties="jitter"`` (the default) every
feature that contains tied values is *dequantised*: independent uniform noise on
``[-delta/2, delta/2]`` is added to all its values, ``delta`` being the feature's
smallest positive gap between distinct values (pooled over the samples being compared).
For values on a grid of step ``delta`` this turns the discrete distribution into a
piecewise-constant density with the same KL divergence and mutual information, and with
entropy ``H_discrete + log delta``; continuous features without ties are left untouched.
``ties="remove"`` drops duplicated rows within each sample instead (a point present in
both samples of a divergence then still raises) and ``ties="raise"`` rejects them.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special
from scipy.spatial import cKDTree

from ..exceptions import ValidationError
from ._knn import knn_distances, nearest_neighbours

__all__: list[str] = []


# --- preprocessing ---------------------------------------------------------------------
#: the smallest tie-breaking step, relative to a feature's magnitude
_MIN_RELATIVE_STEP = 1e-12


def _tie_steps(arrays: list[np.ndarray]) -> np.ndarray:
    """Per feature, the dequantisation step ``delta`` (0 for a feature without ties).

    Features are pooled over the arrays one column at a time (no full pooled copy).
    """
    d = arrays[0].shape[1]
    steps = np.zeros(d)
    for j in range(d):
        col = np.sort(np.concatenate([a[:, j] for a in arrays]))
        gaps = np.diff(col)
        if gaps.size and np.any(gaps == 0):
            pos = gaps[gaps > 0]
            # at least a millionth of a millionth of the column's magnitude: a smaller
            # step (two near-copies 1e-17 apart) vanishes when added in float64, and the
            # tied rows would stay at distance 0
            floor = _MIN_RELATIVE_STEP * max(float(np.abs(col).max()), float(col[-1] - col[0]))
            steps[j] = max(pos.min(), floor) if pos.size else max(abs(float(col[0])), 1.0)
    return steps


def handle_ties(
    arrays: list[np.ndarray], ties: str, rng: np.random.Generator
) -> list[np.ndarray]:
    """Apply the ``ties`` policy to arrays that share their features (see module notes)."""
    if ties == "jitter":
        steps = _tie_steps(arrays)
        if not np.any(steps):
            return arrays
        return [a + (rng.random(a.shape) - 0.5) * steps for a in arrays]
    out = []
    for i, a in enumerate(arrays):
        uniq = np.unique(a, axis=0)
        if uniq.shape[0] < a.shape[0]:
            if ties == "raise":
                raise ValidationError(
                    f"Sample {i} has {a.shape[0] - uniq.shape[0]} duplicated rows, which "
                    "nearest-neighbour estimators cannot use; pass ties='jitter' or "
                    "ties='remove'."
                )
            a = uniq
        out.append(a)
    return out


def standardise(arrays: list[np.ndarray]) -> tuple[list[np.ndarray], float]:
    """Centre and scale each feature by its pooled standard deviation.

    Returns the arrays and ``sum_j log s_j`` (what entropy must add back).
    """
    pooled = np.concatenate(arrays, axis=0)
    mu = pooled.mean(axis=0)
    sd = pooled.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    return [(a - mu) / sd for a in arrays], float(np.sum(np.log(sd)))


# --- kernels ---------------------------------------------------------------------------
def _log_unit_ball(d: int) -> float:
    """``log V_d`` with ``V_d = pi^(d/2) / Gamma(d/2 + 1)`` (Euclidean unit ball)."""
    return 0.5 * d * math.log(math.pi) - special.gammaln(0.5 * d + 1.0)


def _safe_log(dist: np.ndarray, what: str) -> np.ndarray:
    if np.any(dist <= 0):
        raise ValidationError(
            f"Some {what} nearest-neighbour distances are 0 (duplicated points); "
            "pass ties='jitter' or ties='remove'."
        )
    return np.log(dist)


def _kl_entropy_terms(x: np.ndarray, k: int, algorithm: str) -> np.ndarray:
    """Kozachenko-Leonenko: ``H = psi(n) - psi(k) + log V_d + (d/n) sum_i log eps_i``.

    ``eps_i`` is the distance from ``x_i`` to its k-th nearest neighbour (Kozachenko &
    Leonenko 1987; Kraskov, Stoegbauer & Grassberger 2004, eq. 20).
    """
    n, d = x.shape
    eps = knn_distances(x, k=k, algorithm=algorithm)[:, -1]
    const = special.digamma(n) - special.digamma(k) + _log_unit_ball(d)
    return const + d * _safe_log(eps, "within-sample")


def _wkv_terms(xp: np.ndarray, xq: np.ndarray, k: int, algorithm: str) -> np.ndarray:
    """Wang-Kulkarni-Verdu: ``D = (d/n) sum_i log(nu_k(i) / rho_k(i)) + log(m / (n - 1))``.

    ``rho_k(i)`` is the k-th neighbour distance of ``x_i`` among the other n - 1 points of
    the p-sample, ``nu_k(i)`` among the m points of the q-sample (Wang, Kulkarni & Verdu
    2009, IEEE Trans. Inf. Theory 55(5), eq. 5). The ``m / (n - 1)`` ratio is what makes
    the estimator correct when n != m.
    """
    n, d = xp.shape
    m = xq.shape[0]
    rho = knn_distances(xp, k=k, algorithm=algorithm)[:, -1]
    nu = knn_distances(xp, xq, k=k, algorithm=algorithm)[:, -1]
    log_nu = _safe_log(nu, "cross-sample")
    return d * (log_nu - _safe_log(rho, "within-sample")) + math.log(m / (n - 1))


def _log_ratio_q_over_p(xp: np.ndarray, xq: np.ndarray, k: int, algorithm: str) -> np.ndarray:
    """kNN estimate of ``log q(x_i) / p(x_i)`` at the p-sample points.

    With ``p^(x) = k / ((n - 1) V rho^d)`` and ``q^(x) = k / (m V nu^d)``.
    """
    n, d = xp.shape
    m = xq.shape[0]
    rho = knn_distances(xp, k=k, algorithm=algorithm)[:, -1]
    nu = knn_distances(xp, xq, k=k, algorithm=algorithm)[:, -1]
    log_nu = _safe_log(nu, "cross-sample")
    return math.log((n - 1) / m) + d * (_safe_log(rho, "within-sample") - log_nu)


def _js_terms(
    xp: np.ndarray, xq: np.ndarray, k: int, algorithm: str
) -> tuple[np.ndarray, np.ndarray]:
    """Plug-in kNN density-ratio JS: ``JS = E_p[log 2/(1+q/p)]/2 + E_q[log 2/(1+p/q)]/2``.

    Returns the terms under p (n of them) and under q (m); JS is half the sum of means.
    """
    lr_p = _log_ratio_q_over_p(xp, xq, k, algorithm)
    lr_q = _log_ratio_q_over_p(xq, xp, k, algorithm)
    return math.log(2.0) - np.logaddexp(0.0, lr_p), math.log(2.0) - np.logaddexp(0.0, lr_q)


def _tv_terms(xp: np.ndarray, xq: np.ndarray, k: int, algorithm: str) -> np.ndarray:
    """Plug-in kNN density-ratio TV: ``TV = E_p[max(0, 1 - q/p)]``."""
    lr = _log_ratio_q_over_p(xp, xq, k, algorithm)
    return np.maximum(0.0, -np.expm1(np.minimum(lr, 50.0)))


def _ksg_terms(x: np.ndarray, y: np.ndarray, k: int, variant: int) -> np.ndarray:
    """Kraskov-Stoegbauer-Grassberger mutual information, maximum norm.

    KSG1 (eq. 8): ``I = psi(k) + psi(N) - <psi(n_x + 1) + psi(n_y + 1)>`` with ``n_x`` the
    number of points strictly within the joint k-NN distance in the x-space.
    KSG2 (eq. 9): ``I = psi(k) - 1/k + psi(N) - <psi(n_x) + psi(n_y)>`` with ``n_x`` the
    points within the x-extent of the k-neighbourhood (inclusive).
    """
    n = x.shape[0]
    z = np.hstack([x, y])
    tree_x, tree_y = cKDTree(x), cKDTree(y)
    if variant == 1:
        eps = knn_distances(z, k=k, p=math.inf)[:, -1]
        r = np.nextafter(eps, 0.0)
        nx = tree_x.query_ball_point(x, r, p=math.inf, return_length=True) - 1
        ny = tree_y.query_ball_point(y, r, p=math.inf, return_length=True) - 1
        return (
            special.digamma(k) + special.digamma(n)
            - special.digamma(nx + 1) - special.digamma(ny + 1)
        )
    _, idx = nearest_neighbours(z, k=k, p=math.inf)
    ex = np.max(np.abs(x[idx] - x[:, None, :]), axis=(1, 2))
    ey = np.max(np.abs(y[idx] - y[:, None, :]), axis=(1, 2))
    nx = tree_x.query_ball_point(x, ex, p=math.inf, return_length=True) - 1
    ny = tree_y.query_ball_point(y, ey, p=math.inf, return_length=True) - 1
    nx, ny = np.maximum(nx, 1), np.maximum(ny, 1)
    return (
        special.digamma(k) - 1.0 / k + special.digamma(n)
        - special.digamma(nx) - special.digamma(ny)
    )

