"""`DQNConfig.optimizer`: Adam by default, or centred RMSProp as the DQN papers run it (MinAtar's settings)."""

import gymnasium as gym
import keras
import numpy as np
import pytest

from tfdqn import ConfigError, DQNConfig
from tfdqn.dqn.agent import DQNAgent
from tfdqn.dqn.learning_rate import RMSPROP_EPSILON, make_optimizer
from tfdqn.replay.buffer import Batch


def test_adam_by_default_and_rmsprop_with_the_papers_constants():
    assert isinstance(make_optimizer(DQNConfig()), keras.optimizers.Adam)
    rms = make_optimizer(DQNConfig(optimizer="rmsprop", learning_rate=2.5e-4, max_grad_norm=None))
    assert isinstance(rms, keras.optimizers.RMSprop) and rms.centered and rms.rho == 0.95
    assert rms.epsilon == RMSPROP_EPSILON == pytest.approx(1e-4) and rms.global_clipnorm is None
    with pytest.raises(ConfigError, match="optimizer='sgd' is invalid: must be one of"):
        DQNConfig(optimizer="sgd")


def test_an_rmsprop_agent_learns_and_its_state_round_trips():
    config = DQNConfig(optimizer="rmsprop", hidden_sizes=(8,), batch_size=4)
    space, actions = gym.spaces.Box(-1.0, 1.0, (3,), np.float32), gym.spaces.Discrete(2)
    agent = DQNAgent.from_spaces(space, actions, config)
    x = np.random.default_rng(0).uniform(-1, 1, (8, 3)).astype(np.float32)
    batch = Batch(x[:4], np.array([0, 1, 0, 1]), np.ones(4, np.float32), x[4:], np.zeros(4, np.float32))
    before = agent.q_values(x)
    agent.learn(batch)
    assert not np.allclose(before, agent.q_values(x))
    state = agent.get_state()
    other = DQNAgent.from_spaces(space, actions, config)
    other.set_state(state)
    np.testing.assert_allclose(other.q_values(x), agent.q_values(x))
