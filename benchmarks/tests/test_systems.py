"""The worker: one run of one system in a fresh process, under its module name and its old script name."""

import json
import subprocess
import sys

import numpy as np
import pytest

from benchmarks.common import ROOT
from benchmarks.launch import run_worker, thread_env


def test_tfdqn_worker_under_its_old_name_takes_preset_none_as_the_plain_defaults(tmp_path):
    out = tmp_path / "run.json"
    proc = subprocess.run(
        [sys.executable, "scripts/benchmark_systems.py", "tfdqn_default", "--seed", "0", "--steps", "300"]
        + ["--out", str(out), "--preset", "none"],
        capture_output=True,
        text=True,
        env=thread_env(),
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    config = json.loads(out.read_text())["config"]
    assert (config["hidden_sizes"], config["gamma"]) == ([256, 256], 0.99)  # not the cartpole preset's 64x64, 0.98


def test_a_config_override_may_not_set_the_seed(tmp_path):
    with pytest.raises(RuntimeError, match="a run's seed is its --seed"):
        run_worker("tfdqn_default", 0, 100, "CartPole-v1", tmp_path / "run.json", "--config", '{"seed": 5}')


@pytest.mark.slow  # needs the bench extra (torch, SB3), which the default run does not install
def test_sb3_worker_runs_a_few_steps(tmp_path):
    pytest.importorskip("torch", reason="the SB3 worker needs requirements-bench.txt")
    pytest.importorskip("stable_baselines3", reason="the SB3 worker needs requirements-bench.txt")
    run = run_worker("sb3_zoo", 0, 1200, "CartPole-v1", tmp_path / "run.json")
    assert run["evaluations"][0]["step"] == 1000 and run["best_100"]["episodes"] == 100
    assert np.isfinite(run["train_steps_per_s"])
