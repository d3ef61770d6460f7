"""`layer_norm`: LayerNormalization in each hidden layer, mirrored in NumPy, saved with built-in layers only."""

import gymnasium as gym
import keras
import numpy as np
import pytest

from tfdqn import Batch, ConfigError, DQNAgent, DQNConfig, build_q_network
from tfdqn.networks.numpy_mirror import NumpyQ

BOX = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)


def _batch(rng, steps=3, size=8):
    return Batch(
        rng.normal(size=(steps, size, 4)).astype(np.float32),
        rng.integers(0, 2, (steps, size)).astype(np.int32),
        rng.normal(size=(steps, size)).astype(np.float32),
        rng.normal(size=(steps, size, 4)).astype(np.float32),
        (rng.random((steps, size)) < 0.1).astype(np.float32),
    )


def test_each_hidden_layer_is_normalised_before_its_relu():
    net = build_q_network((4,), 2, (16, 8), layer_norm=True)
    assert [type(layer).__name__ for layer in net.layers] == ["Dense", "LayerNormalization", "Activation"] * 2 + [
        "Dense"
    ]
    assert net.layers[0].activation.__name__ == "linear" and net.layers[2].activation.__name__ == "relu"
    conv = build_q_network((36, 36, 1), 2, (8,), conv_layers=((4, 8, 4),), layer_norm=True)
    assert "LayerNormalization" in [type(layer).__name__ for layer in conv.layers]
    plain = build_q_network((4,), 2, (16, 8))
    assert [type(layer).__name__ for layer in plain.layers] == ["Dense"] * 3


@pytest.mark.parametrize("jit", [False, True])
def test_the_numpy_mirror_matches_keras_and_follows_updates(jit):
    config = DQNConfig(layer_norm=True, hidden_sizes=(32, 32), batch_size=8, buffer_size=8, jit_compile=jit)
    agent = DQNAgent.from_spaces(BOX, gym.spaces.Discrete(2), config)
    assert isinstance(agent._numpy, NumpyQ)  # acting stays in NumPy
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32) * 3
    np.testing.assert_allclose(agent.q_values(x), agent.q_network(x).numpy(), rtol=1e-5, atol=1e-5)
    for _ in range(3):  # moves the norms' scale and offset away from 1 and 0 too
        agent.learn(_batch(np.random.default_rng(1)))
    gamma = agent.q_network.get_layer("norm_0").gamma.numpy()
    assert not np.allclose(gamma, 1.0)
    np.testing.assert_allclose(agent.q_values(x), agent.q_network(x).numpy(), rtol=1e-5, atol=1e-5)


def test_mirror_refuses_norms_it_does_not_compute():
    no_offset = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3), keras.layers.LayerNormalization(center=False), keras.layers.Dense(2)]
    )
    tanh = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3), keras.layers.Activation("tanh"), keras.layers.Dense(2)]
    )
    assert NumpyQ.from_model(no_offset) is None
    assert NumpyQ.from_model(tanh) is None


def test_saved_model_loads_with_plain_keras_in_safe_mode(tmp_path):
    agent = DQNAgent.from_spaces(
        BOX, gym.spaces.Discrete(2), DQNConfig(layer_norm=True, hidden_sizes=(16,), batch_size=8, buffer_size=8)
    )
    agent.learn(_batch(np.random.default_rng(2)))
    loaded = keras.models.load_model(agent.save(tmp_path / "ln.keras"), safe_mode=True, compile=False)
    x = np.random.default_rng(3).normal(size=(4, 4)).astype(np.float32)
    np.testing.assert_allclose(loaded(x).numpy(), agent.q_values(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("parts", [{"dueling": True, "distributional": True}, {"noisy": True}])
def test_with_rainbow_heads_acting_stays_in_numpy_and_matches_the_network(parts):
    from tfdqn.networks.numpy_mirror import NumpyQ

    config = DQNConfig(
        layer_norm=True, hidden_sizes=(16, 16), batch_size=8, buffer_size=8, v_min=-5.0, v_max=5.0, **parts
    )
    agent = DQNAgent.from_spaces(BOX, gym.spaces.Discrete(2), config)
    assert isinstance(agent._numpy, NumpyQ)
    for _ in range(2):
        agent.learn(_batch(np.random.default_rng(4)))
    x = np.random.default_rng(5).normal(size=(6, 4)).astype(np.float32)
    np.testing.assert_allclose(agent.q_values(x), agent._q_fn(x).numpy(), rtol=1e-5, atol=1e-5)
    one = x[:1].copy()
    agent.greedy(one)
    np.testing.assert_array_equal(one, x[:1])  # the caller's observation is never written into


def test_mirror_refuses_a_model_that_does_not_start_with_a_dense_layer():
    # the ReLU runs in place; a first Dense makes the new array it runs on, so the caller's observation is safe
    model = keras.Sequential([keras.Input((4,)), keras.layers.Activation("relu"), keras.layers.Dense(2)])
    assert NumpyQ.from_model(model) is None


def test_layer_norm_must_be_a_bool():
    with pytest.raises(ConfigError, match="layer_norm"):
        DQNConfig(layer_norm="yes")
