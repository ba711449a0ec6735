"""The package's shape, read from its source with ``ast``: data flows one way, and each on-disk
name has one owner.

- No import cycle among the package's modules, counting imports made inside functions.
- An own-module import inside a function only where it keeps a heavy dependency (TensorFlow,
  Keras, Dask) out of a light import path, and it says so in a comment on its line or the line
  above.
- The file names of a model directory and a study folder are spelled in :mod:`musiclass.layout`
  only.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "musiclass"


def modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    out = {}
    for f in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = f.relative_to(SRC).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = f
    return out


MODULES = modules()


def imported(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The package modules an import statement of ``module`` loads (its targets; a name imported
    from a package that is itself a module counts as that module)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        if node.level:
            is_pkg = MODULES[module].name == "__init__.py"
            base = module.split(".") if is_pkg else module.split(".")[:-1]
            base = base[: len(base) - node.level + 1]
            stem = ".".join(base + ([node.module] if node.module else []))
        else:
            stem = node.module or ""
        names = [f"{stem}.{a.name}" if f"{stem}.{a.name}" in MODULES else stem for a in node.names]
    out = []
    for name in names:
        while name and name not in MODULES and "." in name:
            name = name.rsplit(".", 1)[0]
        if name in MODULES and name != module:
            out.append(name)
    return out


def import_graph() -> tuple[dict[str, set[str]], list[tuple[str, int, str]]]:
    """``(edges, inner)``: module -> modules it imports (anywhere in the file), and every
    own-module import made inside a function as ``(module, line, source line + the one above)``."""
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    inner = []
    for m, f in MODULES.items():
        text = f.read_text(encoding="utf-8")
        lines = text.splitlines()
        tree = ast.parse(text)
        in_func = {
            id(x)
            for fn in ast.walk(tree)
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
            for x in ast.walk(fn)
        }
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                targets = imported(m, node)
                edges[m].update(targets)
                if targets and id(node) in in_func:
                    context = "\n".join(lines[max(0, node.lineno - 2) : node.end_lineno])
                    inner.append((m, node.lineno, context))
    return edges, inner


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), plus self-loops."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def package_edges_without_init(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph without edges into a package's ``__init__`` (importing ``musiclass.x.y`` runs
    ``musiclass.x/__init__`` first, which is not a dependency of the importer's design)."""
    inits = {m for m, f in MODULES.items() if f.name == "__init__.py"}
    return {m: {t for t in ts if t not in inits} for m, ts in edges.items()}


def test_the_checker_finds_a_cycle():
    # the checker itself, on a graph with a known cycle and a known acyclic part
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle():
    edges, _ = import_graph()
    found = cycles(package_edges_without_init(edges))
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_no_cycle_through_package_inits_either():
    edges, _ = import_graph()
    found = cycles(edges)
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


#: words that say why an import waits for its function
HEAVY = re.compile(r"(?i)tensorflow|keras|dask|lazy")


def test_imports_inside_functions_say_why_and_are_few():
    _, inner = import_graph()
    silent = [f"{m}:{line}" for m, line, context in inner if not HEAVY.search(context)]
    assert not silent, f"own-module imports inside functions without a reason: {silent}"
    assert len(inner) <= 20, f"{len(inner)} own-module imports inside functions (at most 20)"


def test_light_modules_do_not_import_tensorflow():
    code = (
        "import sys, musiclass.cli, musiclass.study, musiclass.notebook, musiclass.predict, "
        "musiclass.registry, musiclass.demo, musiclass.training; "
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


#: the names only :mod:`musiclass.layout` may spell (model directory and study/run folder files)
OWNED = (
    "model.keras",
    "model.best.json",
    "train.json",
    "labels.json",
    "frontend.json",
    "history.csv",
    "metrics.json",
    "thresholds.json",
    "done.json",
    "workspace.json",
    "tag_counts_curation.csv",
    "summary.json",
    "classical.json",
    "classical.csv",
    "classical_predictions.csv",
    "manifest.json",
)


def string_constants(path: Path) -> list[tuple[int, str]]:
    """Every string literal of a module that is not a docstring, with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings:
                out.append((node.lineno, node.value))
    return out


@pytest.mark.parametrize("name", OWNED)
def test_each_file_name_has_one_owner(name):
    spelled = [
        f"{m}:{line}"
        for m, f in MODULES.items()
        if m != f"{PACKAGE}.layout"
        for line, value in string_constants(f)
        if value == name
    ]
    assert not spelled, f"{name!r} is spelled outside musiclass.layout: {spelled}"
