"""Study 4's check of its stand-in: does the probe's gain rank datasets as fine-tuning the
language model itself does?

The probe (a logistic regression on sentence embeddings) is how Studies 3 and 4 measure
what a synthetic dataset adds. The check fine-tunes SmolLM2-135M-Instruct with LoRA
(:func:`synthgain.lm.finetune_class_loglik`) on (question -> class name) pairs, once on
the anchors alone and once on the anchors plus each of ``n_check`` datasets of the
design, scores each on the study's test set by the likelihood of each class name, and
rank-correlates the LLM's gain with the probe's. The datasets are a stratified sample
over the probe's gain (one per equal-count bin of the design's datasets ordered by
``gain_both``, drawn at random within the bin), so the check spans the range of gains
the study ranks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._rng import RNGLike, child_generator, child_seed, seed_sequence
from .._validation import check_int

__all__ = ["run_lora_check", "stratified_pick"]

#: what the check reports beside the probe's gain (name -> (description, expected sign))
CHECK_MEASURES: dict[str, tuple[str, int]] = {
    "gain_both": ("the probe's gain (the study's stand-in)", +1),
    "label_agreement": ("share of synthetic labels a classifier of the anchors agrees with",
                        +1),
    "label_issue_rate": ("share of synthetic rows cleanlab flags", -1),
    "size": ("rows in the synthetic dataset", +1),
}


def stratified_pick(values: np.ndarray, n: int, rng: RNGLike = None) -> np.ndarray:
    """``n`` indices, one from each of ``n`` equal-count bins of ``values`` in increasing
    order, drawn uniformly within its bin; sorted.

    >>> stratified_pick(np.arange(10.0), 5, rng=0).size
    5
    """
    v = np.asarray(values, dtype=float)
    n = check_int(n, "n_check", low=2, high=v.size)
    gen = child_generator(seed_sequence(rng), "stratified")
    order = np.argsort(v, kind="stable")
    return np.sort([int(gen.choice(b)) for b in np.array_split(order, n)])


def run_lora_check(pool_path: str | Path, *, regime: str = "few-shot", design_seed: int = 0,
                   n_datasets: int = 200, n_check: int = 24, seed: int = 0,
                   model: str = "minilm", spec: Any = None, threads: int = 1,
                   cache_dir: str | Path | None = None, quick: bool = False,
                   progress: Callable[[int, int], None] | None = None
                   ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The LoRA check of the probe on ``n_check`` datasets of a Study 4 design.

    Returns ``(table, analysis, settings)``: one row per checked dataset (how it was
    drawn, the probe's accuracies and gain, the fine-tuned model's accuracy and gain
    ``gain_lora``, the label measures), each reported measure's Spearman and Kendall
    correlation with ``gain_lora`` with bootstrap intervals (:func:`analyse_mix`'s
    columns), and the settings with the headline correlation.
    """
    from ..lm import LoraSpec, finetune_class_loglik
    from ._measures import downstream_gain
    from ._mix import _lookup, analyse_mix, label_measures, mix_design
    from ._text import fit_text_embedder
    from ._trec import TREC_NAMES

    t0 = time.perf_counter()
    spec = LoraSpec(steps=150) if spec is None else spec
    threads = check_int(threads, "threads", low=1)
    n_check = check_int(n_check, "n_check", low=2, high=check_int(n_datasets, "n_datasets",
                                                                  low=2))
    d = mix_design(pool_path, regime=regime, design_seed=design_seed,
                   n_datasets=n_datasets, seed=seed, quick=quick)
    split, mixes = d.split, d.mixes
    where = None if cache_dir is None else Path(cache_dir)
    test_texts = list(split.texts["test"])
    test_labels = np.asarray(split.labels["test"]).astype(str)
    texts = sorted({t for m in mixes for t in m.texts} | set(d.anchor_texts))
    embed = fit_text_embedder(split.texts["anchor"] + split.texts["reference"], model=model,
                              cache_dir=None if where is None else where / "embeddings")
    vecs = embed(texts + test_texts)
    vec = dict(zip(texts, vecs[: len(texts)], strict=True))
    xa, xt = _lookup(vec, d.anchor_texts), vecs[len(texts):]
    ya = d.anchor_labels
    probes = [downstream_gain(xa, ya, _lookup(vec, m.texts), np.asarray(m.labels).astype(str),
                              xt, test_labels) for m in mixes]
    chosen = stratified_pick(np.array([p["gain_both"] for p in probes]), n_check,
                             child_seed(d.root, "lora_check"))
    names = {c: TREC_NAMES[c] for c in split.classes}
    order = list(names)

    def accuracy(ll: np.ndarray) -> float:
        return float(np.mean(np.asarray(order)[ll.argmax(axis=1)] == test_labels))

    total = len(chosen) + 1
    base = finetune_class_loglik(d.anchor_texts, list(ya), test_texts, names, spec=spec,
                                 threads=threads, cache_dir=where)
    acc_anchor = accuracy(base)
    if progress is not None:
        progress(1, total)
    rows = []
    for k, i in enumerate(chosen.tolist()):
        m = mixes[i]
        xs, ys = _lookup(vec, m.texts), np.asarray(m.labels).astype(str)
        ll = finetune_class_loglik(d.anchor_texts + list(m.texts), list(ya) + list(ys),
                                   test_texts, names, spec=spec, threads=threads,
                                   cache_dir=where)
        acc = accuracy(ll)
        row = {"dataset": i, **m.params, **probes[i],
               "lora_accuracy_anchor": acc_anchor, "lora_accuracy_both": acc,
               "gain_lora": acc - acc_anchor,
               **label_measures(xa, ya, xs, ys, rng=child_seed(d.root, "label_issues", i))}
        rows.append(row)
        if progress is not None:
            progress(k + 2, total)
    table = pd.DataFrame(rows)
    analysis = analyse_mix(table, CHECK_MEASURES, gain="gain_lora",
                           rng=child_seed(d.root, "lora_bootstrap"))
    analysis = analysis.drop(columns=[c for c in ("primary", "p_one_sided", "p_holm",
                                                  "verdict") if c in analysis])
    head = analysis.set_index("measure").loc["gain_both"].to_dict()
    settings = {"regime": d.regime, "design_seed": design_seed, "n_datasets": n_datasets,
                "n_check": len(chosen), "seed": seed, "model": model,
                "anchors": len(d.anchor_texts), "test": len(test_texts),
                "lora": asdict(spec),
                "lora_accuracy_anchor": acc_anchor,
                "rho_probe_lora": float(head["rho"]),
                "rho_probe_lora_interval": [float(head["rho_low"]), float(head["rho_high"])],
                "quick": quick, "seconds": round(time.perf_counter() - t0, 1)}
    return table, analysis, settings
