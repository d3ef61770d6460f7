"""A greedy episode of an environment without a time limit is cut, not run forever."""

import gymnasium as gym
import numpy as np
import pytest

from tfdqn.dqn import evaluation


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
