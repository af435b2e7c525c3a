"""Per-replicate quantities of the studies: the real gain and the candidate predictors.

The gain is measured by the audit's probe (a standardised logistic regression trained on
anchors, on synthetic data, and on both, scored on the held-out test sample). The
predictors are the audit's measures, computed without the test sample: from the
anchors, the synthetic data, and an unlabelled reference sample of the task's
distribution that stands for ``D`` (the KL-gap analogue needs one, as the paper's needs
``G``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from .._rng import RNGLike, spawn_generators
from ..audit import (
    classifier_two_sample_test,
    information_terms,
    kl_gap_mixture,
    novelty,
    prdc,
    probe,
    vendi_score,
)
from ..audit._information import difference, project
from ..measures import kl_divergence

__all__ = ["STUDY_MEASURES", "downstream_gain", "study_measures"]

#: name -> (description, sign the theory or common practice expects for the gain)
STUDY_MEASURES: dict[str, tuple[str, int]] = {
    "kl_gap_mixture": ("KL gap analogue, mixtures in PCA space (Sec. 4.4)", +1),
    "kl_gap_knn": ("KL gap analogue, kNN in feature space", +1),
    "information_gain": ("dI = H(S_gen) - I(prompt; S_gen) (Def. 4.2)", +1),
    "delta_h": ("dH = H(S_anchor) - H(S_gen) (Thm. 4.10)", +1),
    "entropy_synthetic": ("H(S_gen), Kozachenko-Leonenko", +1),
    "mi_prompt_synthetic": ("I(prompt; S_gen), KSG", -1),
    "kl_synthetic_target": ("KL(synthetic || reference), kNN", -1),
    "js_synthetic_target": ("JS(synthetic, reference), classifier bound", -1),
    "precision": ("precision of synthetic against anchors", +1),
    "recall": ("recall of synthetic against anchors", +1),
    "density": ("density of synthetic against anchors", +1),
    "coverage": ("coverage of anchors by synthetic", +1),
    "precision_target": ("precision of synthetic against reference", +1),
    "coverage_target": ("coverage of reference by synthetic", +1),
    "vendi_synthetic": ("Vendi score of synthetic (cosine)", +1),
    "novelty": ("mean distance to the nearest anchor", +1),
    "memorisation": ("near-copy rate", -1),
}

GAINS = ("gain_synthetic", "gain_both")


def downstream_gain(xa: np.ndarray, ya: np.ndarray, xs: np.ndarray, ys: np.ndarray,
                    xt: np.ndarray, yt: np.ndarray) -> dict[str, float]:
    """Test accuracies of the probe trained on anchors, synthetic, both; and the gains.

    ``gain_synthetic = acc(synthetic) - acc(anchor)``, ``gain_both = acc(anchor +
    synthetic) - acc(anchor)``, each with its paired standard error (``*_se``).
    """
    res = probe(xa, ya, xs, ys, xt, yt)
    out: dict[str, float] = {}
    for key, est in res.items():
        out[key] = est.value
        out[f"{key}_se"] = float(est.stderr) if est.stderr is not None else float("nan")
    return out


def _guard(fn: Callable[[], dict[str, float]], names: tuple[str, ...]) -> dict[str, float]:
    """Run one measure group; NaN for its names when the samples are too small for it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn()
    except (ValueError, np.linalg.LinAlgError):
        return dict.fromkeys(names, float("nan"))


def study_measures(
    anchor: np.ndarray,
    synthetic: np.ndarray,
    reference: np.ndarray,
    prompt_anchor: np.ndarray,
    *,
    n_pca: int = 8,
    k: int = 5,
    rng: RNGLike = 0,
) -> dict[str, float]:
    """Every measure of :data:`STUDY_MEASURES` for one replicate, as floats (NaN if not computable).

    Parameters
    ----------
    anchor : ndarray of shape (n_a, d)
    synthetic : ndarray of shape (n_s, d)
    reference : ndarray of shape (n_r, d)
        Unlabelled sample of the task's distribution; never the test sample.
    prompt_anchor : ndarray of int, shape (n_s,)
        Anchor index in each synthetic row's prompt, -1 for none; rows with an anchor
        give the prompt embedding ``p`` of ``dI``.
    n_pca, k
        Whitened principal components (of ``reference``) for the entropies and the
        mixture KL gap; neighbours for the kNN measures (capped at ``n_a - 1``).
    """
    g = spawn_generators(rng, 7)
    ka = max(1, min(k, anchor.shape[0] - 1))
    proj = project(reference, n_pca)
    has_p = prompt_anchor >= 0

    def info() -> dict[str, float]:
        prompts = proj(anchor[prompt_anchor[has_p]]) if has_p.sum() > 10 else None
        t = information_terms(proj(anchor), proj(synthetic[has_p] if prompts is not None
                                                 else synthetic), prompts, k=min(3, ka),
                              rng=g[0])
        return {n: (np.nan if t[n] is None else t[n].value)  # type: ignore[union-attr]
                for n in ("information_gain", "delta_h", "entropy_synthetic",
                          "mi_prompt_synthetic")}

    def gaps() -> dict[str, float]:
        mix = kl_gap_mixture(anchor, synthetic, reference, n_pca=n_pca, n_samples=5000,
                             rng=g[1])
        # kNN KL gap as audit.kl_gap_knn, with the tie-breaking jitter seeded
        kl_a = kl_divergence(anchor, reference, method="wang_kulkarni_verdu", k=ka, rng=g[4])
        kl_s = kl_divergence(synthetic, reference, method="wang_kulkarni_verdu", k=ka,
                             rng=g[5])
        kl_s5 = kl_divergence(synthetic, reference, method="wang_kulkarni_verdu", k=k,
                              rng=g[6])
        return {"kl_gap_mixture": mix["gap"].value,
                "kl_gap_knn": difference(kl_a, kl_s, "kl_gap_knn").value,
                "kl_synthetic_target": kl_s5.value}

    def fidelity() -> dict[str, float]:
        pa = prdc(anchor, synthetic, k=ka)
        pt = prdc(reference, synthetic, k=k)
        return {"precision": pa["precision"].value, "recall": pa["recall"].value,
                "density": pa["density"].value, "coverage": pa["coverage"].value,
                "precision_target": pt["precision"].value,
                "coverage_target": pt["coverage"].value}

    def near() -> dict[str, float]:
        nov = novelty(anchor, synthetic)
        return {"novelty": nov.novelty.value, "memorisation": nov.memorisation.value}

    def diversity() -> dict[str, float]:
        # the cosine kernel is undefined for all-zero rows (a text with no known word)
        rows = synthetic[np.linalg.norm(synthetic, axis=1) > 0]
        return {"vendi_synthetic": vendi_score(rows, rng=g[3]).value}

    def two_sample() -> dict[str, float]:
        js = classifier_two_sample_test(synthetic, reference, rng=g[2])["js"]
        return {"js_synthetic_target": js.value}

    out: dict[str, float] = {}
    out.update(_guard(info, ("information_gain", "delta_h", "entropy_synthetic",
                             "mi_prompt_synthetic")))
    out.update(_guard(gaps, ("kl_gap_mixture", "kl_gap_knn", "kl_synthetic_target")))
    out.update(_guard(fidelity, ("precision", "recall", "density", "coverage",
                                 "precision_target", "coverage_target")))
    out.update(_guard(near, ("novelty", "memorisation")))
    out.update(_guard(diversity, ("vendi_synthetic",)))
    out.update(_guard(two_sample, ("js_synthetic_target",)))
    return {name: float(out[name]) for name in STUDY_MEASURES}
