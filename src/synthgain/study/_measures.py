"""Per-replicate quantities of the studies: the real gain and the candidate predictors.

The gain is measured by the audit's probe (a standardised logistic regression trained on
anchors, on synthetic data, and on both, scored on the held-out test sample). The
predictors are the audit's measures, computed without the test sample: from the
anchors, the synthetic data, and an unlabelled reference sample of the task's
distribution that stands for ``D`` (the KL-gap analogue needs one, as the paper's needs
``G``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._rng import RNGLike, child_generator, seed_sequence
from ..audit import (
    classifier_two_sample_test,
    difference,
    information_terms,
    kl_gap_mixture,
    novelty,
    prdc,
    probe,
    project,
    vendi_score,
)
from ..exceptions import TooFewPointsError
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


#: prompted synthetic rows needed before dI uses prompts: with 10 or fewer the KSG
#: estimate of I(prompt; S_gen) is mostly bias
MIN_PROMPTED_ROWS = 11
#: neighbours of the entropy and mutual-information estimators (KL and KSG): k = 3 is
#: the usual bias-variance choice at these sample sizes (Kraskov et al. 2004)
K_INFORMATION = 3
#: Monte Carlo draws per KL of the mixture KL gap (stderr ~ 1/sqrt(5000) of the spread
#: of the log-ratio, small next to the spread over replicates)
N_MONTE_CARLO = 5000


def _require(n: int, need: int, what: str) -> None:
    """Raise :class:`TooFewPointsError` when a sample of ``n`` rows is below ``need``."""
    if n < need:
        raise TooFewPointsError(f"{what}: {n} rows, needs at least {need}")


def _guard(fn: Callable[[], dict[str, float]], names: tuple[str, ...],
           missing: dict[str, str]) -> dict[str, float]:
    """Run one measure group; NaN for its names, and the reason in ``missing``, when a
    sample is too small for it (:class:`TooFewPointsError`). Every other error propagates."""
    try:
        return fn()
    except TooFewPointsError as exc:
        missing.update(dict.fromkeys(names, str(exc)))
        return dict.fromkeys(names, float("nan"))


def study_measures(
    anchor: np.ndarray,
    synthetic: np.ndarray,
    reference: np.ndarray,
    prompt_anchor: np.ndarray,
    *,
    n_pca: int = 8,
    k: int = 5,
    rng: RNGLike = None,
) -> dict[str, float | str]:
    """Every measure of :data:`STUDY_MEASURES` for one replicate, as floats.

    A measure whose sample is too small for it is NaN, and ``"missing_reason"`` (a
    string, empty when nothing is missing) says which and why, e.g. ``"kl_gap_knn:
    reference: 3 rows, needs at least 6"``. Any other failure is an error.

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
    root = seed_sequence(rng)

    def g(name: str) -> np.random.Generator:
        return child_generator(root, name)

    ka = max(1, min(k, anchor.shape[0] - 1))
    proj = project(reference, n_pca)
    has_p = prompt_anchor >= 0

    def info() -> dict[str, float]:
        _require(anchor.shape[0], min(K_INFORMATION, ka) + 1, "anchor")
        prompts = proj(anchor[prompt_anchor[has_p]]) if has_p.sum() >= MIN_PROMPTED_ROWS else None
        t = information_terms(proj(anchor), proj(synthetic[has_p] if prompts is not None
                                                 else synthetic), prompts, k=min(K_INFORMATION, ka),
                              rng=g("information"))
        return {n: (np.nan if t[n] is None else t[n].value)  # type: ignore[union-attr]
                for n in ("information_gain", "delta_h", "entropy_synthetic",
                          "mi_prompt_synthetic")}

    def gaps() -> dict[str, float]:
        _require(anchor.shape[0], ka + 1, "anchor")
        _require(reference.shape[0], k + 1, "reference")
        mix = kl_gap_mixture(anchor, synthetic, reference, n_pca=n_pca, n_samples=N_MONTE_CARLO,
                             rng=g("kl_gap_mixture"))
        # the kNN KL gap (as the audit's knn_kl_gap), in the raw embedding coordinates
        # (standardize=False: the study's documented values), tie-breaking jitter seeded
        kl_a = kl_divergence(anchor, reference, method="wang_kulkarni_verdu", k=ka,
                             standardize=False, rng=g("kl_anchor_reference"))
        kl_s = kl_divergence(synthetic, reference, method="wang_kulkarni_verdu", k=ka,
                             standardize=False, rng=g("kl_synthetic_reference"))
        kl_s5 = kl_divergence(synthetic, reference, method="wang_kulkarni_verdu", k=k,
                              standardize=False, rng=g("kl_synthetic_reference_k"))
        return {"kl_gap_mixture": mix["gap"].value,
                "kl_gap_knn": difference(kl_a, kl_s, "kl_gap_knn").value,
                "kl_synthetic_target": kl_s5.value}

    def fidelity() -> dict[str, float]:
        _require(anchor.shape[0], ka + 1, "anchor")
        _require(synthetic.shape[0], k + 1, "synthetic")
        _require(reference.shape[0], k + 1, "reference")
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
        return {"vendi_synthetic": vendi_score(rows, rng=g("vendi")).value}

    def two_sample() -> dict[str, float]:
        js = classifier_two_sample_test(synthetic, reference, rng=g("c2st"))["js"]
        return {"js_synthetic_target": js.value}

    out: dict[str, float] = {}
    missing: dict[str, str] = {}
    out.update(_guard(info, ("information_gain", "delta_h", "entropy_synthetic",
                             "mi_prompt_synthetic"), missing))
    out.update(_guard(gaps, ("kl_gap_mixture", "kl_gap_knn", "kl_synthetic_target"), missing))
    out.update(_guard(fidelity, ("precision", "recall", "density", "coverage",
                                 "precision_target", "coverage_target"), missing))
    out.update(_guard(near, ("novelty", "memorisation"), missing))
    out.update(_guard(diversity, ("vendi_synthetic",), missing))
    out.update(_guard(two_sample, ("js_synthetic_target",), missing))
    values: dict[str, float | str] = {name: float(out[name]) for name in STUDY_MEASURES}
    values["missing_reason"] = "; ".join(f"{m}: {why}" for m, why in missing.items())
    return values
