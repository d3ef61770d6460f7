"""The long tests, deselected by default (`python -m pytest -m slow` runs them): learning to a stated optimum,
divergence on a real task, and a cluster address that never answers."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tfdqn import DivergenceAlarm, DivergenceWarning, DQNConfig
from tfdqn.tabular import TabularConfig, compare_with_optimum, make_frozenlake, train_q_table

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_fires_on_lunarlander_with_the_old_cartpole_defaults():
    # The report: the old defaults (He init, lr 2.3e-3, 4 gradient steps of 128 per env step, a
    # target copy every 10 steps) diverge on LunarLander. Measured: max |Q| 1,895 at 2,048 steps and
    # 14,551 at 4,096, past r_max / (1 - gamma) ~ 12,400.
    config = DQNConfig(
        env_id="LunarLander-v3",
        initializer="he",
        learning_rate=2.3e-3,
        batch_size=128,
        learning_starts=1_000,
        train_freq=32,
        gradient_steps=128,
        target_update_interval=10,
        tau=1.0,
        double_dqn=False,
        epsilon_end=0.04,
        epsilon_decay_steps=8_000,
        seed=0,
    )
    alarm = DivergenceAlarm()
    with pytest.warns(DivergenceWarning, match="training looks divergent"):
        from tfdqn import train

        train(config, 8_000, [alarm])
    assert alarm.alarm is not None


@pytest.mark.slow
def test_dqn_learns_frozenlake_to_the_exact_optimum(tmp_path):
    """DQN (a network on the one-hot state, not a table) on slippery FrozenLake 4x4: the greedy policy of the
    final network reaches the goal within 100 steps with the optimum's probability, to 0.02, by exact DP."""
    from tfdqn.tabular.frozenlake import check_q_network

    root = ROOT
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tfdqn",
            "train",
            "--env",
            "FrozenLake-v1",
            "--config",
            str(root / "scripts" / "configs" / "frozenlake.toml"),
            "--seed",
            "0",
            "--out",
            str(tmp_path),
            "--steps",
            "60000",
            "--no-stop",
            "--no-live-plot",
            "--no-gif",
            "--eval-every",
            "20000",
            "--eval-episodes",
            "10",
            "--final-episodes",
            "10",
        ],
        capture_output=True,
        text=True,
        timeout=3600,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = check_q_network(tmp_path / "last.keras", "4x4", True, gamma=0.99)
    assert report["success_gap"] <= 0.02, report


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_q_learning_4x4_slippery_within_002_of_optimum(seed):
    config = TabularConfig(map_name="4x4", is_slippery=True, seed=seed)  # default budget (~4 s)
    learner = train_q_table(config)
    env = make_frozenlake("4x4", True)
    report = compare_with_optimum(learner.q_table, env, config.gamma)
    env.close()
    assert report["optimal_success_probability"] == pytest.approx(0.7402, abs=1e-4)
    assert report["learned_success_probability"] >= report["optimal_success_probability"] - 0.02


@pytest.mark.slow
def test_q_learning_8x8_slippery_within_005_of_optimum():
    config = TabularConfig(map_name="8x8", is_slippery=True, seed=0)  # default budget (~25 s)
    learner = train_q_table(config)
    env = make_frozenlake("8x8", True)
    report = compare_with_optimum(learner.q_table, env, config.gamma)
    env.close()
    assert report["learned_success_probability"] >= report["optimal_success_probability"] - 0.05


@pytest.mark.slow
def test_an_address_that_accepts_but_never_answers_fails_within_30_s(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)  # accepts connections (the kernel does), never speaks Ray's protocol
    port = server.getsockname()[1]
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "sweep.py"),
            "--address",
            f"127.0.0.1:{port}",
            "--out",
            str(tmp_path / "s"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    server.close()
    assert time.perf_counter() - t0 < 30
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: no Ray cluster answered at 127.0.0.1:{port} within 20 s")
