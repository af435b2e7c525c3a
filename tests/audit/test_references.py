"""The audit's metrics.json on three saved audits (tests/audit/_references.py): every
number, reason and note as saved. A restructuring must keep them; a change meant to move
them regenerates the files and says so."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _references as refs


def _project(saved, now, where="metrics.json"):
    """Compare ``now`` with ``saved`` on the fields ``saved`` has (fields added since are
    not compared; a note or reason saved as a string is compared with the text of a
    structured one)."""
    if isinstance(saved, dict):
        assert isinstance(now, dict), where
        for key, value in saved.items():
            assert key in now, f"{where}: {key!r} is missing"
            _project(value, now[key], f"{where}.{key}")
    elif isinstance(saved, list):
        assert isinstance(now, list) and len(now) == len(saved), where
        for i, (a, b) in enumerate(zip(saved, now, strict=True)):
            _project(a, b, f"{where}[{i}]")
    elif isinstance(saved, str) and isinstance(now, dict) and "text" in now:
        assert now["text"] == saved, where
    else:
        assert now == saved, f"{where}: {now!r} != saved {saved!r}"


@pytest.mark.parametrize("name", list(refs.CASES))
def test_audit_outputs_are_as_saved(name):
    saved = json.loads((refs.HERE / f"{name}.json").read_text())
    now = refs.run(name)
    # the schema moved from 2 to 3 when notes and reasons got codes (fields added)
    assert saved.pop("schema") in ("synthgain.audit/2", now.pop("schema"))
    _project(saved, now)


@pytest.mark.parametrize("name", list(refs.CASES))
def test_every_note_and_reason_has_a_known_code(name):
    from synthgain.audit._reasons import CODES

    doc = refs.run(name)
    assert doc["schema"] == "synthgain.audit/3"
    assert doc["notes"] and all(n["code"] in CODES for n in doc["notes"]), doc["notes"]
    withheld = [m for group in doc["metrics"].values() for m in group.values()
                if m["value"] is None]
    assert withheld and all(m["reason_code"] in CODES for m in withheld)


def test_docs_list_every_code():
    from synthgain.audit._reasons import CODES

    doc = (Path(__file__).resolve().parents[2] / "docs" / "audit.md").read_text()
    assert [c for c in CODES if f"| `{c}` |" not in doc] == []
