"""The MinAtar side-by-side: the paper's scoring and reference table, its settings file, a smoke run of the
whole benchmark with a tiny budget, the SB3 worker, its settings and its updates (equal to tfdqn_equal's) when the
bench extra is there, and the acting benchmark."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from benchmarks import minatar_scores as scores
from benchmarks.common import ROOT
from benchmarks.launch import thread_env
from tfdqn import DQNConfig
from tfdqn.presets import MINATAR_PAPER, PRESETS

pytest.importorskip("minatar", reason="the minatar extra is not installed (pip install 'tfdqn[minatar]')")


def test_the_score_is_the_moving_average_of_the_last_100_training_episodes_at_each_checkpoint():
    returns = list(range(250))
    ends = [10 * (i + 1) for i in range(250)]  # episode i ends at frame 10(i+1)
    at = scores.moving_average_at(returns, ends, [5, 10, 500, 2_500, 10**6])
    assert math.isnan(at[0]) and at[1] == 0.0
    assert at[2] == np.mean(range(50)) and at[3] == np.mean(range(150, 250)) and at[4] == at[3]
    with pytest.raises(ValueError, match="order they ended"):
        scores.moving_average_at([1, 2], [20, 10], [30])


def test_normalisation_and_the_stratified_iqm():
    assert scores.normalise(10.0, "Breakout", 0.0) == 1.0 and scores.normalise(0.5, "Breakout", 0.5) == 0.0
    point, (lo, hi) = scores.stratified_iqm({"a": [0.0, 1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0, 7.0]}, resamples=2000)
    assert point == 3.5 and lo <= point <= hi
    one, (lo1, hi1) = scores.stratified_iqm({"a": [2.0], "b": [4.0, math.nan]})
    assert one == 3.0 and lo1 == hi1 == 3.0  # one seed per game: each game keeps its weight in every resample
    assert math.isnan(scores.stratified_iqm({"a": [math.nan]})[0])


def test_the_reference_table_marks_readings_and_seaquests_note():
    table = scores.reference_table()
    assert "| Breakout | 8.3 | 9.2 | 9.7 | ~10 |" in table and "oxygen-bar fix" in table


def test_the_paper_settings_file_is_the_papers_dqn_and_the_preset_is_the_screens_choice():
    data = json.loads((ROOT / "benchmarks" / "configs" / "minatar_paper.json").read_text())
    assert DQNConfig.from_dict(data) == DQNConfig(**MINATAR_PAPER)
    assert data["optimizer"] == "rmsprop" and data["max_grad_norm"] is None and data["train_freq"] == 1
    round2 = json.loads((ROOT / "benchmarks" / "configs" / "minatar_candidates_round2.json").read_text())
    chosen = round2["candidates"]["cheap_parts_tf4"]["fields"]
    assert PRESETS["minatar"].fields == {**MINATAR_PAPER, **chosen}
    assert "results/minatar/screen2/report.md" in PRESETS["minatar"].evidence


def minatar_benchmark(*args, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.minatar", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, env=thread_env(), cwd=ROOT,
    )  # fmt: skip


@pytest.mark.slow  # a whole benchmark's smoke run and its rerun (~20 s); its parts are tested in the default run
def test_a_tiny_run_of_the_whole_benchmark_reports_scores_and_greedy_evaluations(tmp_path):
    proc = minatar_benchmark(
        "--games", "Breakout", "--seeds", 1, "--frames", 1500, "--checkpoints", 750, 1500,
        "--eval-episodes", 2, "--random-episodes", 2, "--out", tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = (tmp_path / "report.md").read_text()
    assert "| Breakout | 1 |" in report and "normalised IQM" in report and "best.keras" in report
    (path,) = (tmp_path / "runs").glob("tfdqn_Breakout_0_1500_2_*.json")
    run = json.loads(path.read_text())
    assert run["env_steps"] == 1500 and len(run["returns"]) == len(run["end_frames"]) > 0
    # a rerun keeps the finished run (a stopped benchmark goes on where it was)
    stamp = path.stat().st_mtime_ns
    again = minatar_benchmark(
        "--games", "Breakout", "--seeds", 1, "--frames", 1500, "--checkpoints", 750, 1500,
        "--eval-episodes", 2, "--random-episodes", 2, "--out", tmp_path,
    )  # fmt: skip
    assert again.returncode == 0 and "env steps/s" not in again.stderr
    assert path.stat().st_mtime_ns == stamp


def test_sb3_side_says_in_one_line_when_the_bench_extra_is_missing(tmp_path):
    from benchmarks.tasks import missing_extras

    if not missing_extras():
        pytest.skip("torch and stable-baselines3 are installed: the SB3 worker runs instead")
    proc = minatar_benchmark("--systems", "tfdqn_equal", "sb3_equal", "--out", tmp_path)
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [
        "error: sb3_equal needs torch and stable-baselines3, not installed: pip install -r requirements-bench.txt"
    ]


@pytest.mark.slow  # needs the bench extra (torch, SB3), which the default run does not install
def test_the_sb3_worker_runs_a_few_frames(tmp_path):
    pytest.importorskip("torch", reason="the SB3 worker needs requirements-bench.txt")
    pytest.importorskip("stable_baselines3", reason="the SB3 worker needs requirements-bench.txt")
    from benchmarks.minatar import run_one

    run = run_one("sb3_equal", "Breakout", 0, 600, 0, tmp_path)
    assert run["env_steps"] == 600 and len(run["returns"]) == len(run["end_frames"])


def test_the_acting_benchmark_prints_numpy_and_tensorflow_times(capsys):
    from benchmarks.numpy_conv import main

    assert main(["--games", "Breakout", "--repeats", "2", "--calls", "3"]) == 0
    out = capsys.readouterr().out
    assert "| Breakout | 4 |" in out and "tf.function / NumPy" in out


def test_sb3_at_equal_settings_is_built_as_tfdqn_equal_runs():
    """The pair's fairness, checked on the built models (no training): the same network size, optimizer, update
    and target cadence, replay, discount, exploration at each frame, and no gradient clipping."""
    torch = pytest.importorskip("torch", reason="the SB3 worker needs requirements-bench.txt")
    pytest.importorskip("stable_baselines3", reason="the SB3 worker needs requirements-bench.txt")
    from benchmarks.minatar_runs import EQUAL_FIELDS, env_id, sb3_model
    from tfdqn.dqn.schedules import make_schedule
    from tfdqn.networks.build import build_q_network
    from tfdqn.presets import config_for_env

    frames = 1_000_000
    model = sb3_model("Seaquest", 0, frames)
    config = config_for_env(env_id("Seaquest"), "none", **EQUAL_FIELDS)
    keras_net = build_q_network((10, 10, 10), 6, config.hidden_sizes, conv_layers=config.conv_layers)
    assert sum(p.numel() for p in model.q_net.parameters()) == keras_net.count_params()
    assert (model.train_freq.frequency, model.gradient_steps) == (config.train_freq, config.gradient_steps) == (4, 1)
    assert model.target_update_interval == config.target_update_interval and model.tau == config.tau == 1.0
    assert (model.buffer_size, model.learning_starts, model.batch_size) == (100_000, 5_000, 32)
    assert model.gamma == config.gamma and math.isinf(model.max_grad_norm) and config.max_grad_norm is None
    assert not config.double_dqn and config.loss == "huber"  # SB3's DQN: plain targets, smooth L1 (Huber) loss
    optimizer = model.policy.optimizer
    assert isinstance(optimizer, torch.optim.RMSprop)
    group = optimizer.param_groups[0]
    assert (group["lr"], group["alpha"], group["eps"], group["centered"], group["momentum"]) == (
        2.5e-4, 0.95, 0.01, True, 0
    )  # fmt: skip
    epsilon = make_schedule(config)
    for frame in (0, 50_000, 100_000, 500_000):  # SB3's schedule reads the progress remaining
        assert model.exploration_schedule(1 - frame / frames) == pytest.approx(epsilon(frame, 0))


def torch_weights_as_keras(net, filters=16, side=8):
    """SB3's Q-network weights in the Keras network's layout: convolution (out, in, h, w) -> (h, w, in, out), and
    the hidden layer's inputs from PyTorch's flattening order (channel, row, column) to Keras's (row, column,
    channel)."""
    conv, hidden, out = net.features_extractor.conv, net.q_net[0], net.q_net[2]
    units = hidden.weight.shape[0]
    flat = hidden.weight.detach().numpy().reshape(units, filters, side, side).transpose(2, 3, 1, 0)
    return [
        conv.weight.detach().numpy().transpose(2, 3, 1, 0), conv.bias.detach().numpy(),
        flat.reshape(-1, units), hidden.bias.detach().numpy(),
        out.weight.detach().numpy().T, out.bias.detach().numpy(),
    ]  # fmt: skip


def test_tfdqn_equal_and_sb3_make_the_same_updates():
    """From the same weights on the same batches, 20 updates of tfdqn_equal's agent and of SB3's DQN (its own
    `train`, fed these batches) end at the same weights: same targets, loss, gradients and RMSProp."""
    torch = pytest.importorskip("torch", reason="the SB3 worker needs requirements-bench.txt")
    pytest.importorskip("stable_baselines3", reason="the SB3 worker needs requirements-bench.txt")
    import gymnasium as gym
    from stable_baselines3.common.logger import configure
    from stable_baselines3.common.type_aliases import ReplayBufferSamples

    from benchmarks.minatar_runs import EQUAL_FIELDS, env_id, sb3_model
    from tfdqn.dqn.agent import DQNAgent
    from tfdqn.presets import config_for_env
    from tfdqn.replay.buffer import Batch

    model = sb3_model("Freeway", 0, 1_000_000)
    model.set_logger(configure(None, []))
    config = config_for_env(env_id("Freeway"), "none", **EQUAL_FIELDS)
    agent = DQNAgent.from_spaces(gym.spaces.Box(0, 1, (10, 10, 7), bool), gym.spaces.Discrete(6), config)
    agent.q_network.set_weights(torch_weights_as_keras(model.q_net))
    agent.target_network.set_weights(torch_weights_as_keras(model.q_net_target))
    start = agent.q_network.get_weights()
    rng = np.random.default_rng(1)
    for _ in range(20):
        obs, nxt = rng.random((32, 10, 10, 7)) < 0.2, rng.random((32, 10, 10, 7)) < 0.2
        act, rew, term = rng.integers(0, 6, 32), rng.integers(0, 2, 32).astype(np.float32), rng.random(32) < 0.1
        samples = ReplayBufferSamples(
            torch.as_tensor(obs).float(), torch.as_tensor(act)[:, None],
            torch.as_tensor(nxt).float(), torch.as_tensor(term, dtype=torch.float32)[:, None],
            torch.as_tensor(rew)[:, None],
        )  # fmt: skip
        model.replay_buffer.sample = lambda batch_size, env=None, s=samples: s
        model.train(gradient_steps=1, batch_size=32)
        agent.learn(Batch(obs[None], act[None], rew[None], nxt[None], term[None]))
    ours, theirs = agent.q_network.get_weights(), torch_weights_as_keras(model.q_net)
    moved = max(float(np.abs(a - b).max()) for a, b in zip(ours, start))
    assert moved > 1e-4  # the updates did move the weights
    assert max(float(np.abs(a - b).max()) for a, b in zip(ours, theirs)) < 1e-6
