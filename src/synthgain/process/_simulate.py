"""Building one run of the generation process: G, the anchors, M, the curation noise, S_gen."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._rng import RNGLike, check_rng
from ..exceptions import ValidationError
from ..mixture import GaussianMixture
from ._covariance import random_covariances
from ._setup import Setup

__all__ = [
    "ANCHOR",
    "GENERATOR_RIDGE",
    "GROUP_NAMES",
    "IRRELEVANT",
    "UNSAMPLED",
    "Simulation",
    "reestimate_components",
    "simulate",
]

#: Group codes of components and synthetic points (Figure 5 of the paper).
ANCHOR, UNSAMPLED, IRRELEVANT = 0, 1, 2
GROUP_NAMES = ("anchor", "unsampled", "irrelevant")

#: Ridge added to the re-estimated anchor covariances of M (the authors' code).
GENERATOR_RIDGE = 1e-6


@dataclass(frozen=True)
class Simulation:
    """One draw of the generation process ``S_anchor -> p -> M(p) -> S_gen``.

    Attributes
    ----------
    setup : Setup
    ground_truth : GaussianMixture
        ``G``: ``K + J`` equally weighted components; components ``0..K-1`` are the
        anchor part, ``K..K+J-1`` the unsampled part.
    anchors : ndarray, shape (K * n_anchor_per_component, d)
        ``S_anchor``: ``n_anchor_per_component`` points from each anchor component of G.
    anchor_labels : ndarray of int, shape (K * n_anchor_per_component,)
        The component of G each anchor point was drawn from.
    generator : GaussianMixture
        ``M``: ``K + J + L`` equally weighted components: the anchor part re-estimated
        from the anchors, the unsampled part copied from G, then ``L`` task-irrelevant
        components.
    synthetic : ndarray, shape (n_synthetic, d)
        ``S_gen = M(p) + eps``.
    synthetic_labels : ndarray of int, shape (n_synthetic,)
        The component of M each synthetic point was drawn from.
    """

    setup: Setup
    ground_truth: GaussianMixture
    anchors: np.ndarray
    anchor_labels: np.ndarray
    generator: GaussianMixture
    synthetic: np.ndarray
    synthetic_labels: np.ndarray

    @property
    def generator_groups(self) -> np.ndarray:
        """Group code (ANCHOR, UNSAMPLED, IRRELEVANT) of each component of M, shape (K+J+L,)."""
        s = self.setup
        return np.repeat([ANCHOR, UNSAMPLED, IRRELEVANT], [s.K, s.J, s.L])

    @property
    def ground_truth_groups(self) -> np.ndarray:
        """Group code of each component of G, shape (K+J,)."""
        return self.generator_groups[: self.setup.K + self.setup.J]

    @property
    def synthetic_groups(self) -> np.ndarray:
        """Group code of each synthetic point, shape (n_synthetic,)."""
        return self.generator_groups[self.synthetic_labels]


def _ground_truth(s: Setup, rng: np.random.Generator) -> GaussianMixture:
    k = s.K + s.J
    means = rng.uniform(s.mean_low, s.mean_high, size=(k, s.d)) + s.gap * np.arange(k)[:, None]
    covs = random_covariances(
        k, s.d, model=s.covariance, scale=s.covariance_scale, ridge=s.covariance_ridge, rng=rng
    )
    return GaussianMixture._from_trusted(np.full(k, 1.0 / k), means, covs)


def reestimate_components(
    anchors: np.ndarray, labels: np.ndarray, n_components: int, *,
    ridge: float = GENERATOR_RIDGE,
) -> tuple[np.ndarray, np.ndarray]:
    """The generator's anchor part: each component re-estimated from its anchor points.

    Does no argument checking.

    Parameters
    ----------
    anchors : ndarray, shape (..., n, d)
        One or a batch (leading axes) of anchor sets sharing ``labels``.
    labels : ndarray of int, shape (n,)
        The component of each anchor point, in ``[0, n_components)``; each component
        needs at least two points.
    n_components : int
        ``K``.
    ridge : float, default GENERATOR_RIDGE
        Added to every covariance diagonal (``GENERATOR_RIDGE * scale**2`` for anchors
        in the coordinates of a setting at ``scale``).

    Returns
    -------
    means : ndarray, shape (..., K, d)
        Per-component sample means.
    covariances : ndarray, shape (..., K, d, d)
        Per-component unbiased sample covariances plus ``ridge * I`` (the authors'
        code: ``1e-6 I``).
    """
    d = anchors.shape[-1]
    onehot = (labels[:, None] == np.arange(n_components)).astype(np.float64)  # (n, k)
    counts = onehot.sum(axis=0)
    means = (onehot.T @ anchors) / counts[:, None]
    diff = anchors[..., None, :, :] - means[..., :, None, :]  # (..., k, n, d)
    # covs[..., k, i, j] = sum_n onehot[n, k] diff[..., k, n, i] diff[..., k, n, j]
    covs = np.einsum("nk,...kni,...knj->...kij", onehot, diff, diff) / (counts - 1.0)[:, None, None]
    return means, covs + ridge * np.eye(d)


def _generator(
    s: Setup, g: GaussianMixture, anchors: np.ndarray, labels: np.ndarray,
    rng: np.random.Generator,
) -> GaussianMixture:
    m_anchor, c_anchor = reestimate_components(anchors, labels, s.K)
    m_irr = rng.uniform(s.mean_low, s.mean_high, size=(s.L, s.d))
    c_irr = random_covariances(
        s.L, s.d, model=s.covariance, scale=s.covariance_scale, ridge=s.covariance_ridge, rng=rng
    )
    unsampled = slice(s.K, s.K + s.J)
    means = np.concatenate([m_anchor, g.means[unsampled], m_irr])
    covs = np.concatenate([c_anchor, g.covariances[unsampled], c_irr])
    k = s.K + s.J + s.L
    try:
        return GaussianMixture._from_trusted(np.full(k, 1.0 / k), means, covs)
    except ValidationError:  # pragma: no cover - the ridge keeps every block SPD
        raise ValidationError(
            "The generator's covariances are not positive definite; raise covariance_ridge."
        ) from None


def simulate(setup: Setup, *, rng: RNGLike = None) -> Simulation:
    """Draw G, the anchors, the generator M and the synthetic data for one setting.

    Parameters
    ----------
    setup : Setup
    rng : int, SeedSequence, Generator or None
        Randomness; when None, ``setup.seed`` is used (fresh entropy if that is None too).

    Returns
    -------
    Simulation

    Notes
    -----
    The draws follow Appendix B of Gan & Liu (2025), in this order:

    1. ``G``: means ``U(mean_low, mean_high)^d + gap * i``, covariances from
       ``setup.covariance``, weights ``1 / (K + J)``.
    2. ``S_anchor``: ``N_k`` points from each of G's first ``K`` components.
    3. ``M``: for each anchor component, the sample mean and unbiased sample covariance
       of its points plus ``1e-6 I``; then G's components ``K..K+J-1``; then ``L`` new
       random components; weights ``1 / (K + J + L)``.
    4. ``S_gen = M(p) + eps``: ``n_synthetic`` points from M, plus
       ``eps ~ N(0, noise^2 I)`` when ``noise > 0``.

    With ``scale != 1`` the same draws are made and every coordinate (of ``G``, the
    anchors, ``M`` and ``S_gen``) is then multiplied by ``scale``.

    Examples
    --------
    >>> from synthgain.process import Setup, simulate
    >>> sim = simulate(Setup(K=2, J=3, L=1), rng=0)
    >>> sim.ground_truth.n_components, sim.generator.n_components, sim.anchors.shape
    (5, 6, (100, 2))
    """
    if not isinstance(setup, Setup):
        raise ValidationError(
            f"`setup` must be a synthgain.process.Setup. Got {type(setup).__name__} instead; "
            "build one with Setup(K=..., J=..., L=...)."
        )
    gen = check_rng(setup.seed if rng is None else rng)
    g = _ground_truth(setup, gen)
    labels = np.repeat(np.arange(setup.K), setup.n_anchor_per_component)
    anchors = g.sample_components(labels, rng=gen)  # labels < K: G's first K components
    m = _generator(setup, g, anchors, labels, gen)
    synthetic, syn_labels = m.sample(setup.n_synthetic, rng=gen)
    if setup.noise > 0:
        synthetic = synthetic + setup.noise * gen.standard_normal(synthetic.shape)
    if setup.scale != 1.0:  # the same draws in other units
        c = setup.scale
        g, m = _scaled(g, c), _scaled(m, c)
        anchors, synthetic = c * anchors, c * synthetic
    return Simulation(setup, g, anchors, labels, m, synthetic, syn_labels)


def _scaled(mix: GaussianMixture, c: float) -> GaussianMixture:
    """``mix`` with every coordinate multiplied by ``c``."""
    return GaussianMixture._from_trusted(mix.weights, c * mix.means, c * c * mix.covariances)
