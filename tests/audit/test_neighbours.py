import numpy as np
import pytest

from synthgain.audit._neighbours import nearest_rows, within_radius


def _dist(x, y):
    # independent reference: float64 distances, computed the way knn_distances does
    diff = x[:, None, :] - y[None, :, :]
    return np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))


@pytest.mark.parametrize("d", [3, 40, 384])
def test_nearest_rows_matches_brute_force(d):
    g = np.random.default_rng(d)
    a = g.normal(size=(300, d)) + 5.0  # off-centre, so the float32 scores have to be centred
    s = np.concatenate([g.normal(size=(200, d)) + 5.0, a[:30], a[:30] + 1e-9])
    ref = _dist(s, a)
    dist, idx = nearest_rows(s, a, block=64, workers=2)
    assert np.array_equal(idx, ref.argmin(axis=1))
    assert np.array_equal(dist, ref.min(axis=1))


def test_nearest_rows_ties_go_to_lowest_index_and_workers_do_not_matter():
    g = np.random.default_rng(0)
    a = g.normal(size=(50, 20))
    a = np.concatenate([a, a[::-1]])  # every anchor twice: rows i and 99 - i
    s = np.concatenate([a[60:], g.normal(size=(70, 20))])
    d1, i1 = nearest_rows(s, a, block=7, workers=1)
    d2, i2 = nearest_rows(s, a, block=7, workers=2)
    assert np.array_equal(i1, i2) and np.array_equal(d1, d2)
    assert np.all(i1[:40] == 99 - np.arange(60, 100))  # the lower of the two equal rows
    assert np.all(d1[:40] == 0.0)


def test_within_radius_exact_on_the_boundary():
    g = np.random.default_rng(1)
    y = g.normal(size=(200, 30)) * 3.0
    ref_y = _dist(y, y)
    radius = np.sort(ref_y, axis=1)[:, 4]  # 4th nearest other row (self is at 0)
    # queries include copies of the reference rows: some sit exactly on a ball's boundary
    x = np.concatenate([y, g.normal(size=(150, 30)) * 3.0])
    ref = _dist(x, y) <= radius[None, :]
    counts = within_radius(x, y, radius, lambda b: b.sum(axis=1), block=33, workers=2)
    assert np.array_equal(counts, ref.sum(axis=1))
    # the copies put 200 query-ball pairs exactly on the boundary (each ball's 4th row)
    assert np.sum(ref_y == radius[None, :]) >= 200
    assert np.all(counts[:200] >= 1)  # each copy is inside its own ball
    zero = within_radius(x, y, np.zeros(200), lambda b: b.any(axis=1), block=1000, workers=1)
    assert np.array_equal(zero, (_dist(x, y) == 0).any(axis=1))
    assert zero[:200].all() and not zero[200:].any()


def test_block_rows_bound_the_score_buffer():
    from synthgain.audit._neighbours import _BUFFER_FLOATS, _block_rows

    assert _block_rows(1024, 10_000) == 1024
    assert _block_rows(1024, 1_000_000) * 1_000_000 <= _BUFFER_FLOATS
    assert _block_rows(1024, 10**9) == 1
