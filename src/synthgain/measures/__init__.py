"""Information measures: entropy, divergences and mutual information, with known error."""

from ._estimate import Estimate

__all__ = ["Estimate"]
