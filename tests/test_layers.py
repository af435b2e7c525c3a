"""The layer rule of docs/design.md, checked on the source: each layer imports only the
layers above it, and no module imports another package's private module."""

import ast
from pathlib import Path

import synthgain

ROOT = Path(synthgain.__file__).parent
#: Layer of each top-level module or package, from docs/design.md: a module may import
#: its own layer's packages only where listed in SAME_LAYER, and any layer above it.
LAYERS = {
    "_rng": 0, "_validation": 0, "exceptions": 0,
    "mixture": 1, "measures": 2, "process": 3, "theory": 4, "experiments": 5,
    "lm": 6, "audit": 7, "study": 8, "plots": 9, "report": 10, "cli": 11,
    "__init__": 12, "__main__": 12,
}  # fmt: skip
FOUNDATIONS = {"_rng", "_validation", "exceptions"}


def _imports(path: Path) -> list[tuple[int, list[str]]]:
    """(line, absolute module path inside synthgain) of each import in ``path``."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    package = parts[:-1]  # the package the module lives in
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
            elif node.module and node.module.split(".")[0] == "synthgain":
                base = []
            else:
                continue
            module = node.module.split(".") if node.module else []
            if not node.level:
                module = module[1:]
            # each imported name, module or attribute: ``from ..m import _k`` is private too
            found += [(node.lineno, base + module + [a.name]) for a in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name.split(".")[1:]) for a in node.names
                      if a.name.startswith("synthgain.")]
    return found


def _modules() -> list[Path]:
    return sorted(ROOT.rglob("*.py"))


def test_every_top_level_module_has_a_layer():
    tops = {p.relative_to(ROOT).parts[0].removesuffix(".py") for p in _modules()}
    assert tops <= set(LAYERS), tops - set(LAYERS)


def test_no_module_imports_a_layer_below_it():
    upward = []
    for path in _modules():
        me = path.relative_to(ROOT).parts[0].removesuffix(".py")
        for line, mod in _imports(path):
            other = mod[0]
            if other in LAYERS and other != me and LAYERS[other] > LAYERS[me]:
                upward.append(f"{path.relative_to(ROOT)}:{line} ({me}) imports {other}")
    assert not upward, "\n".join(upward)


def test_no_module_imports_another_packages_private_module():
    private = []
    for path in _modules():
        me = path.relative_to(ROOT).parts[0].removesuffix(".py")
        for line, mod in _imports(path):
            if mod[0] in (me, *FOUNDATIONS):
                continue
            if any(p.startswith("_") for p in mod[1:]):
                private.append(f"{path.relative_to(ROOT)}:{line} imports {'.'.join(mod)}")
    assert not private, "\n".join(private)


def test_the_scan_sees_an_upward_and_a_private_import(tmp_path, monkeypatch):
    """The checks above can fail: a planted upward import and private import are found."""
    pkg = tmp_path / "measures"
    pkg.mkdir()
    bad = pkg / "_bad.py"
    bad.write_text("from ..report import render\nfrom ..mixture._kernels import LOG_2PI\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    mods = [m for _, m in _imports(bad)]
    assert ["report", "render"] in mods and ["mixture", "_kernels", "LOG_2PI"] in mods
