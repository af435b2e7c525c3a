"""What the LLM study's generator wrote, per configuration: the share of completions
that are questions, that copy one of the prompt's demonstrations, and that talk about
the instructions or the model itself (docs/study.md, Study 3).

    python examples/llm_study_generations.py docs/data/llm_synthetic.jsonl.gz

Reads the generations a run recorded (``llm_synthetic.jsonl`` in its ``--out``
directory, or the copy kept in docs/data/); prints a Markdown table.
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from pathlib import Path

from synthgain.audit import read_rows

#: phrases of completions about the instructions or the model, not the task
META = ("question-classification", "helpful ai", "smollm", "of this category", "new question")


def _norm(text: str) -> str:
    return " ".join(text.lower().replace(" ?", "?").split())


def main(path: str) -> None:
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    names: dict[int, str] = {}
    for r in read_rows(Path(path)):
        c = counts[int(r["config_id"])]
        q = str(r["question"])
        demos = [_norm(ln[2:]) for ln in str(r["prompt"]).splitlines() if ln.startswith("- ")]
        c["rows"] += 1
        c["question"] += q.endswith("?")
        c["copy"] += _norm(q) in demos
        c["meta"] += any(m in q.lower() for m in META)
        value = r.get("knob_value")
        names.setdefault(int(r["config_id"]), f"{r['knob']}" + ("" if value is None
                                                               else f" = {value}"))
    print("| configuration | rows | ends with ? | copies a demonstration | about the instructions "
          "or the model |")
    print("|---|---|---|---|---|")
    for cid in sorted(counts):
        c = counts[cid]
        n = c["rows"]
        print(f"| {names[cid]} | {n} | {c['question'] / n:.0%} | {c['copy'] / n:.0%} | "
              f"{c['meta'] / n:.0%} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/data/llm_synthetic.jsonl.gz")
