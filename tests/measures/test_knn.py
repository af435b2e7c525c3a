"""Exact neighbour search: the brute-force path agrees with the k-d tree to float64 precision."""

import math

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from synthgain.exceptions import ValidationError
from synthgain.measures import knn_distances


def reference(x, y, k, exclude_self):
    d = cdist(x, y)
    if exclude_self:
        np.fill_diagonal(d, np.inf)
    return np.sort(d, axis=1)[:, :k]


@pytest.mark.parametrize("algorithm", ["kdtree", "brute"])
@pytest.mark.parametrize("k", [1, 4])
def test_cross_query_matches_cdist(algorithm, k):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((300, 40)) + 5.0, rng.standard_normal((700, 40)) + 5.0
    got = knn_distances(x, y, k=k, algorithm=algorithm, block_size=64)
    np.testing.assert_allclose(got, reference(x, y, k, False), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("algorithm", ["kdtree", "brute"])
def test_self_query_excludes_self_but_keeps_duplicates(algorithm):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((400, 20))
    x[10] = x[3]  # a duplicate pair: each is the other's neighbour at distance 0
    got = knn_distances(x, k=3, algorithm=algorithm, block_size=100)
    np.testing.assert_allclose(got, reference(x, x, 3, True), rtol=1e-10, atol=1e-12)
    assert got[3, 0] == 0.0 and got[10, 0] == 0.0
    assert np.all(got[np.arange(400) != 3][:, 0][:5] > 0)


def test_brute_is_exact_on_near_ties_at_large_offset():
    # points far from the origin with tiny gaps: float32 alone cannot rank them
    rng = np.random.default_rng(2)
    base = rng.standard_normal((1, 32)) * 1e3
    x = base + rng.standard_normal((200, 32)) * 1e-2
    got = knn_distances(x, k=2, algorithm="brute")
    np.testing.assert_allclose(got, reference(x, x, 2, True), rtol=1e-9)


def test_auto_picks_tree_in_low_dimension_and_max_norm():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((200, 3))
    got = knn_distances(x, k=2, p=math.inf)
    d = cdist(x, x, metric="chebyshev")
    np.fill_diagonal(d, np.inf)
    np.testing.assert_allclose(got, np.sort(d, axis=1)[:, :2])


def test_errors():
    x = np.zeros((5, 2))
    with pytest.raises(ValidationError, match="`k` must be smaller than the number of reference points"):
        knn_distances(x, k=5)
    with pytest.raises(ValidationError, match="must have 2 columns"):
        knn_distances(x, np.zeros((5, 3)))
    with pytest.raises(ValidationError, match="only supported by algorithm='kdtree'"):
        knn_distances(x, k=1, p=math.inf, algorithm="brute")
    with pytest.raises(ValidationError, match="`p` must be 2 or inf"):
        knn_distances(x, k=1, p=1)
    with pytest.raises(ValidationError, match="finite"):
        knn_distances([[0.0, np.nan], [1.0, 1.0]], k=1)


def test_result_identical_for_any_number_of_workers():
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((700, 24)), rng.standard_normal((500, 24))
    one = knn_distances(x, y, k=3, algorithm="brute", workers=1, block_size=128)
    two = knn_distances(x, y, k=3, algorithm="brute", workers=2, block_size=128)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(
        knn_distances(x, k=2, workers=1), knn_distances(x, k=2, workers=-1)
    )


@pytest.mark.parametrize(("n", "k", "offset"), [(1000, 3, 0.0), (777, 1, 1e3), (2600, 4, 0.0)])
def test_symmetric_self_query_is_exact(n, k, offset):
    # n > 256 (k + 1): the self query multiplies only the upper block triangle
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, 30)) * (1e-2 if offset else 1.0) + offset
    x[5] = x[17]
    got = knn_distances(x, k=k, algorithm="brute")
    np.testing.assert_allclose(got, reference(x, x, k, True), rtol=1e-9, atol=1e-12)
    assert got[5, 0] == 0.0
    np.testing.assert_array_equal(got, knn_distances(x, k=k, algorithm="brute", workers=1))


def test_faiss_backend_matches_exact_search():
    pytest.importorskip("faiss")
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((300, 24)), rng.standard_normal((400, 24))
    # float32 distances, not refined: agreement to float32 precision
    np.testing.assert_allclose(
        knn_distances(x, y, k=2, algorithm="faiss"), reference(x, y, 2, False), rtol=1e-4
    )
    np.testing.assert_allclose(
        knn_distances(x, k=2, algorithm="faiss"), reference(x, x, 2, True), rtol=1e-4
    )
