"""The audit's comparative estimators, as measures of two samples for :func:`compare`.

Each factory returns ``measure(x, y, gen) -> {name: float}``: the raw estimate on two
samples of equal size. The audit and the calibration table (benchmarks/calibration.py)
call these same functions, so the table describes exactly what the audit reports.

=================  ==========================================  ========================
name               what                                        outputs
=================  ==========================================  ========================
``knn_kl``         Wang-Kulkarni-Verdu kNN KL(x || y)          ``kl``
``c2st``           calibrated-classifier lower bounds          ``js``, ``tv``
``mixture_kl_gap`` KL gap of mixtures fitted in the target's   ``gap``, ``kl_x``,
                   whitened principal subspace                 ``kl_y``
``knn_kl_gap``     KL gap of kNN estimates                     ``gap``
``entropy_diff``   H(x) - H(y), Kozachenko-Leonenko            ``dh``
``ksg_mi``         I(x; y) of paired rows, KSG1                ``mi``
``mixture_mi``     I(x; y) of a Gaussian mixture fitted to the  ``mi``
                   paired rows (components chosen by BIC)
``crossfit_mi``    I(x; y): a mixture fitted to half of the     ``mi``
                   pairs, its log-density ratio averaged on
                   the other half, and the other way round
``crossfit_dh``    H(x) - H(y): each entropy the held-out       ``dh``
                   cross-entropy of a mixture fitted to the
                   other half (2 folds)
``prdc``           precision, recall, density, coverage of     ``precision``, ``recall``,
                   y (synthetic) against x (real)              ``density``, ``coverage``
``vendi_diff``     Vendi(x) - Vendi(y), cosine kernel          ``vendi``
``distance_ratio`` y's mean distance to its nearest x row over  ``distance_ratio``
                   the median nearest-neighbour distance
                   within x (unit-free)
``alignment``      cosine between the mean rows of x and y     ``alignment``
                   (the model's gradient sketches: LESS)
``mean_diff``      mean(x) - mean(y) of one column (a loss,     ``mean``
                   IFD, a 0/1 flag)
``tstr``           accuracy on y of a classifier trained on x   ``accuracy``
                   (last column: the label code)
=================  ==========================================  ========================
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from .._rng import child_generator, child_seed, seed_sequence
from ..measures import entropy, kl_divergence, knn_distances, mutual_information
from ..mixture import GaussianMixture, gmm_bic_path
from ._c2st import classifier_two_sample_test
from ._information import kl_gap_mixture
from ._metrics import prdc, vendi_score
from ._probe import fit_score

__all__ = [
    "ESTIMATORS",
    "alignment",
    "c2st",
    "crossfit_dh",
    "crossfit_mi",
    "distance_ratio",
    "entropy_diff",
    "knn_kl",
    "knn_kl_gap",
    "ksg_mi",
    "mean_diff",
    "mixture_kl_gap",
    "mixture_mi",
    "prdc_measure",
    "topic_shift",
    "tstr",
    "vendi_diff",
]

#: (x, y, generator) -> outputs; the KL gaps also take the target: (x, y, generator, target)
Measure = Callable[..., Mapping[str, float]]

#: the range of each bounded output (a divergence is >= 0; JS <= log 2; TV <= 1)
BOUNDS: dict[str, dict[str, tuple[float, float]]] = {
    "knn_kl": {"kl": (0.0, np.inf)},
    "c2st": {"js": (0.0, float(np.log(2.0))), "tv": (0.0, 1.0)},
    "ksg_mi": {"mi": (0.0, np.inf)},
    "mixture_mi": {"mi": (0.0, np.inf)},
    "crossfit_mi": {"mi": (0.0, np.inf)},
}


def knn_kl(k: int = 5) -> Measure:
    """KL(x || y) by the Wang-Kulkarni-Verdu kNN estimator (features standardised)."""
    def measure(x: np.ndarray, y: np.ndarray, gen: np.random.Generator) -> dict[str, float]:
        kk = max(1, min(k, x.shape[0] - 1, y.shape[0]))
        return {"kl": kl_divergence(x, y, method="wang_kulkarni_verdu", k=kk,
                                    standardize=True, rng=gen).value}
    return measure


def c2st(n_pca: int = 32) -> Measure:
    """JS and TV lower bounds from a cross-fitted, calibrated logistic regression."""
    def measure(x: np.ndarray, y: np.ndarray, gen: np.random.Generator) -> dict[str, float]:
        out = classifier_two_sample_test(x, y, max_rows=max(x.shape[0], y.shape[0]),
                                         n_pca=n_pca, rng=gen)
        return {"js": out["js"].value, "tv": out["tv"].value}
    return measure


def mixture_kl_gap(n_pca: int = 8, n_samples: int = 20_000,
                   points_per_dim: int = 8) -> Measure:
    """KL(pi_x || pi_target) - KL(pi_y || pi_target) with fitted mixtures, each component
    on at least ``points_per_dim * (n_pca + 1)`` rows (one Gaussian below 144 rows in
    8-d): with fewer, full covariances are too noisy for a gap at matched sizes. The
    target is the measure's fourth argument (``compare(..., fixed=target)``)."""
    def measure(x: np.ndarray, y: np.ndarray, gen: np.random.Generator,
                target: np.ndarray) -> dict[str, float]:
        out = kl_gap_mixture(x, y, target, n_pca=n_pca, n_samples=n_samples,
                             points_per_dim=points_per_dim, rng=gen)
        return {"gap": out["gap"].value, "kl_x": out["kl_anchor_target"].value,
                "kl_y": out["kl_synthetic_target"].value}
    return measure


def knn_kl_gap(k: int = 5) -> Measure:
    """KL(x || target) - KL(y || target) by kNN, every sample scaled per feature by the
    target's standard deviation (one map for both terms, so the gap is unit-free). The
    target is the measure's fourth argument (``compare(..., fixed=target)``)."""
    def measure(x: np.ndarray, y: np.ndarray, gen: np.random.Generator,
                target: np.ndarray) -> dict[str, float]:
        sd = target.std(axis=0)
        scale = np.where(sd > 0, sd, 1.0)
        t = target / scale
        kk = max(1, min(k, x.shape[0] - 1))
        root = seed_sequence(gen)
        ga, gb = child_generator(root, "x"), child_generator(root, "y")
        a = kl_divergence(x / scale, t, method="wang_kulkarni_verdu", k=kk,
                          standardize=False, rng=ga).value
        b = kl_divergence(y / scale, t, method="wang_kulkarni_verdu", k=kk,
                          standardize=False, rng=gb).value
        return {"gap": a - b}
    return measure


def entropy_diff(k: int = 3) -> Measure:
    """H(x) - H(y), Kozachenko-Leonenko, in the space given (the audit whitens it)."""
    def measure(x: np.ndarray, y: np.ndarray, gen: np.random.Generator) -> dict[str, float]:
        kk = max(1, min(k, x.shape[0] - 1))
        root = seed_sequence(gen)
        ga, gb = child_generator(root, "x"), child_generator(root, "y")
        return {"dh": entropy(x, method="kozachenko_leonenko", k=kk, rng=ga).value
                - entropy(y, method="kozachenko_leonenko", k=kk, rng=gb).value}
    return measure


def ksg_mi(k: int = 3) -> Measure:
    """I(x; y) of paired rows by KSG1 (each variable standardised)."""
    def measure(x: np.ndarray, y: np.ndarray, gen: np.random.Generator) -> dict[str, float]:
        kk = max(1, min(k, x.shape[0] - 1))
        return {"mi": mutual_information(x, y, method="ksg1", k=kk, standardize=True,
                                         rng=gen).value}
    return measure


def _standardize(z: np.ndarray) -> np.ndarray:
    sd = z.std(axis=0)
    return (z - z.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def _halves(n: int, gen: np.random.Generator) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Two folds (train, test) of a random split of ``n`` rows in halves."""
    perm = gen.permutation(n)
    a, b = perm[: n // 2], perm[n // 2:]
    return (a, b), (b, a)


#: Fits whose BIC is within this of the lowest are "reasonable": the data give no very
#: strong evidence against them (Kass & Raftery 1995: a BIC difference above 10).
REASONABLE_BIC = 10.0


def _bic_mixture(z: np.ndarray, max_components: int, points_per_dim: int,
                 rng: np.random.SeedSequence | np.random.Generator,
                 patience: int | None = 2,
                 pick: np.random.Generator | None = None) -> GaussianMixture:
    """The BIC-chosen mixture of ``z``: at most ``max_components`` components, each on
    ``points_per_dim * (d + 1)`` rows, added until ``patience`` more stop lowering the
    BIC (None: all tried); tied or full covariances, ridge 1e-3. With ``pick``, one of
    the reasonable fits (BIC within :data:`REASONABLE_BIC` of the lowest) drawn at
    random: over the evaluations of :func:`compare`, the spread of the measure then
    holds the spread between reasonable fits, and so does its interval."""
    cap = max(1, min(max_components, z.shape[0] // (points_per_dim * (z.shape[1] + 1))))
    path = gmm_bic_path(z, cap, rng=rng, reg_covar=1e-3, covariance_types=("tied", "full"),
                        patience=patience)
    best = min(c.bic for c in path)
    if pick is None:
        return next(c.fit.mixture for c in path if c.bic == best)  # select_gmm's choice
    fits = [c.fit for c in path if c.bic <= best + REASONABLE_BIC]
    return fits[int(pick.integers(len(fits)))].mixture


def mixture_mi(max_components: int = 4, points_per_dim: int = 2,
               n_samples: int = 4000) -> Measure:
    """I(x; y) of the paired rows: a Gaussian mixture is fitted to the joint rows
    ``[x, y]``, each feature scaled to unit variance (a map of each variable, which leaves
    the mutual information unchanged), and its mutual information is computed by Monte
    Carlo, its marginals being the mixtures of the blocks. The mixture is the one of
    lowest BIC with at most ``max_components`` components, each on at least
    ``points_per_dim * (d + 1)`` rows, with one covariance shared by all (tied: classes
    that differ in their means, at few parameters) or one per component; ridge 1e-3."""
    def measure(x: np.ndarray, y: np.ndarray, gen: np.random.Generator) -> dict[str, float]:
        z = _standardize(np.hstack([x, y]))
        root = seed_sequence(gen)
        mix = _bic_mixture(z, max_components, points_per_dim, child_generator(root, "fit"),
                           patience=None)
        return {"mi": mutual_information(mix, list(range(x.shape[1], z.shape[1])),
                                         method="monte_carlo", n_samples=n_samples,
                                         rng=child_generator(root, "monte_carlo")).value}
    return measure


def crossfit_mi(max_components: int = 20, points_per_dim: int = 2) -> Measure:
    """I(x; y) of paired rows, cross-fitted: the pairs are split in halves; a Gaussian
    mixture is fitted to the joint rows ``[x, y]`` of one half (features scaled to unit
    variance; components by BIC, added until they stop helping) and
    ``log q(x, y) - log q(x) - log q(y)``, with ``q(x)``, ``q(y)`` its marginals, is
    averaged over the other half; then the halves swap. Evaluated on rows the fit has
    not seen, a mixture's over-fitting does not read as dependence. Each fold's mixture
    is one of the reasonable fits (BIC within 10 of the lowest), drawn at random, so the
    spread between reasonable fits is in the interval :func:`compare` gives."""
    def measure(x: np.ndarray, y: np.ndarray, gen: np.random.Generator) -> dict[str, float]:
        z = _standardize(np.hstack([x, y]))
        ix, iy = np.arange(x.shape[1]), np.arange(x.shape[1], z.shape[1])
        root = seed_sequence(gen)
        vals = []
        for f, (train, test) in enumerate(_halves(z.shape[0], child_generator(root, "split"))):
            q = _bic_mixture(z[train], max_components, points_per_dim,
                             child_seed(root, "fit", f), pick=child_generator(root, "pick", f))
            zt = z[test]
            vals.append(q.logpdf(zt) - q.marginal(ix).logpdf(zt[:, ix])
                        - q.marginal(iy).logpdf(zt[:, iy]))
        return {"mi": float(np.concatenate(vals).mean())}
    return measure


def crossfit_dh(max_components: int = 20, points_per_dim: int = 2) -> Measure:
    """H(x) - H(y), each entropy the cross-entropy of a Gaussian mixture fitted to one
    half of the rows (components by BIC, added until they stop helping) on the other
    half, averaged over the two folds (an entropy's estimate from above; in a
    difference, the two fits' excesses partly cancel). Each fit is one of the reasonable
    fits (BIC within 10 of the lowest), drawn at random, as in :func:`crossfit_mi`."""
    def measure(x: np.ndarray, y: np.ndarray, gen: np.random.Generator) -> dict[str, float]:
        root = seed_sequence(gen)
        h = []
        for name, v in (("x", x), ("y", y)):
            lp = [_bic_mixture(v[train], max_components, points_per_dim,
                               child_seed(root, "fit", name, f),
                               pick=child_generator(root, "pick", name, f)).logpdf(v[test])
                  for f, (train, test) in enumerate(
                      _halves(v.shape[0], child_generator(root, "split", name)))]
            h.append(-float(np.concatenate(lp).mean()))
        return {"dh": h[0] - h[1]}
    return measure


def prdc_measure(k: int = 5, workers: int = -1) -> Measure:
    """Precision, recall, density and coverage of ``y`` (fake) against ``x`` (real)."""
    def measure(x: np.ndarray, y: np.ndarray, gen: np.random.Generator) -> dict[str, float]:
        kk = max(1, min(k, x.shape[0] - 1, y.shape[0] - 1))
        return {key: est.value for key, est in prdc(x, y, k=kk, workers=workers).items()}
    return measure


def distance_ratio(workers: int = -1) -> Measure:
    """Mean distance from a ``y`` row to its nearest ``x`` row, over the median distance
    from an ``x`` row to its nearest other ``x`` row: how far the rows sit from the
    reference in units of its own spacing."""
    def measure(x: np.ndarray, y: np.ndarray, gen: np.random.Generator) -> dict[str, float]:
        spacing = float(np.median(knn_distances(x, k=1, workers=workers)[:, 0]))
        near = knn_distances(y, x, k=1, workers=workers)[:, 0]
        return {"distance_ratio": float(near.mean() / spacing) if spacing > 0
                else float("inf")}
    return measure


def topic_shift(centres: np.ndarray) -> Measure:
    """Total variation between the topic shares of ``x`` and ``y``, each row in the topic
    of its nearest centre (:func:`~._topics.assign`)."""
    from ._topics import assign

    k = centres.shape[0]

    def measure(x: np.ndarray, y: np.ndarray, gen: np.random.Generator) -> dict[str, float]:
        px = np.bincount(assign(x, centres), minlength=k) / x.shape[0]
        py = np.bincount(assign(y, centres), minlength=k) / y.shape[0]
        return {"topic_shift": 0.5 * float(np.abs(px - py).sum())}
    return measure


def vendi_diff(n_groups: int = 2) -> Measure:
    """Vendi(x) - Vendi(y) under the cosine kernel (all-zero rows are left out)."""
    def one(z: np.ndarray) -> float:
        z = z[np.any(z != 0, axis=1)]
        # one row is one direction (Vendi 1 by definition); none has no diversity to score
        if z.shape[0] < 2:
            return float(z.shape[0]) if z.shape[0] else float("nan")
        return vendi_score(z, n_groups=n_groups, rng=0).value

    def measure(x: np.ndarray, y: np.ndarray, gen: np.random.Generator) -> dict[str, float]:
        return {"vendi": one(x) - one(y)}
    return measure


def alignment() -> Measure:
    """cos(mean(x), mean(y)): the first-order agreement of two sets of gradient sketches
    (a step on x lowers y's loss in proportion to it; Xia et al. 2024)."""
    def measure(x: np.ndarray, y: np.ndarray, gen: np.random.Generator) -> dict[str, float]:
        a, b = x.mean(axis=0), y.mean(axis=0)
        den = float(np.linalg.norm(a) * np.linalg.norm(b))
        return {"alignment": float(a @ b) / den if den > 0 else float("nan")}
    return measure


def mean_diff() -> Measure:
    """mean(x) - mean(y) of one column, NaN rows left out (a per-row loss, IFD or flag)."""
    def measure(x: np.ndarray, y: np.ndarray, gen: np.random.Generator) -> dict[str, float]:
        return {"mean": float(np.nanmean(x[:, 0]) - np.nanmean(y[:, 0]))}
    return measure


def tstr(C: float = 1.0) -> Measure:
    """Accuracy on y of a standardised logistic regression trained on x (train on one,
    test on the other); each array's last column is the label code."""
    def measure(x: np.ndarray, y: np.ndarray, gen: np.random.Generator) -> dict[str, float]:
        hit = fit_score(x[:, :-1], x[:, -1], y[:, :-1], y[:, -1], C)
        return {"accuracy": float(hit.mean())}
    return measure


ESTIMATORS: dict[str, Callable[..., Measure]] = {
    "knn_kl": knn_kl, "c2st": c2st, "mixture_kl_gap": mixture_kl_gap,
    "knn_kl_gap": knn_kl_gap, "entropy_diff": entropy_diff, "ksg_mi": ksg_mi,
    "prdc": prdc_measure, "vendi_diff": vendi_diff, "distance_ratio": distance_ratio,
    "mixture_mi": mixture_mi, "crossfit_mi": crossfit_mi, "crossfit_dh": crossfit_dh,
    "alignment": alignment, "mean_diff": mean_diff, "tstr": tstr,
}
