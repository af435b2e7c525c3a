"""Shared test configuration: headless plotting, single-threaded BLAS."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
