"""Tabular Q-learning and the exact dynamic programming that checks it (tfdqn.tabular)."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from tfdqn.errors import ConfigError, TfdqnError, TrainingError
from tfdqn.tabular.config import TabularConfig, epsilon_schedule
from tfdqn.tabular.dp import (
    compare_with_optimum,
    greedy_actions,
    max_success_probability,
    success_probability,
    value_iteration,
)
from tfdqn.tabular.mdp import MAPS, TabularMDP, make_frozenlake
from tfdqn.tabular.qlearning import QLearner, train_q_table

ROOT = Path(__file__).resolve().parents[2]
ENV = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}  # the script must quiet TF itself

# Two states, two actions, solved by hand:
#   state 0: "quit" pays 1 and ends; "go" pays 0 and moves to state 1 or stays in 0, each with probability 1/2.
#   state 1: "quit" pays 2 and ends; "go" pays 0 and moves to state 0.
# gamma 0.9:  Q(0,go) = 0.9 (0.5 V1 + 0.5 V0) with V1 = 2; if V0 = Q(0,go) = x then x = 0.9 + 0.45 x,
#             x = 0.9 / 0.55 = 18/11 > 1 = Q(0,quit), so V0 = 18/11 and Q(1,go) = 0.9 * 18/11 = 81/55.
# gamma 0.5:  if going were best, x = 0.5 + 0.25 x gives x = 2/3 < 1, so V0 = 1 (quit);
#             Q(0,go) = 0.5 (0.5 * 2 + 0.5 * 1) = 0.75 and Q(1,go) = 0.5 * 1 = 0.5.
TWO_STATE = {
    0: {0: [(1.0, 0, 1.0, True)], 1: [(0.5, 1, 0.0, False), (0.5, 0, 0.0, False)]},
    1: {0: [(1.0, 1, 2.0, True)], 1: [(1.0, 0, 0.0, False)]},
}


@pytest.mark.parametrize(
    "gamma,expected",
    [
        (0.9, [[1.0, 18 / 11], [2.0, 81 / 55]]),
        (0.5, [[1.0, 0.75], [2.0, 0.5]]),
    ],
)
def test_value_iteration_matches_hand_solved_mdp(gamma, expected):
    q = value_iteration(TWO_STATE, 2, 2, gamma=gamma, tol=1e-13)
    np.testing.assert_allclose(q, expected, atol=1e-10)


def test_value_iteration_does_not_bootstrap_past_terminal():
    # One state: "end" pays 1 and terminates (back to itself); "wait" pays 0 and stays.
    P = {0: {0: [(1.0, 0, 1.0, True)], 1: [(1.0, 0, 0.0, False)]}}
    q = value_iteration(P, 1, 2, gamma=0.9)
    np.testing.assert_allclose(q, [[1.0, 0.9]], atol=1e-9)  # not 1 + 0.9 * 1


def test_value_iteration_rejects_bad_gamma_and_reports_non_convergence():
    with pytest.raises(ConfigError, match="gamma=1.5"):
        value_iteration(TWO_STATE, 2, 2, gamma=1.5)
    # gamma 1 on a loop that pays forever has no fixed point
    P = {0: {0: [(1.0, 0, 1.0, False)]}}
    with pytest.raises(TrainingError, match="did not converge"):
        value_iteration(P, 1, 1, gamma=1.0, max_iterations=100)


def chain(p_goal=0.5):
    """0 -> 1 for sure; from 1 the goal (reward 1, terminal state 2) with p_goal, else stay in 1.
    Action 1 everywhere jumps into a hole (state 3, reward 0, terminal)."""
    hole = [(1.0, 3, 0.0, True)]
    return {
        0: {0: [(1.0, 1, 0.0, False)], 1: hole},
        1: {0: [(p_goal, 2, 1.0, True), (1 - p_goal, 1, 0.0, False)], 1: hole},
        2: {0: [(1.0, 2, 0.0, True)], 1: [(1.0, 2, 0.0, True)]},
        3: {0: [(1.0, 3, 0.0, True)], 1: [(1.0, 3, 0.0, True)]},
    }


@pytest.mark.parametrize("horizon,expected", [(0, 0.0), (1, 0.0), (2, 0.5), (3, 0.75), (4, 0.875)])
def test_success_probability_by_hand(horizon, expected):
    # Within H steps: one step to reach state 1, then H-1 tries at 1/2: 1 - 0.5 ** (H - 1).
    policy = np.array([0, 0, 0, 0])
    assert success_probability(chain(), policy, horizon) == pytest.approx(expected, abs=1e-12)
    assert success_probability(chain(), np.array([1, 0, 0, 0]), horizon) == 0.0  # straight into the hole
    assert max_success_probability(chain(), horizon) == pytest.approx(expected, abs=1e-12)


def test_success_probability_from_a_distribution_and_terminal_detection():
    mdp = TabularMDP.from_transitions(chain())
    assert mdp.terminal.tolist() == [False, False, True, True]
    # Half the episodes start next to the goal (4 tries: 1 - 0.5 ** 4), half at 0 (3 tries: 1 - 0.5 ** 3).
    start = np.array([0.5, 0.5, 0.0, 0.0])
    assert success_probability(mdp, np.zeros(4, int), 4, start) == pytest.approx(0.5 * 0.9375 + 0.5 * 0.875)
    with pytest.raises(ConfigError, match="policy"):
        success_probability(mdp, np.array([0, 5, 0, 0]), 4)
    with pytest.raises(TfdqnError, match="sum to"):
        TabularMDP.from_transitions({0: {0: [(0.5, 0, 0.0, True)]}})


def frozen_model(map_name="4x4", slippery=True):
    env = make_frozenlake(map_name, slippery)
    try:
        return (TabularMDP.from_env(env), env.spec.max_episode_steps, np.asarray(env.unwrapped.initial_state_distrib))
    finally:
        env.close()


def test_frozenlake_4x4_slippery_optimum_is_about_074():
    """The figure usually quoted for 4x4 slippery FrozenLake within its 100-step limit is ~0.74.

    Measured here: the best of all policies (a horizon-aware DP, free to change action with the steps
    left) reaches the goal with probability 0.7442. The greedy policy of Q* reaches it with 0.7402 for
    every gamma from 0.979 up to 1 (0.99 and 0.999 included); for gamma up to 0.978 (0.9, 0.95) it is a
    different policy, with 0.7298. Without a time limit the gamma-0.99 policy succeeds with 14/17 = 0.8235.
    """
    mdp, horizon, start = frozen_model()
    assert horizon == 100
    assert max_success_probability(mdp, horizon, start) == pytest.approx(0.7442, abs=1e-4)
    for gamma in (0.99, 0.999):
        optimal = greedy_actions(value_iteration(mdp, gamma=gamma), atol=1e-9)
        assert success_probability(mdp, optimal, horizon, start) == pytest.approx(0.7402, abs=1e-4)
    optimal = greedy_actions(value_iteration(mdp, gamma=0.99), atol=1e-9)
    assert success_probability(mdp, optimal, 100_000, start) == pytest.approx(14 / 17, abs=1e-9)
    # the well-known optimal policy: left at the start, up along the top row, ...
    assert optimal.reshape(4, 4)[0].tolist() == [0, 3, 3, 3]
    assert success_probability(
        mdp, greedy_actions(value_iteration(mdp, gamma=0.9), atol=1e-9), horizon, start
    ) == pytest.approx(0.7298, abs=1e-4)


def test_frozenlake_deterministic_optimum_and_values():
    mdp, horizon, start = frozen_model(slippery=False)
    q = value_iteration(mdp, gamma=0.99)
    assert success_probability(mdp, greedy_actions(q, atol=1e-9), horizon, start) == 1.0
    assert q[0].max() == pytest.approx(0.99**5)  # six moves to the goal: reward discounted five times
    # gamma 1 ties every safe action at 1; argmax then picks "left" at the start and never arrives
    q1 = value_iteration(mdp, gamma=1.0)
    assert success_probability(mdp, greedy_actions(q1, atol=1e-9), horizon, start) == 0.0


def test_frozenlake_8x8_model():
    mdp, horizon, start = frozen_model("8x8")
    assert horizon == 200 and mdp.n_states == 64 and int(mdp.terminal.sum()) == 11  # 10 holes and the goal
    optimal = greedy_actions(value_iteration(mdp, gamma=0.99), atol=1e-9)
    assert success_probability(mdp, optimal, horizon, start) == pytest.approx(0.8630, abs=1e-4)
    assert max_success_probability(mdp, horizon, start) == pytest.approx(0.9132, abs=1e-4)


# ------------------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("map_name", "5x5", "choose from 4x4, 8x8"),
        ("alpha", 0.0, "(0, 1]"),
        ("alpha", 1.5, "(0, 1]"),
        ("alpha", math.nan, "(0, 1]"),
        ("alpha_end", 0.5, "must not exceed alpha"),
        ("gamma", 0.0, "(0, 1]"),
        ("gamma", 1.01, "(0, 1]"),
        ("epsilon_start", -0.1, "[0, 1]"),
        ("epsilon_end", 1.5, "[0, 1]"),
        ("exploration", "greedy", "must be one of"),
        ("episodes", 0, "positive integer"),
        ("episodes", 2.5, "positive integer"),
        ("seed", -1, "non-negative"),
        ("is_slippery", "yes", "True or False"),
        ("decay_fraction", 0.0, "(0, 1]"),
    ],
)
def test_config_errors_name_field_and_value(field, value, message):
    with pytest.raises(ConfigError) as info:
        TabularConfig(**{field: value})
    text = str(info.value)
    assert f"TabularConfig.{field}={value!r}" in text and message in text


def test_config_defaults_round_trip_and_env_id():
    config = TabularConfig(map_name="8x8", seed=3)
    assert config.env_id == "FrozenLake8x8-v1" and config.episodes == 50_000
    assert TabularConfig().env_id == "FrozenLake-v1" and TabularConfig().episodes == 20_000
    data = json.loads(json.dumps(config.to_dict()))
    assert TabularConfig.from_dict(data) == config
    with pytest.raises(ConfigError, match="unknown TabularConfig field"):
        TabularConfig.from_dict({**data, "learning_rate": 0.1})
    with pytest.raises(ConfigError, match="does not match"):
        TabularConfig.from_dict({**data, "env_id": "FrozenLake-v1"})
    assert set(MAPS) == {"4x4", "8x8"}


def test_unknown_map_is_a_clear_error():
    with pytest.raises(ConfigError, match="map_name='16x16'.*choose from 4x4, 8x8"):
        make_frozenlake("16x16")


def test_epsilon_schedules_count_episodes():
    linear = epsilon_schedule(TabularConfig(episodes=100, epsilon_start=1.0, epsilon_end=0.1, decay_fraction=0.5))
    assert [round(linear(e), 6) for e in (0, 25, 50, 99)] == [1.0, 0.55, 0.1, 0.1]
    mult = epsilon_schedule(TabularConfig(exploration="multiplicative", epsilon_multiplier=0.5, epsilon_end=0.2))
    assert [mult(e) for e in (0, 1, 2, 3)] == [1.0, 0.5, 0.25, 0.2]
    expo = epsilon_schedule(TabularConfig(exploration="exponential", epsilon_decay_rate=1.0, epsilon_end=0.0))
    assert expo(1) == pytest.approx(math.exp(-1))


# ------------------------------------------------------------------------------------------ Q-learning


def test_q_learning_4x4_deterministic_is_optimal():
    config = TabularConfig(is_slippery=False, episodes=2_000, seed=1)
    learner = train_q_table(config)
    env = make_frozenlake("4x4", False)
    report = compare_with_optimum(learner.q_table, env, config.gamma, visits=learner.visits)
    env.close()
    assert report["learned_success_probability"] == 1.0 == report["optimal_success_probability"]
    assert report["horizon"] == 100
    # values along the learned path approach gamma ** (steps left - 1)
    assert learner.q_table[14, 2] == pytest.approx(1.0, abs=1e-3)  # next to the goal: reward 1, no bootstrap


class OneStep(gym.Env):
    """Any action moves state 0 to state 1 paying 0.5; the episode then terminates or is truncated."""

    observation_space = gym.spaces.Discrete(3)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, terminate):
        self.terminate = terminate

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return 0, {}

    def step(self, action):
        return 1, 0.5, self.terminate, not self.terminate, {}


@pytest.mark.parametrize(
    "terminate,expected",
    [
        (False, 0.5 * 0.4 + 0.5 * (0.5 + 0.9 * 0.6)),  # truncated: still bootstraps from max Q(1, .) = 0.6
        (True, 0.5 * 0.4 + 0.5 * 0.5),  # terminated: no bootstrap
    ],
)
def test_q_update_is_the_written_formula(terminate, expected):
    config = TabularConfig(episodes=1, alpha=0.5, alpha_end=0.5, gamma=0.9, epsilon_start=0.0, epsilon_end=0.0)
    learner = QLearner(config, env=OneStep(terminate))
    learner.q_table = [[0.4, 0.0], [0.2, 0.6], [0.0, 0.0]]  # greedy action in state 0: 0
    learner.train()
    assert learner.q_table[0, 0] == pytest.approx(expected)
    assert learner.q_table[0, 1] == 0.0 and learner.q_table[1].tolist() == [0.2, 0.6]
    assert learner.visits.sum() == 1 and learner.step == 1


def test_q_learner_rejects_non_discrete_env():
    env = gym.make("CartPole-v1")
    with pytest.raises(TfdqnError, match="Discrete observations"):
        QLearner(TabularConfig(), env=env)
    env.close()
    learner = QLearner(TabularConfig(), env=OneStep(True))
    with pytest.raises(ValueError, match="shape"):
        learner.q_table = np.zeros((2, 2))


def test_listener_events_and_logs():
    from tfdqn.listeners.base import Listener

    class Recorder(Listener):
        def __init__(self):
            self.events, self.ends = [], []

        def set_trainer(self, trainer):
            super().set_trainer(trainer)
            assert trainer.config.env_id == "FrozenLake-v1"

        def on_train_begin(self, logs=None):
            self.events.append("train_begin")
            self.begin = logs

        def on_episode_begin(self, episode, logs=None):
            self.events.append(("episode_begin", episode))

        def on_episode_end(self, episode, logs=None):
            self.events.append(("episode_end", episode))
            self.ends.append(logs)
            if episode == 4:
                self.trainer.stop_training = True

        def on_train_end(self, logs=None):
            self.events.append("train_end")
            self.end = logs

    rec = Recorder()
    learner = QLearner(TabularConfig(episodes=50, seed=2), listeners=[rec])
    result = learner.train()
    learner.env.close()
    assert rec.events[0] == "train_begin" and rec.events[-1] == "train_end"
    assert rec.events[1:-1] == [e for i in range(5) for e in (("episode_begin", i), ("episode_end", i))]
    assert result["stopped"] is True and result["episodes"] == 5 == learner.episodes
    assert rec.begin["config"]["env_id"] == "FrozenLake-v1" and rec.begin["total_episodes"] == 50
    keys = {
        "return",
        "length",
        "step",
        "epsilon",
        "mean_return_100",
        "loss",
        "mean_q",
        "terminated",
        "truncated",
        "env_index",
        "wall_seconds",
        "success",
    }
    for logs in rec.ends:
        assert keys <= set(logs)
        assert math.isnan(logs["loss"]) and logs["env_index"] == 0
        assert logs["success"] == (logs["terminated"] and logs["return"] > 0)
    assert rec.ends[-1]["step"] == learner.step == sum(logs["length"] for logs in rec.ends)


def test_a_tabular_listener_sees_a_narrow_view_of_the_run_not_the_learner():
    """`self.trainer` is a `TabularView`: the documented names only, the counters live, the table a read-only copy,
    `stop_training` stopping the learner, and none of the learner's internals."""
    from tfdqn.listeners.base import Listener
    from tfdqn.tabular.view import TabularView

    shown = ("step", "updates", "episodes", "config", "q_table", "visits", "stop_training")
    assert {name for name in dir(TabularView) if not name.startswith("_")} == set(shown)

    class Watch(Listener):
        def on_episode_end(self, episode, logs=None):
            view = self.trainer
            self.seen = (view.step, view.updates, view.episodes, view.q_table, view.visits)
            if episode == 2:
                view.stop_training = True

    watch = Watch()
    learner = QLearner(TabularConfig(episodes=50, seed=2), listeners=[watch])
    end = learner.train()
    learner.env.close()
    view = watch.trainer
    assert isinstance(view, TabularView) and end["stopped"] is True and learner.episodes == 3
    step, updates, episodes, table, visits = watch.seen
    assert step == updates == learner.step == end["updates"] and episodes == 3 and visits.sum() == step
    np.testing.assert_array_equal(table, learner.q_table)
    with pytest.raises(ValueError, match="read-only"):
        table[0, 0] = 1.0  # the learner's table stays its own
    assert view.config is learner.config and view.config.env_id == "FrozenLake-v1"
    for name in ("env", "rng", "listeners", "train", "_q", "epsilon_schedule", "recent_returns", "__dict__"):
        assert not hasattr(view, name), name
    with pytest.raises(AttributeError, match="it shows " + ", ".join(shown)):
        _ = view.env
    for name in ("step", "q_table", "config", "rng"):
        with pytest.raises(AttributeError):  # read-only, and no new attribute (a typo) is silently accepted
            setattr(view, name, 0)


def test_failing_listener_is_reported_after_every_listener_saw_the_end():
    from tfdqn.listeners.base import Listener

    class Broken(Listener):
        def on_episode_end(self, episode, logs=None):
            raise KeyError("boom")

    class EndSeen(Listener):
        def on_train_end(self, logs=None):
            self.logs = logs

    seen = EndSeen()
    learner = QLearner(TabularConfig(episodes=10), listeners=[Broken(), seen])
    with pytest.raises(TrainingError, match="Broken.on_episode_end raised KeyError"):
        learner.train()
    learner.env.close()
    assert "boom" in seen.logs["error"] and seen.logs["episodes"] == 1


def test_listeners_work_unchanged(tmp_path):
    import io

    from tfdqn.listeners import LivePlot, MetricsLogger, ProgressLogger

    stream = io.StringIO()
    learner = QLearner(
        TabularConfig(episodes=30, seed=0),
        listeners=[
            ProgressLogger(stream=stream),
            MetricsLogger(tmp_path),
            LivePlot(tmp_path / "curve.png", live=False, value_key="success", value_label="success"),
        ],
    )
    learner.train()
    learner.env.close()
    assert len((tmp_path / "metrics.csv").read_text().splitlines()) == 31
    assert (tmp_path / "curve.png").read_bytes()[:4] == b"\x89PNG"
    assert "training ended" in stream.getvalue()


def test_same_seed_same_table():
    a = train_q_table(TabularConfig(episodes=200, seed=7)).q_table
    b = train_q_table(TabularConfig(episodes=200, seed=7)).q_table
    c = train_q_table(TabularConfig(episodes=200, seed=8)).q_table
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


# -------------------------------------------------------------------------------------------- script


def run_script(*args, timeout=300):
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_frozenlake.py"), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=ENV,
        cwd=ROOT,
    )


def test_script_writes_every_result(tmp_path):
    proc = run_script(
        "--map", "4x4", "--no-slippery", "--episodes", 300, "--seed", 1, "--out", tmp_path, "--no-live-plot"
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = tmp_path / "4x4-deterministic"
    for name in ("q_table.npy", "metrics.csv", "learning_curve.png", "policy.png", "agent.gif", "summary.json"):
        assert (out / name).is_file(), name
    assert np.load(out / "q_table.npy").shape == (16, 4)
    assert (out / "agent.gif").read_bytes()[:6] == b"GIF89a"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["optimal_success_probability"] == 1.0 and summary["horizon"] == 100
    assert 0.0 <= summary["learned_success_probability"] <= 1.0
    assert summary["episodes"] == 300 and summary["seed"] == 1 and summary["env_id"] == "FrozenLake-v1"
    assert summary["optimal_policy"][3] == "HRRG"  # bottom row: hole, right, right, goal
    assert "max_abs_q_error" in summary and "probability" in proc.stdout


def test_script_help_lists_every_flag():
    proc = run_script("--help", timeout=60)
    assert proc.returncode == 0
    for flag in ("--map", "--slippery", "--no-slippery", "--episodes", "--seed", "--out", "--no-live-plot"):
        assert flag in proc.stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (["--map", "5x5"], "map_name='5x5'"),
        (["--alpha", "2"], "TabularConfig.alpha=2.0"),
        (["--gamma", "0"], "TabularConfig.gamma=0.0"),
        (["--episodes", "ten"], "'ten' is not an integer"),
    ],
)
def test_script_bad_input_is_one_line_and_status_2(tmp_path, args, message):
    proc = run_script(*args, "--out", tmp_path, timeout=120)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and message in lines[0]
    assert not any(tmp_path.iterdir())  # nothing written
