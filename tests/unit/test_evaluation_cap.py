"""A greedy episode of an environment without a time limit is cut, not run forever: at a cap the caller gives
(`max_steps`, `--eval-max-steps`), else at `UNLIMITED_EPISODE_CAP` (MinAtar's games at their own, larger cap:
tests/unit/test_minatar.py), said in one line at the start of a run."""

import gymnasium as gym
import numpy as np
import pytest

from tfdqn.dqn import evaluation
from tfdqn.envs.atari import atari_env_id
from tfdqn.envs.pixels import PIXEL_CARTPOLE_ID
from tfdqn.errors import ArgumentError
from tfdqn.listeners.evaluation import PeriodicEvaluation


class NeverEnds(gym.Env):
    """One state, one reward per step, never terminates, no TimeLimit (like CliffWalking-v1's spec)."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(2, np.float32), {}

    def step(self, action):
        return np.zeros(2, np.float32), 1.0, False, False, {}


def test_an_episode_without_a_time_limit_is_cut_with_one_warning(monkeypatch, tmp_path):
    monkeypatch.setattr(evaluation, "UNLIMITED_EPISODE_CAP", 50)
    policy = lambda obs: np.zeros(len(obs), dtype=np.int64)  # noqa: E731
    with pytest.warns(UserWarning, match="no time limit.*cut there") as caught:
        result = evaluation.evaluate(policy, NeverEnds(), episodes=3, seed=0)
    assert list(result.returns) == [50.0, 50.0, 50.0]
    assert len(caught) == 1


def test_an_environment_with_its_own_time_limit_is_not_capped():
    env = gym.make("CartPole-v1")
    assert evaluation.episode_step_cap(env) is None
    assert evaluation.episode_step_cap(NeverEnds()) == evaluation.UNLIMITED_EPISODE_CAP


def test_a_cap_the_caller_gives_cuts_any_environment_without_a_warning(recwarn):
    policy = lambda obs: np.zeros(len(obs), dtype=np.int64)  # noqa: E731
    assert list(evaluation.evaluate(policy, NeverEnds(), episodes=2, seed=0, max_steps=7).returns) == [7.0, 7.0]
    cartpole = gym.make("CartPole-v1")  # its own limit is 500; a given cap still applies
    assert evaluation.evaluate(policy, cartpole, episodes=1, seed=0, max_steps=3).returns[0] <= 3.0
    assert not [w for w in recwarn if "no time limit" in str(w.message)]


@pytest.mark.parametrize("bad", [0, -1, 2.5, "10", True])
def test_a_bad_cap_is_refused(bad):
    with pytest.raises(ArgumentError, match="max_steps="):
        evaluation.evaluate(lambda obs: np.zeros(len(obs), dtype=np.int64), NeverEnds(), 1, max_steps=bad)
    with pytest.raises(ArgumentError, match="max_steps="):
        PeriodicEvaluation(10, 1, max_steps=bad)


def test_where_episodes_are_cut_is_said_only_when_a_cap_applies():
    assert evaluation.step_cap_line("CliffWalking-v1") == (
        "CliffWalking-v1 has no time limit: evaluation episodes are cut at 1,000 steps (--eval-max-steps)"
    )
    assert evaluation.step_cap_line("CartPole-v1") is None
    assert evaluation.step_cap_line("CartPole-v1", 200, flag="--max-steps") == (
        "evaluation episodes are cut at 200 steps (--max-steps; CartPole-v1's own limit is 500)"
    )
    assert evaluation.step_cap_line("NoSuchEnv-v0") is None  # making it says what is wrong
    assert evaluation.evaluation_step_cap("CliffWalking-v1") == evaluation.UNLIMITED_EPISODE_CAP == 1_000
    assert evaluation.evaluation_step_cap("CartPole-v1") is None


def test_tfdqn_own_environments_state_the_time_limit_they_keep():
    # CartPole-v1 inside PixelCartPole ends it by 500 actions; ALE ends a game at 108,000 frames = 27,000 actions
    assert gym.spec(PIXEL_CARTPOLE_ID).max_episode_steps == 500
    assert gym.spec(atari_env_id("ALE/Pong-v5")).max_episode_steps == 27_000
    assert evaluation.step_cap_line(PIXEL_CARTPOLE_ID) is None
