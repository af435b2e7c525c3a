"""Shared test configuration: headless plotting, single-threaded BLAS, the audit's
language model off unless a test asks for it; a reader of a
results store that another process is writing (for the kill-and-resume tests)."""

import os
import sqlite3

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
# `synthgain audit` runs the language model when it is installed (--lm auto); the tests
# of the other measures run without it (minutes per audit), and the model's own tests
# pass --lm smollm2 (tests/audit/test_model.py)
os.environ["SYNTHGAIN_LM"] = "none"
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _ok_tasks(store) -> int:
    """Finished tasks in a results store being written by another process (0 if unreadable)."""
    try:
        conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1)
        try:
            return conn.execute("SELECT COUNT(*) FROM tasks WHERE status = 'ok'").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


@pytest.fixture
def ok_tasks():
    """``ok_tasks(path)``: the finished tasks in a store another process is writing."""
    return _ok_tasks
