"""Study 1: handwritten digits, a per-class Gaussian-mixture generator, real held-out gain.

The data are scikit-learn's bundled 8x8 digits (1,797 images, 10 classes; no download).
Each class is split four ways, disjointly: a generator *pool*, anchor *candidates*, a
*reference* sample (unlabelled stand-in for the target distribution ``D``, used only by
the measures) and a *test* sample (used only to score the downstream models).

The generator ``M`` is a Gaussian mixture per class fitted by EM on the pool, in the
pool's leading principal components, for every class it knows: the ``K`` anchored task
classes, the ``J`` task classes without anchors and the ``L`` irrelevant ones. A prompt
is a task class and, for anchored classes, one anchor (the demonstration): the anchor
picks the mixture component, ``h(e_p)``, and the component's Gaussian draw is the
generator's own contribution, ``g(e_M)`` (Def. 4.1). Rows of irrelevant classes keep
their prompt's task label: content the task did not ask for. Curation noise ``eps`` is
added in pixel space (Sec. 3.2: ``S_gen = M(p) + eps``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._rng import RNGLike, check_rng, child_generator, seed_sequence
from .._validation import check_int, check_real
from ..exceptions import ValidationError
from ..mixture import GaussianMixture, fit_gmm
from ._design import StudyConfig, assign_classes, pick_anchors

__all__ = ["DigitsGenerator", "DigitsSplit", "SyntheticSet", "generate_synthetic",
           "load_digits_split"]

_FRACTIONS = (0.45, 0.15, 0.20, 0.20)  # pool, anchor candidates, reference, test


@dataclass(frozen=True)
class DigitsSplit:
    """Disjoint per-class parts of the digits data (features in [0, 16], shape (n, 64))."""

    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]

    @property
    def classes(self) -> list[Any]:
        """The classes of the data (every part holds every class)."""
        return [int(c) for c in np.unique(self.y["pool"])]

    def take(self, part: str, classes: list[Any]) -> tuple[np.ndarray, np.ndarray]:
        """Rows of ``part`` whose class is in ``classes``."""
        keep = np.isin(self.y[part], classes)
        return self.x[part][keep], self.y[part][keep]


def load_digits_split(rng: RNGLike = None) -> DigitsSplit:
    """Split scikit-learn's digits per class into pool / anchors / reference / test.

    Each class's rows are shuffled and cut at 45 / 15 / 20 / 20 % (about 81, 27, 36 and
    36 images per class).
    """
    from sklearn.datasets import load_digits

    data = load_digits()
    x, y = data.data.astype(np.float64), data.target.astype(np.int64)
    gen = check_rng(rng)
    parts: dict[str, list[np.ndarray]] = {p: [] for p in ("pool", "anchor", "reference", "test")}
    cuts = np.cumsum(_FRACTIONS)[:-1]
    for c in np.unique(y):
        idx = gen.permutation(np.flatnonzero(y == c))
        for name, chunk in zip(parts, np.split(idx, (cuts * idx.size).astype(int)), strict=True):
            parts[name].append(chunk)
    rows = {name: np.sort(np.concatenate(v)) for name, v in parts.items()}
    return DigitsSplit({k: x[v] for k, v in rows.items()}, {k: y[v] for k, v in rows.items()})


@dataclass(frozen=True)
class SyntheticSet:
    """Synthetic rows with their provenance.

    Attributes
    ----------
    x : ndarray of shape (n, d)
        Features after curation noise.
    clean : ndarray of shape (n, d)
        The generator's output ``M(p)`` before noise.
    labels : ndarray of shape (n,)
        The prompt's task class (the label the row is trained with).
    source : ndarray of shape (n,)
        The class the row was actually drawn from.
    prompt_anchor : ndarray of int, shape (n,)
        Index of the anchor in the prompt, -1 when the prompt had none.
    """

    x: np.ndarray
    clean: np.ndarray
    labels: np.ndarray
    source: np.ndarray
    prompt_anchor: np.ndarray


class DigitsGenerator:
    """Per-class Gaussian mixtures in the pool's principal subspace.

    Parameters
    ----------
    n_pca : int
        Principal components the mixtures live in.
    n_components : int
        Mixture components per class.
    reg_covar : float
        Added to each covariance's diagonal (principal-component units).
    """

    def __init__(self, *, n_pca: int = 20, n_components: int = 3, reg_covar: float = 0.5):
        self.n_pca = check_int(n_pca, "n_pca", low=1, high=64)
        self.n_components = check_int(n_components, "n_components", low=1)
        self.reg_covar = check_real(reg_covar, "reg_covar", low=0.0)

    def fit(self, x: np.ndarray, y: np.ndarray, classes: list[Any], *, rng: RNGLike = None
            ) -> DigitsGenerator:
        """Fit the projection on ``x`` and one mixture per class in ``classes``."""
        self.mean_ = x.mean(axis=0)
        _, _, vt = np.linalg.svd(x - self.mean_, full_matrices=False)
        self.components_ = vt[: self.n_pca]  # (r, d)
        z = self.encode(x)
        self.mixtures_: dict[Any, GaussianMixture] = {}
        root = seed_sequence(rng)
        for i, c in enumerate(classes):
            g = child_generator(root, i)  # task index: one stream per class
            zc = z[y == c]
            if zc.shape[0] < 2 * self.n_components:
                raise ValidationError(f"Class {c!r} has {zc.shape[0]} pool rows; the generator "
                                      f"needs at least {2 * self.n_components}.")
            self.mixtures_[c] = fit_gmm(zc, self.n_components, rng=g, n_init=2,
                                        reg_covar=self.reg_covar).mixture
        return self

    def encode(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean_) @ self.components_.T  # (n, r)

    def decode(self, z: np.ndarray) -> np.ndarray:
        return z @ self.components_ + self.mean_  # (n, d)

    def sample(self, c: Any, n: int, gen: np.random.Generator,
               anchors: np.ndarray | None = None) -> np.ndarray:
        """``n`` images of class ``c``; row i's component is drawn from the posterior of
        ``anchors[i]`` under the class mixture when anchors (shape (n, d)) are given."""
        mix = self.mixtures_[c]
        if anchors is None:
            comp = gen.choice(mix.n_components, size=n, p=mix.weights)
        else:
            post = mix.predict_proba(self.encode(anchors))  # (n, k)
            u = gen.random(n)[:, None]
            comp = np.minimum((u > np.cumsum(post, axis=1)).sum(axis=1), mix.n_components - 1)
        eps = gen.standard_normal((n, mix.dim))
        z = mix.means[comp] + np.einsum("nij,nj->ni", mix.cholesky[comp], eps)  # L_c eps
        return self.decode(z)


def generate_synthetic(
    generator: DigitsGenerator,
    classes: dict[str, list[Any]],
    anchors: np.ndarray,
    anchor_labels: np.ndarray,
    config: StudyConfig,
    *,
    rng: RNGLike = None,
) -> SyntheticSet:
    """``per_class`` rows from each anchored, unanchored and irrelevant class.

    Prompts cycle through the task classes; a prompt for an anchored class names one of
    its anchors (in turn). Irrelevant classes' rows take the labels of the prompts they
    answer, drawn uniformly from the task classes. Noise ``N(0, noise^2 I)`` is added to
    every row from a stream of its own, so ``clean`` does not depend on ``noise``.
    """
    root = seed_sequence(rng)
    g_prompt, g_draw, g_noise = (child_generator(root, n) for n in ("prompt", "draw", "noise"))
    n = config.per_class
    xs, labels, source, prompt = [], [], [], []
    anchored = set(classes["anchored"])
    by_class = {c: np.flatnonzero(anchor_labels == c) for c in anchored}
    for c in classes["task"] + classes["irrelevant"]:
        lab = (np.full(n, c) if c not in classes["irrelevant"]
               else np.asarray(classes["task"])[g_prompt.integers(len(classes["task"]), size=n)])
        pa = np.full(n, -1, dtype=np.int64)
        for t in anchored:
            rows = np.flatnonzero(lab == t)
            pa[rows] = by_class[t][np.arange(rows.size) % by_class[t].size]
        cond = anchors[pa] if c in anchored else None
        xs.append(generator.sample(c, n, g_draw, cond))
        labels.append(lab)
        source.append(np.full(n, c))
        prompt.append(pa)
    clean = np.concatenate(xs)
    noisy = clean + config.noise * g_noise.standard_normal(clean.shape)
    return SyntheticSet(noisy, clean, np.concatenate(labels), np.concatenate(source),
                        np.concatenate(prompt))


def digits_replicate(config: StudyConfig, split: DigitsSplit, rng: RNGLike
                     ) -> dict[str, Any]:
    """One replicate: classes, anchors, generator, synthetic data, gain and measures."""
    from ._measures import downstream_gain, study_measures

    root = seed_sequence(rng)
    g_cls, g_anchor, g_fit, g_syn, g_meas = (
        child_generator(root, n) for n in ("classes", "anchors", "fit", "synthetic", "measures"))
    classes = assign_classes(config, split.classes, g_cls)
    xa_all, ya_all = split.take("anchor", classes["anchored"])
    pick = pick_anchors(ya_all, classes["anchored"], config.anchors_per_class, g_anchor)
    xa, ya = xa_all[pick], ya_all[pick]
    known = classes["task"] + classes["irrelevant"]
    gen = DigitsGenerator().fit(*split.take("pool", known), known, rng=g_fit)
    syn = generate_synthetic(gen, classes, xa, ya, config, rng=g_syn)
    xr, _ = split.take("reference", classes["task"])
    xt, yt = split.take("test", classes["task"])
    return {**downstream_gain(xa, ya, syn.x, syn.labels, xt, yt),
            **study_measures(xa, syn.x, xr, syn.prompt_anchor, rng=g_meas)}
