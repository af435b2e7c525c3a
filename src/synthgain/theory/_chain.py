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

from .._rng import RNGLike, spawn_generators
from .._validation import check_int, check_real
from ..exceptions import ConvergenceWarning, DegenerateDataWarning
from ..mixture import GaussianMixture, _kernels, fit_gmm_batched

__all__ = ["Chain", "ChainDraws", "make_chain", "simulate_chain"]


@dataclass(frozen=True)
class Chain:
    """The fixed parts of one simulation setting.

    Attributes
    ----------
    truth : GaussianMixture
        ``G`` (the task distribution ``D``): ``K + J`` equally weighted components; the
        first ``K`` are the anchor-sampled ones.
    n_anchor_components, n_unsampled, n_irrelevant : int
        ``K``, ``J`` and ``L``.
    irrelevant_means : ndarray, shape (L, d)
    irrelevant_covariances : ndarray, shape (L, d, d)
    anchors_per_component : int
        ``N_k``.
    n_synthetic : int
        ``n``, points drawn from ``M``.
    curation_noise : float
        Standard deviation of the isotropic Gaussian curation noise ``eps``.
    ridge : float
        Added to the re-estimated covariances (``1e-6`` as in the paper's code).
    anchor_fit_components, synthetic_fit_components : int or None
        Components fitted to the anchors (``W'``) and to ``S_gen`` (``W``); None means
        ``K`` and ``K + J + L`` (the authors' code).
    """

    truth: GaussianMixture
    n_anchor_components: int
    n_unsampled: int
    n_irrelevant: int
    irrelevant_means: np.ndarray
    irrelevant_covariances: np.ndarray
    anchors_per_component: int = 50
    n_synthetic: int = 200
    curation_noise: float = 0.0
    ridge: float = 1e-6
    anchor_fit_components: int | None = None
    synthetic_fit_components: int | None = None

    @property
    def dim(self) -> int:
        return self.truth.dim

    @property
    def k_anchor_fit(self) -> int:
        """Components of the anchor fit ``W'``."""
        return self.anchor_fit_components or self.n_anchor_components

    @property
    def k_synthetic_fit(self) -> int:
        """Components of the synthetic fit ``W``."""
        return self.synthetic_fit_components or self.n_generator_components

    @property
    def n_generator_components(self) -> int:
        """``K + J + L``."""
        return self.n_anchor_components + self.n_unsampled + self.n_irrelevant

    def generator(self, means_k: np.ndarray, covs_k: np.ndarray) -> GaussianMixture:
        """``M`` for re-estimated anchor components ``means_k`` (K, d), ``covs_k`` (K, d, d)."""
        w, m, c = self._generator_arrays(means_k[None], covs_k[None])
        return GaussianMixture._from_trusted(w, m[0], c[0])

    def nominal_generator(self) -> GaussianMixture:
        """``M`` with its K part equal to ``G``'s first K components (the prompt's target)."""
        k = self.n_anchor_components
        return self.generator(self.truth.means[:k], self.truth.covariances[:k])

    def _generator_arrays(
        self, means_k: np.ndarray, covs_k: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Weights (k,), means (B, k, d), covariances (B, k, d, d) of B generators."""
        b = means_k.shape[0]
        k, j = self.n_anchor_components, self.n_unsampled
        own_m = np.concatenate([self.truth.means[k : k + j], self.irrelevant_means])
        own_c = np.concatenate([self.truth.covariances[k : k + j], self.irrelevant_covariances])
        m = np.concatenate([means_k, np.broadcast_to(own_m, (b, *own_m.shape))], axis=1)
        c = np.concatenate([covs_k, np.broadcast_to(own_c, (b, *own_c.shape))], axis=1)
        kt = self.n_generator_components
        return np.full(kt, 1.0 / kt), m, c


def _random_covariances(gen: np.random.Generator, n: int, d: int) -> np.ndarray:
    a = gen.uniform(size=(n, d, d))
    return a @ np.swapaxes(a, 1, 2) + 0.01 * np.eye(d)  # symmetric positive definite


def make_chain(
    n_anchor_components: int = 2,
    n_unsampled: int = 2,
    n_irrelevant: int = 2,
    *,
    dim: int = 2,
    anchors_per_component: int = 50,
    n_synthetic: int = 200,
    curation_noise: float = 0.0,
    anchor_fit_components: int | None = None,
    synthetic_fit_components: int | None = None,
    rng: RNGLike = None,
) -> Chain:
    """Draw one setting of the paper's simulation (Section 3.1, Appendix B).

    Means are uniform in ``[0, 10]^d``; covariances are ``A A^T + 0.01 I`` with ``A``
    uniform in ``[0, 1]^{d x d}`` (one draw of ``A``, so always symmetric positive
    definite, unlike the paper's code, PAPER.md section 6 item 2). The fits use
    ``anchor_fit_components`` (default ``K``) and ``synthetic_fit_components`` (default
    ``K + J + L``) components.
    """
    k = check_int(n_anchor_components, "n_anchor_components", low=1)
    j = check_int(n_unsampled, "n_unsampled", low=0)
    ll = check_int(n_irrelevant, "n_irrelevant", low=0)
    d = check_int(dim, "dim", low=1)
    nk = check_int(anchors_per_component, "anchors_per_component", low=d + 2)
    n = check_int(n_synthetic, "n_synthetic", low=k + j + ll)
    s = check_real(curation_noise, "curation_noise", low=0.0)
    ka = k if anchor_fit_components is None else check_int(
        anchor_fit_components, "anchor_fit_components", low=1, high=k * nk)
    ks = k + j + ll if synthetic_fit_components is None else check_int(
        synthetic_fit_components, "synthetic_fit_components", low=1, high=n)
    gen_g, gen_l = spawn_generators(rng, 2)
    truth = GaussianMixture._from_trusted(
        np.full(k + j, 1.0 / (k + j)),
        gen_g.uniform(0, 10, size=(k + j, d)),
        _random_covariances(gen_g, k + j, d),
    )
    return Chain(
        truth, k, j, ll, gen_l.uniform(0, 10, size=(ll, d)), _random_covariances(gen_l, ll, d),
        nk, n, s, anchor_fit_components=ka, synthetic_fit_components=ks,
    )


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
        ``W'``: ``chain.k_anchor_fit`` components fitted to each anchor set (B_p fits).
    synthetic_fits : BatchFit
        ``W``: ``chain.k_synthetic_fit`` components fitted to each ``S_gen`` (B_p * B_s
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
        ``chain.curation_noise > 0``; 0 skips them).
    rng : int, SeedSequence, Generator or None
        Anchors, streams, noise and fits use four independent children of ``rng``.
    """
    bp = check_int(n_prompts, "n_prompts", low=3)
    bs = check_int(n_streams, "n_streams", low=3)
    ne = check_int(n_noise_draws, "n_noise_draws", low=0) if chain.curation_noise > 0 else 0
    g_anchor, g_stream, g_noise, g_fit = spawn_generators(rng, 4)
    k, nk, d, n = chain.n_anchor_components, chain.anchors_per_component, chain.dim, chain.n_synthetic
    # anchors: N_k points of each of G's first K components, for each prompt
    z = g_anchor.standard_normal((bp, k, nk, d))
    pts = chain.truth.means[:k, None, :] + np.einsum("kij,pknj->pkni", chain.truth.cholesky[:k], z)
    means_k = pts.mean(axis=2)
    centred = pts - means_k[:, :, None, :]
    covs_k = np.einsum("pkni,pknj->pkij", centred, centred) / (nk - 1) + chain.ridge * np.eye(d)
    _, gm, gc = chain._generator_arrays(means_k, covs_k)
    chol = np.linalg.cholesky(gc)  # (B_p, k_tot, d, d)
    # generator streams: labels and standard normals shared by every prompt
    labels = g_stream.integers(0, chain.n_generator_components, size=(bs, n))
    zs = g_stream.standard_normal((bs, n, d))
    mu = gm[:, labels]  # (B_p, B_s, n, d)
    generated = mu + np.einsum("psnij,snj->psni", chol[:, labels], zs)
    synthetic = generated + chain.curation_noise * g_noise.standard_normal(generated.shape)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        warnings.simplefilter("always", DegenerateDataWarning)
        fa = fit_gmm_batched(pts.reshape(bp, k * nk, d), chain.k_anchor_fit, rng=g_fit)
        fs = fit_gmm_batched(synthetic.reshape(bp * bs, n, d), chain.k_synthetic_fit, rng=g_fit)
        fe = None
        if ne:
            extra = generated[:, :, None] + chain.curation_noise * g_noise.standard_normal(
                (bp, bs, ne, n, d)
            )
            fe = fit_gmm_batched(extra.reshape(bp * bs * ne, n, d), chain.k_synthetic_fit, rng=g_fit)
    return ChainDraws(
        pts.reshape(bp, k * nk, d), means_k, covs_k, generated, synthetic, fa, fs, len(caught), fe
    )


def embed_fits(
    weights: np.ndarray, means: np.ndarray, covs: np.ndarray, ref: np.ndarray, ref_logq: np.ndarray
) -> np.ndarray:
    r"""Relabelling-invariant embedding of B fitted mixtures, shape (B, R).

    ``T_j = sqrt(p_W(r_j) / q(r_j) / R)`` at reference points ``r_j ~ q``, so that
    ``|T(W) - T(W')|^2`` estimates ``\int (\sqrt{p_W} - \sqrt{p_{W'}})^2 = 2 H^2`` (twice
    the squared Hellinger distance). Does no argument checking.
    """
    _, prec, logdet = _kernels.cholesky_factors(covs)
    with np.errstate(divide="ignore"):
        logw = np.log(weights)
    logp, _ = _kernels.mixture_logpdf(ref[None], logw, means, prec, logdet)
    return np.exp(0.5 * (logp - ref_logq[None, :] - np.log(ref.shape[0])))
