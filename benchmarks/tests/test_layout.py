"""The package's shape: no import cycle in benchmarks, tfdqn never imports it, and the old entry points in
scripts/ are thin."""

import ast
import subprocess
import sys

import pytest

from benchmarks.common import ROOT

PACKAGE = ROOT / "benchmarks"
OLD_NAMES = {
    "benchmark": "suite",
    "benchmark_rainbow": "rainbow",
    "benchmark_systems": "systems",
    "benchmark_workers": "workers",
    "screen_configs": "screen",
    "screen_averages": "averages",
    "pool_runs": "pool",
    "frozenlake_dqn": "frozenlake",
}


def imports_of(path):
    """The benchmarks modules `path` imports (module-level or not), by name."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "benchmarks":
            if node.module == "benchmarks":
                found |= {alias.name for alias in node.names}
            else:
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("benchmarks.")}
    return found


def test_benchmarks_has_no_import_cycle():
    graph = {p.stem: imports_of(p) for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert set().union(*graph.values()) <= set(graph), "an import of a module that does not exist"
    done: set[str] = set()
    path: list[str] = []

    def visit(module):
        if module in path:
            pytest.fail("import cycle: " + " -> ".join(path[path.index(module) :] + [module]))
        if module in done:
            return
        path.append(module)
        for other in sorted(graph[module]):
            visit(other)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def test_no_module_is_much_over_300_lines():
    long = {p.name: n for p in PACKAGE.glob("*.py") if (n := len(p.read_text().splitlines())) > 310}
    assert not long


def test_tfdqn_never_imports_benchmarks_or_scripts():
    for path in (ROOT / "tfdqn").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not any(n.split(".")[0] in ("benchmarks", "scripts") for n in names), path


def test_the_old_entry_points_are_thin_and_run_their_module():
    for old, module in OLD_NAMES.items():
        text = (ROOT / "scripts" / f"{old}.py").read_text()
        assert f'"-m", "benchmarks.{module}"' in text and len(text.splitlines()) <= 10, old
    assert (ROOT / "scripts" / "screens" / "lunarlander_round13.json").is_file()  # the reports' candidate files


@pytest.mark.parametrize("old", sorted(OLD_NAMES))
def test_old_entry_point_help_from_the_repository_root(old):
    proc = subprocess.run(
        [sys.executable, f"scripts/{old}.py", "--help"], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert proc.returncode == 0 and "usage:" in proc.stdout, proc.stderr[-2000:]
