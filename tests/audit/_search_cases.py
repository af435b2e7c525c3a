"""The case of the distributed nearest-anchor search tests (test_dask_search.py,
test_ray.py; their task counter is the ``chunks`` fixture of conftest.py): one case, so
that Dask and Ray are checked alike."""

import numpy as np

CHUNK = 700  # 3,010 synthetic rows: 5 chunks, the last one short


def embeddings(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """500 anchors in 24-d (the first 10 repeated at the end: tied neighbours) and 3,010
    synthetic rows: 2,800 fresh, 200 near-copies of anchors and 10 exact copies of the
    repeated anchors (ties, which go to the lower index)."""
    gen = np.random.default_rng(seed)
    a = gen.normal(size=(490, 24))
    a = np.concatenate([a, a[:10]])
    fresh = gen.normal(size=(2800, 24))
    copies = a[gen.choice(490, 200)] + 1e-3 * gen.normal(size=(200, 24))
    s = np.concatenate([fresh, copies, a[:10]])
    return a, s[gen.permutation(s.shape[0])]
