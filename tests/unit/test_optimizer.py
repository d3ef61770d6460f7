"""`DQNConfig.optimizer`: Adam by default, or centred RMSProp as the DQN papers run it (MinAtar's settings)."""

import gymnasium as gym
import keras
import numpy as np
import pytest

from tfdqn import ConfigError, DQNConfig
from tfdqn.dqn.agent import DQNAgent
from tfdqn.dqn.learning_rate import RMSPROP_EPSILON, PaperRMSprop, make_optimizer
from tfdqn.replay.buffer import Batch


def test_adam_by_default_and_rmsprop_with_the_papers_constants():
    assert isinstance(make_optimizer(DQNConfig()), keras.optimizers.Adam)
    rms = make_optimizer(DQNConfig(optimizer="rmsprop", learning_rate=2.5e-4, max_grad_norm=None))
    assert isinstance(rms, PaperRMSprop) and rms.centered and rms.rho == 0.95
    assert rms.epsilon == RMSPROP_EPSILON == 0.01 and rms.global_clipnorm is None
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


def paper_rmsprop_steps(start, gradients, lr=2.5e-4, rho=0.95, eps=0.01):
    """PyTorch's centred RMSProp (torch.optim.RMSprop, centered=True), written out in NumPy."""
    p, v, m = start.astype(np.float64), np.zeros_like(start, np.float64), np.zeros_like(start, np.float64)
    for g in gradients:
        v = rho * v + (1 - rho) * g**2
        m = rho * m + (1 - rho) * g
        p = p - lr * g / (np.sqrt(v - m**2) + eps)
    return p


def test_rmsprop_adds_epsilon_after_the_square_root_as_pytorch_does():
    rng = np.random.default_rng(0)
    start = rng.normal(size=(5,)).astype(np.float32)
    gradients = [rng.normal(scale=0.02, size=(5,)).astype(np.float32) for _ in range(4)]  # RMS near eps
    variable = keras.Variable(start)
    optimizer = make_optimizer(DQNConfig(optimizer="rmsprop", learning_rate=2.5e-4, max_grad_norm=None))
    for g in gradients:
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(g), variable)])
    np.testing.assert_allclose(np.asarray(variable), paper_rmsprop_steps(start, gradients), rtol=0, atol=1e-6)
    torch = pytest.importorskip("torch")
    weight = torch.nn.Parameter(torch.tensor(start))
    reference = torch.optim.RMSprop([weight], lr=2.5e-4, alpha=0.95, eps=0.01, centered=True)
    for g in gradients:
        weight.grad = torch.tensor(g)
        reference.step()
    np.testing.assert_allclose(np.asarray(variable), weight.detach().numpy(), rtol=0, atol=1e-6)
