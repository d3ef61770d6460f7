"""The NumPy forward pass of small convolutional Q-networks (MinAtar's) equals Keras's and is what acts."""

import gymnasium as gym
import keras
import numpy as np
import pytest

from tfdqn import DQNConfig
from tfdqn.dqn.agent import DQNAgent
from tfdqn.networks.build import build_network
from tfdqn.networks.numpy_conv import MAX_CONV_MULTIPLY_ADDS, conv_multiply_adds
from tfdqn.networks.numpy_mirror import NumpyQ
from tfdqn.replay.buffer import Batch

PAPER = DQNConfig(conv_layers=((16, 3, 1),), hidden_sizes=(128,))


def grids(n: int, channels: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 10, 10, channels)) < 0.3


@pytest.mark.parametrize("channels", [4, 6, 7, 10])
def test_the_minatar_network_in_numpy_equals_keras(channels):
    model = build_network((10, 10, channels), 6, PAPER, input_dtype="bool")
    mirror = NumpyQ.from_model(model)
    assert mirror is not None
    x = grids(64, channels)
    np.testing.assert_allclose(mirror(x), model(x).numpy(), atol=1e-5)
    assert x.dtype == bool  # the observations are not touched


@pytest.mark.parametrize(
    "config",
    [
        DQNConfig(conv_layers=((16, 3, 1), (32, 3, 2)), hidden_sizes=(32, 32), layer_norm=True),
        DQNConfig(conv_layers=((8, 4, 2),), hidden_sizes=(16,), dueling=True, distributional=True, num_atoms=5),
    ],
    ids=["strided-layernorm", "dueling-c51"],
)
def test_strides_norms_and_heads_behind_convolutions(config):
    model = build_network((12, 11, 3), 4, config, input_dtype="uint8")
    atoms = np.linspace(-1, 1, config.num_atoms, dtype=np.float32) if config.distributional else None
    mirror = NumpyQ.from_model(model, atoms)
    assert mirror is not None
    x = np.random.default_rng(1).integers(0, 256, (8, 12, 11, 3), dtype=np.uint8)
    out = model(x).numpy()
    expected = (np.exp(out) / np.exp(out).sum(-1, keepdims=True)) @ atoms if atoms is not None else out
    np.testing.assert_allclose(mirror(x), expected, atol=1e-5)


def test_large_or_padded_convolutions_act_through_tensorflow():
    nature = build_network((84, 84, 4), 6, DQNConfig(hidden_sizes=(512,)))
    assert conv_multiply_adds(nature) > MAX_CONV_MULTIPLY_ADDS and NumpyQ.from_model(nature) is None
    padded = keras.Sequential(
        [
            keras.Input((10, 10, 4)),
            keras.layers.Conv2D(4, 3, padding="same"),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ]
    )
    assert NumpyQ.from_model(padded) is None


def test_the_agent_acts_in_numpy_and_the_mirror_follows_updates():
    space = gym.spaces.Box(0.0, 1.0, (10, 10, 4), bool)  # as minatar.gym declares it
    config = PAPER.replace(batch_size=8, learning_rate=1e-2)
    agent = DQNAgent.from_spaces(space, gym.spaces.Discrete(3), config)
    assert isinstance(agent._numpy, NumpyQ)
    x = grids(16, 4, seed=2)
    batch = Batch(x[:8], np.arange(8) % 3, np.ones(8, np.float32), x[8:], np.zeros(8, np.float32))
    for _ in range(3):
        agent.learn(batch)
    keras_q = agent._q_fn(x).numpy()
    np.testing.assert_allclose(agent.q_values(x), keras_q, atol=1e-5)
    assert (agent.greedy(x) == keras_q.argmax(-1)).all()
