"""Argument checks shared by the public API.

Messages follow one pattern: the argument's name, what it must be, the value received
and, where useful, the remedy, e.g. "`n_components` must be an int in [1, inf). Got 0
instead."
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

import numpy as np

from .exceptions import ValidationError

__all__ = [
    "check_array",
    "check_choice",
    "check_int",
    "check_real",
    "validate_params",
]

F = TypeVar("F", bound=Callable[..., Any])


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


# --- constraints declared once (scikit-learn's _param_validation, in small) ------------

#: A constraint: ``check(value, name)`` returns the value (possibly normalised, e.g. a
#: numpy integer as an int) or raises a :class:`ValidationError` naming ``name``.
Constraint = Callable[[Any, str], Any]


def integer(low: int | None = None, high: int | None = None, *,
            none: bool = False) -> Constraint:
    """An int in ``[low, high]`` (or None where ``none``)."""
    def check(value: Any, name: str) -> Any:
        return None if none and value is None else check_int(value, name, low=low,
                                                                  high=high)
    return check


def real(low: float | None = None, high: float | None = None, closed: str = "both"
         ) -> Constraint:
    """A finite real number in the interval."""
    return lambda value, name: check_real(value, name, low=low, high=high, closed=closed)


def one_of(*choices: str) -> Constraint:
    """One of the strings ``choices``."""
    return lambda value, name: check_choice(value, name, choices)


def instance(*types: type, none: bool = False, what: str = "") -> Constraint:
    """An instance of one of ``types`` (or None where ``none``)."""
    def check(value: Any, name: str) -> Any:
        if (none and value is None) or isinstance(value, types):
            return value
        want = what or " or ".join(t.__name__ for t in types) + (" or None" if none else "")
        raise ValidationError(f"`{name}` must be {want}. Got {value!r} of type "
                              f"{type(value).__name__} instead.")
    return check


def workers_count(value: Any, name: str) -> int:
    """Threads: -1 (all cores) or at least 1."""
    w = check_int(value, name, low=-1)
    if w == 0:
        raise ValidationError(f"`{name}` must be -1 (all cores) or at least 1. Got 0 "
                              "instead.")
    return w


def seed_like(value: Any, name: str) -> Any:
    """None, a non-negative int, a SeedSequence or a Generator (returned as given)."""
    from ._rng import seed_sequence

    if not isinstance(value, np.random.Generator):  # checking would advance a Generator
        seed_sequence(value, name=name)
    return value


def callable_or_none(value: Any, name: str) -> Any:
    """A callable, or None."""
    if value is None or callable(value):
        return value
    raise ValidationError(f"`{name}` must be callable or None. Got {value!r} instead.")


def anything(value: Any, name: str) -> Any:
    """Any value: checked by the function itself before any work (say where)."""
    return value


def validate_params(**constraints: Constraint) -> Callable[[F], F]:
    """Declare a constraint for every parameter of a public function, checked before
    it runs.

    Every parameter of the decorated function must have one (a missing one is an error
    when the module is imported, so no parameter goes unchecked); the checked values
    (ints normalised) are passed on. The constraints are kept in the function's
    ``__constraints__``, for the tests that pass a bad value for each.

    Examples
    --------
    >>> from synthgain._validation import integer, one_of, validate_params
    >>> @validate_params(n=integer(1), how=one_of("a", "b"))
    ... def f(n, how="a"):
    ...     return n, how
    >>> f(2)
    (2, 'a')
    >>> f(0)
    Traceback (most recent call last):
    ...
    synthgain.exceptions.ValidationError: `n` must be an int in [1, inf). Got 0 instead.
    """
    def decorate(func: F) -> F:
        sig = inspect.signature(func)
        missing = [p for p in sig.parameters if p not in constraints]
        extra = [p for p in constraints if p not in sig.parameters]
        if missing or extra:
            raise TypeError(f"{func.__qualname__}: constraints missing for {missing}, "
                            f"declared for no parameter: {extra}")

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            for name, value in bound.arguments.items():
                bound.arguments[name] = constraints[name](value, name)
            return func(*bound.args, **bound.kwargs)

        wrapper.__constraints__ = dict(constraints)  # type: ignore[attr-defined]
        return cast(F, wrapper)
    return decorate
