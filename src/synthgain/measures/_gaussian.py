"""The multivariate normal and its closed-form information measures.

Kernels named ``_*`` do no argument checking: the public functions in ``_api.py`` and
the :class:`Gaussian` constructor validate first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import linalg, special

from .._rng import RNGLike, check_rng
from .._validation import check_array, check_int
from ..exceptions import ValidationError
from ..mixture import LOG_2PI, GaussianMixture

__all__ = ["Gaussian"]



class Gaussian:
    r"""A multivariate normal distribution :math:`\mathcal N(\mu, \Sigma)` with known parameters.

    Parameters
    ----------
    mean : array_like, shape (d,) or scalar
    cov : array_like, shape (d, d) or scalar
        Symmetric positive definite. A scalar is the variance of a 1-D normal.

    Examples
    --------
    >>> from synthgain.measures import Gaussian, entropy
    >>> round(float(entropy(Gaussian(0.0, 1.0))), 6)  # 0.5 * log(2 pi e)
    1.418939
    """

    def __init__(self, mean: Any, cov: Any) -> None:
        mu = check_array(mean, "mean", ndim=(0, 1))
        mu = mu.reshape(-1)
        d = mu.shape[0]
        if d < 1:
            raise ValidationError("`mean` must have at least one entry (dimension >= 1).")
        c = check_array(cov, "cov", ndim=(0, 2))
        if c.ndim == 0:
            c = c.reshape(1, 1)
        if c.shape != (d, d):
            raise ValidationError(
                f"`cov` must have shape (d, d) = ({d}, {d}) to match `mean`. "
                f"Got {c.shape} instead."
            )
        scale = max(float(np.max(np.abs(c))), 1.0)
        if np.max(np.abs(c - c.T)) / scale > 1e-10:
            raise ValidationError(
                "`cov` must be symmetric; symmetrise it with (C + C.T) / 2."
            )
        eig_min = float(np.linalg.eigvalsh(c)[0])
        if eig_min <= 0:
            raise ValidationError(
                f"`cov` must be positive definite. Its smallest eigenvalue is {eig_min:.6g}; "
                "add a ridge (C + eps * I) or rebuild it as A @ A.T."
            )
        self._set(mu, (c + c.T) / 2)

    @classmethod
    def _from_trusted(cls, mean: np.ndarray, cov: np.ndarray) -> Gaussian:
        obj = cls.__new__(cls)
        obj._set(np.asarray(mean, dtype=float), np.asarray(cov, dtype=float))
        return obj

    def _set(self, mean: np.ndarray, cov: np.ndarray) -> None:
        self._mean, self._cov = mean, cov
        self._chol = np.linalg.cholesky(cov)
        self._logdet = 2.0 * float(np.sum(np.log(np.diag(self._chol))))
        for arr in (self._mean, self._cov, self._chol):
            arr.setflags(write=False)

    @property
    def mean(self) -> np.ndarray:
        """Mean, shape (d,)."""
        return self._mean

    @property
    def cov(self) -> np.ndarray:
        """Covariance, shape (d, d)."""
        return self._cov

    @property
    def cholesky(self) -> np.ndarray:
        """Lower Cholesky factor of the covariance, shape (d, d)."""
        return self._chol

    @property
    def dim(self) -> int:
        """Dimension ``d``."""
        return int(self._mean.shape[0])

    @property
    def logdet(self) -> float:
        """``log det cov``."""
        return self._logdet

    def __repr__(self) -> str:
        return f"Gaussian(dim={self.dim})"

    def logpdf(self, x: Any) -> np.ndarray:
        """Log-density at each row of ``x`` (shape (n, d); 1-D input is one feature when d = 1)."""
        arr = check_array(x, "x", ndim=(1, 2))
        if arr.ndim == 1:
            arr = arr[:, None] if self.dim == 1 else arr[None, :]
        if arr.shape[1] != self.dim:
            raise ValidationError(
                f"`x` must have {self.dim} columns. Got shape {arr.shape} instead."
            )
        z = linalg.solve_triangular(self._chol, (arr - self._mean).T, lower=True)
        return -0.5 * (self.dim * LOG_2PI + self._logdet + np.sum(z * z, axis=0))

    def pdf(self, x: Any) -> np.ndarray:
        """Density at each row of ``x``."""
        return np.exp(self.logpdf(x))

    def sample(self, n: int, *, rng: RNGLike = None) -> np.ndarray:
        """Draw ``n`` points, shape (n, d)."""
        n = check_int(n, "n", low=0)
        z = check_rng(rng).standard_normal((n, self.dim))
        return self._mean + z @ self._chol.T

    def marginal(self, idx: Sequence[int] | np.ndarray) -> Gaussian:
        """The marginal of the coordinates ``idx``."""
        ix = np.asarray(idx, dtype=int)
        return Gaussian._from_trusted(self._mean[ix].copy(), self._cov[np.ix_(ix, ix)].copy())

    def to_mixture(self) -> GaussianMixture:
        """This distribution as a one-component :class:`~synthgain.mixture.GaussianMixture`."""
        return GaussianMixture._from_trusted(
            np.ones(1), self._mean[None, :].copy(), self._cov[None, :, :].copy()
        )


# --- closed-form kernels (no argument checking) ---------------------------------------
def _entropy(g: Gaussian) -> float:
    """``H = (d log(2 pi e) + log det Sigma) / 2``."""
    return 0.5 * (g.dim * (LOG_2PI + 1.0) + g.logdet)


def _kl(p: Gaussian, q: Gaussian) -> float:
    """``KL(p||q) = (tr(Sq^-1 Sp) + dmu^T Sq^-1 dmu - d + log det Sq - log det Sp) / 2``."""
    a = linalg.solve_triangular(q.cholesky, p.cholesky, lower=True)
    b = linalg.solve_triangular(q.cholesky, q.mean - p.mean, lower=True)
    return 0.5 * (float(np.sum(a * a)) + float(b @ b) - p.dim + q.logdet - p.logdet)


def _mutual_information_blocks(g: Gaussian, iy: np.ndarray) -> float:
    """``I(X; Y) = (log det S_xx + log det S_yy - log det S) / 2`` for jointly normal blocks."""
    ix = np.setdiff1d(np.arange(g.dim), iy)
    ld_x = np.linalg.slogdet(g.cov[np.ix_(ix, ix)])[1]
    ld_y = np.linalg.slogdet(g.cov[np.ix_(iy, iy)])[1]
    return float(max(0.5 * (ld_x + ld_y - g.logdet), 0.0))


def _tv_1d(m1: float, s1: float, m2: float, s2: float) -> float:
    """Exact total variation between N(m1, s1^2) and N(m2, s2^2).

    The densities cross where ``log p1 - log p2 = a x^2 + b x + c = 0``; TV is the
    difference of the two probabilities of the interval between the crossings.
    """
    a = 0.5 / s2**2 - 0.5 / s1**2
    if abs(a) * max(s1, s2) ** 2 < 1e-12:
        s = 0.5 * (s1 + s2)
        return float(2.0 * special.ndtr(abs(m1 - m2) / (2.0 * s)) - 1.0)
    b = m1 / s1**2 - m2 / s2**2
    c = m2**2 / (2 * s2**2) - m1**2 / (2 * s1**2) + math.log(s2 / s1)
    disc = math.sqrt(b * b - 4 * a * c)
    r1, r2 = sorted(((-b - disc) / (2 * a), (-b + disc) / (2 * a)))

    def mass(m: float, s: float) -> float:
        return float(special.ndtr((r2 - m) / s) - special.ndtr((r1 - m) / s))

    return abs(mass(m1, s1) - mass(m2, s2))


def _tv_equal_cov(p: Gaussian, q: Gaussian) -> float:
    """``TV = 2 Phi(Delta / 2) - 1`` with Delta the Mahalanobis distance (common covariance)."""
    b = linalg.solve_triangular(p.cholesky, p.mean - q.mean, lower=True)
    return float(2.0 * special.ndtr(math.sqrt(float(b @ b)) / 2.0) - 1.0)


def _bhattacharyya(p: Gaussian, q: Gaussian) -> float:
    """Bhattacharyya coefficient ``BC = int sqrt(p q)`` in closed form."""
    s = 0.5 * (p.cov + q.cov)
    dm = p.mean - q.mean
    ld = np.linalg.slogdet(s)[1]
    db = 0.125 * float(dm @ np.linalg.solve(s, dm)) + 0.5 * (ld - 0.5 * (p.logdet + q.logdet))
    return math.exp(-db)


def _dmr_phi(p: Gaussian, q: Gaussian) -> tuple[float, float, float]:
    """Devroye-Mehrabian-Reddad statistic and constants ``(phi, c_low, c_high)``.

    Theorem 1.2 (equal means): ``1/100 <= TV / min(1, phi) <= 3/2`` with
    ``phi = ||eig(S1^-1 S2) - 1||_2``; Theorem 1.8 (general):
    ``1/200 <= TV / min(1, phi) <= 9/2``.
    """
    v = p.mean - q.mean
    if not np.any(v):
        lam = linalg.eigvalsh(q.cov, p.cov) - 1.0
        return float(np.sqrt(np.sum(lam**2))), 1 / 100, 3 / 2
    vs1v = float(v @ p.cov @ v)
    terms = [abs(float(v @ (p.cov - q.cov) @ v)) / vs1v, float(v @ v) / math.sqrt(vs1v)]
    if p.dim > 1:
        basis = linalg.null_space(v[None, :])  # (d, d-1), orthonormal, orthogonal to v
        a1 = basis.T @ p.cov @ basis
        a2 = basis.T @ q.cov @ basis
        lam = linalg.eigvalsh(a2, a1) - 1.0
        terms.append(float(np.sqrt(np.sum(lam**2))))
    return max(terms), 1 / 200, 9 / 2


def _tv_bounds(p: Gaussian, q: Gaussian) -> tuple[float, float]:
    """Lower and upper bounds on TV(p, q), the tightest of the cheap closed forms.

    Devroye-Mehrabian-Reddad (2018); Hellinger ``1 - BC <= TV <= sqrt(1 - BC^2)``;
    Pinsker ``TV <= sqrt(KL / 2)``; Bretagnolle-Huber ``TV <= sqrt(1 - exp(-KL))``.
    """
    phi, c_lo, c_hi = _dmr_phi(p, q)
    bc = _bhattacharyya(p, q)
    kl = min(_kl(p, q), _kl(q, p))
    lower = max(c_lo * min(1.0, phi), 1.0 - bc, 0.0)
    upper = min(
        1.0, c_hi * phi, math.sqrt(max(1.0 - bc * bc, 0.0)),
        math.sqrt(kl / 2.0), math.sqrt(-math.expm1(-kl)),
    )
    return lower, max(upper, lower)
