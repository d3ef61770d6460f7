"""The README's code and commands are the real ones."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def example(name: str) -> str:
    match = re.search(rf"<!-- example: {name} -->\s*```python\n(.*?)```", README, re.S)
    assert match, f"README example {name!r} not found"
    return match.group(1)


def test_custom_listener_example_runs_as_printed():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", example("custom-listener")],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=ROOT,
    )
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
