"""Quality gates, run with the tests so CI and a newcomer see them: ruff (lint and format), mypy over the
package, no import cycles, the core never importing the benchmarks or the scripts, and short modules."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("tfdqn", "benchmarks")  # first-party packages whose import graph is checked
MAX_LINES = 300


def run_tool(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m <module> args` from the checkout's root (config in pyproject.toml); skipped when the tool is
    not installed (requirements-dev.txt installs it)."""
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed: pip install -r requirements-dev.txt")
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, cwd=ROOT, timeout=600)


def test_ruff_lint():
    proc = run_tool("ruff", "check", ".", "--no-fix", "--output-format", "concise")
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]


def test_ruff_format():
    proc = run_tool("ruff", "format", "--check", ".")
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]


def test_mypy_over_the_package():
    proc = run_tool("mypy")  # [tool.mypy] in pyproject.toml: packages = ["tfdqn", "benchmarks"]
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-2000:]


def modules(package: str) -> dict[str, Path]:
    """Every module of a first-party package under the checkout: dotted name -> file."""
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


ALL_MODULES = {name: path for package in PACKAGES for name, path in modules(package).items()}


def is_type_checking_block(node: ast.AST) -> bool:
    """`if TYPE_CHECKING:` (or `typing.TYPE_CHECKING`): imports for annotations only, never run."""
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of a module, inside functions and classes too, except the bodies of `if TYPE_CHECKING:`."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if is_type_checking_block(node):
            assert isinstance(node, ast.If)
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def imported_names(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """The dotted names a module imports at run time, with line numbers: `import` and `from ... import`
    statements anywhere in it (relative ones resolved), and `importlib.import_module("...")` with a literal."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in runtime_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                yield f"{target}.{alias.name}", node.lineno  # a submodule, or a name in `target`
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                yield node.args[0].value, node.lineno


def resolve(name: str) -> str | None:
    """The first-party module a dotted import name lands on (the longest known prefix), or None."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in ALL_MODULES:
            return candidate
    return None


def import_graph() -> dict[str, set[str]]:
    """module -> the first-party modules it imports (self-imports left out)."""
    graph: dict[str, set[str]] = {}
    for module, path in ALL_MODULES.items():
        targets = {resolve(name) for name, _ in imported_names(module, path)}
        graph[module] = {t for t in targets if t is not None and t != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"f"}, "f": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert resolve("tfdqn.config.DQNConfig") == "tfdqn.config"
    assert resolve("numpy.random") is None


def test_no_import_cycles():
    graph = import_graph()
    found = cycles(graph)
    lines = []
    for component in found:
        members = set(component)
        lines.append(" <-> ".join(component))
        lines += [f"    {m} imports {sorted(graph[m] & members)}" for m in component]
    assert not found, "import cycles (imports inside functions count; `if TYPE_CHECKING:` ones do not):\n" + (
        "\n".join(lines)
    )


def test_tfdqn_imports_nothing_from_benchmarks_or_scripts():
    scripts = {path.stem for path in (ROOT / "scripts").glob("*.py")}
    bad = []
    for module, path in modules("tfdqn").items():
        for name, line in imported_names(module, path):
            top = name.split(".")[0]
            if top in ("benchmarks", "scripts") or top in scripts:
                bad.append(f"{path.relative_to(ROOT)}:{line}: {name}")
    assert not bad, "tfdqn imports from benchmarks/ or scripts/:\n" + "\n".join(bad)


def test_no_module_over_300_lines():
    long = {}
    for path in ALL_MODULES.values():
        lines = len(path.read_text().splitlines())
        if lines > MAX_LINES:
            long[str(path.relative_to(ROOT))] = lines
    report = "\n".join(f"{n:5d} {p}" for p, n in sorted(long.items(), key=lambda item: -item[1]))
    assert not long, f"modules over {MAX_LINES} lines:\n{report}"
