"""Saved audits: the metrics.json of three audits, kept so that a change meant to keep
the audit's behaviour (a restructuring) is checked to keep every number, reason and note.

The three audits: the docs' worked example (a chat file with planted problems, with a
target, an evaluation set and labels), the demo's text audit, and the first Gaussian
null case of the suite's null test (arrays, provenance on every synthetic row). Volatile
fields (the time of creation, the version, timings, temporary paths) are left out.

Regenerate (only when a change is meant to move the numbers, and say so in the commit):

    .venv/bin/python tests/audit/_references.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent / "references"
#: fields of metrics.json that differ between two runs of the same audit
VOLATILE = ("created", "synthgain_version", "timings_seconds", "cpu_seconds")


def worked_example(tmp: Path) -> Any:
    from synthgain.audit import load_dataset, run_audit, write_chat_example

    d = tmp / "chat-example"
    write_chat_example(d, rng=0)
    sets = [load_dataset(d / f"{n}.jsonl", name=n, label_column="series")
            for n in ("anchor", "synthetic", "target")]
    evaluation = load_dataset(d / "eval.jsonl", name="eval")
    return run_audit(*sets, evaluation=evaluation, model="lsa", cache_dir=tmp / "cache",
                     rng=0, workers=1)


def demo_text(tmp: Path) -> Any:
    from synthgain.audit import run_text_demo

    return run_text_demo(tmp / "demo", model="lsa", rng=0)


def null_case(tmp: Path) -> Any:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import _audit_scenarios as sc
    from synthgain.audit import run_audit

    case = sc.null_cases(1, families=("gaussian",))[0]
    anchor, synthetic, target = sc.case_data(case)
    return run_audit(anchor, synthetic, target, rng=case.seeds()[1], workers=1)


CASES = {"worked_example": worked_example, "demo_text": demo_text, "null_case": null_case}


def document(result: Any, tmp: str) -> dict[str, Any]:
    """metrics.json of ``result`` without its volatile fields, as JSON reads it back, the
    temporary directory ``tmp`` written ``<tmp>``."""
    text = json.dumps(result.to_dict(), allow_nan=False).replace(tmp, "<tmp>")
    doc = json.loads(text)
    for key in VOLATILE:
        doc.pop(key, None)
    return doc


def run(name: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        return document(CASES[name](Path(tmp)), tmp)


if __name__ == "__main__":
    HERE.mkdir(exist_ok=True)
    for name in CASES:
        (HERE / f"{name}.json").write_text(json.dumps(run(name), indent=1, sort_keys=True)
                                           + "\n")
        print(f"wrote {HERE / name}.json")
