"""Argument checks shared by the public API.

Messages follow one pattern: the argument's name, what it must be, the value received
and, where useful, the remedy, e.g. "`n_components` must be an int in [1, inf). Got 0
instead."
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .exceptions import ValidationError

__all__ = [
    "check_array",
    "check_choice",
    "check_int",
    "check_real",
]


def _interval(low: float | None, high: float | None, closed: str) -> str:
    left = "[" if closed in ("both", "left") else "("
    right = "]" if closed in ("both", "right") else ")"
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    if low is None:
        left = "("
    if high is None:
        right = ")"
    return f"{left}{lo}, {hi}{right}"


def _in_interval(v: float, low: float | None, high: float | None, closed: str) -> bool:
    if low is not None and (v < low or (v == low and closed in ("neither", "right"))):
        return False
    return not (high is not None and (v > high or (v == high and closed in ("neither", "left"))))


def check_int(
    value: Any,
    name: str,
    *,
    low: int | None = None,
    high: int | None = None,
    closed: str = "both",
) -> int:
    """Return ``value`` as an int, or raise if it is not an integer inside the interval."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValidationError(
            f"`{name}` must be an int in {_interval(low, high, closed)}. "
            f"Got {value!r} of type {type(value).__name__} instead."
        )
    if not _in_interval(int(value), low, high, closed):
        raise ValidationError(
            f"`{name}` must be an int in {_interval(low, high, closed)}. Got {value} instead."
        )
    return int(value)


def check_real(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    closed: str = "both",
) -> float:
    """Return ``value`` as a finite float inside the interval, or raise."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValidationError(
            f"`{name}` must be a real number in {_interval(low, high, closed)}. "
            f"Got {value!r} of type {type(value).__name__} instead."
        )
    v = float(value)
    if not math.isfinite(v) or not _in_interval(v, low, high, closed):
        raise ValidationError(
            f"`{name}` must be a finite real number in {_interval(low, high, closed)}. "
            f"Got {value} instead."
        )
    return v


def check_choice(value: Any, name: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``, or raise listing them."""
    options = list(choices)
    if not isinstance(value, str) or value not in options:
        listed = ", ".join(repr(c) for c in options)
        raise ValidationError(f"`{name}` must be one of {listed}. Got {value!r} instead.")
    return value


def check_array(
    x: Any,
    name: str,
    *,
    ndim: int | tuple[int, ...] | None = None,
    min_rows: int = 0,
    dim: int | None = None,
    finite: bool = True,
    dtype: Any = np.float64,
) -> np.ndarray:
    """Convert ``x`` to a float array and check its shape and values.

    Parameters
    ----------
    ndim : int or tuple of int, optional
        Allowed numbers of dimensions.
    min_rows : int
        Smallest allowed length of the first axis.
    dim : int, optional
        Required size of the last axis.
    finite : bool
        Reject NaN and infinite entries, naming the first offending row.
    """
    try:
        arr = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"`{name}` must be an array of numbers. Could not convert it: {exc}."
        ) from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{n}-D" for n in allowed)
            hint = ""
            if arr.ndim == 1 and 2 in allowed:
                hint = " Reshape a single feature with x.reshape(-1, 1) or one point with x.reshape(1, -1)."
            raise ValidationError(
                f"`{name}` must be a {want} array. Got an array of shape {arr.shape} instead.{hint}"
            )
    if arr.ndim >= 1 and arr.shape[0] < min_rows:
        raise ValidationError(
            f"`{name}` must have at least {min_rows} rows. Got {arr.shape[0]} instead."
        )
    if dim is not None and (arr.ndim == 0 or arr.shape[-1] != dim):
        raise ValidationError(
            f"`{name}` must have {dim} columns (the dimension of the model). "
            f"Got an array of shape {arr.shape} instead."
        )
    if finite and arr.size and not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValidationError(
            f"`{name}` must contain only finite values. Found {arr[tuple(bad)]} at index "
            f"{tuple(int(i) for i in bad)}; drop or impute such rows first."
        )
    return arr
