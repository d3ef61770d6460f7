"""The package: its dependency ranges hold the tested lock, and installed into a fresh virtual environment
`tfdqn` works from any directory."""

import os
import shutil
import site
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement  # pytest depends on packaging, so it is always here
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# Which lock file pins which of pyproject's groups (the core dependencies or an extra).
LOCKS = {
    "requirements.txt": ["dependencies", "experiments"],
    "requirements-atari.txt": ["atari"],
    "requirements-bench.txt": ["bench"],
    "requirements-dev.txt": ["dev", "docs", "export", "tracking", "minatar", "video"],
}


def read_lock(name: str) -> list[Requirement]:
    """The requirements of a requirements-*.txt file, without comments and `-r` includes."""
    lines = (line.split("#")[0].strip() for line in (ROOT / name).read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def group(name: str) -> list[Requirement]:
    """The requirements of one group in pyproject.toml, without the extras' references to tfdqn itself."""
    items = PROJECT["dependencies"] if name == "dependencies" else PROJECT["optional-dependencies"][name]
    return [r for r in map(Requirement, items) if canonicalize_name(r.name) != "tfdqn"]


def test_every_lock_pin_lies_in_its_range_and_every_range_is_pinned():
    assert set(PROJECT["optional-dependencies"]) >= {"experiments", "atari", "bench", "docs", "dev", "minatar"}
    assert "ray" not in {canonicalize_name(r.name) for r in group("dependencies")}  # an extra, not the core
    for lock_name, groups in LOCKS.items():
        if lock_name == "requirements-bench.txt" and not (ROOT / lock_name).exists():
            continue  # the benchmarks' own requirements may move under benchmarks/
        pins = {canonicalize_name(r.name): r for r in read_lock(lock_name)}
        ranges = {canonicalize_name(r.name): r for g in groups for r in group(g)}
        for name, pin in pins.items():
            specs = list(pin.specifier)
            assert len(specs) == 1 and specs[0].operator == "==", f"{lock_name}: {pin} is not an exact pin"
            assert name in ranges, f"{lock_name}: {pin} has no range in pyproject.toml {groups}"
            wanted = ranges[name]
            assert wanted.specifier.contains(specs[0].version), f"{lock_name}: {pin} is outside {wanted}"
            assert pin.extras == wanted.extras, f"{lock_name}: {pin} and {wanted} ask for different extras"
        missing = sorted(str(r) for name, r in ranges.items() if name not in pins)
        assert not missing, f"{lock_name} pins nothing for {missing}"


def test_ranges_are_ranges_and_the_dev_extra_brings_the_docs_and_ray():
    for requirement in group("dependencies"):
        assert not any(s.operator == "==" for s in requirement.specifier), f"{requirement}: pinned, not a range"
    assert any(
        r.startswith("tfdqn[") and "experiments" in r and "docs" in r and "export" in r
        for r in PROJECT["optional-dependencies"]["dev"]
    )


def test_entry_point_and_type_marker():
    assert PROJECT["scripts"]["tfdqn"] == "tfdqn.commands:main"
    setuptools_config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "py.typed" in setuptools_config["package-data"]["tfdqn"]
    assert (ROOT / "tfdqn" / "py.typed").is_file()


def test_scripts_do_not_edit_sys_path():
    for script in (ROOT / "scripts").glob("*.py"):
        assert "sys.path" not in script.read_text(), script.name


def this_environments_site_dirs() -> list[str]:
    """The site-packages directories of the interpreter running the tests (a venv's own, and the system's when
    that venv includes them)."""
    dirs = list(site.getsitepackages())
    if site.ENABLE_USER_SITE and os.path.isdir(site.getusersitepackages()):
        dirs.append(site.getusersitepackages())
    return dirs


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A new virtual environment with tfdqn built and installed from a copy of this checkout, offline.

    The dependencies are the ones of the environment running the tests: the new venv has no packages of its
    own (no pip, no setuptools) and a .pth file that adds this environment's site-packages after its own. So the
    build runs without isolation on this environment's setuptools (requirements-dev.txt), not on the
    setuptools 65.5 that `python -m venv` would put there, and `--system-site-packages` is not used: it would
    give the base interpreter's packages, not those of the venv a newcomer made and installed into."""
    base = tmp_path_factory.mktemp("package")
    source = base / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "tfdqn", source / "tfdqn", ignore=shutil.ignore_patterns("__pycache__"))
    env_dir = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True, timeout=300)
    python = env_dir / "bin" / "python"
    own_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    lines = [f"import site; site.addsitedir({d!r})" for d in this_environments_site_dirs()]
    (Path(own_site) / "_tfdqn_test_outer_env.pth").write_text("\n".join(lines) + "\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-build-isolation"]
        + ["--no-index", str(source)],
        capture_output=True,
        text=True,
        timeout=600,
        env=clean_env(),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
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
        [str(venv / "bin" / "python"), "-c", "import tfdqn, pathlib; print(pathlib.Path(tfdqn.__file__).parent)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env(),
    )
    installed = Path(where.stdout.strip())
    assert str(venv) in str(installed), where.stdout + where.stderr  # the installed copy, not this checkout
    assert (installed / "py.typed").is_file()
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
