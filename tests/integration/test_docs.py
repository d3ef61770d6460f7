"""The README and the docs say what the code does: every Python example runs, the site builds strictly, and the
results tables are the ones the results' JSON gives."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PAGES = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").rglob("*.md") if "hooks" not in p.parts)]
BLOCK = re.compile(r"^(?P<before>.*?)^```python\n(?P<code>.*?)^```$", re.M | re.S)
SLOW_MARK = "<!-- test: slow -->"  # on the line before a block: the example trains longer than ~20 s
# An example using an optional extra runs where the extra is installed (CI installs the tracking extra).
EXTRAS = {"mlflow": re.compile(r"\bmlflow\b|MLflowLogger"), "moviepy": re.compile(r"record_video|VideoRecorder")}


def python_blocks(path: Path) -> list[tuple[int, str, bool]]:
    """(line, code, slow) for each ```python block of a Markdown file."""
    text, blocks = path.read_text(encoding="utf-8"), []
    for match in BLOCK.finditer(text):
        line = text.count("\n", 0, match.start("code"))
        before = match.group("before").rstrip().splitlines()
        blocks.append((line, match.group("code"), bool(before) and before[-1].strip() == SLOW_MARK))
    return blocks


def example_code(name: str) -> str:
    """The README block after `<!-- example: NAME -->`."""
    match = re.search(rf"<!-- example: {name} -->\s*```python\n(.*?)```", README, re.S)
    assert match, f"README example {name!r} not found"
    return match.group(1)


def collect_examples() -> list:
    """Every distinct block once (the README and a guide may show the same one); the README's listener example
    runs in its own test, which also checks what it prints."""
    seen = {example_code("custom-listener")}
    params = []
    for path in PAGES:
        for line, code, slow in python_blocks(path):
            if code not in seen:
                seen.add(code)
                marks = [pytest.mark.slow] if slow else []
                marks += [
                    pytest.mark.skipif(importlib.util.find_spec(module) is None, reason=f"{module} is not installed")
                    for module, pattern in EXTRAS.items()
                    if pattern.search(code)
                ]
                params.append(pytest.param(code, id=f"{path.relative_to(ROOT)}:{line}", marks=marks))
    return params


EXAMPLES = collect_examples()


def run_python(code: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter with the checkout importable."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd
    )


@pytest.fixture
def checkout_view(tmp_path: Path) -> Path:
    """A folder that looks like the repository root (each top-level entry linked), so examples read
    `results/...` as printed, while whatever they write lands here and not in the checkout."""
    for entry in ROOT.iterdir():
        if not entry.name.startswith("."):
            (tmp_path / entry.name).symlink_to(entry)
    return tmp_path


def test_every_page_has_its_examples_collected():
    assert len(EXAMPLES) >= 10, [p.id for p in EXAMPLES]


@pytest.mark.parametrize("code", EXAMPLES)
def test_example_runs(code: str, checkout_view: Path):
    proc = run_python(code, checkout_view)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_custom_listener_example_prints_what_the_readme_says(checkout_view: Path):
    proc = run_python(example_code("custom-listener"), checkout_view)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert re.search(r"^20 episodes, last return \d+, \d+ env steps$", proc.stdout, re.M), proc.stdout


def test_readme_test_command_is_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    command = "pip install -r requirements.txt -r requirements-dev.txt && python -m pytest"
    assert command in README
    assert command.replace("pip install -r", "pip install -q -r") in ci


def test_readme_main_command():
    # `-e .` installs the package: the scripts import tfdqn, they do not edit sys.path
    assert "pip install -r requirements.txt -e . && python scripts/train_cartpole.py" in README


def test_readme_is_a_front_door():
    lines = README.splitlines()
    assert len(lines) <= 250, len(lines)
    long = [i + 1 for i, line in enumerate(lines) if len(line) > 150]
    assert not long, f"README lines over 150 characters: {long}"
    assert "pip install -r requirements-dev.txt && mkdocs serve" in README


def test_readme_links_point_at_files():
    for target in re.findall(r"\]\(([^)#]+)\)", README):
        if "://" not in target:
            assert (ROOT / target).exists(), target


def load_tables():
    spec = importlib.util.spec_from_file_location("benchmark_tables", ROOT / "docs" / "hooks" / "benchmark_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_headline_table_is_rendered_from_the_results():
    tables = load_tables()
    assert tables.headline() in README, "README's results table differs: python docs/hooks/benchmark_tables.py"


def test_every_table_placeholder_names_a_table():
    tables = load_tables()
    for path in PAGES:
        for name in tables.PLACEHOLDER.findall(path.read_text(encoding="utf-8")):
            assert name in tables.TABLES, f"{path.name}: unknown table {name!r}"


def test_mkdocs_build_is_strict_clean(tmp_path: Path):
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("mkdocstrings") is None:
        pytest.skip("mkdocs and mkdocstrings are not installed: pip install -r requirements-dev.txt")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert "WARNING" not in proc.stderr, proc.stderr[-5000:]
    assert (tmp_path / "site" / "benchmarks" / "index.html").exists()
