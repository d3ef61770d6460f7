"""The package: installed into a fresh virtual environment, `tfdqn` works from any directory."""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_pyproject_dependencies_are_requirements_txt():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    assert sorted(project["dependencies"]) == sorted(p for p in pins if p)
    assert project["scripts"]["tfdqn"] == "tfdqn.commands:main"


def test_scripts_do_not_edit_sys_path():
    for script in (ROOT / "scripts").glob("*.py"):
        assert "sys.path" not in script.read_text(), script.name


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A fresh virtual environment with tfdqn installed from a copy of this checkout (the dependencies come
    from the system's site-packages: offline, no build isolation)."""
    base = tmp_path_factory.mktemp("package")
    source = base / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "tfdqn", source / "tfdqn", ignore=shutil.ignore_patterns("__pycache__"))
    env_dir = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(env_dir)], check=True, timeout=300)
    python = env_dir / "bin" / "python"
    proc = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index", str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return env_dir


def clean_env():
    """The environment without this checkout on PYTHONPATH, so only the installed copy can be imported."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("TF_")}


def test_installed_command_help_and_a_300_step_run_outside_the_repository(venv, tmp_path):
    tfdqn = venv / "bin" / "tfdqn"
    proc = subprocess.run(
        [str(tfdqn), "--help"], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=clean_env()
    )
    assert proc.returncode == 0, proc.stderr
    assert "train" in proc.stdout and "evaluate" in proc.stdout
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import tfdqn; print(tfdqn.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env(),
    )
    assert str(venv) in where.stdout, where.stdout  # the installed copy, not this checkout
    proc = subprocess.run(
        [
            str(tfdqn),
            "train",
            "--steps",
            "300",
            "--out",
            "run",
            "--no-gif",
            "--no-live-plot",
            "--eval-every",
            "150",
            "--eval-episodes",
            "2",
            "--confirm-episodes",
            "2",
            "--final-episodes",
            "2",
            "--preset",
            "none",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env=clean_env(),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in ("best.keras", "last.keras", "config.json", "summary.json", "metrics.csv", "learning_curve.png"):
        assert (tmp_path / "run" / name).is_file(), name
    proc = subprocess.run(
        [str(tfdqn), "evaluate", "run/best.keras", "--episodes", "2"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=clean_env(),
    )
    assert proc.returncode == 0 and "over 2 episodes" in proc.stdout, proc.stderr[-3000:]
