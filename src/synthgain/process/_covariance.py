"""Random component covariances for the simulation.

Three models, chosen by name:

``"random_spd"`` (default)
    ``A A^T + r I`` with ``A ~ U(0, 1)^{d x d}``: the construction the authors' code
    evidently intends, always symmetric positive definite.
``"seed_effective"``
    The covariance NumPy *actually* samples from in the authors' code. Their code builds
    ``C = A B^T`` from two independent uniform draws ``A`` and ``B``, which is not
    symmetric and in ``d = 2`` about 73 % of the time not positive definite.
    The legacy ``numpy.random.multivariate_normal`` (which their code and scikit-learn's
    ``GaussianMixture.sample`` call) factors ``C`` by an SVD, ``C = U S V^T``, and returns
    ``z S^{1/2} V^T``, whose covariance is ``V S V^T = sqrtm(C^T C)``. This model
    returns that effective covariance (plus ``r I``), so that a run can be compared with
    the published figure.
``"isotropic"``
    ``s I`` with ``s`` the ``covariance_scale``.
"""

from __future__ import annotations

import numpy as np

from .._rng import RNGLike, check_rng

__all__ = ["COVARIANCE_MODELS", "random_covariances"]

COVARIANCE_MODELS = ("random_spd", "seed_effective", "isotropic")


def _random_spd(rng: np.random.Generator, k: int, d: int, ridge: float) -> np.ndarray:
    a = rng.random((k, d, d))
    return a @ np.swapaxes(a, 1, 2) + ridge * np.eye(d)


def _seed_effective(rng: np.random.Generator, k: int, d: int, ridge: float) -> np.ndarray:
    """``sqrtm(C^T C) + r I`` with ``C = A B^T``, ``A, B ~ U(0,1)^{d x d}`` drawn one after the other."""
    a = np.empty((k, d, d))
    b = np.empty((k, d, d))
    for j in range(k):  # the authors draw A then B for each component
        a[j] = rng.random((d, d))
        b[j] = rng.random((d, d))
    c = a @ np.swapaxes(b, 1, 2)
    lam, v = np.linalg.eigh(np.swapaxes(c, 1, 2) @ c)  # C^T C = V diag(s^2) V^T
    s = np.sqrt(np.maximum(lam, 0.0))
    eff = (v * s[:, None, :]) @ np.swapaxes(v, 1, 2)
    eff = 0.5 * (eff + np.swapaxes(eff, 1, 2))
    return eff + ridge * np.eye(d)


def _isotropic(k: int, d: int, scale: float) -> np.ndarray:
    return np.broadcast_to(scale * np.eye(d), (k, d, d)).copy()


def random_covariances(
    n_components: int,
    dim: int,
    *,
    model: str = "random_spd",
    scale: float = 1.0,
    ridge: float = 1e-6,
    rng: RNGLike = None,
) -> np.ndarray:
    """Draw ``n_components`` covariance matrices of one model.

    This is a private-style kernel: it does no argument checking (a validated
    :class:`~synthgain.process.Setup` supplies the arguments).

    Parameters
    ----------
    n_components, dim : int
    model : {"random_spd", "seed_effective", "isotropic"}
    scale : float
        Variance of the "isotropic" model.
    ridge : float
        Added to the diagonal by the two random models.
    rng : int, SeedSequence, Generator or None
        A Generator is used (and advanced) as is.

    Returns
    -------
    ndarray, shape (n_components, dim, dim)
        Symmetric positive definite matrices.

    Notes
    -----
    "seed_effective": for ``C = U S V^T``, ``x = z S^{1/2} V^T`` with ``z ~ N(0, I)`` has
    covariance ``V S V^T = (C^T C)^{1/2}``, which is what ``multivariate_normal(mean, C)``
    draws from whether or not ``C`` is a covariance matrix.
    """
    if model == "random_spd":
        return _random_spd(check_rng(rng), n_components, dim, ridge)
    if model == "seed_effective":
        return _seed_effective(check_rng(rng), n_components, dim, ridge)
    return _isotropic(n_components, dim, scale)
