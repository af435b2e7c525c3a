"""Mutual information: jointly Gaussian blocks, mixtures by Monte Carlo, KSG from samples,
and the information a mixture's component label carries about the point."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._rng import RNGLike
from .._validation import check_choice
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
    _SampleOptions,
)
from ._estimate import Estimate
from ._gaussian import Gaussian
from ._options import HISTOGRAM, KNN_DIVERGENCE, MONTE_CARLO, NONE, applies

__all__ = ["label_mutual_information", "mutual_information"]


# --- mutual information ----------------------------------------------------------------
@applies({"closed_form": NONE, "monte_carlo": MONTE_CARLO, "ksg1": KNN_DIVERGENCE,
          "ksg2": KNN_DIVERGENCE, "histogram": HISTOGRAM},
         auto_dist="closed_form|monte_carlo", auto_sample="ksg1", is_dist=_is_dist)
def mutual_information(
    x: Any,
    y: Any,
    *,
    method: str = "auto",
    k: int = 3,
    ties: str = "jitter",
    standardize: bool | None = None,
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
    k : int, default 3
        Neighbour order of KSG (in the joint space, maximum norm).
    standardize : bool or None, default None (on for KSG)
        Centre each feature of ``x`` and of ``y`` and scale it to unit standard deviation
        before the neighbour search. Mutual information is invariant to invertible maps of
        X and of Y separately, so this changes no true value; it makes the estimate
        independent of the units of each variable (rescaling a feature leaves it unchanged
        up to rounding), where the raw maximum-norm neighbourhoods are dominated by the
        variable with the largest spread (as scikit-learn's ``mutual_info_regression``,
        which also scales by default). ``None`` means True for ``"ksg1"`` and ``"ksg2"``;
        pass ``False`` for the raw coordinates. Read only by KSG: any value given to
        another method is an error.
    bias_correction : {None, "permutation"}
        Subtract the mean estimate over ``n_permutations`` random shufflings of ``y``'s
        rows (independence, I = 0).
    n_permutations : int, default 20
        Shufflings for ``bias_correction="permutation"``.
    ties : {"jitter", "remove", "raise"}
        Duplicate handling: "jitter" dequantises tied features with uniform noise of their
        grid step, "remove" drops repeated rows, "raise" refuses them.
    n_bootstrap : int, default 0
        Bootstrap replicates of the per-point terms (neighbours fixed) for a 95% interval.
    bins : int or "auto"
        Histogram bins per axis (``"auto"``: ``ceil(2 n^(1/(d+2)))``).
    n_samples : int, default 10000
        Monte Carlo draws (distributions; the pilot when ``target_stderr`` is set).
    target_stderr : float, optional
        Standard error to reach; the draws are increased to it, up to ``max_samples``.
    max_samples : int, default 10000000
        Cap on the Monte Carlo draws.
    rng : None, int, SeedSequence or Generator
        Monte Carlo draws, tie jitter, permutations and bootstrap replicates.

    Notes
    -----
    Gaussian: :math:`I = \frac12 \log\frac{|\Sigma_{XX}||\Sigma_{YY}|}{|\Sigma|}`.
    KSG1: :math:`\psi(k) + \psi(N) - \langle\psi(n_x+1) + \psi(n_y+1)\rangle`.
    KSG2: :math:`\psi(k) - 1/k + \psi(N) - \langle\psi(n_x) + \psi(n_y)\rangle`.
    Ties (a variable with itself, discrete values) are dequantised independently in X and
    in Y, so ``I(X; X)`` of a discrete X stays near its discrete entropy instead of
    diverging.

    Examples
    --------
    A bivariate Gaussian with correlation 0.8 has ``I = -log(1 - 0.8^2) / 2 = 0.511`` nats;
    the KSG estimate from 2,000 pairs:

    >>> import numpy as np
    >>> from synthgain.measures import mutual_information
    >>> g = np.random.default_rng(1)
    >>> xy = g.multivariate_normal([0, 0], [[1, 0.8], [0.8, 1]], size=2000)
    >>> est = mutual_information(xy[:, :1], xy[:, 1:], rng=0)
    >>> bool(abs(est.value - (-0.5 * np.log(1 - 0.8 ** 2))) < 0.05)
    True

    References
    ----------
    .. [1] A. Kraskov, H. Stoegbauer and P. Grassberger, "Estimating mutual information",
       Physical Review E 69, 066138 (2004), doi:10.1103/PhysRevE.69.066138.
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
            lambda b: _histogram.mutual_information(xa, ya, b), [np.hstack([xa, ya])], bins
        )
    variant = 2 if method == "ksg2" else 1
    k = _check_k(k, xa.shape[0] - 1, "at most the number of points minus 1")
    opts = _SampleOptions(ties, standardize, bias_correction, n_permutations, n_bootstrap,
                          "kdtree", rng, scale_free=True)

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
    n_samples : int, default 10000
        Monte Carlo draws (the pilot when ``target_stderr`` is set).
    target_stderr : float, optional
        Standard error to reach; the draws are increased to it, up to ``max_samples``.
    max_samples : int, default 10000000
        Cap on the Monte Carlo draws.
    rng : None, int, SeedSequence or Generator
        The Monte Carlo draws.

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

    Examples
    --------
    Two equal, well-separated components: the label is known from the point, so
    ``I(X; label) = H(label) = log 2``:

    >>> import numpy as np
    >>> from synthgain.measures import label_mutual_information
    >>> from synthgain.mixture import GaussianMixture
    >>> mix = GaussianMixture([0.5, 0.5], [[-10.0], [10.0]], [[[1.0]], [[1.0]]])
    >>> bool(np.isclose(label_mutual_information(mix, rng=0).value, np.log(2)))
    True
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
