"""Options that apply to each estimator: an option the chosen method does not use is an
error, not silently ignored.

Each public measure declares, per method, the keyword options that method reads
(the decorator :func:`applies`). Before computing, the decorated function resolves
``method="auto"`` from the kind of input (distributions or samples) and rejects every option that was given a
value other than its default and that the method does not read. ``rng`` is accepted by
every method (deterministic ones do not draw).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np

from ..exceptions import ValidationError

F = TypeVar("F", bound=Callable[..., Any])

MONTE_CARLO = frozenset({"n_samples", "target_stderr", "max_samples"})
KNN = frozenset({"k", "ties", "standardize", "n_bootstrap", "algorithm"})
KNN_DIVERGENCE = KNN | {"bias_correction", "n_permutations"}
HISTOGRAM = frozenset({"bins"})
NONE: frozenset[str] = frozenset()


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return bool(np.all(a == b))
    except (TypeError, ValueError):  # an uncomparable value is not the default
        return False


def applies(methods: Mapping[str, frozenset[str]], *, auto_dist: str, auto_sample: str,
            is_dist: Callable[[Any], bool]) -> Callable[[F], F]:
    """Declare the options each method of a measure reads.

    ``methods`` maps a method name to the options it reads; ``"auto"`` resolves to
    ``auto_dist`` when the first argument is a distribution (``is_dist``), else to
    ``auto_sample``. ``auto_dist`` may name several methods joined by ``|`` (auto picks
    among them by the distributions' types): their options are all accepted.
    """

    def wrap(fn: F) -> F:
        sig = inspect.signature(fn)
        defaults = {n: p.default for n, p in sig.parameters.items()
                    if p.kind is inspect.Parameter.KEYWORD_ONLY}

        @functools.wraps(fn)
        def checked(*args: Any, **kwargs: Any) -> Any:
            method = kwargs.get("method", defaults.get("method", "auto"))
            if isinstance(method, str):
                names = [method]
                if method == "auto":
                    first = args[0] if args else None
                    names = (auto_dist if is_dist(first) else auto_sample).split("|")
                if all(n in methods for n in names):
                    used = frozenset().union(*(methods[n] for n in names))
                    where = f" (here {'/'.join(names)})" if method == "auto" else ""
                    for name, value in kwargs.items():
                        if (name in defaults and name not in ("method", "rng")
                                and name not in used and not _same(value, defaults[name])):
                            raise ValidationError(
                                f"`{name}`={value!r} does not apply to {fn.__name__}("
                                f"method={method!r}){where}; it reads only "
                                f"{sorted(used) or 'no options'}. Remove `{name}` or choose "
                                "a method that uses it."
                            )
            return fn(*args, **kwargs)

        return checked  # type: ignore[return-value]

    return wrap
