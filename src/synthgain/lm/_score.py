"""Per-row quantities of the language model: token losses, IFD and gradient sketches.

For a row with response ``r`` and (optionally) prompt ``p``:

- ``loss``: the mean negative log-likelihood (nats per token) of ``r``'s tokens given
  the chat template's prompt turn (``p`` as the user turn, then the assistant header);
  without a prompt, given the assistant header alone;
- ``loss_alone``: the same loss given the assistant header alone (no system or user
  turn): the response's own difficulty;
- ``ifd`` = ``loss / loss_alone`` (Instruction-Following Difficulty, Li et al. 2024): how
  much the prompt helps predict the response (below 1: it helps); defined only where
  there is a prompt (NaN otherwise);
- ``sketch``: the gradient of ``loss`` with respect to the weights of the linear layers of
  the last ``blocks`` transformer blocks, projected to ``dim`` numbers and unit-normalised.

The sketch never forms a per-row gradient. A linear layer ``y = W x`` has, for one row,
``dL/dW = sum_t g_t x_t^T`` over the row's tokens (``g_t = dL/dy_t``). Each layer ``l``
is projected by two seeded Rademacher matrices ``P_l`` (``k x out``) and ``Q_l``
(``k x in``): ``P_l (dL/dW_l) Q_l^T = sum_t (P_l g_t)(Q_l x_t)^T``, a ``k x k`` matrix
computed from the activations and output gradients of one batched backward pass (the
factored projection of LoGra, Choe et al. 2024). The layers' ``k x k`` blocks are
concatenated and projected to ``dim`` by a third seeded Rademacher matrix ``R``. So the
sketch is ``normalise(R . blockdiag(P_l (x) Q_l) . vec(grad))``: a linear random
projection of the full restricted gradient (a dense ``dim x 7.1 M`` matrix would hold
29 GB), and :func:`project_gradient` applies the same map to a gradient from plain
autograd, which the tests compare.

Rows are processed in batches of similar length, padded on the right (a causal model's
real tokens never see the padding, so each row's loss and gradient are its own), and
cached per (model fingerprint, quantity settings, prompt, response) in ``cache_dir``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._rng import child_generator, seed_sequence
from .._validation import check_int
from ..exceptions import ValidationError
from ..experiments.provenance import write_bytes_atomic
from ._runtime import load_model, model_fingerprint, model_path, quiet_libraries, torch_threads

__all__ = ["Scores", "SketchSpec", "project_gradient", "restricted_gradient", "score_texts"]

_CACHE_VERSION = 1
#: rows computed, then stored, at a time
_CHUNK = 256
#: tokens of a response scored (longer responses are truncated on the right)
MAX_RESPONSE_TOKENS = 256
#: tokens of a prompt kept (longer prompts keep their last ones, nearest the response)
MAX_PROMPT_TOKENS = 512
_LINEAR = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")


@dataclass(frozen=True)
class SketchSpec:
    """Which gradient is sketched, and how.

    Attributes
    ----------
    dim : int
        Numbers per sketch (default 1024).
    blocks : int
        The linear layers (attention q, k, v, o and MLP gate, up, down) of the last
        ``blocks`` transformer blocks: 2 blocks of SmolLM2-135M are 7.1 M weights.
    factor : int
        ``k`` of each layer's ``k x k`` factored projection.
    seed : int
        Seed of every Rademacher matrix.
    """

    dim: int = 1024
    blocks: int = 2
    factor: int = 16
    seed: int = 0

    def __post_init__(self) -> None:
        for name, low in (("dim", 1), ("blocks", 1), ("factor", 1), ("seed", 0)):
            check_int(getattr(self, name), name, low=low)


@dataclass(frozen=True)
class Scores:
    """Per-row quantities, row for row with the texts scored (see the module docstring).

    Attributes
    ----------
    loss, loss_alone, ifd : ndarray of shape (n,)
    tokens : ndarray of shape (n,)
        Response tokens scored.
    sketch : ndarray of shape (n, dim) or None
    """

    loss: np.ndarray
    loss_alone: np.ndarray
    ifd: np.ndarray
    tokens: np.ndarray
    sketch: np.ndarray | None


def _rademacher(spec: SketchSpec, *key: int | str, shape: tuple[int, int]) -> np.ndarray:
    gen = child_generator(seed_sequence(spec.seed), "lm_sketch", *key)
    return (gen.integers(0, 2, size=shape, dtype=np.int8) * 2 - 1).astype(np.float32)


class _Projection:
    """The seeded matrices of one :class:`SketchSpec` on one model."""

    def __init__(self, model: Any, spec: SketchSpec) -> None:
        import torch

        layers = model.model.layers
        if spec.blocks > len(layers):
            raise ValidationError(f"`blocks` must be at most {len(layers)} (the model's "
                                  f"transformer blocks). Got {spec.blocks} instead.")
        first = len(layers) - spec.blocks
        self.names = [f"model.layers.{i}.{lin}" for i in range(first, len(layers))
                      for lin in _LINEAR]
        mods = dict(model.named_modules())
        self.modules = [mods[n] for n in self.names]
        dev, k = model.device, spec.factor
        self.p = [torch.from_numpy(_rademacher(spec, n, "out", shape=(k, m.out_features))
                                   ).to(dev) for n, m in zip(self.names, self.modules,
                                                             strict=True)]
        self.q = [torch.from_numpy(_rademacher(spec, n, "in", shape=(k, m.in_features))
                                   ).to(dev) for n, m in zip(self.names, self.modules,
                                                             strict=True)]
        self.r = torch.from_numpy(_rademacher(spec, "mix", shape=(
            spec.dim, len(self.names) * k * k))).to(dev)

    def finish(self, blocks: list[Any]) -> np.ndarray:
        """Concatenated ``k x k`` blocks -> unit sketches (rows)."""
        import torch

        z = torch.cat([b.reshape(b.shape[0], -1) for b in blocks], dim=1) @ self.r.T
        z = z / torch.linalg.vector_norm(z, dim=1, keepdim=True).clamp_min(1e-30)
        return z.detach().cpu().numpy().astype(np.float64)


def _encode(tok: Any, prompts: Sequence[str | None], responses: Sequence[str],
            alone: bool) -> list[tuple[list[int], int]]:
    """(token ids, first response position) of every row."""
    probe = [{"role": "user", "content": "x"}]
    header = tok.apply_chat_template(probe, tokenize=False, add_generation_prompt=True)[
        len(tok.apply_chat_template(probe, tokenize=False, add_generation_prompt=False)):]
    head_ids = tok(header, add_special_tokens=False).input_ids
    out = []
    for p, r in zip(prompts, responses, strict=True):
        if p is None or alone:
            pre = head_ids
        else:
            pre = tok(tok.apply_chat_template([{"role": "user", "content": p}],
                                              tokenize=False, add_generation_prompt=True),
                      add_special_tokens=False).input_ids[-MAX_PROMPT_TOKENS:]
        ids = tok(r, add_special_tokens=False).input_ids[:MAX_RESPONSE_TOKENS]
        out.append((list(pre) + list(ids), len(pre)))
    return out


def _batches(lengths: Sequence[int], size: int) -> list[np.ndarray]:
    order = np.argsort(np.asarray(lengths), kind="stable")
    return [order[i : i + size] for i in range(0, len(order), size)]


def _pad(rows: list[tuple[list[int], int]], pad_id: int, dev: Any) -> tuple[Any, Any, Any]:
    import torch

    width = max(len(ids) for ids, _ in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    target = torch.zeros((len(rows), width), dtype=torch.bool)
    for i, (row, start) in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
        mask[i, : len(row)] = 1
        target[i, start : len(row)] = True
    return ids.to(dev), mask.to(dev), target.to(dev)


def _row_losses(model: Any, ids: Any, mask: Any, target: Any) -> tuple[Any, Any]:
    """Mean NLL per row over its target tokens (a tensor with grad where the model has
    it) and the token counts; the head runs on the predicting positions only."""
    import torch

    hidden = model.model(input_ids=ids, attention_mask=mask).last_hidden_state
    pred = target[:, 1:]  # position t predicts token t + 1
    rows, pos = torch.nonzero(pred, as_tuple=True)
    logits = model.lm_head(hidden[rows, pos])
    nll = torch.nn.functional.cross_entropy(logits.float(), ids[rows, pos + 1],
                                            reduction="none")
    count = torch.zeros(ids.shape[0], device=ids.device).index_add_(
        0, rows, torch.ones_like(nll))
    total = torch.zeros(ids.shape[0], device=ids.device).index_add_(0, rows, nll)
    return total / count.clamp_min(1.0), count


def _loss_batch(model: Any, rows: list[tuple[list[int], int]], pad_id: int
                ) -> tuple[np.ndarray, np.ndarray]:
    import torch

    with torch.inference_mode():
        loss, count = _row_losses(model, *_pad(rows, pad_id, model.device))
    return loss.cpu().numpy().astype(np.float64), count.cpu().numpy()


def _sketch_batch(model: Any, proj: _Projection, rows: list[tuple[list[int], int]],
                  pad_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Losses, token counts and sketches of one batch: one forward and one backward."""
    import torch

    inputs: list[Any] = []
    outputs: list[Any] = []

    def hook(_m: Any, args: tuple[Any, ...], out: Any) -> None:
        inputs.append(args[0].detach())
        outputs.append(out)

    handles = [m.register_forward_hook(hook) for m in proj.modules]
    try:
        loss, count = _row_losses(model, *_pad(rows, pad_id, model.device))
    finally:
        for h in handles:
            h.remove()
    grads = torch.autograd.grad(loss.sum(), outputs)
    blocks = [torch.einsum("bto,bti->boi", g @ p.T, x @ q.T)
              for x, g, p, q in zip(inputs, grads, proj.p, proj.q, strict=True)]
    return (loss.detach().cpu().numpy().astype(np.float64), count.cpu().numpy(),
            proj.finish(blocks))


class _Grad:
    """Gradients flow into the restricted layers' weights only, while inside."""

    def __init__(self, model: Any, modules: list[Any]) -> None:
        self.model, self.modules = model, modules

    def __enter__(self) -> None:
        self.saved = [p.requires_grad for p in self.model.parameters()]
        for p in self.model.parameters():
            p.requires_grad_(False)
        for m in self.modules:
            m.weight.requires_grad_(True)

    def __exit__(self, *exc: Any) -> None:
        for p, s in zip(self.model.parameters(), self.saved, strict=True):
            p.requires_grad_(s)


def _key(fp: str, spec: SketchSpec | None, prompt: str | None, response: str) -> str:
    doc = json.dumps({"v": _CACHE_VERSION, "model": fp, "sketch": None if spec is None else
                      asdict(spec), "prompt": prompt, "response": response,
                      "max": [MAX_PROMPT_TOKENS, MAX_RESPONSE_TOKENS]}, sort_keys=True)
    return hashlib.sha256(doc.encode("utf-8")).hexdigest()


def score_texts(
    responses: Sequence[str],
    prompts: Sequence[str | None] | None = None,
    *,
    sketch: SketchSpec | None = SketchSpec(),
    batch_size: int = 16,
    threads: int = 1,
    cache_dir: str | Path | None = None,
    path: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Scores:
    """Loss, IFD and gradient sketch of every (prompt, response) row.

    Parameters
    ----------
    responses : sequence of str
        The texts scored.
    prompts : sequence of str or None, optional
        Each row's prompt (None: the row has none; ``ifd`` is then NaN).
    sketch : SketchSpec or None
        The gradient sketch's settings; None computes the losses only.
    batch_size : int
        Rows per forward (and backward) pass; rows are batched by length.
    threads : int
        torch threads on the CPU.
    cache_dir : path, optional
        Per-row results, one file per (model, settings, prompt, response), reused by
        later calls; None keeps nothing.
    path : path, optional
        A GGUF file (default: the packaged SmolLM2-135M-Instruct).
    progress : callable, optional
        ``progress(done, total)`` after each batch of rows not found in the cache. Those
        rows are computed 256 at a time and each chunk is stored when done, so a killed
        call resumes where it stopped.

    Returns
    -------
    Scores
    """
    n = len(responses)
    prom: list[str | None] = [None] * n if prompts is None else list(prompts)
    if len(prom) != n:
        raise ValidationError(f"`prompts` must have one entry per response ({n}). Got "
                              f"{len(prom)}.")
    batch_size = check_int(batch_size, "batch_size", low=1)
    threads = check_int(threads, "threads", low=1)
    fp = model_fingerprint(path if path is not None else model_path())
    width = 3 + (0 if sketch is None else sketch.dim)
    out = np.full((n, width), np.nan)
    keys = [_key(fp, sketch, p, str(r)) for p, r in zip(prom, responses, strict=True)]
    todo = []
    for i, key in enumerate(keys):
        hit = _cache_get(cache_dir, key, width)
        if hit is None:
            todo.append(i)
        else:
            out[i] = hit
    # in chunks, each stored as soon as it is done: a killed run keeps what it finished
    for start in range(0, len(todo), _CHUNK):
        part = todo[start : start + _CHUNK]
        done = start

        def tick(k: int, _n: int, done: int = done) -> None:
            if progress is not None:
                progress(done + k, len(todo))

        out[part] = _compute([prom[i] for i in part], [str(responses[i]) for i in part],
                             sketch, batch_size, threads, path, tick)
        for i in part:
            _cache_put(cache_dir, keys[i], out[i])
    loss, alone = out[:, 0], out[:, 1]
    has = np.array([p is not None for p in prom])
    ifd = np.where(has, loss / np.where(alone > 0, alone, np.nan), np.nan)
    return Scores(loss, alone, ifd, out[:, 2].astype(np.int64),
                  None if sketch is None else out[:, 3:])


def _compute(prompts: list[str | None], responses: list[str], sketch: SketchSpec | None,
             batch_size: int, threads: int, path: Any,
             progress: Callable[[int, int], None] | None) -> np.ndarray:
    model, tok = load_model(path, threads=threads)
    pad = int(tok.pad_token_id)
    n = len(responses)
    out = np.full((n, 3 + (0 if sketch is None else sketch.dim)), np.nan)
    with quiet_libraries(), torch_threads(threads):
        enc = _encode(tok, prompts, responses, alone=False)
        proj = None if sketch is None else _Projection(model, sketch)
        done = 0
        for rows in _batches([len(e[0]) for e in enc], batch_size):
            batch = [enc[i] for i in rows]
            if proj is None:
                loss, count = _loss_batch(model, batch, pad)
            else:
                with _Grad(model, proj.modules):
                    loss, count, z = _sketch_batch(model, proj, batch, pad)
                out[rows, 3:] = z
            out[rows, 0], out[rows, 2] = loss, count
            done += len(rows)
            if progress is not None:
                progress(done, n)
        # the response alone: needed only where the row has a prompt
        with_prompt = [i for i, p in enumerate(prompts) if p is not None]
        out[:, 1] = out[:, 0]
        alone = _encode(tok, [prompts[i] for i in with_prompt],
                        [responses[i] for i in with_prompt], alone=True)
        for rows in _batches([len(e[0]) for e in alone], batch_size):
            loss, _ = _loss_batch(model, [alone[i] for i in rows], pad)
            out[np.asarray(with_prompt)[rows], 1] = loss
    return out


def _cache_get(cache_dir: str | Path | None, key: str, width: int) -> np.ndarray | None:
    if cache_dir is None:
        return None
    return load_array(Path(cache_dir) / "lm" / key[:2] / f"{key}.npy", (width,))


def _cache_put(cache_dir: str | Path | None, key: str, row: np.ndarray) -> None:
    if cache_dir is not None:
        store_array(Path(cache_dir) / "lm" / key[:2] / f"{key}.npy", row)


def load_array(path: Path, shape: tuple[int, ...]) -> np.ndarray | None:
    """A cached array of ``shape`` at ``path``; None when missing, damaged or of another
    shape (the caller recomputes it)."""
    if not path.is_file():
        return None
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    return arr if arr.shape == shape else None


def store_array(path: Path, arr: np.ndarray) -> None:
    """``arr`` as float64 ``.npy`` at ``path``, written atomically (directories made)."""
    import io

    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.save(buf, np.asarray(arr, dtype=np.float64), allow_pickle=False)
    write_bytes_atomic(path, buf.getvalue())


# --- the plain reference: one row, plain autograd, the full restricted gradient -------


def restricted_gradient(response: str, prompt: str | None = None, *,
                        spec: SketchSpec = SketchSpec(),
                        path: str | Path | None = None, threads: int = 1
                        ) -> dict[str, np.ndarray]:
    """The full gradient of one row's ``loss`` with respect to each restricted layer's
    weight matrix (layer name -> ``out x in`` array), by plain autograd: the reference
    the batched sketch is tested against and the baseline it is benchmarked against."""
    import torch

    model, tok = load_model(path, threads=threads)
    proj = _Projection(model, spec)
    with quiet_libraries(), torch_threads(threads), _Grad(model, proj.modules):
        rows = _encode(tok, [prompt], [response], alone=False)
        loss, _ = _row_losses(model, *_pad(rows, int(tok.pad_token_id), model.device))
        grads = torch.autograd.grad(loss.sum(), [m.weight for m in proj.modules])
    return {n: g.detach().cpu().numpy() for n, g in zip(proj.names, grads, strict=True)}


def project_gradient(grads: dict[str, np.ndarray], *,
                     spec: SketchSpec = SketchSpec(),
                     path: str | Path | None = None) -> np.ndarray:
    """The sketch of a full restricted gradient (:func:`restricted_gradient`): each layer's
    ``P dW Q^T``, concatenated, projected by ``R`` and unit-normalised: the same linear
    map :func:`score_texts` applies without forming ``dW``."""
    import torch

    model, _ = load_model(path)
    proj = _Projection(model, spec)
    blocks = [p @ torch.from_numpy(grads[n]).to(p.device)[None] @ q.T
              for n, p, q in zip(proj.names, proj.p, proj.q, strict=True)]
    return proj.finish(blocks)[0]
