"""The shape of the package (docs/ARCHITECTURE.md): the direction of imports, the size of modules and functions.

Every ``import`` of the package, module-level or inside a function, is read with :mod:`ast`, so a lazy import
that climbs the layers is caught as well. Cyclomatic complexity is ruff's C901 (pyproject.toml), run by the
test command; this file pins what ruff cannot: the layers and the lengths.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "planner"

# The layers, lowest first: a module may import its own layer and the layers below it, never one above.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "base",
        (
            "planner",
            "planner.errors",
            "planner.model",
            "planner.rules",
            "planner.settings",
            "planner.texts",
            "planner.geo",
        ),
    ),
    ("io", ("planner.io",)),
    ("network", ("planner.network",)),
    ("engines", ("planner.engines",)),
    (
        "stages",
        (
            "planner.districts",
            "planner.offices",
            "planner.stations",
            "planner.patrol",
            "planner.prepare_osm",
            "planner.nbs",
            "planner.check",
            "planner.rulebook",
        ),
    ),
    ("outputs", ("planner.outputs",)),
    ("pipeline", ("planner.pipeline", "planner.many", "planner.bench")),
    ("cli", ("planner.cli", "planner.__main__")),
)
MAX_MODULE_LINES = 1000
MAX_FUNCTION_LINES = 150


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int:
    """Index of the layer of ``module``: the longest matching prefix wins (``planner`` itself is base)."""
    best, rank = -1, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best:
                best, rank = len(p), i
    assert rank >= 0, f"{module} is in no layer of tests/test_architecture.py: add it to LAYERS"
    return rank


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "static" not in p.parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of a planner module in ``path``, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "planner"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                mod = f"{base}.{node.module}" if node.module else base
            else:
                mod = node.module or ""
            if mod.split(".")[0] == "planner":
                out.append((node.lineno, mod))
    return out


def test_every_module_is_in_a_layer():
    """A new module must be placed in a layer, so that its imports are checked."""
    for path in _modules():
        _layer(_module_name(path))


def test_imports_point_down_the_layers():
    """io -> network -> engines -> stages -> outputs -> pipeline -> cli: no module imports a higher layer."""
    bad = []
    for path in _modules():
        mine = _module_name(path)
        for line, target in _imports(path):
            if _layer(target) > _layer(mine):
                bad.append(
                    f"{path.relative_to(PACKAGE.parent)}:{line}: {mine} ({LAYERS[_layer(mine)][0]}) imports "
                    f"{target} ({LAYERS[_layer(target)][0]})"
                )
    assert not bad, "imports up the layers:\n" + "\n".join(bad)


def test_engines_know_nothing_of_the_domain():
    """Engines import only the base modules and other engines: arrays in, arrays out (CONVENTIONS §14)."""
    allowed = {"planner.errors", "planner.settings"}
    bad = []
    for path in _modules():
        mine = _module_name(path)
        if not mine.startswith("planner.engines"):
            continue
        for line, target in _imports(path):
            if not (target.startswith("planner.engines") or target in allowed):
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {target}")
    assert not bad, "engines importing the domain:\n" + "\n".join(bad)


def test_no_import_cycle_between_modules():
    """The module graph (every import, lazy ones included) has no cycle."""
    graph: dict[str, set[str]] = {}
    names = {_module_name(p) for p in _modules()}
    for path in _modules():
        mine = _module_name(path)
        # a package's __init__ re-exporting its modules is not a cycle with them
        graph[mine] = {
            t for _, t in _imports(path) if t in names and t != mine and not mine.startswith(t + ".")
        }
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(u: str) -> list[str] | None:
        state[u] = 1
        stack.append(u)
        for v in sorted(graph.get(u, ())):
            if v.startswith(u + "."):
                continue
            if state.get(v) == 1:
                return [*stack[stack.index(v) :], v]
            if v not in state and (cycle := visit(v)):
                return cycle
        stack.pop()
        state[u] = 2
        return None

    for u in sorted(graph):
        if u not in state and (cycle := visit(u)):
            pytest.fail("import cycle: " + " -> ".join(cycle))


def test_modules_and_functions_stay_small():
    """No module over 1,000 lines, no function over 150 (issue 10: the code a change has to read stays small)."""
    bad = []
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(PACKAGE.parent)
        if text.count("\n") > MAX_MODULE_LINES:
            bad.append(f"{rel}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                length = (node.end_lineno or node.lineno) - first + 1
                if length > MAX_FUNCTION_LINES:
                    bad.append(f"{rel}:{node.lineno}: {node.name} has {length} lines")
    assert not bad, "too large:\n" + "\n".join(bad)


def test_argparse_and_print_only_in_the_command_line():
    """The library never reads arguments or prints: only planner.cli (and bench's tables) do."""
    bad = []
    for path in _modules():
        mine = _module_name(path)
        if mine.startswith(("planner.cli", "planner.bench")) or mine == "planner.__main__":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: print")
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if "argparse" in names:
                    bad.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: argparse")
    assert not bad, "argument parsing or printing outside planner.cli:\n" + "\n".join(bad)
