"""Lower layers never reach up: the models load no job runner and sit in no import cycle."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"


def test_importing_the_models_loads_neither_celery_nor_the_job_runner() -> None:
    code = ("import sys, app.models; "
            "assert 'celery' not in sys.modules, 'celery'; "
            "assert 'app.jobs' not in sys.modules, 'app.jobs'")
    done = subprocess.run([sys.executable, "-c", code], cwd=APP.parent, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def module_names() -> dict[str, Path]:
    """Every module of the app package by dotted name."""
    names = {}
    for path in APP.rglob("*.py"):
        parts = list(path.relative_to(APP.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _module_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported (not in functions or TYPE_CHECKING)."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        found += [n for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom))]
    return found


def _all_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import of a module, in functions too (not under TYPE_CHECKING)."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        found += [n for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom))]
    return found


def import_graph(lazy: bool = False) -> dict[str, set[str]]:
    """Module -> the app modules it imports at module level, or anywhere with `lazy`
    (`from a import b` imports the submodule a.b when there is one, else a)."""
    names = module_names()
    imports_of = _all_imports if lazy else _module_level_imports
    graph: dict[str, set[str]] = {}
    for name, path in names.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in imports_of(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    up = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in names else base
                           for a in node.names]
            edges |= {t for t in targets if t in names and t != name}
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_runs_through_the_models() -> None:
    graph = import_graph()
    assert "app.jobs" in graph["app.updates.changes"]  # the graph sees real imports
    through_models = [c for c in cycles(graph) if any(m.startswith("app.models") for m in c)]
    assert through_models == []


def test_no_import_cycle_in_app_even_through_imports_inside_functions() -> None:
    graph = import_graph(lazy=True)
    assert "app.loyalty.ledger" in graph["app.members.operations"]  # real edges are seen
    assert "app.jobs" in graph["app.cli"]  # and imports inside functions
    assert cycles(graph) == []


FOUNDATIONS = {"app.extensions", "app.logs", "app.metrics"}
"""Modules any layer may import: they import no app module themselves (but extensions)."""


def test_the_job_runner_imports_no_feature() -> None:
    graph = import_graph(lazy=True)
    assert graph["app.jobs"] <= FOUNDATIONS, graph["app.jobs"]
    assert graph["app.logs"] == set() and graph["app.metrics"] == set()


def test_the_models_import_only_foundations() -> None:
    graph = import_graph()
    reached: set[str] = set()
    todo = ["app.models"]
    while todo:
        for dep in graph[todo.pop()] - reached:
            reached.add(dep)
            todo.append(dep)
    outside = {m for m in reached if not m.startswith("app.models")}
    assert outside <= {"app.extensions", "app.config"}, outside


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [{"a", "b", "c"}]
