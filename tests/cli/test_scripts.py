"""Smoke runs of the command-line scripts, as a user runs them, with tiny budgets."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENV = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}  # the scripts must quiet TF themselves


def run(script, *args, timeout=300):
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / script), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=ENV,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("cartpole")
    config = out / "small.json"
    config.write_text(
        json.dumps(
            {
                "hidden_sizes": [16, 16],
                "learning_starts": 100,
                "buffer_size": 1000,
                "train_freq": 8,
                "gradient_steps": 4,
            }
        )
    )
    proc = run(
        "train_cartpole.py",
        "--steps",
        400,
        "--seed",
        3,
        "--out",
        out,
        "--config",
        config,
        "--no-live-plot",
        "--eval-every",
        200,
        "--eval-episodes",
        2,
        "--confirm-episodes",
        2,
        "--final-episodes",
        3,
        "--threshold",
        1,
    )
    return out, proc


def test_train_cartpole_writes_every_result(trained):
    out, proc = trained
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in (
        "metrics.csv",
        "evaluations.csv",
        "learning_curve.png",
        "best.keras",
        "last.keras",
        "config.json",
        "summary.json",
        "untrained.gif",
        "trained.gif",
        "best.json",
    ):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 3 and summary["best_keras_evaluation"]["episodes"] == 3
    assert summary["stopped_on_reward"] is True and summary["env_steps"] == 200  # threshold 1: solved at once
    config = json.loads((out / "config.json").read_text())
    assert config["hidden_sizes"] == [16, 16] and config["seed"] == 3
    rows = (out / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("episode,step,return,length,mean_return_100")
    assert len(rows) > 2
    assert (out / "trained.gif").read_bytes()[:6] == b"GIF89a"


def test_evaluate_script(trained, tmp_path):
    out, _ = trained
    gif = tmp_path / "episode.gif"
    proc = run("evaluate.py", out / "best.keras", "--episodes", 3, "--gif", gif)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "CartPole-v1" in proc.stdout and "over 3 episodes" in proc.stdout
    assert gif.read_bytes()[:6] == b"GIF89a"


@pytest.mark.parametrize(
    "script,args,message",
    [
        ("evaluate.py", ["missing.keras"], "does not exist"),
        ("evaluate.py", [ROOT / "requirements.txt"], "not a .keras archive"),
        ("train_cartpole.py", ["--env", "NoSuchEnv-v0", "--steps", "10"], "NoSuchEnv-v0"),
        ("train_cartpole.py", ["--env", "Pendulum-v1", "--steps", "10"], "Discrete action space"),
        ("train_cartpole.py", ["--steps", "-5"], "not a positive integer"),
        ("train_cartpole.py", ["--config", "missing.json"], "config file 'missing.json' does not exist"),
        ("train_cartpole.py", ["--config", ROOT / "README.md"], "is not valid JSON"),
        ("train_pixels.py", ["--config", ROOT / "pytest.ini"], "is not valid JSON"),
    ],
)
def test_bad_input_is_one_line_and_status_2(tmp_path, script, args, message):
    trains = script.startswith("train_")
    proc = run(script, *args, "--out" if trains else "--episodes", tmp_path if trains else 1)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and message in lines[0]


def test_evaluate_reads_env_from_config_beside_model(trained):
    out, _ = trained
    from tfdqn.commands import evaluate

    assert evaluate.default_env_id(out / "best.keras") == "CartPole-v1"
    assert evaluate.default_env_id(Path("/nonexistent/best.keras")) == "CartPole-v1"


def test_help_documents_every_flag():
    proc = run("train_cartpole.py", "--help")
    assert proc.returncode == 0
    for flag in ("--steps", "--seed", "--out", "--no-live-plot", "--env", "--num-envs", "--threads"):
        assert flag in proc.stdout
