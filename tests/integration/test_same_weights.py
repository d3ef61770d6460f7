"""The restructure of issue 27 changed no behaviour: fixed-seed CartPole runs give bit-identical weights on the
tree before it (BASELINE, taken from git) and on this one, run side by side on this machine."""

import json
import os
import subprocess
import sys
import tarfile
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


def test_fixed_seed_runs_are_bit_identical_to_the_tree_before_the_restructure(tmp_path):
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
    before = _fingerprint(tmp_path / "baseline")
    after = _fingerprint(ROOT)
    assert after == before
