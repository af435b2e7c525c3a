"""The audit's nearest-anchor search on dask.distributed: the synthetic rows in chunks on a
LocalCluster of 2 worker processes give exactly the neighbours of the local search."""

import sys
from pathlib import Path

import numpy as np
import pytest

import synthgain.experiments.backends as backends
from synthgain.audit import novelty, run_audit
from synthgain.experiments.backends import get_backend

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed (the `distributed` extra) is not installed")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _search_cases import CHUNK, embeddings  # noqa: E402


@pytest.fixture(scope="module")
def scheduler():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", protocol="tcp://",
                                  dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def test_novelty_on_dask_equals_the_local_search(scheduler, chunks):
    a, s = embeddings()
    local = novelty(a, s, k=5, workers=1)
    with get_backend("dask", scheduler=scheduler) as cluster:
        dask = novelty(a, s, k=5, backend=cluster)
    assert chunks == [5]
    # exact equality: each row's brute-force search ends on float64 distances of the
    # candidates, recomputed the same way whatever rows share its block
    for name in ("distance", "nearest", "ratio", "near_copy", "kth_distance"):
        np.testing.assert_array_equal(getattr(dask, name), getattr(local, name),
                                      err_msg=name)
    assert dask.memorisation == local.memorisation and dask.novelty == local.novelty
    # an exact copy of a repeated anchor j (also row 490 + j) is tied: the lower index
    rows, j = np.nonzero((s[:, None, :] == a[None, :10, :]).all(axis=-1))
    assert rows.size == 10 and np.array_equal(dask.nearest[rows], j)


def test_anchors_go_to_every_worker_and_each_chunk_to_one(scheduler):
    a, s = embeddings()
    with get_backend("dask", scheduler=scheduler) as cluster:
        fut = cluster.broadcast(a)
        parts = cluster.scatter([s[:CHUNK], s[CHUNK:]])
        assert isinstance(fut, distributed.Future)
        who = cluster._client.who_has([fut, *parts])
        assert len(who[fut.key]) == 2 and [len(who[p.key]) for p in parts] == [1, 1]
    local = backends.LocalBackend(jobs=1)
    assert local.broadcast(a) is a and local.scatter([a, s])[1] is s


def test_audit_on_dask_equals_the_local_audit(scheduler, chunks):
    a, s = embeddings(1)
    kw = {"compare_rows": 150, "repeats": 2, "rng": 0, "workers": 1}
    local = run_audit(a, s, **kw)
    assert chunks == []
    dask = run_audit(a, s, backend="dask", scheduler=scheduler, **kw)
    assert chunks == [5]
    assert dask.to_dict()["metrics"] == local.to_dict()["metrics"]
    assert dask.near_copies == local.near_copies and dask.notes == local.notes
    assert dask.verdict() == local.verdict()
    np.testing.assert_array_equal(dask.near_copy, local.near_copy)
    np.testing.assert_array_equal(dask.nearest_distance, local.nearest_distance)
    lr, dr = local.row_info, dask.row_info
    assert lr is not None and dr is not None
    assert dr.nearest_anchor == lr.nearest_anchor
    np.testing.assert_array_equal(dr.ratio, lr.ratio)
    np.testing.assert_array_equal(dr.outliers.score, lr.outliers.score)
    np.testing.assert_array_equal(dr.outliers.outlier, lr.outliers.outlier)
    assert int(local.near_copy.sum()) >= 200  # the planted near-copies are found
