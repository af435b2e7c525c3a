"""Paraphrase clusters inside the synthetic set: rows whose embeddings are closer than
real rows of the task almost ever are to their nearest neighbour.

MinHash finds near-identical strings; a generator that says the same thing in other
words needs the embeddings. The threshold is calibrated on the anchors, at the synthetic
set's size: among ``m = min(n_synthetic, n_anchor)`` random anchors, each anchor's
cosine similarity to its nearest other anchor is computed, and the threshold is the
``1 - share`` quantile of those (default ``share`` 1 %). Two synthetic rows at or above it
are *semantic duplicates*; rows so linked form clusters (connected components), and
every row of a cluster but its first is flagged, so dropping the flagged rows keeps one
row per cluster. Synthetic rows of the anchors' own distribution then have a semantic
duplicate about as often as ``share`` of the anchors do (at matched sizes; with more
synthetic rows than anchors, each row has more neighbours to be close to, and the share
is larger: ``anchor_share`` says what the anchors give).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._rng import RNGLike, child_generator, seed_sequence
from .._validation import check_array

__all__ = ["SHARE", "SemanticDuplicates", "semantic_duplicates", "similarity_threshold"]

#: the share of anchors (at the synthetic set's size) whose nearest anchor is as close
SHARE = 0.01


@dataclass(frozen=True)
class SemanticDuplicates:
    """Per synthetic row: ``cluster`` (0, 1, ... numbered by first row; -1: in none),
    ``size`` (1: in none), ``flag`` (in a cluster and not its first row); the
    ``threshold`` (cosine similarity), the ``share`` it was set at, the ``rows`` of
    anchors it was calibrated on, and ``anchor_share``: the share of those anchors whose
    nearest other anchor is at or above it (about ``share``)."""

    cluster: np.ndarray
    size: np.ndarray
    flag: np.ndarray
    threshold: float
    share: float
    rows: int
    anchor_share: float

    @property
    def clusters(self) -> int:
        return int(self.cluster.max()) + 1 if self.cluster.size else 0

    @property
    def in_clusters(self) -> float:
        """The share of synthetic rows in a cluster (the flagged rows and each first)."""
        return float(np.mean(self.cluster >= 0)) if self.cluster.size else 0.0


def _unit(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norm > 0, norm, 1.0)


def _nearest_similarity(u: np.ndarray) -> np.ndarray:
    """Each unit row's cosine similarity to its nearest other row."""
    from sklearn.neighbors import NearestNeighbors

    d, _ = NearestNeighbors(n_neighbors=2).fit(u).kneighbors(u)
    return 1.0 - d[:, 1] ** 2 / 2.0


def similarity_threshold(anchor: Any, rows: int, share: float = SHARE, *,
                         rng: RNGLike = None) -> tuple[float, float, int]:
    """(threshold, anchor share at it, anchors used): the ``1 - share`` quantile of the
    nearest-neighbour cosine similarities among ``min(rows, n_anchor)`` random anchors.

    Examples
    --------
    >>> import numpy as np
    >>> from synthgain.audit._semantic import similarity_threshold
    >>> a = np.random.default_rng(0).normal(size=(300, 16))
    >>> t, got, m = similarity_threshold(a, 200, 0.05, rng=0)
    >>> m, round(got, 2)
    (200, 0.05)
    """
    a = _unit(check_array(anchor, "anchor", ndim=2, min_rows=3))
    m = max(3, min(int(rows), a.shape[0]))
    pick = child_generator(seed_sequence(rng), "anchors").permutation(a.shape[0])[:m]
    sims = _nearest_similarity(a[pick])
    t = float(np.quantile(sims, 1.0 - share))
    return t, float(np.mean(sims >= t)), m


def semantic_duplicates(synthetic: Any, anchor: Any, share: float = SHARE, *,
                        rng: RNGLike = None) -> SemanticDuplicates:
    """Clusters of synthetic rows closer than ``share`` of the anchors' pairs are.

    Parameters
    ----------
    synthetic, anchor : array_like of shape (n, d), (n_a, d)
        Embeddings (any scale: cosine similarity). The anchors need 3 rows.
    share : float in (0, 0.5)
        The share of anchors (at the synthetic set's size) whose nearest other anchor
        is at or above the threshold.
    rng : None, int, SeedSequence or Generator
        The anchors drawn for the threshold (when there are more than synthetic rows).

    Returns
    -------
    SemanticDuplicates

    Examples
    --------
    Two paraphrases (the same direction, other lengths) among unrelated rows:

    >>> import numpy as np
    >>> from synthgain.audit._semantic import semantic_duplicates
    >>> g = np.random.default_rng(0)
    >>> s = g.normal(size=(50, 16)); s[7] = 3 * s[2] + 0.01 * g.normal(size=16)
    >>> out = semantic_duplicates(s, g.normal(size=(200, 16)), rng=0)
    >>> out.cluster[[2, 7]].tolist(), bool(out.flag[7]), bool(out.flag[2])
    ([0, 0], True, False)
    """
    from scipy.sparse.csgraph import connected_components
    from sklearn.neighbors import radius_neighbors_graph

    s = _unit(check_array(synthetic, "synthetic", ndim=2, min_rows=1))
    a = check_array(anchor, "anchor", ndim=2, min_rows=3, dim=s.shape[1])
    n = s.shape[0]
    t, anchor_share, m = similarity_threshold(a, n, share, rng=rng)
    cluster, size = np.full(n, -1, dtype=np.int64), np.ones(n, dtype=np.int64)
    flag = np.zeros(n, dtype=bool)
    if n >= 2:
        # unit vectors: cosine >= t  <=>  euclidean distance <= sqrt(2 - 2 t)
        graph = radius_neighbors_graph(s, float(np.sqrt(max(2.0 - 2.0 * t, 0.0))),
                                       mode="connectivity", include_self=False)
        _, comp = connected_components(graph, directed=False)
        counts = np.bincount(comp)
        multi = counts[comp] >= 2
        first: dict[int, int] = {}
        for j in np.flatnonzero(multi):  # rows in order: a cluster's first row first
            c = int(comp[j])
            flag[j] = c in first
            cluster[j] = first.setdefault(c, len(first))
        size[multi] = counts[comp[multi]]
    return SemanticDuplicates(cluster, size, flag, t, float(share), m, anchor_share)
