"""Backends: the same table, bit for bit, on 1 worker, 2 local workers, Dask and Ray;
pinned BLAS."""

import sys

import pytest

from synthgain.exceptions import SynthgainError, ValidationError
from synthgain.experiments.backends import (
    DaskBackend,
    LocalBackend,
    _pinned,
    get_backend,
    map_ordered,
)
from synthgain.experiments.engine import run_sweep

CONFIG = {
    "sweep": {"protocol": "normal_mean", "seed": 99, "replicates": 8, "batch_size": 3},
    "params": {"n": 64},
    "grid": [{"mu": [0.0, 0.5, 1.0]}, {"points": [{"sigma": 2.0, "n": 7}]}],
}


def _csv(run, tmp_path, name):
    return run.export(tmp_path / f"{name}.csv").read_bytes()


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serial")
    res = run_sweep(CONFIG, out=tmp / "run", jobs=1)
    return res.table(), _csv(res, tmp, "serial")


def test_two_local_processes_bitwise_identical(serial, tmp_path):
    res = run_sweep(CONFIG, out=tmp_path / "run", backend="local", jobs=2)
    assert res.status == "completed" and res.n_computed == 12
    assert res.table().equals(serial[0])
    assert _csv(res, tmp_path, "local2") == serial[1]


def test_dask_local_cluster_bitwise_identical(serial, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, host="127.0.0.1", protocol="tcp://",
        dashboard_address=None,
    ) as cluster:
        res = run_sweep(CONFIG, out=tmp_path / "run", backend="dask", scheduler=cluster.scheduler_address)
    assert res.table().equals(serial[0])
    assert _csv(res, tmp_path, "dask") == serial[1]


def test_dask_backend_instance_own_cluster(serial, tmp_path):
    pytest.importorskip("distributed")
    with DaskBackend(jobs=2, processes=False) as backend:
        assert backend.describe() == "dask(LocalCluster, jobs=2)"
        assert backend._cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        res = run_sweep(CONFIG, out=tmp_path / "run", backend=backend)
        assert sorted(backend.map_unordered(abs, [-3, 1, -2])) == [1, 2, 3]
    assert res.table().equals(serial[0])


def test_ray_local_instance_bitwise_identical(serial, tmp_path):
    ray = pytest.importorskip("ray")
    assert not ray.is_initialized()
    res = run_sweep(CONFIG, out=tmp_path / "run", backend="ray", jobs=2)
    assert not ray.is_initialized()  # the backend started Ray, and shut it down after
    assert res.table().equals(serial[0])
    assert _csv(res, tmp_path, "ray") == serial[1]


def test_local_cluster_binds_loopback(tmp_path):
    pytest.importorskip("distributed")
    with DaskBackend(jobs=1) as backend:
        assert backend._cluster.scheduler_address.startswith("tcp://127.0.0.1:")


# a lambda is shipped to loky workers by value (this test module is not importable there)
_blas_threads = lambda _: sorted(  # noqa: E731
    {pool["num_threads"] for pool in __import__("threadpoolctl").threadpool_info()}
)


def test_blas_pinned_to_one_thread_in_workers():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=2):
        outside = _blas_threads(None)
        inside = _pinned(_blas_threads, None)
    assert inside in ([], [1]) and (outside == [] or max(outside) == 2)
    results = list(LocalBackend(jobs=2).map_unordered(_blas_threads, range(4)))
    assert len(results) == 4 and all(r in ([], [1]) for r in results)


def test_backend_argument_errors():
    with pytest.raises(ValidationError, match=r"`backend` must be one of 'local', 'dask', 'ray'. Got 'mpi' instead"):
        get_backend("mpi")
    with pytest.raises(ValidationError, match=r"`jobs` must be an int >= 1 \(or None for all cores\). Got 0"):
        get_backend("local", jobs=0)
    with pytest.raises(ValidationError, match=r"`scheduler` is only used by the 'dask' and 'ray' backends"):
        get_backend("local", scheduler="tcp://10.0.0.1:8786")


def test_ray_missing_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises, installed or not
    with pytest.raises(SynthgainError, match=r"pip install 'synthgain\[ray\]'"):
        get_backend("ray", jobs=1)


def test_unreachable_scheduler_is_a_clear_error():
    pytest.importorskip("distributed")
    with pytest.raises(SynthgainError, match=r"cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'"):
        get_backend("dask", scheduler="tcp://127.0.0.1:9", connect_timeout=1)


def test_map_ordered_keeps_input_order():
    calls = []
    items = [5, -1, 3, -8, 0, 2]
    out = map_ordered(LocalBackend(jobs=2), abs, items, progress=lambda d, n: calls.append((d, n)))
    assert out == [5, 1, 3, 8, 0, 2]
    assert calls == [(i, 6) for i in range(1, 7)]
    assert map_ordered(LocalBackend(jobs=1), str, []) == []


def test_klgap_sweep_identical_across_backends(tmp_path):
    distributed = pytest.importorskip("distributed")
    cfg = {"sweep": {"protocol": "klgap", "seed": 3, "replicates": 3, "batch_size": 2},
           "params": {"rounds": 3, "n_eval": 40}, "grid": {"K": [2, 3]}}
    one = run_sweep(cfg, out=tmp_path / "one", jobs=1).table()
    two = run_sweep(cfg, out=tmp_path / "two", jobs=2).table()
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, host="127.0.0.1", protocol="tcp://",
        dashboard_address=None,
    ) as cluster:
        dask = run_sweep(cfg, out=tmp_path / "dask", backend="dask", scheduler=cluster.scheduler_address).table()
    assert (one.status == "ok").all() and len(one) == 2 * 3 * 4  # 4 measures
    assert one.equals(two) and one.equals(dask)
