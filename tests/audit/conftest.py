"""Fixtures shared by the audit's tests."""

import sys
from pathlib import Path

import pytest

import synthgain.experiments.backends as backends
from synthgain.audit import _metrics

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _search_cases import CHUNK


@pytest.fixture
def chunks(monkeypatch):
    """Forces the nearest-anchor search into chunks of CHUNK synthetic rows and counts
    the tasks it maps over (test_dask_search.py, test_ray.py)."""
    calls: list[int] = []
    real = backends.map_ordered

    def counting(backend, fn, items, **kw):
        calls.append(len(items))
        return real(backend, fn, items, **kw)

    monkeypatch.setattr(_metrics, "SEARCH_CHUNK_ROWS", CHUNK)
    monkeypatch.setattr(backends, "map_ordered", counting)
    return calls
