"""The calibration table (src/synthgain/audit/calibration.json) and its reader."""

from __future__ import annotations

import importlib.util
import math
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from synthgain.audit import _calibration
from synthgain.audit._calibration import calibration_table, min_valid_rows, why_invalid

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "calibration.py"


@lru_cache(maxsize=1)
def _script() -> Any:
    """benchmarks/calibration.py as a module (registered first: it defines dataclasses)."""
    spec = importlib.util.spec_from_file_location("calibration_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


FAKE = {"min_rows": {"est": {"a": {"8": 50, "64": 300, "384": None}, "b": {"8": None}}}}


@pytest.fixture
def fake_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_calibration, "calibration_table", lambda: FAKE)


@pytest.mark.usefixtures("fake_table")
def test_lookup_rounds_the_dimension_up() -> None:
    assert [min_valid_rows("est", "a", d) for d in (1, 8, 9, 64)] == [50, 50, 300, 300]
    assert min_valid_rows("est", "a", 65) is None  # read at 384: valid at no size
    assert min_valid_rows("est", "a", 5000) is None  # beyond every d: the largest
    assert min_valid_rows("est", "b", 384) is None  # only d = 8 tabulated: read there
    assert min_valid_rows("est", "missing", 8) is None
    assert min_valid_rows("missing", "a", 8) is None


@pytest.mark.usefixtures("fake_table")
def test_why_invalid_gives_the_reason_or_none() -> None:
    assert why_invalid("est", "a", 50, 8) is None
    assert why_invalid("est", "a", 1000, 20) is None
    short = why_invalid("est", "a", 49, 8)
    assert short is not None and "50 rows" in short and "49" in short and "d = 8" in short
    up = why_invalid("est", "a", 100, 20)
    assert up is not None and "300" in up and "d = 64" in up
    never = why_invalid("est", "a", 10_000, 100)
    assert never is not None and "no tabulated size" in never and "d = 384" in never


def test_stored_table_has_its_provenance() -> None:
    tab = calibration_table()
    for key in ("generated_by", "synthgain_version", "seed", "repeats", "cap", "criteria",
                "min_rows", "cells", "reps"):
        assert key in tab, key
    assert not tab.get("quick") and not tab.get("provisional")
    assert tab["repeats"] == 10 and tab["cap"] == 1000
    assert {c["n"] for c in tab["cells"]} >= {10, 1000, 3000, 10000}
    from synthgain.audit._run import CALIBRATED

    for est in CALIBRATED:  # every estimator the audit reads through the table
        assert est in tab["min_rows"], est


def _valid(rec: dict[str, Any], crit: dict[str, Any]) -> bool:
    """The JSON's criteria, re-implemented here from their description."""
    if rec["errors"] or "mean" not in rec:
        return False
    e, out = rec["estimator"], rec["output"]
    if out in crit["lower_bound"]["outputs"].get(e, []):
        c = crit["lower_bound"]
        if rec["case"] in c["excluded_cases"]:
            return True
        null_ok = (rec["case"] != c["null_case"]
                   or rec["coverage"] >= c["null_coverage_min"])
        return rec["lower_coverage"] >= c["lower_coverage_min"] and null_ok
    c = crit["point"]
    if rec["case"] in c["excluded_cases"]:
        return True
    share = out in crit["share_outputs"].get(e, [])
    floor = c["bias_floor_share"] if share else c["bias_floor"]
    # a random family's row: its truth varies by member; the tolerance scales with the
    # members' mean |truth| (a family row's "truth" is the members' mean)
    limit = max(floor, c["bias_relative"] * rec.get("truth_abs", abs(rec["truth"])))
    # the measured bias is a mean of the repetitions: judged against its own noise, and a
    # cell too noisy to resolve a bias of the limit's size fails (criteria["point"]["rule"])
    se = rec["sd"] / math.sqrt(max(rec["reps"] - rec["errors"], 1))
    return (rec["coverage"] >= c["coverage_min"]
            and abs(rec["bias"]) - limit <= c["bias_z"] * se and se <= limit)


def test_min_rows_follow_from_the_cells() -> None:
    tab = calibration_table()
    groups: dict[tuple[str, str, str], dict[int, bool]] = {}
    for rec in tab["cells"]:
        by_n = groups.setdefault((rec["estimator"], rec["output"], str(rec["d"])), {})
        by_n[rec["n"]] = by_n.get(rec["n"], True) and _valid(rec, tab["criteria"])
    assert {(e, o, d) for e, outs in tab["min_rows"].items() for o, by_d in outs.items()
            for d in by_d} == set(groups)
    for (e, o, d), by_n in groups.items():
        ns = sorted(by_n)
        ok = [n for i, n in enumerate(ns) if all(by_n[m] for m in ns[i:])]
        assert tab["min_rows"][e][o][d] == (ok[0] if ok else None), (e, o, d)


def test_cells_hold_consistent_statistics() -> None:
    for rec in calibration_table()["cells"]:
        if "mean" not in rec:
            assert rec["errors"] == rec["reps"]
            continue
        assert math.isclose(rec["bias"], rec["mean"] - rec["truth"], abs_tol=1e-12)
        assert rec["rmse"] >= abs(rec["bias"]) - 1e-12
        assert 0.0 <= rec["coverage"] <= 1.0 and rec["rows"] == min(rec["n"], 1000)


@pytest.mark.parametrize(("estimator", "case", "n", "d"), [
    ("knn_kl", "shift", 10, 8),
    ("entropy_diff", "scale", 20, 8),
    ("entropy_diff", "family_class", 20, 8),  # a random member per repetition
])
def test_a_cell_reruns_to_the_stored_numbers(estimator: str, case: str, n: int, d: int
                                             ) -> None:
    # every repetition is seeded by its cell key and index alone, so one cell rerun here
    # gives the stored numbers whatever grid, worker count or order produced them
    stored = [r for r in calibration_table()["cells"]
              if (r["estimator"], r["case"], r["n"], r["d"]) == (estimator, case, n, d)]
    assert stored
    again = _script().run_cell(estimator, case, n, d, stored[0]["reps"],
                               calibration_table()["seed"])
    assert len(again) == len(stored)
    for a, s in zip(again, stored, strict=True):
        assert a.keys() == s.keys()
        for key, v in s.items():
            if isinstance(v, float):
                assert a[key] == pytest.approx(v, rel=1e-9, abs=1e-12), key
            else:
                assert a[key] == v, key
