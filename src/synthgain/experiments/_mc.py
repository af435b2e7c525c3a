"""Seeds and batched fits of the KL Gap.

Private to :mod:`synthgain.experiments.klgap`, which documents the estimators. The
batched mixtures, their log-densities and draws are :class:`synthgain.mixture.MixtureStack`;
the Monte Carlo divergence kernel is :func:`synthgain.measures.mc_divergence_rows`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from .._rng import RNGLike, child_seed, seed_sequence
from ..mixture import MixtureFit, fit_gmm_batched
from ..process import Setup, Simulation, simulate

# children of a setting's SeedSequence; the evaluation draws of G, pi_anchor and pi_gen
# use children 0, 1, 2 of _EVAL
_SIM, _FIT_ANCHOR, _FIT_SYN, _EVAL = range(4)


# --- seeds ------------------------------------------------------------------------------


def setting_seed(ss: np.random.SeedSequence) -> str:
    """A setting's seed as text, ``"<entropy>:<spawn key>"`` (recorded in every row)."""
    return f"{ss.entropy}:{'.'.join(str(k) for k in ss.spawn_key)}"


# --- fits -------------------------------------------------------------------------------


def _fit_stack(x: np.ndarray, k: int, seeds: Sequence[np.random.SeedSequence], *,
               scale: float = 1.0) -> list[MixtureFit]:
    """Fit B datasets (B, n, d) at once, dataset b seeded by ``seeds[b]`` alone.

    scikit-learn's defaults, as the authors used them: full covariances, one k-means
    initialisation, ``tol = 1e-3``, ``reg_covar = 1e-6``, ``max_iter = 100``; the ridge
    is ``1e-6 * scale**2`` for data of a setting at ``Setup.scale`` (the fit at scale 1
    in other units).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reported per setting as *_converged
        fit = fit_gmm_batched(x, k, rng=list(seeds), n_init=1, max_iter=100, tol=1e-3,
                              reg_covar=1e-6 * scale**2, init="kmeans")
    return [fit[b] for b in range(len(fit))]


def _simulate_and_fit(setups: Sequence[Setup], seeds: Sequence[np.random.SeedSequence]
                      ) -> tuple[list[Simulation], list[MixtureFit], list[MixtureFit]]:
    """Each setting's simulation (stream ``_SIM``) and the batched anchor and synthetic
    fits of a group of settings of one shape (streams ``_FIT_ANCHOR``, ``_FIT_SYN``)."""
    sims = [simulate(s, rng=child_seed(ss, _SIM)) for s, ss in zip(setups, seeds, strict=True)]
    s0 = setups[0]
    fa = _fit_stack(np.stack([m.anchors for m in sims]), s0.k_anchor_fit,
                    [child_seed(ss, _FIT_ANCHOR) for ss in seeds], scale=s0.scale)
    fs = _fit_stack(np.stack([m.synthetic for m in sims]), s0.k_synthetic_fit,
                    [child_seed(ss, _FIT_SYN) for ss in seeds], scale=s0.scale)
    return sims, fa, fs


def fit_simulation(sim: Simulation, *, rng: RNGLike = None) -> tuple[MixtureFit, MixtureFit]:
    """Fit ``pi_anchor`` to the anchors and ``pi_gen`` to the synthetic data.

    With ``rng`` a setting's SeedSequence, the fits equal those :func:`run_settings`
    makes for that setting; ``rng=s`` (an int) is ``SeedSequence(s)``. The fits use
    children 1 and 2 of ``rng`` (``child_seed(rng, 1)``, ``child_seed(rng, 2)``).

    Returns
    -------
    anchor_fit, synthetic_fit : MixtureFit
    """
    ss = seed_sequence(rng)
    s = sim.setup
    a = _fit_stack(sim.anchors[None], s.k_anchor_fit, [child_seed(ss, _FIT_ANCHOR)],
                   scale=s.scale)[0]
    g = _fit_stack(sim.synthetic[None], s.k_synthetic_fit, [child_seed(ss, _FIT_SYN)],
                   scale=s.scale)[0]
    return a, g
