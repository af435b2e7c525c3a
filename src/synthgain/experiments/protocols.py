"""Protocols: named, batched computations that a sweep runs for every grid point.

A protocol is a callable ``fn(params, seeds, **options) -> rows`` where ``params`` is
a list of per-setting parameter dicts, ``seeds`` the matching list of
:class:`numpy.random.SeedSequence` and ``rows[i]`` the list of result records (flat
dicts of scalars) of setting ``i``. Options are the parameters that are the same for
every setting of one call (for example the number of Monte Carlo rounds); the engine
groups work so that one call never mixes options. Parameters are declared once, with
their type and range, so a sweep configuration is checked before anything runs.

Two protocols are built in:

``"normal_mean"``
    A small exact protocol (the mean and the median of ``n`` normal draws, with their
    standard errors), used to exercise and test the engine.
``"klgap"``
    The KL-gap protocol of the paper's Appendix B
    (:func:`synthgain.experiments.klgap.run_settings`), registered on first use.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..exceptions import ValidationError

__all__ = [
    "Param",
    "Protocol",
    "available_protocols",
    "get_protocol",
    "register_protocol",
]

_KINDS = ("int", "real", "str", "bool", "str_list")
_MISSING: Any = object()


def _describe(kind: str, low: float | None, high: float | None) -> str:
    noun = {"int": "an int", "real": "a real number"}[kind]
    if low is not None and high is not None:
        return f"{noun} in [{low:g}, {high:g}]"
    if low is not None:
        return f"{noun} >= {low:g}"
    if high is not None:
        return f"{noun} <= {high:g}"
    return noun


@dataclass(frozen=True)
class Param:
    """One declared parameter of a protocol.

    Parameters
    ----------
    kind : {"int", "real", "str", "bool", "str_list"}
        Value type. Ints are accepted where reals are expected.
    default : optional
        Value used when neither ``[params]`` nor the grid sets it; without a default
        the parameter is required.
    low, high : float, optional
        Closed bounds for ``"int"`` and ``"real"``.
    choices : tuple of str, optional
        Allowed values for ``"str"`` and the items of ``"str_list"``.
    option : bool
        True for a per-call option (passed as a keyword argument, one value per
        task), False for a per-setting field (an entry of each parameter dict).
    doc : str
        One line shown by ``synthgain sweep --help``-style listings.
    """

    kind: str
    default: Any = _MISSING
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    option: bool = False
    doc: str = ""

    @property
    def required(self) -> bool:
        """Whether the parameter has no default."""
        return self.default is _MISSING

    def check(self, value: Any, path: str) -> Any:
        """Return ``value`` normalised to this parameter's type, or raise naming ``path``."""
        if self.kind in ("int", "real"):
            ok_type = isinstance(value, int | np.integer) or (
                self.kind == "real" and isinstance(value, float | np.floating)
            )
            if isinstance(value, bool) or not ok_type:
                want = _describe(self.kind, self.low, self.high)
                raise ValidationError(f"{path}: must be {want}, got {value!r}")
            v = int(value) if self.kind == "int" else float(value)
            bad = (
                not math.isfinite(v)
                or (self.low is not None and v < self.low)
                or (self.high is not None and v > self.high)
            )
            if bad:
                want = _describe(self.kind, self.low, self.high)
                raise ValidationError(f"{path}: must be {want}, got {value!r}")
            return v
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise ValidationError(f"{path}: must be true or false, got {value!r}")
            return value
        if self.kind == "str":
            return self._check_str(value, path)
        if isinstance(value, str) or not isinstance(value, list | tuple) or not value:
            raise ValidationError(f"{path}: must be a non-empty list of strings, got {value!r}")
        return tuple(self._check_str(v, f"{path}[{i}]") for i, v in enumerate(value))

    def _check_str(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise ValidationError(f"{path}: must be a string, got {value!r}")
        if self.choices is not None and value not in self.choices:
            listed = ", ".join(repr(c) for c in self.choices)
            raise ValidationError(f"{path}: must be one of {listed}, got {value!r}")
        return value


@dataclass(frozen=True)
class Protocol:
    """A named batched computation with declared parameters.

    Attributes
    ----------
    name : str
        Registry key, used in configuration files (``protocol = "..."``).
    fn : callable
        ``fn(params: list[dict], seeds: list[SeedSequence], **options)`` returning
        one list of record dicts per setting.
    params : mapping of str to Param
        Every parameter the protocol accepts.
    validate : callable, optional
        ``validate(point)`` raises :class:`ValidationError` when a complete point
        (all parameters resolved) is inconsistent; checks that single values cannot.
    doc : str
        One line describing the protocol.
    """

    name: str
    fn: Callable[..., list[list[dict[str, Any]]]]
    params: Mapping[str, Param]
    validate: Callable[[dict[str, Any]], None] | None = None
    doc: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    def split(self, point: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Split a resolved point into (per-setting fields, per-call options)."""
        fields = {k: v for k, v in point.items() if not self.params[k].option}
        options = {k: v for k, v in point.items() if self.params[k].option}
        return fields, options

    def defaults(self) -> dict[str, Any]:
        """The parameters that have defaults, with their defaults."""
        return {k: p.default for k, p in self.params.items() if not p.required}


_REGISTRY: dict[str, Protocol] = {}
_LAZY: dict[str, Callable[[], Protocol]] = {}


def register_protocol(protocol: Protocol, *, replace: bool = False) -> Protocol:
    """Add ``protocol`` to the registry under ``protocol.name`` and return it."""
    for name, p in protocol.params.items():
        if p.kind not in _KINDS:
            raise ValidationError(
                f"Parameter {name!r} of protocol {protocol.name!r} has kind {p.kind!r}; "
                f"use one of {', '.join(_KINDS)}."
            )
    if protocol.name in _REGISTRY and not replace:
        raise ValidationError(
            f"A protocol named {protocol.name!r} is already registered; pass replace=True "
            "to override it."
        )
    _REGISTRY[protocol.name] = protocol
    return protocol


def available_protocols() -> list[str]:
    """Names of the registered protocols (including those registered on first use)."""
    return sorted(set(_REGISTRY) | set(_LAZY))


def get_protocol(name: str) -> Protocol:
    """The protocol registered as ``name``; raise listing the known ones otherwise."""
    if name not in _REGISTRY and name in _LAZY:
        register_protocol(_LAZY[name]())
    if name not in _REGISTRY:
        listed = ", ".join(repr(n) for n in available_protocols())
        raise ValidationError(f"unknown protocol {name!r}; known protocols: {listed}")
    return _REGISTRY[name]


# --------------------------------------------------------------------------------------
# "normal_mean": a small exact protocol.


def _normal_mean(
    params: list[dict[str, Any]],
    seeds: list[np.random.SeedSequence],
) -> list[list[dict[str, Any]]]:
    """Mean and median of ``n`` draws of N(mu, sigma^2), with standard errors.

    The sample mean has standard error ``sigma / sqrt(n)``; the sample median's
    asymptotic standard error is ``sigma * sqrt(pi / (2 n))``.
    """
    out = []
    for p, seed in zip(params, seeds, strict=True):
        x = np.random.default_rng(seed).normal(p["mu"], p["sigma"], size=p["n"])
        n, sigma = p["n"], p["sigma"]
        out.append(
            [
                {"estimator": "mean", "value": float(x.mean()), "stderr": sigma / math.sqrt(n)},
                {
                    "estimator": "median",
                    "value": float(np.median(x)),
                    "stderr": sigma * math.sqrt(math.pi / (2 * n)),
                },
            ]
        )
    return out


register_protocol(
    Protocol(
        name="normal_mean",
        fn=_normal_mean,
        params={
            "mu": Param("real", 0.0, doc="mean of the normal distribution"),
            "sigma": Param("real", 1.0, low=1e-300, doc="standard deviation"),
            "n": Param("int", 100, low=1, doc="draws per setting"),
        },
        doc="mean and median of normal draws (exact; exercises the engine)",
    )
)


# --------------------------------------------------------------------------------------
# "klgap": the KL-gap protocol of Appendix B, registered on first use.

_KLGAP_OPTIONS = {
    "estimators": Param("str_list", ("monte_carlo",), option=True, doc="KL-gap estimators"),
    "rounds": Param("int", 100, low=2, option=True, doc="re-sampling rounds per setting"),
    "n_eval": Param("int", 1000, low=1, option=True, doc="points per mixture per round"),
    "measures": Param("str_list", None, option=True, doc="divergences (default: all supported)"),
}


def _klgap(
    params: list[dict[str, Any]], seeds: list[np.random.SeedSequence], **options: Any
) -> list[list[dict[str, Any]]]:
    """:func:`synthgain.experiments.klgap.run_settings` on ``Setup(**p)`` for each ``p``.

    ``run_settings`` returns one flat list in the order of the setups, the same number
    of rows for each (one per estimator and measure); it is cut back into one list
    per setting. The ``param_*`` and ``seed`` entries are dropped: the engine records
    the point's parameters and the replicate's seed itself.
    """
    from ..process import Setup
    from .klgap import run_settings

    opts = {k: v for k, v in options.items() if v is not None}
    rows = run_settings([Setup(**p) for p in params], seeds, **opts)
    if len(rows) % len(params):
        raise ValidationError(
            f"run_settings returned {len(rows)} rows for {len(params)} settings; expected "
            "the same number of rows for each setting"
        )
    per = len(rows) // len(params)
    keep = [
        {k: v for k, v in row.items() if not k.startswith("param_") and k != "seed"}
        for row in rows
    ]
    return [keep[i * per : (i + 1) * per] for i in range(len(params))]


def _klgap_validate(point: dict[str, Any]) -> None:
    from ..process import Setup
    from .klgap import run_settings

    fields, options = get_protocol("klgap").split(point)
    Setup(**fields)
    run_settings([], [], **{k: v for k, v in options.items() if v is not None})


def _klgap_protocol() -> Protocol:
    import dataclasses
    import typing

    from ..process import Setup
    from .klgap import ESTIMATORS, MEASURES

    hints = typing.get_type_hints(Setup)
    kinds = {int: "int", float: "real", str: "str", bool: "bool"}
    params = {
        f.name: Param(kinds[hints[f.name]], f.default, doc=f"Setup field {f.name}")
        for f in dataclasses.fields(Setup)
        if f.name != "seed" and hints[f.name] in kinds
    }
    options = dict(_KLGAP_OPTIONS)
    # the estimator options (bins, pseudocount, ...) and their types, from klgap itself;
    # None means "run_settings' default", and run_settings checks their ranges
    from . import klgap

    for name, default in getattr(klgap, "_DEFAULTS", {}).items():
        kind = "int" if isinstance(default, int) else "real"
        options[name] = Param(kind, None, option=True, doc=f"estimator option (default {default})")
    options["estimators"] = dataclasses.replace(options["estimators"], choices=tuple(ESTIMATORS))
    options["measures"] = dataclasses.replace(options["measures"], choices=tuple(MEASURES))
    return Protocol(
        "klgap", _klgap, {**params, **options}, validate=_klgap_validate,
        doc="KL Gap of the Gaussian-mixture simulation (Gan & Liu 2025, Appendix B)",
    )  # fmt: skip


_LAZY["klgap"] = _klgap_protocol
