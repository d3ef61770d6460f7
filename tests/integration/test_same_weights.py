"""The restructure of issue 27 changed no behaviour: fixed-seed CartPole runs give bit-identical weights (and the
training command the same files) on the tree before it (BASELINE, taken from git) and on this one, run side by
side on this machine."""

import csv
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASELINE = "2b95487"  # the last commit before the package was moved into subpackages

FINGERPRINT = """
import hashlib, json
import tfdqn

tfdqn.configure_threads(1)
cases = {
    "cartpole_preset": ("auto", 2000, {}),
    "rainbow": ("rainbow", 1500, {"learning_starts": 500}),
    "defaults_2envs": ("none", 1500, {"num_envs": 2, "learning_starts": 500}),
}
out = {}
for name, (preset, steps, fields) in cases.items():
    trainer = tfdqn.train(tfdqn.config_for_env("CartPole-v1", preset, seed=3, **fields), steps)
    digest = hashlib.sha256()
    for model in (trainer.agent.q_network, trainer.agent.target_network):
        for w in model.get_weights():
            digest.update(w.tobytes())
    out[name] = [digest.hexdigest(), trainer.step, trainer.episodes, trainer.updates]
print("FINGERPRINT", json.dumps(out))
"""


def _fingerprint(source: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(source), "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(
        [sys.executable, "-c", FINGERPRINT], capture_output=True, text=True, timeout=600, env=env, cwd=source
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("FINGERPRINT "))
    return json.loads(line.split(" ", 1)[1])


def _baseline(tmp_path: Path) -> Path:
    """The package as it was at BASELINE, unpacked under `tmp_path` (skips the test without that history)."""
    archive = tmp_path / "baseline.tar"
    proc = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", "-o", str(archive), BASELINE, "tfdqn"],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        pytest.skip(f"the baseline commit {BASELINE} is not in this checkout's history: {proc.stderr.strip()}")
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "baseline", filter="data")
    return tmp_path / "baseline"


@pytest.mark.slow  # 30 s; both checks here run with -m slow (CI time): run them before a release
def test_fixed_seed_runs_are_bit_identical_to_the_tree_before_the_restructure(tmp_path):
    before = _fingerprint(_baseline(tmp_path))
    after = _fingerprint(ROOT)
    assert after == before


def _train_command(source: Path, out: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(source), "TF_CPP_MIN_LOG_LEVEL": "3"}
    args = ["--steps", "1200", "--no-gif", "--no-live-plot", "--no-stop", "--eval-every", "400", "--eval-episodes", "3"]
    args += ["--confirm-episodes", "3", "--final-episodes", "3", "--out", str(out)]
    proc = subprocess.run(
        [sys.executable, "-m", "tfdqn", "train", *args], capture_output=True, text=True, timeout=600, env=env
    )
    assert proc.returncode == 0, proc.stderr[-3000:]


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return [{k: v for k, v in row.items() if "seconds" not in k} for row in csv.DictReader(f)]


@pytest.mark.slow  # a regression check of one past restructure; test_determinism covers the same run by default
def test_the_training_command_writes_the_same_run_as_before_the_restructure(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    _train_command(_baseline(tmp_path), old)
    _train_command(ROOT, new)
    for name in ("metrics.csv", "evaluations.csv"):
        assert _rows(new / name) == _rows(old / name), name
    timeless = {"train_seconds", "wall_seconds", "versions", "eval_max_steps"}  # the last: added since
    summaries = [
        {k: v for k, v in json.loads((d / "summary.json").read_text()).items() if k not in timeless} for d in (old, new)
    ]
    assert summaries[1] == summaries[0]
    for name in ("best.keras", "last.keras"):
        with zipfile.ZipFile(old / name) as a, zipfile.ZipFile(new / name) as b:
            assert a.read("model.weights.h5") == b.read("model.weights.h5"), name
