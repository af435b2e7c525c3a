"""Study 3: a real instruction-tuned LLM writes the synthetic data.

The task is TREC question classification (five coarse classes, see
:mod:`synthgain.study._trec`). The generator (SmolLM2-135M-Instruct, or any
:class:`TextGenerator`) is prompted with a task instruction, a class's description and,
for an anchored class, ``demos`` anchor questions of that class; a class the generator
knows only from its description gets no demonstration (the paper's ``J``); a share
``off_task`` of each class's prompts asks for text off the task (the paper's ``L``), and
keeps the class's label. One question is parsed from each completion; curation may
filter on length and duplicates, and label noise flips a share ``noise`` of the labels.
The downstream model is the audit's probe on sentence embeddings (MiniLM by default),
standing in for fine-tuning an LLM.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._rng import RNGLike, child_generator, child_seed, seed_sequence
from ._design import StudyConfig, assign_classes, pick_anchors
from ._generator import GenerationCache, TextGenerator, generate_cached, parse_question
from ._trec import TREC_CLASSES, TrecSplit

__all__ = ["AUDIT_MEASURES", "OFF_TASK_TOPICS", "LLMData", "audit_measures", "class_prompt",
           "curate", "llm_prompts", "off_task_prompt"]

INSTRUCTION = "You write questions for a question-classification data set."
#: topics of the off-task prompts (text the task did not ask for)
OFF_TASK_TOPICS = ("cooking pasta", "the weather today", "a football match", "gardening",
                   "a train journey", "painting a room", "a birthday party",
                   "learning to swim", "a rainy afternoon", "buying new shoes",
                   "a cat asleep in the sun", "the sound of the sea")
#: the filter's bounds on a question's length in words
MIN_WORDS, MAX_WORDS = 3, 30


def class_prompt(label: str, demos: Sequence[str] = ()) -> str:
    """The prompt asking for one question of class ``label``: the task instruction, the
    class's description and, when given, the demonstration questions."""
    lines = [INSTRUCTION, f"Category: {TREC_CLASSES[label]}."]
    if demos:
        lines.append("Example questions of this category:")
        lines += [f"- {q}" for q in demos]
    lines.append("Write one new question of this category. Reply with the question only.")
    return "\n".join(lines)


def off_task_prompt(topic: str) -> str:
    """A prompt for text off the task: one sentence about ``topic``."""
    return f"Write one sentence about {topic}. Reply with the sentence only."


def llm_prompts(config: StudyConfig, classes: dict[str, list[Any]], anchor_labels: np.ndarray,
                anchor_texts: Sequence[str], rng: np.random.Generator) -> list[dict[str, Any]]:
    """``per_class`` prompts for each task class, a share ``off_task`` of them off-task.

    Returns one dict per prompt: ``prompt``, ``kind`` (``"anchored"``, ``"described"``
    or ``"off_task"``), ``source_class`` and ``label`` (the class), ``demos`` (indices
    into the anchors, the first being the prompt's anchor, ``anchor``; -1 for none).
    Anchored prompt ``j`` of a class of ``m`` anchors has anchor ``j mod m`` first and
    ``demos - 1`` others drawn without replacement.
    """
    n = config.per_class
    n_off = round(config.off_task * n)
    out: list[dict[str, Any]] = []
    for c in classes["task"]:
        own = np.flatnonzero(anchor_labels == c)
        off = set(rng.permutation(n)[:n_off].tolist())
        for j in range(n):
            item: dict[str, Any]
            if j in off:
                topic = OFF_TASK_TOPICS[int(rng.integers(len(OFF_TASK_TOPICS)))]
                item = {"prompt": off_task_prompt(topic), "kind": "off_task", "demos": []}
            elif c in classes["anchored"]:
                first = int(own[j % own.size])
                rest = rng.permutation(own[own != first])[: config.demos - 1]
                demos = [first, *(int(i) for i in rest)]
                item = {"prompt": class_prompt(c, [anchor_texts[i] for i in demos]),
                        "kind": "anchored", "demos": demos}
            else:
                item = {"prompt": class_prompt(c), "kind": "described", "demos": []}
            item.update(source_class=c, label=c, anchor=item["demos"][0] if item["demos"] else -1)
            out.append(item)
    return out


def curate(questions: Sequence[str], labels: np.ndarray, classes: Sequence[str],
           config: StudyConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Which parsed questions are kept, and their (possibly flipped) labels.

    Empty questions are always dropped. ``curation="filter"`` also drops questions of
    fewer than :data:`MIN_WORDS` or more than :data:`MAX_WORDS` words and every repeat
    of a question (case and spacing ignored). Then each kept label is replaced, with
    probability ``noise``, by another task class drawn uniformly.

    Returns ``(kept, labels)``: a boolean mask over ``questions`` and the labels of all
    rows (flipped ones changed).
    """
    kept = np.array([bool(q) for q in questions])
    if config.curation == "filter":
        seen: set[str] = set()
        for i, q in enumerate(questions):
            norm = " ".join(q.lower().split())
            if (not MIN_WORDS <= len(norm.split()) <= MAX_WORDS or not norm.endswith("?")
                    or norm in seen):
                kept[i] = False
            seen.add(norm)
    out = np.asarray(labels, dtype=object).copy()
    hit = rng.random(len(questions)) < config.noise
    shift = rng.integers(1, max(len(classes), 2), size=len(questions)).tolist()
    if len(classes) > 1:
        index = {c: i for i, c in enumerate(classes)}
        for row in np.flatnonzero(hit & kept).tolist():
            out[row] = classes[(index[out[row]] + shift[row]) % len(classes)]
    return kept, out


#: the audit's null-calibrated measures the LLM study also ranks configurations by:
#: name -> (metrics.json ``group.key``, description, sign expected for the gain). Each is
#: its value over chance at matched sizes; NaN where the audit withholds it (outside the
#: estimator's calibrated sizes, docs/estimators.md).
AUDIT_MEASURES: dict[str, tuple[str, str, int]] = {
    "audit_kl_gap": ("kl_gap.mixture", "audit: KL gap (mixture, PCA space) over chance", +1),
    "audit_information_gain": ("information.information_gain",
                               "audit: dI - H(anchor) over chance", +1),
    "audit_js_synthetic_target": ("divergences.js_synthetic_target",
                                  "audit: JS(synthetic, reference) over chance", -1),
    "audit_tv_synthetic_target": ("divergences.tv_synthetic_target",
                                  "audit: TV(synthetic, reference) over chance", -1),
    "audit_precision": ("fidelity.precision", "audit: precision over chance", +1),
    "audit_recall": ("fidelity.recall", "audit: recall over chance", +1),
    "audit_coverage": ("fidelity.coverage", "audit: coverage over chance", +1),
    "audit_vendi": ("diversity.vendi_synthetic", "audit: Vendi(synthetic) - Vendi(anchor) "
                    "over chance", +1),
    "audit_near_copy": ("novelty.memorisation", "audit: near-copy rate over chance", -1),
    "audit_distinct_2": ("text.distinct_2", "audit: distinct-2 (synthetic - anchor) over "
                         "chance", +1),
    "audit_self_bleu": ("text.self_bleu", "audit: self-BLEU (synthetic - anchor) over "
                        "chance", -1),
    "audit_compression": ("text.compression_ratio", "audit: gzip compression ratio "
                          "(synthetic / anchor) over chance", -1),
    "audit_opening_share": ("text.opening_share", "audit: share of the commonest opening "
                            "(synthetic - anchor) over chance", -1),
    "audit_duplicate_share": ("text.exact_duplicates", "audit: share of synthetic rows that "
                              "repeat another exactly", -1),
}


def audit_measures(anchor: np.ndarray, synthetic: np.ndarray, reference: np.ndarray,
                   texts: Mapping[str, Sequence[str]], prompt_anchor: np.ndarray,
                   rng: RNGLike) -> dict[str, float]:
    """:data:`AUDIT_MEASURES` of one replicate: :func:`synthgain.audit.run_audit` on the
    anchors, the synthetic questions (with each row's prompt anchor as provenance) and
    the reference sample as the target, embeddings given, one worker. NaN for a value
    the audit withholds; ``audit_withheld`` counts them."""
    from ..audit import Dataset, run_audit

    out = dict.fromkeys(AUDIT_MEASURES, float("nan"))
    if min(anchor.shape[0], synthetic.shape[0], reference.shape[0]) < 5:
        return {**out, "audit_withheld": float(len(out))}
    prov = [[str(a)] if a >= 0 else [] for a in prompt_anchor.tolist()]
    res = run_audit(Dataset.from_arrays(anchor, texts=texts["anchor"], name="anchor"),
                    Dataset.from_arrays(synthetic, texts=texts["synthetic"], anchor_ids=prov,
                                        name="synthetic"),
                    Dataset.from_arrays(reference, texts=texts["reference"], name="target"),
                    rng=rng, workers=1)
    records = {f"{r.group}.{r.key}": r for r in res.records}
    for name, (key, _, _) in AUDIT_MEASURES.items():
        rec = records.get(key)
        if rec is not None and rec.estimate is not None:
            out[name] = float(rec.estimate.value)
    out["audit_duplicate_share"] /= synthetic.shape[0]
    out["audit_withheld"] = float(sum(np.isnan(v) for v in out.values()))
    return out


@dataclass
class LLMData:
    """What every task of the LLM study shares: the split, the fixed parts' embeddings,
    the embedder of synthetic questions, the generator and its cache."""

    split: TrecSplit
    embeddings: dict[str, np.ndarray]
    embed: Callable[[Sequence[str]], np.ndarray]
    generator: TextGenerator
    cache_dir: Path | None = None
    max_new_tokens: int = 32
    batch_size: int = 32
    audit: bool = True

    @property
    def classes(self) -> list[str]:
        return self.split.classes


def llm_draw(config: StudyConfig, data: LLMData, rng: RNGLike) -> dict[str, Any]:
    """The random parts of one replicate: classes, anchors, prompts and their seeds."""
    root = seed_sequence(rng)
    g_cls, g_anchor, g_prompt = (child_generator(root, n) for n in ("classes", "anchors", "prompts"))
    classes = assign_classes(config, data.classes, g_cls)
    split = data.split
    rows = split.rows("anchor", classes["anchored"])
    pick = rows[pick_anchors(split.labels["anchor"][rows], classes["anchored"],
                             config.anchors_per_class, g_anchor)]
    texts = [split.texts["anchor"][i] for i in pick]
    prompts = llm_prompts(config, classes, split.labels["anchor"][pick], texts, g_prompt)
    seeds = child_seed(root, "generation").generate_state(max(len(prompts), 1), dtype=np.uint64)
    return {"classes": classes, "anchor_rows": pick, "prompts": prompts,
            "seeds": [int(s) for s in seeds[: len(prompts)]],
            "curation": child_generator(root, "curation"), "rng": child_generator(root, "measures"),
            "audit": child_seed(root, "audit")}


def llm_task(config: StudyConfig, seed: np.random.SeedSequence, data: LLMData
             ) -> dict[str, Any]:
    """One replicate: generate (through the cache), parse, curate, embed, score.

    Returns the gains and measures, counts (``n_prompts``, ``n_empty``, ``n_kept``,
    ``n_flipped``, ``mean_words``) and, under ``"_records"``, one provenance record per
    generation.
    """
    from ._measures import downstream_gain, study_measures

    draw = llm_draw(config, data, seed)
    prompts = draw["prompts"]
    cache = GenerationCache(None if data.cache_dir is None else data.cache_dir)
    records = generate_cached(data.generator, [p["prompt"] for p in prompts], draw["seeds"],
                              temperature=config.temperature,
                              max_new_tokens=data.max_new_tokens, cache=cache,
                              batch_size=data.batch_size)
    questions = [parse_question(r["text"]) for r in records]
    task = draw["classes"]["task"]
    kept, labels = curate(questions, np.asarray([p["label"] for p in prompts], dtype=object),
                          task, config, draw["curation"])
    keep = np.flatnonzero(kept)
    split, emb = data.split, data.embeddings
    ref_rows, test_rows = split.rows("reference", task), split.rows("test", task)
    xa = emb["anchor"][draw["anchor_rows"]]
    ya = split.labels["anchor"][draw["anchor_rows"]]
    xs = data.embed([questions[i] for i in keep]) if keep.size else np.empty((0, xa.shape[1]))
    ys = labels[keep]
    prompt_anchor = np.asarray([prompts[i]["anchor"] for i in keep], dtype=np.int64)
    texts = {"anchor": [split.texts["anchor"][i] for i in draw["anchor_rows"]],
             "synthetic": [questions[i] for i in keep],
             "reference": [split.texts["reference"][i] for i in ref_rows]}
    row: dict[str, Any] = {
        **downstream_gain(xa, ya, xs, ys, emb["test"][test_rows], split.labels["test"][test_rows]),
        **study_measures(xa, xs, emb["reference"][ref_rows], prompt_anchor, rng=draw["rng"]),
        **(audit_measures(xa, xs, emb["reference"][ref_rows], texts, prompt_anchor,
                          rng=draw["audit"]) if data.audit else {}),
        "n_prompts": len(prompts), "n_empty": int(sum(not q for q in questions)),
        "n_kept": int(keep.size), "n_flipped": int(np.sum(labels[keep] != np.asarray(
            [prompts[i]["label"] for i in keep], dtype=object))),
        "mean_words": float(np.mean([len(questions[i].split()) for i in keep])) if keep.size
        else float("nan")}
    anchor_ids = [int(i) for i in draw["anchor_rows"]]
    row["_records"] = [
        {"index": i, "kind": p["kind"], "source_class": p["source_class"],
         "label": str(labels[i]), "anchor_id": anchor_ids[p["anchor"]] if p["anchor"] >= 0 else None,
         "anchor_ids": [anchor_ids[d] for d in p["demos"]], "prompt": p["prompt"],
         "seed": r["seed"], "model": r["model"], "temperature": r["temperature"],
         "max_new_tokens": r["max_new_tokens"], "text": r["text"], "question": questions[i],
         "kept": bool(kept[i])}
        for i, (p, r) in enumerate(zip(prompts, records, strict=True))]
    return row


def quick_sizes(quick: bool) -> dict[str, int | None]:
    """Reference and test questions kept per class: 40 and 60 in a quick run, all otherwise."""
    return {"max_reference": 40, "max_test": 60} if quick else {"max_reference": None,
                                                               "max_test": None}

