"""The Appendix-B protocol: tasks and seeds, worker independence, summaries, claims."""

import numpy as np
import pandas as pd
import pytest

from synthgain.exceptions import ValidationError
from synthgain.experiments.figure4 import (
    claims,
    figure4_settings,
    map_chunks,
    run_figure4,
    summarize,
    write_tables,
)

SMALL = {"settings": 3, "rounds": 3, "n_eval": 100, "values": [2, 4], "n_boot": 200}


def test_tasks_cover_the_grid_with_seeds_from_sweep_value_and_index():
    tasks = figure4_settings(settings=4, values=[2, 3], seed=7)
    assert len(tasks) == 3 * 2 * 4
    t = next(t for t in tasks if (t.sweep, t.value, t.setting) == ("J", 3, 2))
    assert (t.setup.K, t.setup.J, t.setup.L) == (2, 3, 2)
    assert t.seed.entropy == 7 and t.seed.spawn_key == (1, 3, 2)
    # the base setup is shared; the swept field is overridden
    lt = figure4_settings(settings=1, values=[5], sweeps=["L"], covariance="isotropic")
    assert lt[0].setup.L == 5 and lt[0].setup.covariance == "isotropic"


def test_results_do_not_depend_on_workers_or_chunking():
    one = run_figure4(**SMALL, jobs=1, chunk_size=100, sweeps=["K", "L"])
    two = run_figure4(**SMALL, jobs=2, chunk_size=2, sweeps=["K", "L"])
    only_l = run_figure4(**SMALL, jobs=1, sweeps=["L"])
    cols = ["sweep", "value", "setting", "estimator", "measure", "gap", "gap_stderr", "seed"]
    key = ["sweep", "value", "setting", "measure"]
    a = one.rows[cols].sort_values(key).reset_index(drop=True)
    b = two.rows[cols].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    c = only_l.rows[cols].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a[a.sweep == "L"].reset_index(drop=True), c)
    assert set(one.rows["seed"]) == {f"0:{k}.{v}.{i}" for k in (0, 2) for v in (2, 4)
                                     for i in range(3)}


def test_map_chunks_keeps_order_and_reports_progress():
    seen = []
    out = map_chunks(abs, [-3, 1, -2], jobs=1, progress=lambda i, n: seen.append((i, n)))
    assert out == [3, 1, 2] and seen == [(1, 3), (2, 3), (3, 3)]


def _fake_rows(slope, n=30, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for sweep in ("K", "J", "L"):
        for v in range(2, 8):
            for i in range(n):
                rows.append({"estimator": "monte_carlo", "measure": "kl", "sweep": sweep,
                             "value": v, "setting": i, "gap": slope[sweep] * v + rng.normal(),
                             "anchor_divergence": 1.0, "synthetic_divergence": 1.0, "gap_stderr": 0.1})
    return pd.DataFrame(rows)


def test_summary_statistics_match_numpy():
    rows = _fake_rows({"K": -1, "J": 1, "L": 0})
    s = summarize(rows, n_boot=500)
    g = rows[(rows.sweep == "J") & (rows.value == 3)]["gap"].to_numpy()
    r = s[(s.sweep == "J") & (s.value == 3)].iloc[0]
    assert r["mean"] == pytest.approx(g.mean()) and r["std"] == pytest.approx(g.std(ddof=0))
    assert r["median"] == pytest.approx(np.median(g)) and r["n"] == 30
    # the bootstrap interval of the mean is about mean +- 1.96 sd / sqrt(n)
    half = 1.96 * g.std(ddof=1) / np.sqrt(g.size)
    assert r["ci_low"] == pytest.approx(g.mean() - half, abs=0.3 * half)
    assert r["ci_high"] == pytest.approx(g.mean() + half, abs=0.3 * half)
    assert r["mc_stderr"] == pytest.approx(0.1)


def test_claims_verdicts_follow_the_data():
    c = claims(_fake_rows({"K": -1.0, "J": 1.0, "L": 0.0}), n_boot=500).set_index("sweep")
    assert c.loc["K", "verdict"] == "holds" and c.loc["K", "rho"] < -0.5
    assert c.loc["J", "verdict"] == "holds" and c.loc["J", "rho"] > 0.5
    assert c.loc["L", "verdict"] == "not shown"
    assert c.loc["K", "ci_low"] < c.loc["K", "rho"] < c.loc["K", "ci_high"]
    rev = claims(_fake_rows({"K": 1.0, "J": -1.0, "L": 1.0}), n_boot=500)
    assert set(rev["verdict"]) == {"reversed"}


def test_write_tables(tmp_path):
    res = run_figure4(**SMALL, sweeps=["J"], estimators=["monte_carlo", "histogram_per_sample"])
    paths = write_tables(res, tmp_path)
    back = pd.read_parquet(paths["results_parquet"])
    assert len(back) == len(res.rows) == 2 * 3 * (4 + 2)
    text = paths["summary_md"].read_text()
    assert "Spearman" in text and "rises with J" in text and "histogram_per_sample" in text
    assert pd.read_csv(paths["claims_csv"]).shape[0] == 6


def test_bad_protocol_options_fail_before_running():
    with pytest.raises(ValidationError, match=r"`settings` must be an int in \[1, inf\)"):
        figure4_settings(settings=0)
    with pytest.raises(ValidationError, match=r"`sweeps` must contain only 'K', 'J', 'L'"):
        figure4_settings(sweeps=["D"])
    with pytest.raises(ValidationError, match=r"`jobs` must be an int in \[1, inf\)"):
        run_figure4(jobs=0)
    with pytest.raises(ValidationError, match=r"Unknown estimator option"):
        run_figure4(**SMALL, estimator_options={"bandwidth": 1})
    with pytest.raises(ValidationError, match=r"`covariance` must be one of"):
        run_figure4(**SMALL, covariance="diag")


def test_intervals_do_not_depend_on_the_other_estimators_in_the_table():
    rng = np.random.default_rng(0)
    frames = []
    for est in ("histogram", "monte_carlo"):
        for sweep in "KJL":
            for v in (2, 5, 9):
                frames.append(pd.DataFrame({"estimator": est, "measure": "kl", "sweep": sweep,
                                            "value": v, "gap": rng.normal(0.1 * v, 1.0, 30),
                                            "anchor_divergence": 0.0, "synthetic_divergence": 0.0,
                                            "gap_stderr": 0.1}))
    rows = pd.concat(frames, ignore_index=True)
    alone = rows[rows.estimator == "monte_carlo"]
    for fn in (summarize, claims):
        both = fn(rows, n_boot=200).query("estimator == 'monte_carlo'").reset_index(drop=True)
        pd.testing.assert_frame_equal(both, fn(alone, n_boot=200).reset_index(drop=True))
