"""Sweep configuration files (TOML): schema, validation and the resolved form.

A configuration names a protocol, a root seed, the number of replicates per point and
the grid::

    [sweep]
    name = "figure4"          # optional; defaults to the file name
    protocol = "klgap"        # a registered protocol
    seed = 2025               # root seed of every task (non-negative int)
    replicates = 100          # settings per grid point
    batch_size = 25           # settings per task (the unit sent to a worker)

    [params]                  # values shared by every point
    d = 2
    K = 2

    [[grid]]                  # each block: the cartesian product of its lists
    K = [2, 3, 4]
    [[grid]]
    points = [{K = 2, J = 5}, {K = 3, J = 7}]   # explicit points

Every key and value is checked before anything runs; an error names its place in the
file, e.g. ``grid.K[2]: must be an int >= 1, got 0``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..exceptions import ValidationError
from .grid import Point, expand_grid
from .protocols import Protocol, get_protocol

__all__ = ["SweepConfig", "load_config", "parse_config"]

_TOP = ("sweep", "params", "grid")
_SWEEP = ("name", "protocol", "seed", "replicates", "batch_size", "description")
DEFAULT_BATCH_SIZE = 25


@dataclass(frozen=True)
class SweepConfig:
    """A validated sweep configuration.

    Attributes
    ----------
    name, protocol, description : str
    seed : int
        Root seed; replicate ``r`` of point ``p`` gets spawn key ``(p, r)`` under it.
    replicates, batch_size : int
    params : dict
        Values shared by every point, protocol defaults filled in.
    grid : list of dict
        The grid blocks, values normalised.
    """

    name: str
    protocol: str
    seed: int
    replicates: int
    batch_size: int
    params: dict[str, Any]
    grid: list[dict[str, Any]]
    description: str = ""
    source: str = field(default="", compare=False)

    def get_protocol(self) -> Protocol:
        """The registered protocol this configuration runs."""
        return get_protocol(self.protocol)

    def points(self) -> list[Point]:
        """The grid points, every parameter resolved."""
        return expand_grid(self.grid, base=self.params)

    def to_dict(self) -> dict[str, Any]:
        """The resolved configuration as plain JSON (what ``config.json`` holds)."""
        return _jsonable(
            {
                "sweep": {
                    "name": self.name,
                    "protocol": self.protocol,
                    "seed": self.seed,
                    "replicates": self.replicates,
                    "batch_size": self.batch_size,
                    "description": self.description,
                },
                "params": self.params,
                "grid": self.grid,
                "points": [
                    {"point": p.index, "block": p.block, "params": p.params}
                    for p in self.points()
                ],
            }
        )

    def digest(self) -> str:
        """SHA-256 of everything that determines the results (not the name)."""
        d = self.to_dict()
        d["sweep"] = {k: v for k, v in d["sweep"].items() if k not in ("name", "description")}
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    return obj


def load_config(path: str | Path) -> SweepConfig:
    """Read and validate a TOML sweep configuration; errors start with the file name."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"cannot read the configuration {str(path)!r}: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"{path}: not valid TOML: {exc}") from None
    try:
        return parse_config(data, default_name=path.stem, source=str(path))
    except ValidationError as exc:
        raise ValidationError(f"{path}: {exc}") from None


def _unknown(key: str, path: str, known: list[str], what: str) -> ValidationError:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ValidationError(
        f"{path}: unknown {what} {key!r}{hint}; expected one of {', '.join(known)}"
    )


def _table(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(f"{path}: must be a table, got {value!r}")
    return value


def _check_int(value: Any, path: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValidationError(f"{path}: must be an int >= {low}, got {value!r}")
    return value


def _parse_sweep(raw: Mapping[str, Any], default_name: str) -> dict[str, Any]:
    for key in raw:
        if key not in _SWEEP:
            raise _unknown(key, f"sweep.{key}", list(_SWEEP), "key")
    if "protocol" not in raw:
        raise ValidationError("sweep.protocol: missing; name the protocol to run, e.g. \"klgap\"")
    for key in ("name", "protocol", "description"):
        if key in raw and not isinstance(raw[key], str):
            raise ValidationError(f"sweep.{key}: must be a string, got {raw[key]!r}")
    replicates = _check_int(raw.get("replicates", 1), "sweep.replicates", 1)
    return {
        "name": raw.get("name", default_name),
        "protocol": raw["protocol"],
        "seed": _check_int(raw.get("seed", 0), "sweep.seed", 0),
        "replicates": replicates,
        "batch_size": _check_int(
            raw.get("batch_size", min(replicates, DEFAULT_BATCH_SIZE)), "sweep.batch_size", 1
        ),
        "description": raw.get("description", ""),
    }


def _check_value(protocol: Protocol, key: str, value: Any, path: str) -> Any:
    if key not in protocol.params:
        raise _unknown(key, path, list(protocol.params), f"parameter of protocol {protocol.name!r},")
    return protocol.params[key].check(value, path)


def _parse_block(protocol: Protocol, raw: Any, path: str) -> tuple[dict[str, Any], dict[str, str]]:
    """A normalised grid block and the file path of each of its values."""
    block: dict[str, Any] = {}
    paths: dict[str, str] = {}
    for key, values in _table(raw, path).items():
        if key == "points":
            if not isinstance(values, list) or not values:
                raise ValidationError(f"{path}.points: must be a non-empty list of tables")
            pts = []
            for i, pt in enumerate(values):
                entry = {}
                for k, v in _table(pt, f"{path}.points[{i}]").items():
                    entry[k] = _check_value(protocol, k, v, f"{path}.points[{i}].{k}")
                    paths[f"points[{i}].{k}"] = f"{path}.points[{i}].{k}"
                pts.append(entry)
            block["points"] = pts
            continue
        seq = values if isinstance(values, list) else [values]
        if not seq:
            raise ValidationError(f"{path}.{key}: must list at least one value, got []")
        ps = [f"{path}.{key}[{i}]" if isinstance(values, list) else f"{path}.{key}" for i in range(len(seq))]
        block[key] = [_check_value(protocol, key, v, p) for v, p in zip(seq, ps, strict=True)]
        paths.update({f"{key}#{i}": p for i, p in enumerate(ps)})
    return block, paths


def _validate_values(
    protocol: Protocol, base: dict[str, Any], blocks: list[dict[str, Any]], paths: list[dict[str, str]]
) -> None:
    """Run the protocol's point check on each grid value alone, naming its path."""
    if protocol.validate is None:
        return
    try:
        protocol.validate(dict(base))
    except ValidationError:
        return  # the base alone is incomplete or inconsistent; whole points are checked next
    for block, bpaths in zip(blocks, paths, strict=True):
        for key, values in block.items():
            if key == "points":
                continue
            for i, v in enumerate(values):
                try:
                    protocol.validate({**base, key: v})
                except ValidationError as exc:
                    raise ValidationError(f"{bpaths[f'{key}#{i}']}: {exc}") from None


def parse_config(
    data: Mapping[str, Any], *, default_name: str = "sweep", source: str = ""
) -> SweepConfig:
    """Validate a configuration given as nested mappings (as read from TOML).

    Raises
    ------
    ValidationError
        Naming the offending key by its path, e.g. ``grid[1].K[2]``.
    """
    data = _table(data, "configuration")
    for key in data:
        if key not in _TOP:
            raise _unknown(key, key, list(_TOP), "section")
    sweep = _parse_sweep(_table(data.get("sweep", {}), "sweep"), default_name)
    protocol = get_protocol(sweep["protocol"])
    params = protocol.defaults()
    given = {
        key: _check_value(protocol, key, value, f"params.{key}")
        for key, value in _table(data.get("params", {}), "params").items()
    }
    _validate_values(protocol, params, [{k: [v] for k, v in given.items()}],
                     [{f"{k}#0": f"params.{k}" for k in given}])  # fmt: skip
    params.update(given)
    raw_grid = data.get("grid", [])
    if isinstance(raw_grid, Mapping):
        raw_blocks, names = [raw_grid], ["grid"]
    elif isinstance(raw_grid, list):
        raw_blocks, names = raw_grid, [f"grid[{i}]" for i in range(len(raw_grid))]
    else:
        raise ValidationError(f"grid: must be a table or an array of tables, got {raw_grid!r}")
    parsed = [_parse_block(protocol, b, n) for b, n in zip(raw_blocks, names, strict=True)]
    blocks = [b for b, _ in parsed]
    _validate_values(protocol, params, blocks, [p for _, p in parsed])
    config = SweepConfig(params=params, grid=blocks, source=source, **sweep)
    for point in config.points():
        where = names[point.block] if raw_blocks else "params"
        missing = [k for k, p in protocol.params.items() if p.required and k not in point.params]
        if missing:
            raise ValidationError(
                f"{where}: parameter {missing[0]!r} of protocol {protocol.name!r} is required; "
                "set it in [params] or in every grid block"
            )
        if protocol.validate is not None:
            _validate_point(protocol.validate, point, params, where)
    return config


def _validate_point(
    validate: Callable[[dict[str, Any]], None], point: Point, base: dict[str, Any], where: str
) -> None:
    """Check a whole point; blame ``[params]`` when the shared values alone are the fault."""
    try:
        validate(dict(point.params))
    except ValidationError as exc:
        try:
            validate(dict(base))
        except ValidationError as base_exc:
            if str(base_exc) == str(exc):
                raise ValidationError(f"params: {exc}") from None
        varied = {k: v for k, v in point.params.items() if base.get(k, object()) != v}
        shown = ", ".join(f"{k}={v!r}" for k, v in varied.items())
        raise ValidationError(f"{where}: point {point.index} ({shown}): {exc}") from None
