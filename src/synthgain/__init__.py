"""synthgain: measure what synthetic data adds to a model's training.

The reverse-bottleneck framework of Gan & Liu (ICLR 2025) as a library: the paper's
generation process and KL-gap protocol, information measures with known error, the
theory's quantities computed, and audits of real synthetic datasets.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("synthgain")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = ["__version__"]
