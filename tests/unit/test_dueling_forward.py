"""The update's direct dueling aggregation (`tfdqn.networks.dueling`) computes what the saved network's fixed
aggregation layer computes: the same outputs, losses, priorities and weights up to float rounding, the same noise
draws; and networks it cannot read stay as they are."""

import gymnasium as gym
import numpy as np
import pytest
import tensorflow as tf

from tfdqn import DQNAgent, DQNConfig
from tfdqn.networks.build import build_network, dueling_matrix
from tfdqn.networks.dueling import aggregate, training_forward
from tfdqn.replay.prioritized import Sample

C51 = {"distributional": True, "num_atoms": 11, "v_min": -5.0, "v_max": 5.0}
GRID = gym.spaces.Box(0, 1, (10, 10, 4), bool)
BOX = gym.spaces.Box(-2.0, 2.0, (4,), np.float32)
CASES = {
    "dueling": (BOX, {"dueling": True}),
    "dueling-c51-double": (BOX, {"dueling": True, "double_dqn": True, **C51}),
    "dueling-c51-noisy": (BOX, {"dueling": True, "noisy": True, **C51}),
    "minatar-rainbow-xla": (
        GRID,
        {"conv_layers": ((8, 3, 1),), "dueling": True, "double_dqn": True, "jit_compile": True, "n_step": 3, **C51},
    ),
}


def test_aggregate_is_the_dueling_matrix_map():
    va = np.random.default_rng(0).normal(size=(5, 4 * 3)).astype(np.float32)  # 3 actions, 3 atoms
    np.testing.assert_allclose(aggregate(tf.constant(va), 3).numpy(), va @ dueling_matrix(3, 3), atol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_forward_matches_the_network(case):
    space, fields = CASES[case]
    config = DQNConfig(hidden_sizes=(16,), seed=0, **fields)
    model = build_network(space.shape, 3, config, "bool" if space.dtype == bool else "float32")
    forward = training_forward(model)
    assert forward is not model
    x = tf.constant(space.sample()[None].repeat(6, 0) if space.dtype == bool else np.random.randn(6, 4), tf.float32)
    np.testing.assert_allclose(forward(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)


def test_networks_without_the_fixed_aggregation_are_called_as_they_are():
    plain = build_network((4,), 3, DQNConfig(hidden_sizes=(8,), distributional=True))
    assert training_forward(plain) is plain
    changed = build_network((4,), 3, DQNConfig(hidden_sizes=(8,), dueling=True))
    kernel, bias = changed.get_layer("dueling_aggregation").get_weights()
    changed.get_layer("dueling_aggregation").set_weights([kernel, bias + 1.0])  # no longer the plain map
    assert training_forward(changed) is changed
    encoded = DQNAgent.from_spaces(gym.spaces.Discrete(5), gym.spaces.Discrete(3), DQNConfig(dueling=True))
    assert encoded._online is encoded.q_network  # an encoder's functional model: not read, called as it is


def _batch(space: gym.Space, rng: np.random.Generator, steps: int = 2, size: int = 8) -> Sample:
    def obs() -> np.ndarray:
        if space.dtype == bool:
            return rng.random((steps, size, *space.shape)) < 0.3
        return rng.normal(size=(steps, size, *space.shape)).astype(np.float32)

    return Sample(
        obs(),
        rng.integers(0, 3, (steps, size)),
        rng.normal(size=(steps, size)).astype(np.float32),
        obs(),
        rng.random((steps, size)) < 0.2,
        np.full((steps, size), 0.97, np.float32),
        rng.random((steps, size)).astype(np.float32),
        np.zeros((steps, size), np.int64),
    )


# two cases run with -m slow (CI time); by default, noisy nets (the same noise draws) and MinAtar's conv net with XLA,
# C51, Double DQN and 3-step returns
DEFAULT_CASES = ("dueling-c51-noisy", "minatar-rainbow-xla")


@pytest.mark.parametrize("case", [c if c in DEFAULT_CASES else pytest.param(c, marks=pytest.mark.slow) for c in CASES])
def test_updates_match_the_fixed_layers_update(case):
    """Two agents from one seed, one with the update calling the networks as saved: after three training calls,
    the same logs, priorities and weights up to rounding, and the noise generators' states exactly equal."""
    space, fields = CASES[case]
    config = DQNConfig(hidden_sizes=(16,), seed=0, learning_rate=1e-2, **fields)
    fast, slow = (DQNAgent.from_spaces(space, gym.spaces.Discrete(3), config) for _ in range(2))
    slow.set_state(fast.get_state())
    slow._online, slow._target = slow.q_network, slow.target_network
    assert fast._online is not fast.q_network
    rng = np.random.default_rng(1)
    for _ in range(3):
        batch = _batch(space, rng)
        (fast_logs, fast_p), (slow_logs, slow_p) = fast.learn(batch), slow.learn(batch)
        np.testing.assert_allclose(list(fast_logs.values()), list(slow_logs.values()), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(fast_p, slow_p, rtol=1e-4, atol=1e-5)
    fast_state, slow_state = fast.get_state(), slow.get_state()
    for name in fast_state:
        if name.startswith("noise/"):
            np.testing.assert_array_equal(fast_state[name], slow_state[name])
        else:
            np.testing.assert_allclose(fast_state[name], slow_state[name], rtol=1e-4, atol=1e-6)
