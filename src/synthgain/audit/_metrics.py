"""Fidelity, diversity and novelty of synthetic samples against real ones.

Precision, recall, density and coverage (Naeem et al. 2020), the Vendi score in its
covariance form (Friedman & Dieng 2023), and novelty / memorisation: each synthetic
point's distance to its nearest anchor, with near-copies flagged. Distances are
Euclidean and exact, from the neighbour engine of :mod:`synthgain.measures`
(``nearest_neighbours``, ``within_radius``: float32 GEMM blocks screen, float64 settles
every close call); there is no approximate search.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

from .._validation import (
    anything,
    check_array,
    check_int,
    instance,
    integer,
    real,
    seed_like,
    validate_params,
    workers_count,
)
from ..exceptions import ValidationError
from ..measures import Estimate, knn_distances, nearest_neighbours, within_radius

if TYPE_CHECKING:
    from ..experiments.backends import Backend

__all__ = ["SEARCH_CHUNK_ROWS", "NoveltyResult", "novelty", "prdc", "vendi_score"]

#: Synthetic rows per task when :func:`novelty` searches the anchors on a backend.
SEARCH_CHUNK_ROWS = 20_000

def _pair(real: Any, fake: Any, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    r = check_array(real, names[0], ndim=2, min_rows=2)
    f = check_array(fake, names[1], ndim=2, min_rows=1, dim=r.shape[1])
    return r, f


def kth_neighbour_distance(x: np.ndarray, k: int, workers: int = -1) -> np.ndarray:
    """Exact distance from each row of ``x`` to its k-th nearest other row.

    Does no argument checking (``synthgain.measures.knn_distances``, self excluded).
    """
    return knn_distances(x, k=k, workers=workers)[:, k - 1]


def _mean_estimate(values: np.ndarray, method: str, n: tuple[int, ...], **params: Any) -> Estimate:
    m = values.shape[0]
    se = float(values.std(ddof=1) / np.sqrt(m)) if m > 1 else None
    return Estimate(float(values.mean()), se, method, n, dict(params))


def _share_estimate(flags: np.ndarray, method: str, n: tuple[int, ...], **params: Any
                    ) -> Estimate:
    """A share of 0/1 indicators, with the Wilson score interval (stays inside [0, 1])."""
    est = _mean_estimate(flags.astype(float), method, n, **params)
    ci = stats.binomtest(int(flags.sum()), flags.shape[0]).proportion_ci(0.95, method="wilson")
    return Estimate(est.value, est.stderr, method, n, dict(params), interval=(ci.low, ci.high))


@validate_params(real=anything, fake=anything, k=integer(1), workers=workers_count)
def prdc(real: Any, fake: Any, *, k: int = 5, workers: int = -1) -> dict[str, Estimate]:
    """Precision, recall, density and coverage of ``fake`` against ``real``.

    Parameters
    ----------
    real : array_like, shape (n, d)
    fake : array_like, shape (m, d)
    k : int
        Neighbourhood size of the k-NN balls (Naeem et al. use 5).
    workers : int
        Threads for the distance blocks (-1: all cores); the result does not depend on it.

    Returns
    -------
    dict with keys ``"precision"``, ``"recall"``, ``"density"``, ``"coverage"``, each an
    :class:`Estimate` whose standard error treats the per-point indicators as
    independent (the radii are held fixed). The three shares carry the 95% Wilson score
    interval of a binomial proportion (inside [0, 1] even at a share of 0 or 1); density
    the normal interval of a mean.

    Notes
    -----
    With ``B(x, r)`` the ball of radius ``r`` about ``x`` and ``NND_k(x)`` the distance
    from ``x`` to its k-th nearest neighbour within its own sample:

    - precision = (1/m) sum_j 1[ exists i: Y_j in B(X_i, NND_k(X_i)) ]
    - recall    = (1/n) sum_i 1[ exists j: X_i in B(Y_j, NND_k(Y_j)) ]
    - density   = (1/(k m)) sum_j sum_i 1[ Y_j in B(X_i, NND_k(X_i)) ]
    - coverage  = (1/n) sum_i 1[ exists j: Y_j in B(X_i, NND_k(X_i)) ]

    For two samples of one distribution the expected density is 1, and the expected
    coverage tends to 1 - 2^-k as n = m grows (Naeem et al. 2020, Sec. 3.2).

    References
    ----------
    .. [1] M. F. Naeem, S. J. Oh, Y. Uh, Y. Choi and J. Yoo, "Reliable fidelity and
       diversity metrics for generative models", ICML 2020, eqs. (1)-(4),
       arXiv:2002.09797.

    Examples
    --------
    A sample against itself: every fake point lies in a real point's ball and every real
    ball holds a fake point, so precision, recall and coverage are 1:

    >>> import numpy as np
    >>> from synthgain.audit import prdc
    >>> x = np.random.default_rng(0).normal(size=(200, 3))
    >>> {k: float(v.value) for k, v in prdc(x, x, k=5).items() if k != "density"}
    {'precision': 1.0, 'recall': 1.0, 'coverage': 1.0}
    """
    r, f = _pair(real, fake, ("real", "fake"))
    k = check_int(k, "k", low=1, high=min(r.shape[0], f.shape[0]) - 1)
    r_rad = kth_neighbour_distance(r, k, workers)
    f_rad = kth_neighbour_distance(f, k, workers)
    counts = within_radius(f, r, r_rad, reduce="count", workers=workers)
    recalled = within_radius(r, f, f_rad, reduce="any", workers=workers)
    covered = knn_distances(r, f, k=1, workers=workers)[:, 0] <= r_rad
    n = (r.shape[0], f.shape[0])
    return {
        "precision": _share_estimate(counts > 0, "naeem2020_precision", n, k=k),
        "recall": _share_estimate(recalled, "naeem2020_recall", n, k=k),
        "density": _mean_estimate(counts / k, "naeem2020_density", n, k=k),
        "coverage": _share_estimate(covered, "naeem2020_coverage", n, k=k),
    }


_VENDI_BLOCK = 16_384  # rows normalised at a time (bounds the float64 copy)


def _vendi_from_scatter(s: np.ndarray, n: int) -> float:
    lam = np.linalg.eigvalsh(s / n)
    lam = lam[lam > 1e-12]
    lam = lam / lam.sum()
    return float(np.exp(-np.sum(lam * np.log(lam))))


@validate_params(x=anything, n_groups=integer(2), rng=seed_like)
def vendi_score(x: Any, *, n_groups: int = 20, rng: Any = None) -> Estimate:
    """Vendi score of a sample under the cosine kernel, in covariance form.

    Parameters
    ----------
    x : array_like, shape (n, d)
        Embeddings; each row is scaled to unit norm (rows of zeros are rejected).
    n_groups : int
        Groups of the delete-a-group jackknife that gives the standard error.
    rng : seed
        Assignment of rows to jackknife groups.

    Returns
    -------
    Estimate
        The effective number of distinct points, in [1, min(n, d)].

    Notes
    -----
    With ``K = X X^T / n`` the kernel matrix of the unit rows, ``VS = exp(-sum_i
    lambda_i log lambda_i)`` over the eigenvalues of ``K``; they equal the non-zero
    eigenvalues of the d x d matrix ``X^T X / n``, so the cost is O(n d^2) rather than
    O(n^2) (Friedman & Dieng 2023, Sec. 3). The jackknife over ``G`` groups uses the
    scatter matrices ``S - S_g``: ``se^2 = (G-1)/G sum_g (VS_{-g} - mean)^2``.

    References
    ----------
    .. [1] D. Friedman and A. B. Dieng, "The Vendi score: a diversity evaluation metric for
       machine learning", Transactions on Machine Learning Research (2023),
       arXiv:2210.02410.

    Examples
    --------
    ``n`` identical rows have Vendi score 1; ``n`` orthogonal rows, ``n``:

    >>> import numpy as np
    >>> from synthgain.audit import vendi_score
    >>> float(vendi_score(np.ones((10, 3)), rng=0).value)
    1.0
    >>> float(vendi_score(np.eye(4), rng=0).value)
    4.0
    """
    a = check_array(x, "x", ndim=2, min_rows=2)
    norms = np.linalg.norm(a, axis=1)
    if np.any(norms == 0):
        raise ValidationError(
            f"`x` row {int(np.argmin(norms))} is all zeros; the cosine kernel needs non-zero "
            "rows. Drop it first."
        )
    from .._rng import check_rng

    n = a.shape[0]
    g = min(n_groups, n)
    groups = check_rng(rng).permutation(n) % g
    sizes = np.bincount(groups, minlength=g)
    if n < a.shape[1]:
        # fewer rows than dimensions (gradient sketches): the scatter's non-zero
        # eigenvalues are the Gram matrix's, and leaving a group out is a sub-matrix
        u = a / norms[:, None]
        gram = u @ u.T
        value = _vendi_from_scatter(gram, n)
        loo = np.array([_vendi_from_scatter(gram[np.ix_(groups != j, groups != j)],
                                            n - int(sizes[j])) for j in range(g)])
    else:
        # one pass over the rows: per-group scatters S_g = sum_{i in g} u_i u_i^T
        scatter = np.zeros((g, a.shape[1], a.shape[1]))
        for start in range(0, n, _VENDI_BLOCK):
            stop = min(start + _VENDI_BLOCK, n)
            u = a[start:stop] / norms[start:stop, None]
            gb = groups[start:stop]
            for j in range(g):
                uj = u[gb == j]
                scatter[j] += uj.T @ uj
        s = scatter.sum(axis=0)
        value = _vendi_from_scatter(s, n)
        loo = np.array([_vendi_from_scatter(s - scatter[j], n - int(sizes[j]))
                        for j in range(g)])
    se = float(np.sqrt((g - 1) / g * np.sum((loo - loo.mean()) ** 2)))
    return Estimate(value, se, "vendi_cosine_covariance", (n,), {"n_groups": g})


@dataclass(frozen=True)
class NoveltyResult:
    """Each synthetic point's nearest anchor and whether it is a near-copy.

    Attributes
    ----------
    distance : ndarray of shape (m,)
        Euclidean distance to the nearest anchor.
    nearest : ndarray of shape (m,)
        Index of that anchor.
    ratio : ndarray of shape (m,)
        ``distance / r(nearest)``, with ``r(a)`` the anchor's distance to its nearest
        other anchor (inf where r is 0 and distance is not).
    near_copy : ndarray of bool, shape (m,)
        ``ratio <= copy_ratio``.
    novelty : Estimate
        Mean distance to the nearest anchor.
    memorisation : Estimate
        Fraction of near-copies, with a Wilson score interval.
    kth_distance : ndarray of shape (m,) or None
        Distance to the ``k``-th nearest anchor when :func:`novelty` was asked for
        ``k > 1`` (the same search; the audit's outlier score uses it), else None.
    """

    distance: np.ndarray
    nearest: np.ndarray
    ratio: np.ndarray
    near_copy: np.ndarray
    novelty: Estimate
    memorisation: Estimate
    kth_distance: np.ndarray | None = None


def _anchor_search(item: tuple[np.ndarray, np.ndarray, int, int]
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest anchors of some synthetic rows: ``(rows, anchors, k, workers)``
    -> distances, indices (one task of a backend). Does no argument checking."""
    s, a, k, workers = item
    return nearest_neighbours(s, a, k=k, algorithm="brute", workers=workers)


def _nearest_anchors(s: np.ndarray, a: np.ndarray, k: int, workers: int,
                     backend: Backend | None, chunk_rows: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_anchor_search` of all of ``s`` here, or of its consecutive chunks of
    ``chunk_rows`` rows on ``backend`` (the anchors broadcast once, each chunk sent to one
    worker; one thread per task), concatenated in order. Each row's search is exact, so
    the chunks change nothing."""
    if backend is None:
        return _anchor_search((s, a, k, workers))
    from ..experiments.backends import map_ordered

    shared = backend.broadcast(a)
    chunks = backend.scatter([s[i : i + chunk_rows] for i in range(0, s.shape[0], chunk_rows)])
    items = [(c, shared, k, 1) for c in chunks]
    parts = map_ordered(backend, _anchor_search, items)
    return (np.concatenate([d for d, _ in parts]), np.concatenate([i for _, i in parts]))


def _backend(value: Any, name: str) -> Any:
    """None, or an experiments backend (:mod:`synthgain.experiments.backends`)."""
    from ..experiments.backends import Backend

    return instance(Backend, none=True)(value, name)


@validate_params(anchors=anything, synthetic=anything, copy_ratio=real(0.0, 1.0),
                 workers=workers_count, k=integer(1), backend=_backend,
                 chunk_rows=integer(1, none=True))
def novelty(
    anchors: Any, synthetic: Any, *, copy_ratio: float = 0.25, workers: int = -1,
    k: int = 1, backend: Backend | None = None, chunk_rows: int | None = None,
) -> NoveltyResult:
    """Distance of each synthetic point to its nearest anchor; near-copies flagged.

    Parameters
    ----------
    anchors : array_like, shape (n, d)
    synthetic : array_like, shape (m, d)
    copy_ratio : float
        A synthetic point is a near-copy of its nearest anchor ``a`` when its distance
        to ``a`` is at most ``copy_ratio`` times the distance from ``a`` to the anchor
        nearest to it: it sits much closer to one anchor than any other real example
        does. Scale-free, so it needs no threshold in embedding units.
    workers : int
        Threads for the nearest-anchor search (-1: all cores); the result does not
        depend on it.
    k : int
        Neighbours searched (at most the number of anchors); with ``k > 1`` the distance
        to the ``k``-th nearest anchor is kept too (``kth_distance``), from the same
        search.
    backend : Backend, optional
        Where the nearest-anchor search runs (:func:`synthgain.experiments.backends.
        get_backend`, e.g. a Dask cluster): the synthetic rows in consecutive chunks of
        ``chunk_rows``, one task each on one thread, against the anchors sent to the
        workers once; the results concatenated in order. None (default): here, on
        ``workers`` threads. The result is identical either way (the search is exact per
        row, ties to the lowest anchor index). The anchors' own nearest-neighbour
        distances and the rest are computed here.
    chunk_rows : int, optional
        Synthetic rows per task with a ``backend`` (default :data:`SEARCH_CHUNK_ROWS`).

    Returns
    -------
    NoveltyResult

    Notes
    -----
    ``near_copy_j = 1[ d(s_j, a*(j)) <= c * min_{i != a*(j)} d(a*(j), a_i) ]``. This is the
    per-point "authenticity" test of Alaa et al. (2022, Sec. 3.2) with a margin ``c``;
    the rate is reported with the Wilson interval of a binomial proportion. The nearest
    anchor is found exactly (float32 GEMM screening on squared distances, float64
    refinement of the close calls; ties go to the lowest anchor index).

    References
    ----------
    .. [1] A. Alaa, B. van Breugel, E. Saveliev and M. van der Schaar, "How faithful is your
       synthetic data? Sample-level metrics for evaluating and auditing generative
       models", ICML 2022, arXiv:2102.08921.

    Examples
    --------
    Synthetic rows that are anchors moved by 1e-6 are all near-copies:

    >>> import numpy as np
    >>> from synthgain.audit import novelty
    >>> a = np.random.default_rng(0).normal(size=(200, 3))
    >>> float(novelty(a, a[:10] + 1e-6).memorisation.value)
    1.0
    """
    a, s = _pair(anchors, synthetic, ("anchors", "synthetic"))
    c, kk = copy_ratio, min(k, a.shape[0])
    chunk = SEARCH_CHUNK_ROWS if chunk_rows is None else chunk_rows
    r1 = kth_neighbour_distance(a, 1, workers)
    dists, idx = _nearest_anchors(s, a, kk, workers, backend, chunk)
    dist, near = dists[:, 0], idx[:, 0]
    rad = r1[near]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(rad > 0, dist / np.where(rad > 0, rad, 1.0),
                         np.where(dist > 0, np.inf, 0.0))
    flag = dist <= c * rad
    m = s.shape[0]
    count = int(flag.sum())
    ci = stats.binomtest(count, m).proportion_ci(0.95, method="wilson")
    se = float(np.sqrt(max(count * (m - count), 1) / m**3))
    mem = Estimate(count / m, se, "near_copy_rate", (a.shape[0], m),
                   {"copy_ratio": c, "count": count}, interval=(ci.low, ci.high))
    nov = _mean_estimate(dist, "nearest_anchor_distance", (a.shape[0], m),
                         median=float(np.median(dist)))
    return NoveltyResult(dist, near, ratio, flag, nov, mem,
                         dists[:, kk - 1] if kk > 1 else None)



#: groups of the delete-a-group jackknife of :func:`near_copy_excess`
NEAR_COPY_GROUPS = 10
#: neighbours kept per row for the jackknife's replicates (a row's nearest kept neighbour
#: is among them unless all are in the deleted group: probability 10^-12 per row)
_NEAR_COPY_K = 12


def agresti_coull_se(share: float, n: int) -> float:
    """Standard error of a binomial share of ``n`` trials, from the Agresti-Coull
    estimate ``(count + 2) / (n + 4)``: not 0 at a share of 0 or 1."""
    ac = (share * n + 2) / (n + 4)
    return float(np.sqrt(ac * (1 - ac) / (n + 4)))


def share_excess(flags: Any, baseline: Any, clusters: Any = None) -> Estimate:
    """The share of flagged rows over a baseline share of another set's rows, with a 95 %
    interval that treats the rows of one cluster as one unit.

    Parameters
    ----------
    flags : array_like of bool, shape (m,)
        The rows measured (the synthetic rows).
    baseline : array_like of bool, shape (n,)
        The same flag on the rows of the baseline set (the anchors), independent of
        ``flags``.
    clusters : array_like of int, shape (m,), optional
        Each measured row's cluster (-1: in none): rows of one cluster (duplicates of one
        text) are one sampling unit, so that a flagged text repeated 50 times is not 50
        independent observations.

    Returns
    -------
    Estimate
        ``mean(flags) - mean(baseline)``; its standard error combines the cluster-robust
        (CR1) standard error of the measured share with the baseline's binomial one, each
        floored at Agresti-Coull's (so that shares of 0 or 1 keep the interval their
        counts allow); the interval is the normal one. ``params`` holds both shares,
        counts and sizes and the number of clusters.

    Examples
    --------
    >>> import numpy as np
    >>> from synthgain.audit._metrics import share_excess
    >>> est = share_excess(np.r_[np.ones(10), np.zeros(90)] > 0, np.zeros(200) > 0)
    >>> round(est.value, 3), est.params["share"], est.params["baseline_share"]
    (0.1, 0.1, 0.0)
    >>> lo, hi = est.ci()
    >>> bool(0.0 < lo < 0.1 < hi)
    True
    """
    f = np.asarray(flags, dtype=bool).reshape(-1)
    b = np.asarray(baseline, dtype=bool).reshape(-1)
    m, n = f.size, b.size
    if m == 0 or n == 0:
        raise ValidationError(f"`flags` and `baseline` must each have at least one row. Got "
                              f"{m} and {n}.")
    unit = np.arange(m) if clusters is None else np.asarray(clusters, np.int64).reshape(-1)
    if unit.shape != (m,):
        raise ValidationError(f"`clusters` must give one cluster per row of `flags` ({m}). "
                              f"Got shape {unit.shape}.")
    unit = np.where(unit >= 0, unit, -1 - np.arange(m))  # a row in no cluster: its own unit
    p_s, p_b = float(f.mean()), float(b.mean())
    _, inv = np.unique(unit, return_inverse=True)
    sums = np.bincount(inv.reshape(-1), weights=f - p_s)
    g = sums.size
    cr1 = float(np.sum(sums ** 2)) / m ** 2 * (g / (g - 1) if g > 1 else 1.0)
    var_s = max(cr1, agresti_coull_se(p_s, m) ** 2)
    var_b = max(p_b * (1 - p_b) / n, agresti_coull_se(p_b, n) ** 2)
    se = float(np.sqrt(var_s + var_b))
    value = p_s - p_b
    z = float(stats.norm.ppf(0.975))
    return Estimate(value, se, "share_minus_baseline_share", (m, n),
                    {"share": p_s, "count": int(f.sum()), "rows": m,
                     "baseline_share": p_b, "baseline_count": int(b.sum()),
                     "baseline_rows": n, "clusters": g},
                    interval=(value - z * se, value + z * se))


def baseline_null(share: float, rows: int, method: str) -> Any:
    """The :class:`~._null.Null` of a share read over another set's share: that share,
    its Agresti-Coull standard error, ``method`` in words, one evaluation of ``rows``."""
    from ._null import Null

    return Null(share, agresti_coull_se(share, rows), method, 1, rows)


def _first_kept(idx: np.ndarray, dist: np.ndarray, keep: np.ndarray,
                other: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of a neighbour list, the first neighbour that is kept (and, with
    ``other``, is not that row's ``other``): its index, its distance and whether any
    was."""
    ok = keep[idx]
    if other is not None:
        ok &= idx != other[:, None]
    pos = ok.argmax(axis=1)
    rows = np.arange(idx.shape[0])
    return idx[rows, pos], dist[rows, pos], ok.any(axis=1)


def _copy_shares(a_idx: np.ndarray, a_dist: np.ndarray, s_idx: np.ndarray,
                 s_dist: np.ndarray, keep_a: np.ndarray, keep_s: np.ndarray,
                 c: float) -> tuple[float, float]:
    """The near-copy share of the kept synthetic rows against the kept anchors, and
    that of the kept anchors against the other kept anchors (leave-one-out)."""
    near, d, found = _first_kept(s_idx[keep_s], s_dist[keep_s], keep_a)
    _, r, has_r = _first_kept(a_idx[near], a_dist[near], keep_a)
    p_s = float(np.mean(found & has_r & (d <= c * r)))
    anchors = np.flatnonzero(keep_a)
    b, d_a, found_a = _first_kept(a_idx[anchors], a_dist[anchors], keep_a)
    _, r_b, has_b = _first_kept(a_idx[b], a_dist[b], keep_a, other=anchors)
    p_a = float(np.mean(found_a & has_b & (d_a <= c * r_b)))
    return p_s, p_a


@validate_params(anchors=anything, synthetic=anything, near_copy=anything,
                 copy_ratio=real(0.0, 1.0), groups=integer(2), workers=workers_count,
                 rng=seed_like)
def near_copy_excess(anchors: Any, synthetic: Any, near_copy: Any = None, *,
                     copy_ratio: float = 0.25, groups: int = NEAR_COPY_GROUPS,
                     workers: int = -1, rng: Any = None) -> Estimate:
    """The share of synthetic rows that are near-copies of an anchor, every row against
    every anchor, over the anchors' own share (each anchor against the others).

    A synthetic row is a near-copy as in :func:`novelty` (its distance to its nearest
    anchor at most ``copy_ratio`` times that anchor's distance to its own nearest
    anchor). The null is the same rule applied to each anchor against the other anchors
    (leave-one-out: the anchor's nearest other anchor, whose own nearest is sought among
    the anchors but the one tested), which is what a synthetic row drawn from the
    anchors' distribution gives, up to one anchor fewer. So a set of verbatim copies
    reads about 1 minus the anchors' own share, and a same-distribution set about 0.

    Parameters
    ----------
    anchors : array_like, shape (n, d)
    synthetic : array_like, shape (m, d)
    near_copy : array_like of bool, shape (m,), optional
        The synthetic rows' flags when already computed (:func:`novelty`), so that the
        value is the share the per-row table shows; else computed here.
    copy_ratio : float
        The near-copy margin.
    groups : int
        Groups of the delete-a-group jackknife of the interval.
    workers : int
        Threads for the neighbour searches (-1: all cores).
    rng : None, int, SeedSequence or Generator
        The assignment of rows to jackknife groups.

    Returns
    -------
    Estimate
        The excess (synthetic share minus the anchors' share) with its jackknife
        standard error and 95 % interval (Student's t with ``groups - 1`` degrees of
        freedom); ``params`` holds the synthetic share (``share_all_rows``), the anchors'
        (``anchor_share``) and the number of groups.

    Notes
    -----
    The interval is a delete-a-group jackknife: anchors and synthetic rows are dealt at
    random into ``groups`` groups, each replicate leaves one group of each out and
    recomputes both shares from the rows' 12 nearest anchors (found once), and the
    variance is ``(G - 1) / G * sum_g (theta_g - mean theta)^2``, floored at the
    variance of two independent binomial shares (Agresti-Coull, so that shares of 0 or 1
    keep an interval of the size their counts allow). Near-copy flags are
    not independent (near-duplicate anchors flag in pairs, every row's flag depends on
    the same anchors), which a binomial interval ignores; the jackknife resamples the
    anchors whose spacing sets every flag. Its coverage is measured by the suite's null
    test (docs/audit.md, null coverage).

    Examples
    --------
    Verbatim copies of the anchors read about 1 over chance; a second sample of their
    distribution about 0:

    >>> import numpy as np
    >>> from synthgain.audit._metrics import near_copy_excess
    >>> g = np.random.default_rng(0)
    >>> a = g.normal(size=(300, 4))
    >>> est = near_copy_excess(a, a.copy(), rng=0)
    >>> est.params["share_all_rows"], bool(est.value > 0.95)
    (1.0, True)
    >>> est = near_copy_excess(a, g.normal(size=(300, 4)), rng=0)
    >>> lo, hi = est.ci()
    >>> bool(lo <= 0.0 <= hi)
    True
    """
    from .._rng import check_rng

    a, s = _pair(anchors, synthetic, ("anchors", "synthetic"))
    n, m, c = a.shape[0], s.shape[0], copy_ratio
    if n < 3:
        raise ValidationError(f"`anchors` must have at least 3 rows (the null compares each "
                              f"anchor with the others). Got {n}.")
    k = min(_NEAR_COPY_K, n - 1)
    a_dist, a_idx = nearest_neighbours(a, k=k, workers=workers)
    s_dist, s_idx = nearest_neighbours(s, a, k=k, workers=workers)
    all_a, all_s = np.ones(n, bool), np.ones(m, bool)
    p_s, p_a = _copy_shares(a_idx, a_dist, s_idx, s_dist, all_a, all_s, c)
    if near_copy is not None:
        flags = np.asarray(near_copy, dtype=bool)
        if flags.shape != (m,):
            raise ValidationError(f"`near_copy` must have one flag per synthetic row ({m}). "
                                  f"Got shape {flags.shape}.")
        p_s = float(flags.mean())
    gen = check_rng(rng)
    g = min(groups, n, m)
    group_a = gen.permutation(n) % g
    group_s = gen.permutation(m) % g
    reps = np.array([np.subtract(*_copy_shares(a_idx, a_dist, s_idx, s_dist, group_a != j,
                                               group_s != j, c)) for j in range(g)])
    jack = (g - 1) / g * float(np.sum((reps - reps.mean()) ** 2))
    # no smaller than two independent binomial shares' (Agresti-Coull), so that a share
    # of 0 or 1 on both sides still has an interval of the size its counts allow
    floor = agresti_coull_se(p_s, m) ** 2 + agresti_coull_se(p_a, n) ** 2
    se = float(np.sqrt(max(jack, floor)))
    t = float(stats.t.ppf(0.975, g - 1))
    value = p_s - p_a
    est = Estimate(value, se, "near_copy_rate_minus_anchor_rate", (n, m),
                   {"share_all_rows": p_s, "count_all_rows": round(p_s * m),
                    "anchor_share": p_a, "copy_ratio": c, "groups": g},
                   interval=(value - t * se, value + t * se))
    return est
