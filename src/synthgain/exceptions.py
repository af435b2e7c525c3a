"""Exception and warning types raised by synthgain.

Every error raised on bad user input is a :class:`ValidationError`, which is also a
:class:`ValueError`, so ``except ValueError`` keeps working for callers that do not
know about synthgain.
"""

from __future__ import annotations

__all__ = [
    "ConvergenceWarning",
    "DegenerateDataWarning",
    "SynthgainError",
    "TooFewPointsError",
    "ValidationError",
]


class SynthgainError(Exception):
    """Base class of every error synthgain raises on purpose."""


class ValidationError(SynthgainError, ValueError):
    """An argument has a wrong type, shape or value.

    The message names the argument, shows the value received and says how to fix it.
    """


class TooFewPointsError(ValidationError):
    """A sample has fewer rows than the estimator needs (the message says how many).

    Callers that compute many measures may catch it, report the measure as missing and
    record this message as the reason; no other error is expected to be caught.
    """


class ConvergenceWarning(UserWarning):
    """An iterative fit stopped at ``max_iter`` before meeting its tolerance."""


class DegenerateDataWarning(UserWarning):
    """The data cannot support the requested model; a regularised answer is returned."""
