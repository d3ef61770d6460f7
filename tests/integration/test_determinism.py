"""`--deterministic`: two runs with the same seed, each a fresh process, write identical metrics.csv and
evaluations.csv (all but the wall-clock column) and identical weights; `train(deterministic=True)` uses the same
switch (`tfdqn.enable_determinism`)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from helpers import CLI_ENV

from tfdqn import DQNConfig, load_q_network

ROOT = Path(__file__).resolve().parents[2]
# small and short (two processes, each loading TensorFlow), but ~200 gradient steps and a target sync or two, so
# that any run-to-run difference in the updates shows in the weights and the losses
SMALL = {
    "hidden_sizes": [16],
    "learning_starts": 100,
    "buffer_size": 1000,
    "train_freq": 2,
    "target_update_interval": 200,
}


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return [{k: v for k, v in row.items() if k != "wall_seconds"} for row in csv.DictReader(f)]


def test_two_deterministic_runs_with_one_seed_write_the_same_metrics_and_weights(tmp_path):
    config = tmp_path / "small.json"
    config.write_text(json.dumps(SMALL))
    flags = ["--config", config, "--steps", 500, "--seed", 5, "--no-stop", "--no-gif", "--no-live-plot"]
    flags += ["--eval-every", 250, "--eval-episodes", 2, "--final-episodes", 1, "--deterministic"]
    runs = [  # side by side: the two cores
        subprocess.Popen(
            [sys.executable, "-m", "tfdqn", "train", *map(str, flags), "--out", str(tmp_path / name)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=CLI_ENV,
            cwd=ROOT,
        )
        for name in ("a", "b")
    ]
    for run in runs:
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err[-3000:]
    a, b = tmp_path / "a", tmp_path / "b"
    assert len(rows(a / "metrics.csv")) > 10 and rows(a / "metrics.csv")[-1]["loss"]  # updates ran
    assert rows(a / "metrics.csv") == rows(b / "metrics.csv")
    assert rows(a / "evaluations.csv") == rows(b / "evaluations.csv")
    for name in ("last.keras", "best.keras"):
        for x, y in zip(load_q_network(a / name).get_weights(), load_q_network(b / name).get_weights(), strict=True):
            np.testing.assert_array_equal(x, y)


def test_train_deterministic_turns_on_the_same_switch(monkeypatch):
    import tfdqn.training.api as api

    calls = []
    monkeypatch.setattr(api, "enable_determinism", lambda: calls.append(True))
    api.train(DQNConfig(learning_starts=1_000), 10, deterministic=True)
    api.train(DQNConfig(learning_starts=1_000), 10)
    assert calls == [True]
