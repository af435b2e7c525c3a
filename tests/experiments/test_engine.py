"""run_sweep: results against an independent computation, failures, provenance, run directories."""

import json
import math
import re

import numpy as np
import pytest

from synthgain.exceptions import ValidationError
from synthgain.experiments.config import parse_config
from synthgain.experiments.engine import list_runs, run_sweep
from synthgain.experiments.protocols import Param, Protocol, register_protocol
from synthgain.experiments.store import StoreError


def _config(**sweep):
    return {
        "sweep": {"protocol": "normal_mean", "seed": 11, "replicates": 6, "batch_size": 4, **sweep},
        "params": {"n": 30},
        "grid": [{"mu": [0.0, 2.0]}, {"sigma": [3.0]}],
    }


def test_rows_match_an_independent_computation(tmp_path):
    res = run_sweep(_config(), out=tmp_path / "run", jobs=1)
    assert (res.status, res.n_tasks, res.n_computed, res.n_failed) == ("completed", 6, 6, 0)
    t = res.table()
    assert len(t) == 3 * 6 * 2
    params = [(0.0, 1.0), (2.0, 1.0), (0.0, 3.0)]
    for p, (mu, sigma) in enumerate(params):
        for r in range(6):
            seed = np.random.SeedSequence(11, spawn_key=(p, r))
            x = np.random.default_rng(seed).normal(mu, sigma, size=30)
            rows = t[(t.point == p) & (t.replicate == r)]
            assert rows.estimator.tolist() == ["mean", "median"]
            assert rows.value.tolist() == [x.mean(), np.median(x)]  # bitwise
            assert rows.seed_key.iloc[0] == f"{p},{r}" and rows.seed_entropy.iloc[0] == "11"
            assert rows.param_mu.iloc[0] == mu and rows.param_sigma.iloc[0] == sigma


def test_sweep_mean_within_four_standard_errors(tmp_path):
    cfg = {"sweep": {"protocol": "normal_mean", "seed": 5, "replicates": 200, "batch_size": 50},
           "params": {"n": 25, "sigma": 2.0}, "grid": {"mu": [-1.0, 4.0]}}
    t = run_sweep(cfg, out=tmp_path / "run", jobs=1).table()
    for mu in (-1.0, 4.0):
        means = t[(t.param_mu == mu) & (t.estimator == "mean")]
        # the mean of 200 replicate means has standard error sigma / sqrt(25 * 200)
        se = 2.0 / math.sqrt(25 * 200)
        assert abs(means.value.mean() - mu) < 4 * se
        # and the replicate spread matches the recorded standard error (chi-square, 199 df)
        ratio = means.value.std(ddof=1) / means.stderr.iloc[0]
        assert abs(ratio - 1) < 4 / math.sqrt(2 * 199)


def test_batch_size_does_not_change_results(tmp_path):
    a = run_sweep(_config(batch_size=1), out=tmp_path / "a", jobs=1).table()
    b = run_sweep(_config(batch_size=6), out=tmp_path / "b", jobs=1).table()
    c = run_sweep(parse_config(_config(batch_size=4)), out=tmp_path / "c", jobs=1).table()
    assert a.equals(b) and a.equals(c)


_CALLS = {"fail": True}


def _flaky(params, seeds, *, scale=1.0):
    out = []
    for p, s in zip(params, seeds, strict=True):
        if p["x"] == 3 and _CALLS["fail"]:
            raise ArithmeticError(f"cannot handle x={p['x']}")
        out.append([{"y": scale * p["x"] + np.random.default_rng(s).random()}])
    return out


register_protocol(
    Protocol("test_flaky", _flaky, {"x": Param("int", 0), "scale": Param("real", 1.0, option=True)}),
    replace=True,
)


def test_failed_task_is_a_row_and_the_sweep_goes_on_then_resume_retries(tmp_path):
    cfg = {"sweep": {"protocol": "test_flaky", "seed": 1, "replicates": 4, "batch_size": 2},
           "params": {"scale": 10.0}, "grid": {"x": [1, 3, 5]}}
    _CALLS["fail"] = True
    res = run_sweep(cfg, out=tmp_path / "run", jobs=1)
    assert (res.status, res.n_failed) == ("completed_with_failures", 2)
    t = res.table()
    failed = t[t.status == "failed"]
    assert failed.param_x.tolist() == [3, 3] and failed.replicate.tolist() == [0, 2]
    assert failed.error.str.match(r"ArithmeticError: cannot handle x=3 \(at test_engine\.py:\d+ in _flaky\)").all()
    assert (t[t.status == "ok"].param_x != 3).all() and len(t) == 8 + 2
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["status"] == "completed_with_failures" and run["tasks"]["failed"] == 2

    _CALLS["fail"] = False
    res2 = run_sweep(cfg, out=tmp_path / "run", jobs=1, resume=True)
    assert (res2.status, res2.n_computed, res2.n_failed) == ("completed", 2, 0)
    t2 = res2.table()
    assert (t2.status == "ok").all() and len(t2) == 12
    assert t2[t2.param_x == 1].y.tolist() == t[t.param_x == 1].y.tolist()
    assert (t2[t2.param_x == 3].y.between(30, 31)).all()


def test_bad_protocol_output_fails_the_task_with_a_reason(tmp_path):
    register_protocol(
        Protocol("test_short", lambda params, seeds: [[{"v": 1.0}]], {"a": Param("int", 1)}), replace=True
    )
    register_protocol(
        Protocol("test_array", lambda params, seeds: [[{"v": np.ones(2)}] for _ in seeds], {"a": Param("int", 1)}),
        replace=True,
    )
    cfg = {"sweep": {"protocol": "test_short", "replicates": 2}}
    t = run_sweep(cfg, out=tmp_path / "a", jobs=1).table()
    assert re.match(r"(\w+\.)*ValidationError: protocol 'test_short' returned 1 result lists for 2 settings", t.error.iloc[0])
    cfg = {"sweep": {"protocol": "test_array", "replicates": 2}}
    t = run_sweep(cfg, out=tmp_path / "b", jobs=1).table()
    assert "record field 'v' must be a scalar" in t.error.iloc[0]


def test_run_directory_provenance(tmp_path):
    run_dir = tmp_path / "run"
    calls = []
    cfg = parse_config(_config(), default_name="toy")
    run_sweep(cfg, out=run_dir, jobs=1, argv=["synthgain", "sweep", "toy.toml"],
              progress=lambda d, n: calls.append((d, n)))
    assert calls == [(i, 6) for i in range(7)]
    assert json.loads((run_dir / "config.json").read_text()) == cfg.to_dict()
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "completed" and run["name"] == "toy"
    assert run["argv"] == ["synthgain", "sweep", "toy.toml"]
    assert run["python"].count(".") == 2 and run["numpy"] == np.__version__
    assert run["git"]["commit"] is None or re.fullmatch(r"[0-9a-f]{40}", run["git"]["commit"])
    assert run["started"] <= run["stopped"] and run["tasks"] == {"total": 6, "ok": 6, "failed": 0, "computed_now": 6}
    assert run["host"] and run["synthgain_version"] and run["history"] == []
    assert [r["run_dir"] for r in list_runs(tmp_path)] == [str(run_dir)]


def test_run_directory_misuse_is_explained(tmp_path):
    run_sweep(_config(), out=tmp_path / "run", jobs=1)
    with pytest.raises(StoreError, match="already holds a sweep; pass --resume to continue it"):
        run_sweep(_config(), out=tmp_path / "run", jobs=1)
    with pytest.raises(StoreError, match="started from a different configuration"):
        run_sweep(_config(seed=12), out=tmp_path / "run", jobs=1, resume=True)
    with pytest.raises(StoreError, match=r"nothing to resume: .* holds no results store"):
        run_sweep(_config(), out=tmp_path / "other", jobs=1, resume=True)
    res = run_sweep(_config(), out=tmp_path / "run", jobs=1, resume=True)
    assert (res.status, res.n_computed) == ("completed", 0)
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["resumed"] is True and len(run["history"]) == 1


def test_unknown_backend_is_a_validation_error(tmp_path):
    with pytest.raises(ValidationError, match=r"`backend` must be one of 'local', 'dask', 'ray'. Got 'spark'"):
        run_sweep(_config(), out=tmp_path / "run", backend="spark")
    assert not (tmp_path / "run").exists()


def test_tiny_klgap_sweep_matches_run_settings(tmp_path):
    from synthgain.experiments.klgap import run_settings
    from synthgain.process import Setup

    cfg = {"sweep": {"protocol": "klgap", "seed": 8, "replicates": 3, "batch_size": 3},
           "params": {"rounds": 3, "n_eval": 40, "measures": ["kl", "tv"]},
           "grid": [{"K": [2, 3]}, {"J": [0]}]}
    t = run_sweep(cfg, out=tmp_path / "a", jobs=1).table()
    assert (t.status == "ok").all() and len(t) == 3 * 3 * 2
    assert t.measure.tolist()[:2] == ["kl", "tv"] and t.estimator.eq("monte_carlo").all()
    for p, setup in enumerate([Setup(K=2), Setup(K=3), Setup(J=0)]):
        for r in range(3):
            ref = run_settings([setup], [np.random.SeedSequence(8, spawn_key=(p, r))],
                               rounds=3, n_eval=40, measures=("kl", "tv"))
            got = t[(t.point == p) & (t.replicate == r)]
            assert got.gap.tolist() == [row["gap"] for row in ref]  # bitwise
            assert got.anchor_divergence_stderr.tolist() == [row["anchor_divergence_stderr"] for row in ref]
            assert ref[0]["seed"] == f"8:{p}.{r}"
    one = run_sweep({**cfg, "sweep": {**cfg["sweep"], "batch_size": 1}}, out=tmp_path / "b", jobs=1)
    assert one.table().equals(t)


def test_klgap_config_errors_name_the_path():
    base = {"sweep": {"protocol": "klgap"}, "params": {"rounds": 3}}
    with pytest.raises(ValidationError, match=r"^grid\.K\[1\]: `K` must be an int in \[1, inf\). Got 0 instead\.$"):
        parse_config({**base, "grid": {"K": [2, 0]}})
    with pytest.raises(ValidationError, match=r"^params\.estimators\[1\]: must be one of 'monte_carlo', .*got 'bogus'$"):
        parse_config({**base, "params": {"estimators": ["monte_carlo", "bogus"]}})
    with pytest.raises(ValidationError, match=r"^params\.mean_low: `mean_low` must be below `mean_high`"):
        parse_config({**base, "params": {"mean_low": 20.0}, "grid": {"K": [2, 3]}})
    with pytest.raises(ValidationError, match=r"^params\.rounds: must be an int >= 2, got 1$"):
        parse_config({**base, "params": {"rounds": 1}})
    with pytest.raises(ValidationError, match=r"^params\.seed: unknown parameter of protocol 'klgap'"):
        parse_config({**base, "params": {"seed": 1}})


def test_klgap_estimator_options_follow_klgap():
    from synthgain.experiments import klgap

    for name, default in klgap._DEFAULTS.items():
        cfg = parse_config({"sweep": {"protocol": "klgap"}, "params": {name: default}})
        assert cfg.params[name] == default
    with pytest.raises(ValidationError, match=r"^params\.bins: `bins` must be an int in \[1, inf\). Got 0"):
        parse_config({"sweep": {"protocol": "klgap"}, "params": {"bins": 0}})
