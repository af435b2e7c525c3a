"""Topic coverage, named, and what more generation would buy.

Topics
------
The anchors are clustered in the embedding space by k-means into
``K = clip(round(sqrt(n / 2)), 2, 20)`` topics (at most one per 5 anchors); every
synthetic (and target) row belongs to the topic of its nearest centre. The topics are the
anchors' alone, so that no anchor/synthetic number moves with the optional target; the
target's share of each topic is reported beside. A topic is named by its most
distinctive words among the anchor texts of its rows (class-based TF-IDF, Grootendorst 2022: a word's count in the topic times
``log(1 + A / f)``, with ``f`` its count in all topics and ``A`` the mean words per
topic; English stop words and words under 3 letters left out), and shown with the
anchor nearest its centre.

Each topic's synthetic count is read against what a synthetic set of the same size drawn
from the anchors' distribution would give: with ``a_j`` of the ``N`` anchors in
topic ``j``, the count of ``m`` synthetic rows in it is beta-binomial with parameters
``(m, a_j + 1/2, N - a_j + (K - 1)/2)`` (the posterior predictive of a multinomial with
Jeffreys' prior: the anchors' shares' own sampling error is in the null). The two-sided
p-values are adjusted by Holm's method over the topics; a topic whose adjusted p-value is
below 0.05 is *thin* (fewer synthetic rows than chance allows; *missing* when it has
none) or *over-filled*. A synthetic set of the anchors' own distribution has a topic
marked in at most about 5 % of audits (measured in docs/audit.md).

What more generation would buy
------------------------------
The anchors are also cut into finer cells (k-means with ``min(256, max(K,
n / 4))`` centres; a partition fixed before the synthetic rows are seen). The synthetic
rows' occupancy of the cells and of the topics are abundance counts, and the unseen-
species estimators of ecology say what more rows would add
(:func:`synthgain.measures.chao1`, :func:`~synthgain.measures.richness_forecast`,
:func:`~synthgain.measures.good_turing_unseen`): the cells not yet reached, the new cells
the next 1,000 and 10,000 rows would reach, and the share of the next rows that would
land in a cell none has reached. A partition has only so many cells: every forecast is
capped at their number. Checked against what larger samples actually reach in
``benchmarks/forecast_check.py`` (docs/audit.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._rng import RNGLike, child_generator, child_seed, seed_sequence
from .._validation import check_array
from ..measures import Estimate, chao1, good_turing_unseen, holm, richness_forecast

__all__ = ["ALPHA", "FORECAST_ROWS", "Topics", "assign", "cell_count", "topic_count",
           "topics"]

#: family-wise level of the per-topic tests (Holm)
ALPHA = 0.05
#: more synthetic rows the forecast looks at
FORECAST_ROWS = (1000, 10000)
#: most topics, and fewest anchors per topic
_MAX_TOPICS, _ROWS_PER_TOPIC = 20, 5
#: most fine cells, and anchors per cell
_MAX_CELLS, _ROWS_PER_CELL = 256, 4
#: words naming a topic
_NAME_WORDS = 3
#: most anchors the k-means fits see (a random subset; every row is then assigned):
#: 20 per fine cell at the most cells, enough to place a centre, and the cost stays
#: bounded on large anchor sets
_FIT_ROWS = 5000


def topic_count(n: int) -> int:
    """Topics for ``n`` anchors: ``clip(round(sqrt(n / 2)), 2, 20)``, at most
    ``n // 5`` (and at least 1)."""
    k = int(np.clip(round(np.sqrt(n / 2.0)), 2, _MAX_TOPICS))
    return max(1, min(k, n // _ROWS_PER_TOPIC))


def cell_count(n: int) -> int:
    """Fine cells for ``n`` anchors: ``min(256, max(topics, n // 4))``."""
    return min(_MAX_CELLS, max(topic_count(n), n // _ROWS_PER_CELL))


@dataclass(frozen=True)
class Topics:
    """The topics of the anchors and the synthetic rows' share of each.

    Attributes
    ----------
    names : list of str
        Each topic's most distinctive words (``"topic j"`` without texts).
    examples : list of str or None
        Each topic's anchor nearest its centre (None without texts).
    anchor_counts, synthetic_counts : ndarray of int, shape (K,)
    target_counts : ndarray of int or None
        The target's rows in each topic (the topics are the anchors' own, so that no
        anchor/synthetic number moves with the optional target).
    expected_low, expected_high : ndarray of int, shape (K,)
        The central 95 % range of a topic's synthetic count under the null.
    pvalue : ndarray of float, shape (K,)
        Holm-adjusted two-sided p-values.
    status : list of str
        ``"ok"``, ``"thin"``, ``"missing"`` or ``"over-filled"``.
    topic, cell : ndarray of int, shape (m,)
        Each synthetic row's topic and fine cell.
    centres : ndarray of shape (K, d)
        The topics' centres (a row's topic is that of its nearest centre).
    cells : int
        Fine cells of the partition.
    forecast : dict of str to Estimate
        ``cells_unseen``, ``cells_new_1000``, ``cells_new_10000``, ``new_row_share``,
        ``topics_unseen`` (module docstring).
    """

    names: list[str]
    examples: list[str] | None
    anchor_counts: np.ndarray
    target_counts: np.ndarray | None
    synthetic_counts: np.ndarray
    expected_low: np.ndarray
    expected_high: np.ndarray
    pvalue: np.ndarray
    status: list[str]
    topic: np.ndarray
    cell: np.ndarray
    centres: np.ndarray
    cells: int
    forecast: dict[str, Estimate] = field(default_factory=dict)

    @property
    def marked(self) -> list[int]:
        """The topics not ``"ok"``, most significant first."""
        idx = [j for j, s in enumerate(self.status) if s != "ok"]
        return sorted(idx, key=lambda j: (self.pvalue[j], j))

    def table(self) -> list[dict[str, Any]]:
        """One dict per topic (metrics.json ``topics.table``), in topic order."""
        n_ref, m = int(self.anchor_counts.sum()), int(self.synthetic_counts.sum())
        out = []
        for j, name in enumerate(self.names):
            row: dict[str, Any] = {
                "topic": j, "name": name,
                "anchor_rows": int(self.anchor_counts[j]),
                "anchor_share": float(self.anchor_counts[j]) / max(n_ref, 1),
                "synthetic_rows": int(self.synthetic_counts[j]),
                "synthetic_share": float(self.synthetic_counts[j]) / max(m, 1),
                "expected_rows": [int(self.expected_low[j]), int(self.expected_high[j])],
                "p_holm": float(self.pvalue[j]), "status": self.status[j]}
            if self.target_counts is not None:
                row["target_rows"] = int(self.target_counts[j])
            row["example"] = None if self.examples is None else self.examples[j]
            out.append(row)
        return out


def assign(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Each row's nearest centre (the k-means rule)."""
    from sklearn.metrics import pairwise_distances_argmin

    return pairwise_distances_argmin(x, centres).astype(np.int64)


def _kmeans(x: np.ndarray, k: int, seed: int, n_init: int = 4) -> Any:
    """k-means of ``x`` (at most :data:`_FIT_ROWS` random rows of it)."""
    from sklearn.cluster import KMeans

    if x.shape[0] > _FIT_ROWS:
        x = x[np.random.default_rng(seed).choice(x.shape[0], _FIT_ROWS, replace=False)]
    return KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(x)


def _names(texts: Sequence[str] | None, labels: np.ndarray, k: int) -> list[str]:
    """Each topic's ``_NAME_WORDS`` most distinctive words (class-based TF-IDF);
    ``"topic j"`` without texts."""
    from sklearn.feature_extraction.text import CountVectorizer

    fallback = [f"topic {j + 1}" for j in range(k)]
    if texts is None:
        return fallback
    docs = [" ".join(str(t) for t, lab in zip(texts, labels, strict=True) if lab == j)
            for j in range(k)]
    try:
        vec = CountVectorizer(stop_words="english", token_pattern=r"(?u)\b[^\W\d_]{3,}\b")
        tf = vec.fit_transform(docs).toarray().astype(np.float64)
    except ValueError:  # no word of 3 letters in any text (numbers, emoji, ...)
        return fallback
    words = vec.get_feature_names_out()
    freq = tf.sum(axis=0)
    avg = tf.sum() / k
    score = tf * np.log1p(avg / np.maximum(freq, 1.0))
    out = []
    for j in range(k):
        top = [int(i) for i in np.argsort(-score[j], kind="stable")[:_NAME_WORDS]
               if tf[j, i] > 0]
        out.append(", ".join(str(words[i]) for i in top) or fallback[j])
    return out


def _occupancy_test(ref: np.ndarray, syn: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(expected low, expected high, Holm p-values, status) of each topic's synthetic
    count against the beta-binomial predictive of the anchor counts."""
    from scipy.stats import betabinom

    k, n_ref, m = ref.shape[0], int(ref.sum()), int(syn.sum())
    if k == 1:  # one topic (fewer than 10 anchors) holds every row: nothing to test
        return (np.array([m]), np.array([m]), np.ones(1), ["ok"])
    a = ref + 0.5
    b = n_ref - ref + 0.5 * (k - 1)
    dist = betabinom(m, a, b)
    low, high = dist.ppf(0.025), dist.ppf(0.975)
    p = np.minimum(1.0, 2.0 * np.minimum(dist.cdf(syn), dist.sf(syn - 1)))
    adj = holm(p)
    expected = m * a / (a + b)
    status = ["ok" if q >= ALPHA else ("over-filled" if s > e else
                                        "missing" if s == 0 else "thin")
              for q, s, e in zip(adj, syn, expected, strict=True)]
    return low.astype(np.int64), high.astype(np.int64), adj, status


def _forecast(cells: np.ndarray, n_cells: int, topic_counts: np.ndarray,
              rng: np.random.SeedSequence) -> dict[str, Estimate]:
    """The forecasts of the module docstring, from the occupancy counts."""
    counts = np.bincount(cells, minlength=n_cells)
    seen = int(np.count_nonzero(counts))
    out: dict[str, Estimate] = {}
    c1 = chao1(counts, max_cells=n_cells)
    out["cells_unseen"] = _shift(c1, seen, "unseen cells (Chao1)")
    for extra in FORECAST_ROWS:
        f = richness_forecast(counts, extra, max_cells=n_cells,
                              rng=child_seed(rng, extra))
        out[f"cells_new_{extra}"] = _shift(f, seen, f"new cells in {extra:,} more rows")
    gt = good_turing_unseen(counts)
    if seen == n_cells:  # every cell reached: no mass left unseen, whatever f1 says
        gt = Estimate(0.0, 0.0, gt.method, gt.n, {**gt.params, "capped": True}, (0.0, 0.0))
    out["new_row_share"] = gt
    t_seen = int(np.count_nonzero(topic_counts))
    out["topics_unseen"] = _shift(chao1(topic_counts, max_cells=topic_counts.shape[0]),
                                  t_seen, "unseen topics (Chao1)")
    return out


def _shift(est: Estimate, seen: int, what: str) -> Estimate:
    """A richness estimate minus the cells already seen (what is new)."""
    lo, hi = est.ci()
    return Estimate(est.value - seen, est.stderr, est.method, est.n,
                    {**est.params, "seen": seen, "what": what},
                    (max(lo - seen, 0.0), max(hi - seen, 0.0)))


def topics(anchor: Any, synthetic: Any, target: Any = None, *,
           anchor_texts: Sequence[str] | None = None,
           rng: RNGLike = None) -> Topics:
    """The anchors' topics, the synthetic rows' share of each against chance,
    and the forecast of what more synthetic rows would reach (module docstring).

    Parameters
    ----------
    anchor, synthetic, target : array_like of shape (n, d)
        Embeddings; the anchors need at least 5 rows. The target's rows (optional) are
        counted per topic; the topics are the anchors' alone.
    anchor_texts : sequence of str, optional
        The anchors' texts, to name the topics.
    rng : None, int, SeedSequence or Generator
        The k-means starts and the forecast's bootstrap.

    Returns
    -------
    Topics

    Examples
    --------
    Anchors in three well-separated groups; synthetic rows that leave the third out.
    Every topic of the third group (centre near the third axis) is missing, the others
    are within chance:

    >>> import numpy as np
    >>> from synthgain.audit._topics import topics
    >>> g = np.random.default_rng(0)
    >>> centres = 10.0 * np.eye(3)
    >>> a = np.concatenate([c + g.normal(size=(40, 3)) for c in centres])
    >>> s = np.concatenate([c + g.normal(size=(60, 3)) for c in centres[:2]])
    >>> t = topics(a, s, rng=0)
    >>> third = t.centres[:, 2] > 5
    >>> {t.status[j] for j in np.flatnonzero(third)}, {t.status[j] for j in np.flatnonzero(~third)}
    ({'missing'}, {'ok'})
    """
    a = check_array(anchor, "anchor", ndim=2, min_rows=_ROWS_PER_TOPIC)
    s = check_array(synthetic, "synthetic", ndim=2, min_rows=1, dim=a.shape[1])
    t = None if target is None else check_array(target, "target", ndim=2, min_rows=1,
                                                dim=a.shape[1])
    root = seed_sequence(rng)
    seed = int(child_generator(root, "kmeans").integers(2**31 - 1))
    k, c = topic_count(a.shape[0]), cell_count(a.shape[0])
    km = _kmeans(a, k, seed)
    ref_lab = assign(a, km.cluster_centers_)
    syn_lab = assign(s, km.cluster_centers_)
    ref_counts = np.bincount(ref_lab, minlength=k)
    syn_counts = np.bincount(syn_lab, minlength=k)
    low, high, p, status = _occupancy_test(ref_counts, syn_counts)
    fine = _kmeans(a, c, seed + 1, n_init=1) if c > k else km
    cell = assign(s, fine.cluster_centers_)
    examples = None
    if anchor_texts is not None:
        d = km.transform(a)
        examples = [str(anchor_texts[int(np.argmin(np.where(ref_lab == j, d[:, j], np.inf)))])
                    for j in range(k)]
    return Topics(
        names=_names(anchor_texts, ref_lab, k), examples=examples, anchor_counts=ref_counts,
        target_counts=None if t is None else np.bincount(assign(t, km.cluster_centers_),
                                                         minlength=k),
        synthetic_counts=syn_counts, expected_low=low, expected_high=high, pvalue=p,
        status=status, topic=syn_lab, cell=cell, centres=km.cluster_centers_, cells=c,
        forecast=_forecast(cell, c, syn_counts, child_seed(root, "forecast")))
