"""Sweep configuration: parsing, defaults, and every error named by its path in the file."""

import json

import pytest

from synthgain.exceptions import ValidationError
from synthgain.experiments.config import load_config, parse_config
from synthgain.experiments.protocols import Param, Protocol, register_protocol


def _interval_validate(point):
    if point["low"] >= point["high"]:
        raise ValidationError(f"`low` must be below `high`. Got low={point['low']} and high={point['high']}.")


register_protocol(
    Protocol(
        "test_interval",
        fn=lambda params, seeds: [[{"width": p["high"] - p["low"]}] for p in params],
        params={
            "low": Param("real", 0.0),
            "high": Param("real", 1.0),
            "k": Param("int", low=1, high=10),
            "methods": Param("str_list", ("a",), choices=("a", "b"), option=True),
        },
        validate=_interval_validate,
    ),
    replace=True,
)


def _cfg(**sections):
    base = {"sweep": {"protocol": "normal_mean", "seed": 1, "replicates": 4}}
    base.update(sections)
    return base


def test_defaults_resolved():
    cfg = parse_config(_cfg(), default_name="toy")
    assert cfg.name == "toy" and cfg.seed == 1 and cfg.replicates == 4 and cfg.batch_size == 4
    assert cfg.params == {"mu": 0.0, "sigma": 1.0, "n": 100}
    assert [p.params for p in cfg.points()] == [cfg.params]


def test_resolved_dict_is_json_and_lists_points():
    cfg = parse_config(_cfg(grid=[{"mu": [0, 1.5]}, {"n": [3]}]))
    d = json.loads(json.dumps(cfg.to_dict()))
    assert d["sweep"]["protocol"] == "normal_mean"
    assert [p["params"]["mu"] for p in d["points"]] == [0.0, 1.5, 0.0]
    assert [p["block"] for p in d["points"]] == [0, 0, 1]
    assert isinstance(d["points"][0]["params"]["mu"], float)  # ints promoted for reals


def test_digest_ignores_name_but_not_seed():
    a = parse_config(_cfg(), default_name="a")
    b = parse_config(_cfg(), default_name="b")
    c = parse_config({"sweep": {"protocol": "normal_mean", "seed": 2, "replicates": 4}})
    assert a.digest() == b.digest() != c.digest()


def test_load_toml(tmp_path):
    path = tmp_path / "fig.toml"
    path.write_text(
        '[sweep]\nprotocol = "normal_mean"\nseed = 3\nreplicates = 10\nbatch_size = 4\n'
        "[params]\nn = 20\n[[grid]]\nmu = [0.0, 1.0]\n[[grid]]\nsigma = [2.0]\n"
    )
    cfg = load_config(path)
    assert cfg.name == "fig" and cfg.batch_size == 4 and len(cfg.points()) == 3
    assert cfg.points()[2].params == {"mu": 0.0, "sigma": 2.0, "n": 20}


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ({"grid": {"n": [5, 3, 0]}}, r"^grid\.n\[2\]: must be an int >= 1, got 0$"),
        ({"grid": [{"mu": [0]}, {"n": [1, -4]}]}, r"^grid\[1\]\.n\[1\]: must be an int >= 1, got -4$"),
        ({"grid": {"n": 2.5}}, r"^grid\.n: must be an int >= 1, got 2\.5$"),
        ({"grid": {"n": []}}, r"^grid\.n: must list at least one value, got \[\]$"),
        ({"params": {"sigma": 0}}, r"^params\.sigma: must be a real number >= 1e-300, got 0$"),
        ({"params": {"mu": "1"}}, r"^params\.mu: must be a real number, got '1'$"),
        ({"params": {"n": True}}, r"^params\.n: must be an int >= 1, got True$"),
        ({"params": {"sigmaa": 1.0}}, r"^params\.sigmaa: unknown parameter of protocol 'normal_mean', 'sigmaa' \(did you mean 'sigma'\?\)"),
        ({"grid": {"points": [{"mu": 1.0}, {"q": 2}]}}, r"^grid\.points\[1\]\.q: unknown parameter"),
        ({"grid": {"points": [{"n": 0}]}}, r"^grid\.points\[0\]\.n: must be an int >= 1, got 0$"),
        ({"grid": {"points": []}}, r"^grid\.points: must be a non-empty list of tables$"),
        ({"grid": 3}, r"^grid: must be a table or an array of tables, got 3$"),
        ({"sweeps": {}}, r"^sweeps: unknown section 'sweeps' \(did you mean 'sweep'\?\); expected one of sweep, params, grid$"),
    ],
)
def test_errors_named_by_path(sections, message):
    with pytest.raises(ValidationError, match=message):
        parse_config(_cfg(**sections))


@pytest.mark.parametrize(
    ("sweep", "message"),
    [
        ({"seed": 1}, r"^sweep\.protocol: missing; name the protocol to run"),
        ({"protocol": "nope"}, r"^unknown protocol 'nope'; known protocols: .*'normal_mean'"),
        ({"protocol": "normal_mean", "replicates": 0}, r"^sweep\.replicates: must be an int >= 1, got 0$"),
        ({"protocol": "normal_mean", "seed": -1}, r"^sweep\.seed: must be an int >= 0, got -1$"),
        ({"protocol": "normal_mean", "batch_size": 0}, r"^sweep\.batch_size: must be an int >= 1, got 0$"),
        ({"protocol": "normal_mean", "sed": 1}, r"^sweep\.sed: unknown key 'sed' \(did you mean 'seed'\?\)"),
        ({"protocol": 3}, r"^sweep\.protocol: must be a string, got 3$"),
    ],
)
def test_sweep_section_errors(sweep, message):
    with pytest.raises(ValidationError, match=message):
        parse_config({"sweep": sweep})


def test_protocol_checks_attributed_to_the_value_path():
    sweep = {"protocol": "test_interval", "seed": 0}
    with pytest.raises(ValidationError, match=r"^grid\.low\[1\]: `low` must be below `high`. Got low=2.0"):
        parse_config({"sweep": sweep, "params": {"k": 3}, "grid": {"low": [0.5, 2.0]}})
    # a combination that is only bad as a whole names the point
    with pytest.raises(ValidationError, match=r"^grid: point 1 \(low=0.5, high=0.4\): `low` must be below"):
        parse_config(
            {"sweep": sweep, "params": {"k": 3}, "grid": {"points": [{"low": 0.1}, {"low": 0.5, "high": 0.4}]}}
        )


def test_shared_values_at_fault_are_blamed_on_params():
    sweep = {"protocol": "test_interval", "seed": 0}
    with pytest.raises(ValidationError, match=r"^params\.low: `low` must be below `high`. Got low=3.0 and high=1.0"):
        parse_config({"sweep": sweep, "params": {"k": 3, "low": 3.0}, "grid": {"k": [1, 2]}})
    # each value fine alone, the pair not: blamed on [params] as a whole
    with pytest.raises(ValidationError, match=r"^params: `low` must be below `high`. Got low=0.7 and high=0.6"):
        parse_config({"sweep": sweep, "params": {"k": 3, "low": 0.7, "high": 0.6}, "grid": {"k": [1, 2]}})


def test_required_param_and_choices():
    sweep = {"protocol": "test_interval"}
    with pytest.raises(ValidationError, match=r"^params: parameter 'k' of protocol 'test_interval' is required"):
        parse_config({"sweep": sweep})
    with pytest.raises(ValidationError, match=r"^params\.k: must be an int in \[1, 10\], got 11$"):
        parse_config({"sweep": sweep, "params": {"k": 11}})
    with pytest.raises(ValidationError, match=r"^grid\.methods\[0\]\[1\]: must be one of 'a', 'b', got 'c'$"):
        parse_config({"sweep": sweep, "params": {"k": 1}, "grid": {"methods": [["a", "c"]]}})
    cfg = parse_config({"sweep": sweep, "params": {"k": 1, "methods": ["b", "a"]}})
    assert cfg.params["methods"] == ("b", "a")
    assert cfg.to_dict()["params"]["methods"] == ["b", "a"]


def test_file_errors_start_with_file_name(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[sweep]\nprotocol = "normal_mean"\n[grid]\nn = [1, 0]\n')
    with pytest.raises(ValidationError, match=r"bad\.toml: grid\.n\[1\]: must be an int >= 1, got 0$"):
        load_config(bad)
    broken = tmp_path / "broken.toml"
    broken.write_text("[sweep\nprotocol=")
    with pytest.raises(ValidationError, match=r"broken\.toml: not valid TOML"):
        load_config(broken)
    with pytest.raises(ValidationError, match=r"cannot read the configuration .*missing\.toml"):
        load_config(tmp_path / "missing.toml")


def test_example_figure4_config():
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "figure4.toml"
    cfg = load_config(path)
    points = cfg.points()
    assert (cfg.protocol, cfg.replicates, cfg.batch_size, len(points)) == ("klgap", 100, 50, 42)
    assert [p.params["K"] for p in points[:14]] == list(range(2, 16))
    assert {(p.params["J"], p.params["L"]) for p in points[:14]} == {(2, 2)}
    assert points[14].params["J"] == 2 and points[27].params["J"] == 15 and points[41].params["L"] == 15
    assert cfg.params["measures"] == ("kl",) and cfg.params["rounds"] == 100
