"""Functions a reader can follow: in audit/ and cli/, where most new work lands, no
function is 80 lines or longer (its body, the docstring not counted: a typer command's
option declarations are counted)."""

import ast
from pathlib import Path

import synthgain

ROOT = Path(synthgain.__file__).parent
LIMIT = 80


def _lengths(folder: Path):
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                doc = node.body[0]
                skip = (doc.end_lineno - doc.lineno + 1
                        if isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant)
                        and isinstance(doc.value.value, str) else 0)
                yield node.end_lineno - node.lineno + 1 - skip, f"{path.name}:{node.name}"


def test_no_function_in_audit_or_cli_reaches_80_lines():
    long = sorted(((n, where) for folder in ("audit", "cli")
                   for n, where in _lengths(ROOT / folder) if n >= LIMIT), reverse=True)
    assert not long, long


def test_the_check_sees_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(LIMIT))
    (tmp_path / "m.py").write_text(f'def f():\n    """Doc."""\n{body}\n')
    assert max(_lengths(tmp_path))[0] == LIMIT + 1
