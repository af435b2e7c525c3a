"""The neighbour engine's indices and radius queries (nearest_neighbours, within_radius):
exact against float64 references, ties to the lowest index, independent of the workers."""

import numpy as np
import pytest

from synthgain.exceptions import ValidationError
from synthgain.measures import knn_distances, nearest_neighbours, within_radius


def _dist(x, y):
    # independent reference: float64 distances, computed the way the engine refines them
    diff = x[:, None, :] - y[None, :, :]
    return np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))


def _ref_knn(x, y, k, exclude_self=False):
    d = _dist(x, y)
    if exclude_self:
        np.fill_diagonal(d, np.inf)
    idx = np.argsort(d, axis=1, kind="stable")[:, :k]  # stable: ties to the lower index
    return np.take_along_axis(d, idx, axis=1), idx


@pytest.mark.parametrize("d", [3, 40, 384])
def test_nearest_row_matches_brute_force(d):
    g = np.random.default_rng(d)
    a = g.normal(size=(300, d)) + 5.0  # off-centre, so the float32 scores have to be centred
    s = np.concatenate([g.normal(size=(200, d)) + 5.0, a[:30], a[:30] + 1e-9])
    ref = _dist(s, a)
    dist, idx = nearest_neighbours(s, a, algorithm="brute", block_size=64, workers=2)
    assert dist.shape == idx.shape == (s.shape[0], 1) and idx.dtype == np.int64
    assert np.array_equal(idx[:, 0], ref.argmin(axis=1))
    assert np.array_equal(dist[:, 0], ref.min(axis=1))


@pytest.mark.parametrize("algorithm", ["brute", "kdtree"])
@pytest.mark.parametrize("k", [1, 4])
def test_k_nearest_indices_and_distances_match_the_reference(algorithm, k):
    g = np.random.default_rng(k)
    x, y = g.normal(size=(250, 12)), g.normal(size=(600, 12))
    dist, idx = nearest_neighbours(x, y, k=k, algorithm=algorithm, block_size=50)
    want_d, want_i = _ref_knn(x, y, k)
    np.testing.assert_allclose(dist, want_d, rtol=1e-12)
    assert np.array_equal(idx, want_i)
    np.testing.assert_array_equal(dist, knn_distances(x, y, k=k, algorithm=algorithm,
                                                      block_size=50))


@pytest.mark.parametrize(("algorithm", "n"), [("brute", 300), ("brute", 1200), ("kdtree", 300)])
def test_self_query_indices_exclude_only_the_point_itself(algorithm, n):
    # n = 1200 > 256 (k + 1): the symmetric self-query path
    g = np.random.default_rng(n)
    x = g.normal(size=(n, 20))
    x[10] = x[3]  # a duplicate pair: each is the other's nearest, at distance 0
    dist, idx = nearest_neighbours(x, k=3, algorithm=algorithm)
    want_d, want_i = _ref_knn(x, x, 3, exclude_self=True)
    np.testing.assert_allclose(dist, want_d, rtol=1e-12, atol=1e-15)
    if algorithm == "brute":
        assert np.array_equal(idx, want_i)
    else:  # the tree returns rows at equal distance (the copies 3 and 10) in its own order
        np.testing.assert_allclose(np.take_along_axis(_dist(x, x), idx, axis=1), dist,
                                   rtol=1e-12, atol=1e-15)
    assert idx[3, 0] == 10 and idx[10, 0] == 3 and dist[3, 0] == 0.0
    assert not np.any(idx == np.arange(n)[:, None])
    np.testing.assert_array_equal(dist, knn_distances(x, k=3, algorithm=algorithm))


@pytest.mark.parametrize("n_other", [70, 600])
def test_ties_go_to_lowest_index_and_workers_do_not_matter(n_other):
    g = np.random.default_rng(0)
    a = g.normal(size=(50, 20))
    a = np.concatenate([a, a[::-1]])  # every anchor twice: rows i and 99 - i
    s = np.concatenate([a[60:], g.normal(size=(n_other, 20))])
    d1, i1 = nearest_neighbours(s, a, k=2, algorithm="brute", block_size=7, workers=1)
    d2, i2 = nearest_neighbours(s, a, k=2, algorithm="brute", block_size=7, workers=2)
    assert np.array_equal(i1, i2) and np.array_equal(d1, d2)
    lower = 99 - np.arange(60, 100)
    assert np.all(i1[:40, 0] == lower) and np.all(i1[:40, 1] == 99 - lower)
    assert np.all(d1[:40] == 0.0)


def test_within_radius_exact_on_the_boundary():
    g = np.random.default_rng(1)
    y = g.normal(size=(200, 30)) * 3.0
    ref_y = _dist(y, y)
    radius = np.sort(ref_y, axis=1)[:, 4]  # 4th nearest other row (self is at 0)
    # queries include copies of the reference rows: some sit exactly on a ball's boundary
    x = np.concatenate([y, g.normal(size=(150, 30)) * 3.0])
    ref = _dist(x, y) <= radius[None, :]
    counts = within_radius(x, y, radius, block_size=33, workers=2)
    assert counts.dtype.kind == "i" and np.array_equal(counts, ref.sum(axis=1))
    # the copies put 200 query-ball pairs exactly on the boundary (each ball's 4th row)
    assert np.sum(ref_y == radius[None, :]) >= 200
    assert np.all(counts[:200] >= 1)  # each copy is inside its own ball
    zero = within_radius(x, y, 0.0, reduce="any", block_size=1000, workers=1)
    assert zero.dtype == bool and np.array_equal(zero, (_dist(x, y) == 0).any(axis=1))
    assert zero[:200].all() and not zero[200:].any()
    np.testing.assert_array_equal(counts, within_radius(x, y, radius, workers=1))


def test_within_radius_rejects_bad_radii():
    x = np.zeros((4, 2))
    with pytest.raises(ValidationError, match="one value per row of `y`"):
        within_radius(x, x, np.ones(3))
    with pytest.raises(ValidationError, match="finite and >= 0"):
        within_radius(x, x, -1.0)
    with pytest.raises(ValidationError, match="`reduce`"):
        within_radius(x, x, 1.0, reduce="sum")
