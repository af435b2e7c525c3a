"""LoRA fine-tuning of the packaged model as a text classifier, scored by the likelihood
of each class name: the check of the study's probe against the model itself.

A row ``(text, label)`` becomes the prompt ``template.format(text=text)`` followed by
the label's *class name* (``names[label]``) after one space. Each class name must be one
token of the model's vocabulary after that space (the five TREC names ``description``,
``entity``, ``human``, ``location``, ``number`` are), so the likelihood of a class name
is exactly the model's next-token probability of that token after the prompt: one forward
pass per test text scores every class.

Fine-tuning (``peft``'s LoRA on the attention projections ``q_proj`` and ``v_proj`` of the
last ``blocks`` transformer blocks, every base weight frozen) runs a fixed budget of
optimiser steps whatever the training set's size, each on a batch drawn in a seeded
order that visits every row once per epoch: datasets are compared at equal compute, so
what differs is what their rows teach. The loss is the cross-entropy of the class-name
token over the whole vocabulary.

Because the blocks below the adapted ones are frozen, their output for a given text is
the same in every fine-tune: it is computed once per text (the hidden state that enters
block ``L - blocks``, kept in memory for the process) and each fine-tune and each scoring
runs only the adapted blocks, the final norm and the head (of the last position). A copy
of those top blocks carries the adapters, so the shared model of :func:`load_model` is
never changed. The tests check that this split forward equals the full model's.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._rng import child_generator, seed_sequence
from .._validation import check_int, check_real
from ..exceptions import ValidationError
from ._runtime import (
    SETUP_HINT,
    load_model,
    model_fingerprint,
    model_path,
    quiet_libraries,
    torch_threads,
)
from ._score import _batches, _pad, load_array, store_array

__all__ = ["LoraSpec", "choice_tokens", "finetune_class_loglik"]

_CACHE_VERSION = 1
#: tokens of a text kept in a prompt (longer texts are cut on the right)
MAX_TEXT_TOKENS = 128


@dataclass(frozen=True)
class LoraSpec:
    """Settings of one LoRA fine-tune.

    Parameters
    ----------
    rank, alpha : LoRA's rank and scale (``alpha / rank`` multiplies the update).
    targets : the linear layers adapted in every block (``q_proj``, ``v_proj``: the
        original LoRA's choice).
    steps : optimiser steps (the budget, the same for every training set).
    batch_size : rows per step.
    learning_rate : AdamW's learning rate (no weight decay, constant).
    seed : seeds the adapters' initialisation and the order of the rows.
    template : the prompt, with ``{text}`` where the row's text goes.
    blocks : the last blocks adapted (at most the model's 30); the blocks below are
        frozen and run once per text.
    """

    rank: int = 8
    alpha: int = 16
    targets: tuple[str, ...] = ("q_proj", "v_proj")
    steps: int = 100
    batch_size: int = 8
    learning_rate: float = 1e-3
    seed: int = 0
    template: str = "Question: {text}\nAnswer type:"
    blocks: int = 4

    def __post_init__(self) -> None:
        check_int(self.blocks, "blocks", low=1)
        check_int(self.rank, "rank", low=1)
        check_int(self.alpha, "alpha", low=1)
        check_int(self.steps, "steps", low=0)
        check_int(self.batch_size, "batch_size", low=1)
        check_real(self.learning_rate, "learning_rate", low=0.0, closed="right")
        check_int(self.seed, "seed", low=0)
        if not self.targets or not all(isinstance(t, str) and t for t in self.targets):
            raise ValidationError(f"`targets` must name at least one linear layer (e.g. "
                                  f"('q_proj', 'v_proj')). Got {self.targets!r}.")
        if "{text}" not in self.template:
            raise ValidationError(f"`template` must contain '{{text}}' where the row's text "
                                  f"goes. Got {self.template!r}.")


def choice_tokens(tok: Any, names: Sequence[str]) -> list[int]:
    """The one token of each class name after a space; a ValidationError naming every
    name that is not one token."""
    ids = [tok(" " + n, add_special_tokens=False).input_ids for n in names]
    bad = [f"{n!r} ({len(i)} tokens)" for n, i in zip(names, ids, strict=True) if len(i) != 1]
    if bad:
        raise ValidationError(f"`names` must be class names that are one token each after a "
                              f"space, so that a name's likelihood is one next-token "
                              f"probability. Not one token: {', '.join(bad)}. Choose "
                              f"single-word names (e.g. 'number' rather than 'numeric "
                              f"value').")
    if len({i[0] for i in ids}) != len(ids):
        raise ValidationError(f"`names` must be distinct tokens. Got {list(names)!r}.")
    return [i[0] for i in ids]


def _prompts(tok: Any, template: str, texts: Sequence[str]) -> list[list[int]]:
    out = []
    for t in texts:
        body = tok.decode(tok(str(t), add_special_tokens=False).input_ids[:MAX_TEXT_TOKENS])
        out.append(list(tok(template.format(text=body), add_special_tokens=False).input_ids))
    return out


#: hidden states entering the first adapted block, per (model, block, token ids)
_HIDDEN: dict[tuple[str, int, tuple[int, ...]], np.ndarray] = {}
#: rows kept in _HIDDEN before it is emptied (about 45 kB per row of 20 tokens: 0.9 GB)
_HIDDEN_MAX = 20_000


def _hidden(model: Any, fp: str, start: int, enc: list[list[int]], pad_id: int,
            batch_size: int) -> list[np.ndarray]:
    """Each row's hidden states entering block ``start`` (``(tokens, width)``), computed
    with the frozen model once per row and kept for later calls."""
    import torch

    keys = [(fp, start, tuple(e)) for e in enc]
    todo = sorted({i for i, k in enumerate(keys) if k not in _HIDDEN}, key=lambda i: len(enc[i]))
    if len(_HIDDEN) + len(todo) > _HIDDEN_MAX:
        _HIDDEN.clear()
        todo = sorted(range(len(enc)), key=lambda i: len(enc[i]))
    with torch.inference_mode():
        for at in range(0, len(todo), batch_size):
            rows = todo[at : at + batch_size]
            ids, mask, _ = _pad([(enc[i], len(enc[i])) for i in rows], pad_id, model.device)
            hs = model.model(input_ids=ids, attention_mask=mask,
                             output_hidden_states=True).hidden_states[start]
            for j, i in enumerate(rows):
                _HIDDEN[keys[i]] = hs[j, : len(enc[i])].float().cpu().numpy()
    return [_HIDDEN[k] for k in keys]


def _top(base: Any, start: int) -> Any:
    """A copy of ``base`` whose blocks are ``base``'s from ``start`` on (the embedding,
    norm and head copied too; the blocks below are not)."""
    layers = base.model.layers
    try:
        base.model.layers = layers[start:]
        return copy.deepcopy(base)
    finally:
        base.model.layers = layers


def _last_logprobs(top: Any, hidden: list[np.ndarray]) -> Any:
    """Log-probabilities over the vocabulary of the token after each row, from the
    hidden states entering ``top``'s blocks (right-padded: a causal model's real tokens
    never see the padding after them)."""
    import torch

    width = max(h.shape[0] for h in hidden)
    x = torch.zeros((len(hidden), width, hidden[0].shape[1]), dtype=torch.float32)
    mask = torch.zeros((len(hidden), width), dtype=torch.long)
    for i, h in enumerate(hidden):
        x[i, : h.shape[0]] = torch.from_numpy(h)
        mask[i, : h.shape[0]] = 1
    x, mask = x.to(top.device), mask.to(top.device)
    out = top.model(inputs_embeds=x, attention_mask=mask).last_hidden_state
    last = mask.sum(dim=1) - 1
    logits = top.lm_head(out[torch.arange(len(hidden), device=x.device), last])
    return torch.log_softmax(logits.float(), dim=-1)


def _score(top: Any, hidden: list[np.ndarray], choice: list[int], batch_size: int
           ) -> np.ndarray:
    import torch

    out = np.empty((len(hidden), len(choice)))
    with torch.inference_mode():
        for rows in _batches([h.shape[0] for h in hidden], batch_size):
            lp = _last_logprobs(top, [hidden[i] for i in rows])
            out[rows] = lp[:, choice].cpu().numpy()
    return out


def _train(top: Any, hidden: list[np.ndarray], target: list[int], spec: LoraSpec,
           progress: Callable[[int, int], None] | None) -> Any:
    """``top`` with LoRA adapters trained on the rows (changed in place; returned)."""
    import torch
    from peft import LoraConfig, get_peft_model

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(spec.seed)
        peft = get_peft_model(top, LoraConfig(r=spec.rank, lora_alpha=spec.alpha,
                                              lora_dropout=0.0, bias="none",
                                              target_modules=list(spec.targets)))
    inner = peft.get_base_model()
    params = [p for p in peft.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=spec.learning_rate, weight_decay=0.0)
    gen = child_generator(seed_sequence(spec.seed), "order")
    order: list[int] = []
    goal = torch.tensor(target, dtype=torch.long)
    peft.train()
    for step in range(spec.steps):
        while len(order) < spec.batch_size:
            order += gen.permutation(len(hidden)).tolist()
        rows, order = order[: spec.batch_size], order[spec.batch_size :]
        lp = _last_logprobs(inner, [hidden[i] for i in rows])
        loss = torch.nn.functional.nll_loss(lp, goal[rows].to(lp.device))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if progress is not None:
            progress(step + 1, spec.steps)
    peft.eval()
    return inner


def finetune_class_loglik(
    texts: Sequence[str],
    labels: Sequence[Any],
    test_texts: Sequence[str],
    names: Mapping[Any, str],
    *,
    spec: LoraSpec = LoraSpec(),
    batch_size: int = 32,
    threads: int = 1,
    cache_dir: str | Path | None = None,
    path: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Fine-tune the model with LoRA on ``(text, names[label])`` pairs and return the
    log-likelihood of each class name on every test text.

    Parameters
    ----------
    texts, labels : sequences
        The training rows (no rows: the model is scored without fine-tuning).
    test_texts : sequence of str
        The texts scored.
    names : mapping
        Each label's class name, one token after a space; the columns of the result
        follow the mapping's order.
    spec : LoraSpec
        The fine-tune's settings.
    batch_size : int
        Test texts per forward pass.
    threads : int
        torch threads on the CPU.
    cache_dir : path, optional
        The result is stored under ``cache_dir/lora`` by (model fingerprint, settings,
        training rows, test texts, names) and read back by a later call with the same
        inputs; None keeps nothing.
    path : path, optional
        A GGUF file (default: the packaged SmolLM2-135M-Instruct).
    progress : callable, optional
        ``progress(step, steps)`` after each optimiser step.

    Returns
    -------
    ndarray of shape (len(test_texts), len(names))
    """
    texts, test_texts = [str(t) for t in texts], [str(t) for t in test_texts]
    labels = list(labels)
    if len(labels) != len(texts):
        raise ValidationError(f"`labels` must have one entry per text ({len(texts)}). Got "
                              f"{len(labels)}.")
    classes = list(names)
    unknown = sorted({str(lab) for lab in labels if lab not in names})
    if unknown:
        raise ValidationError(f"`labels` holds classes without a name in `names`: "
                              f"{unknown[:5]}. Give every label a class name.")
    threads = check_int(threads, "threads", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    try:
        import peft  # noqa: F401
    except ImportError:
        raise ValidationError(f"LoRA fine-tuning needs peft: {SETUP_HINT}.") from None
    fp = model_fingerprint(path if path is not None else model_path())
    doc = json.dumps({"v": _CACHE_VERSION, "model": fp, "spec": asdict(spec),
                      "train": [texts, [str(v) for v in labels]], "test": test_texts,
                      "names": [[str(k), names[k]] for k in classes],
                      "max": MAX_TEXT_TOKENS}, sort_keys=True)
    key = hashlib.sha256(doc.encode("utf-8")).hexdigest()
    where = None if cache_dir is None else Path(cache_dir) / "lora" / f"{key}.npy"
    hit = None if where is None else load_array(where, (len(test_texts), len(classes)))
    if hit is not None:
        return hit
    base, tok = load_model(path, threads=threads)
    n_layers = len(base.model.layers)
    if spec.blocks > n_layers:
        raise ValidationError(f"`blocks` must be at most the model's {n_layers} blocks. Got "
                              f"{spec.blocks}.")
    start = n_layers - spec.blocks
    with quiet_libraries(), torch_threads(threads):
        choice = choice_tokens(tok, [names[k] for k in classes])
        pad = int(tok.pad_token_id)
        slot = {k: i for i, k in enumerate(classes)}
        top = _top(base, start)
        if texts and spec.steps:
            top = _train(top, _hidden(base, fp, start, _prompts(tok, spec.template, texts),
                                      pad, batch_size),
                         [choice[slot[lab]] for lab in labels], spec, progress)
        test = _hidden(base, fp, start, _prompts(tok, spec.template, test_texts), pad,
                       batch_size)
        out = _score(top, test, choice, batch_size)
    if where is not None:
        store_array(where, out)
    return out
