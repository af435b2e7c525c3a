"""The generation chain S_anchor -> p -> M(p) -> S_gen -> W, replicated for the theory.

The target ``G`` and the generator's own components (the ``J`` unsampled components
copied from ``G`` and the ``L`` task-irrelevant ones) are held fixed; the prompt (the
anchors, hence the ``K`` re-estimated components), the generator's random stream, the
curation noise and the fits are redrawn. Prompts and streams are crossed: stream ``i``
is the same labels and standard normals whatever the prompt, so
``M(p) = f(e_p, e_M)`` with independent ``e_p`` (the prompt) and ``e_M`` (the stream),
as in Definition 4.1 of Gan & Liu (2025).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .._rng import RNGLike, child_generator, seed_sequence
from .._validation import check_int
from ..exceptions import ConvergenceWarning, DegenerateDataWarning, ValidationError
from ..mixture import GaussianMixture, MixtureStack, fit_gmm_batched
from ..process import GENERATOR_RIDGE, Setup, Simulation, reestimate_components, simulate

__all__ = ["Chain", "ChainDraws", "chain_from_setup", "simulate_chain"]

# Child streams of simulate_chain's rng (task indices, as SeedSequence.spawn numbers them)
_ANCHORS, _STREAMS, _NOISE, _FITS = 0, 1, 2, 3
#: The fits' covariance ridge at ``scale = 1`` (scikit-learn's ``reg_covar``); it is
#: multiplied by ``scale**2`` with the coordinates, so that a fit at any scale is the
#: fit at scale 1 in other units.
FIT_RIDGE = 1e-6


@dataclass(frozen=True)
class Chain:
    """The fixed parts of one setting: one draw of :func:`synthgain.process.simulate`.

    Built by :func:`chain_from_setup` (or :meth:`from_simulation`); every parameter (K,
    J, L, d, N_k, n, the curation noise, the fitted component counts) is read from
    ``setup``, and ``G`` and the generator's own components from the process's draw.

    Attributes
    ----------
    setup : Setup
    ground_truth : GaussianMixture
        ``G`` (the task distribution ``D``): ``K + J`` equally weighted components; the
        first ``K`` are the anchor-sampled ones.
    generator : GaussianMixture
        ``M`` of that draw, ``K + J + L`` components. Its components ``K..`` (the ``J``
        copied from ``G`` and the ``L`` task-irrelevant ones) are held fixed; its first
        ``K`` are re-estimated from every replicate prompt.
    """

    setup: Setup
    ground_truth: GaussianMixture
    generator: GaussianMixture

    def __post_init__(self) -> None:
        s = self.setup
        if not isinstance(s, Setup):
            raise ValidationError(
                f"`setup` must be a synthgain.process.Setup. Got {type(s).__name__} instead."
            )
        for name, mix, k in (("ground_truth", self.ground_truth, s.K + s.J),
                             ("generator", self.generator, s.K + s.J + s.L)):
            if not isinstance(mix, GaussianMixture) or mix.n_components != k or mix.dim != s.d:
                got = (f"{mix.n_components} components in d = {mix.dim}"
                       if isinstance(mix, GaussianMixture) else type(mix).__name__)
                raise ValidationError(
                    f"`{name}` must be a GaussianMixture with {k} components in d = {s.d} "
                    f"(the setup's K, J, L, d). Got {got} instead."
                )

    @classmethod
    def from_simulation(cls, sim: Simulation) -> Chain:
        """The chain of one :class:`~synthgain.process.Simulation` (its anchors are not used)."""
        return cls(sim.setup, sim.ground_truth, sim.generator)

    @property
    def dim(self) -> int:
        return self.setup.d

    @property
    def n_generator_components(self) -> int:
        """``K + J + L``."""
        return self.setup.K + self.setup.J + self.setup.L

    def generator_for(self, means_k: np.ndarray, covs_k: np.ndarray) -> GaussianMixture:
        """``M`` for re-estimated anchor components ``means_k`` (K, d), ``covs_k`` (K, d, d)."""
        w, m, c = self._generator_arrays(means_k[None], covs_k[None])
        return GaussianMixture._from_trusted(w, m[0], c[0])

    def nominal_generator(self) -> GaussianMixture:
        """``M`` with its K part equal to ``G``'s first K components (the prompt's target)."""
        k = self.setup.K
        return self.generator_for(self.ground_truth.means[:k], self.ground_truth.covariances[:k])

    def _generator_arrays(
        self, means_k: np.ndarray, covs_k: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Weights (k,), means (B, k, d), covariances (B, k, d, d) of B generators."""
        b, k = means_k.shape[0], self.setup.K
        own_m, own_c = self.generator.means[k:], self.generator.covariances[k:]
        m = np.concatenate([means_k, np.broadcast_to(own_m, (b, *own_m.shape))], axis=1)
        c = np.concatenate([covs_k, np.broadcast_to(own_c, (b, *own_c.shape))], axis=1)
        kt = self.n_generator_components
        return np.full(kt, 1.0 / kt), m, c


def chain_from_setup(setup: Setup, *, rng: RNGLike = None) -> Chain:
    """The fixed parts (``G``, the J and L components of ``M``) of one draw of ``setup``.

    Uses :func:`synthgain.process.simulate` (so the covariance model, the means and the
    ridge are the process's); the anchors and synthetic data of that draw are discarded,
    since :func:`simulate_chain` redraws them. ``rng=None`` uses ``setup.seed``, as
    ``simulate`` does. The fits use ``setup.k_anchor_fit`` components on the anchors and
    ``setup.k_synthetic_fit`` on the synthetic data.
    """
    if not isinstance(setup, Setup):
        raise ValidationError(
            f"`setup` must be a synthgain.process.Setup. Got {type(setup).__name__} instead."
        )
    return Chain.from_simulation(simulate(setup, rng=rng))


@dataclass(frozen=True)
class ChainDraws:
    """Replicates of the chain: ``B_p`` prompts crossed with ``B_s`` generator streams.

    Attributes
    ----------
    anchors : ndarray, shape (B_p, K * N_k, d)
    prompt_means, prompt_covariances : ndarray, shape (B_p, K, d) and (B_p, K, d, d)
        The re-estimated anchor components (``e_p``).
    generated : ndarray, shape (B_p, B_s, n, d)
        ``M(p)`` before curation noise.
    synthetic : ndarray, shape (B_p, B_s, n, d)
        ``S_gen``.
    anchor_fits : BatchFit
        ``W'``: ``setup.k_anchor_fit`` components fitted to each anchor set (B_p fits).
    synthetic_fits : BatchFit
        ``W``: ``setup.k_synthetic_fit`` components fitted to each ``S_gen`` (B_p * B_s
        fits, row-major).
    n_fit_warnings : int
        Convergence or degeneracy warnings raised by the fits.
    noise_fits : BatchFit or None
        With curation noise and ``n_noise_draws`` > 0: fits to ``n_noise_draws`` further
        noisy copies ``M(p) + eps'`` of every generated dataset (B_p * B_s *
        n_noise_draws fits, row-major over (prompt, stream, draw)); they give
        ``I(S_gen; W | M(p))``, the information ``W`` takes from the noise.
    """

    anchors: np.ndarray
    prompt_means: np.ndarray
    prompt_covariances: np.ndarray
    generated: np.ndarray
    synthetic: np.ndarray
    anchor_fits: object
    synthetic_fits: object
    n_fit_warnings: int
    noise_fits: object = None


def simulate_chain(
    chain: Chain,
    *,
    n_prompts: int = 24,
    n_streams: int = 24,
    n_noise_draws: int = 2,
    rng: RNGLike = None,
) -> ChainDraws:
    """Draw ``n_prompts x n_streams`` replicates of the chain and fit every dataset.

    Parameters
    ----------
    chain : Chain
    n_prompts, n_streams : int
        Levels of the two crossed factors (``e_p`` and ``e_M``), each at least 3.
    n_noise_draws : int, default 2
        Further curation-noise draws fitted per generated dataset (only when
        ``chain.setup.noise > 0``; 0 skips them).
    rng : int, SeedSequence, Generator or None
        The anchors, the generator streams, the curation noise and the fits use children
        0, 1, 2 and 3 of ``rng`` (:func:`synthgain._rng.child_seed`).
    """
    s = chain.setup
    bp = check_int(n_prompts, "n_prompts", low=3)
    bs = check_int(n_streams, "n_streams", low=3)
    ne = check_int(n_noise_draws, "n_noise_draws", low=0) if s.noise > 0 else 0
    root = seed_sequence(rng)
    g_anchor, g_stream, g_noise, g_fit = (
        child_generator(root, key) for key in (_ANCHORS, _STREAMS, _NOISE, _FITS)
    )
    k, nk, d, n = s.K, s.n_anchor_per_component, s.d, s.n_synthetic
    c2 = s.scale**2  # ridges move with the units (exactly 1 at scale 1)
    g = chain.ground_truth
    # anchors: N_k points of each of G's first K components, for each prompt
    z = g_anchor.standard_normal((bp, k, nk, d))
    pts = g.means[:k, None, :] + np.einsum("kij,pknj->pkni", g.cholesky[:k], z)
    anchors = pts.reshape(bp, k * nk, d)  # component k's points at rows k N_k .. (k+1) N_k - 1
    means_k, covs_k = reestimate_components(anchors, np.repeat(np.arange(k), nk), k,
                                            ridge=GENERATOR_RIDGE * c2)
    _, gm, gc = chain._generator_arrays(means_k, covs_k)
    chol = np.linalg.cholesky(gc)  # (B_p, k_tot, d, d)
    # generator streams: labels and standard normals shared by every prompt
    labels = g_stream.integers(0, chain.n_generator_components, size=(bs, n))
    zs = g_stream.standard_normal((bs, n, d))
    mu = gm[:, labels]  # (B_p, B_s, n, d)
    generated = mu + np.einsum("psnij,snj->psni", chol[:, labels], zs)
    synthetic = generated + s.noise_sd * g_noise.standard_normal(generated.shape)
    reg = FIT_RIDGE * c2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        warnings.simplefilter("always", DegenerateDataWarning)
        fa = fit_gmm_batched(anchors, s.k_anchor_fit, rng=g_fit, reg_covar=reg)
        fs = fit_gmm_batched(synthetic.reshape(bp * bs, n, d), s.k_synthetic_fit, rng=g_fit,
                             reg_covar=reg)
        fe = None
        if ne:
            extra = generated[:, :, None] + s.noise_sd * g_noise.standard_normal((bp, bs, ne, n, d))
            fe = fit_gmm_batched(extra.reshape(bp * bs * ne, n, d), s.k_synthetic_fit, rng=g_fit,
                                 reg_covar=reg)
    return ChainDraws(anchors, means_k, covs_k, generated, synthetic, fa, fs, len(caught), fe)


def embed_fits(fit: object, ref: np.ndarray, ref_logq: np.ndarray) -> np.ndarray:
    r"""Relabelling-invariant embedding of the B mixtures of a fit, shape (B, R).

    ``T_j = sqrt(p_W(r_j) / q(r_j) / R)`` at reference points ``r_j ~ q``, so that
    ``|T(W) - T(W')|^2`` estimates ``\int (\sqrt{p_W} - \sqrt{p_{W'}})^2 = 2 H^2`` (twice
    the squared Hellinger distance). ``p_W`` is :meth:`MixtureStack.logpdf` with the
    difference-form kernel ("exact"). Does no argument checking.
    """
    logp = MixtureStack.from_fit(fit).logpdf(ref, kernel="exact")  # (B, R)
    return np.exp(0.5 * (logp - ref_logq[None, :] - np.log(ref.shape[0])))
