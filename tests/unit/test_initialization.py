"""Initialisation schemes and the learning-rate schedule: what the defaults' step size rests on."""

import math

import keras
import numpy as np
import pytest

from tfdqn import ConfigError, DQNAgent, DQNConfig, build_q_network, save_model
from tfdqn.dqn.learning_rate import learning_rate_schedule
from tfdqn.networks.build import initializers
from tfdqn.replay.buffer import ReplayBuffer


def _dense_layers(model):
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def test_fan_in_uniform_draws_kernels_and_biases_within_one_over_sqrt_fan_in():
    keras.utils.set_random_seed(0)
    net = build_q_network((4,), 3, (256, 64), initializer="fan_in_uniform")
    for layer, fan_in in zip(_dense_layers(net), (4, 256, 64)):
        bound = 1 / math.sqrt(fan_in)
        for w in (layer.kernel.numpy(), layer.bias.numpy()):
            assert np.abs(w).max() <= bound
            assert np.abs(w).max() > 0.9 * bound  # fills the range: uniform, not something smaller
            # U(-b, b) has standard deviation b / sqrt(3)
            if w.size > 200:
                assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.1)


def test_he_scheme_is_he_normal_hidden_glorot_output_zero_biases():
    keras.utils.set_random_seed(0)
    net = build_q_network((4,), 2, (256, 256), initializer="he")
    hidden, _, out = _dense_layers(net)
    assert np.all(hidden.bias.numpy() == 0) and np.all(out.bias.numpy() == 0)
    assert _dense_layers(net)[1].kernel.numpy().std() == pytest.approx(math.sqrt(2 / 256), rel=0.1)
    assert np.abs(out.kernel.numpy()).max() <= math.sqrt(6 / (256 + 2))


def test_fan_in_uniform_is_about_2_45x_smaller_per_layer_than_he():
    # The figure DESIGN.md quotes: He-normal std sqrt(2/n) against U(+-1/sqrt(n)) std 1/sqrt(3n).
    keras.utils.set_random_seed(1)
    he = _dense_layers(build_q_network((4,), 2, (256, 256), initializer="he"))[1].kernel.numpy().std()
    torch_like = _dense_layers(build_q_network((4,), 2, (256, 256)))[1].kernel.numpy().std()
    assert he / torch_like == pytest.approx(math.sqrt(6), rel=0.1)


def test_conv_layers_follow_the_scheme():
    keras.utils.set_random_seed(0)
    net = build_q_network((36, 36, 2), 2, (32,), conv_layers=((8, 4, 2), (8, 3, 1)))
    convs = [layer for layer in net.layers if isinstance(layer, keras.layers.Conv2D)]
    assert np.abs(convs[0].kernel.numpy()).max() <= 1 / math.sqrt(4 * 4 * 2)
    assert np.abs(convs[1].kernel.numpy()).max() <= 1 / math.sqrt(3 * 3 * 8)
    assert np.abs(convs[1].bias.numpy()).max() > 0


def test_saved_model_with_the_default_scheme_loads_with_plain_keras_in_safe_mode(tmp_path):
    net = build_q_network((4,), 2, (16,))
    path = save_model(net, tmp_path / "q.keras")
    loaded = keras.models.load_model(path, safe_mode=True, compile=False)
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    np.testing.assert_allclose(loaded(x).numpy(), net(x).numpy(), rtol=1e-6)


def test_unknown_scheme_is_a_config_error_naming_the_choices():
    with pytest.raises(ConfigError, match="initializer"):
        DQNConfig(initializer="xavier")
    with pytest.raises(ConfigError, match="fan_in_uniform"):
        initializers("xavier", 4)


def test_agent_from_spaces_uses_the_config_scheme():
    import gymnasium as gym

    obs, act = gym.spaces.Box(-1, 1, (4,), np.float32), gym.spaces.Discrete(2)
    keras.utils.set_random_seed(0)
    he = DQNAgent.from_spaces(obs, act, DQNConfig(initializer="he"))
    default = DQNAgent.from_spaces(obs, act, DQNConfig())
    assert np.all(_dense_layers(he.q_network)[0].bias.numpy() == 0)
    assert np.any(_dense_layers(default.q_network)[0].bias.numpy() != 0)


def test_learning_rate_decays_linearly_over_env_steps_at_the_update_ratio():
    config = DQNConfig(
        learning_rate=1e-3,
        learning_rate_final=1e-4,
        learning_rate_decay_steps=100,
        train_freq=4,
        gradient_steps=8,
        batch_size=8,
        buffer_size=64,
    )
    schedule = learning_rate_schedule(config)  # 100 env steps = 200 gradient steps
    assert float(schedule(0)) == pytest.approx(1e-3)
    assert float(schedule(100)) == pytest.approx(5.5e-4)
    assert float(schedule(200)) == pytest.approx(1e-4)
    assert float(schedule(10_000)) == pytest.approx(1e-4)
    assert learning_rate_schedule(DQNConfig(learning_rate_final=None)) == DQNConfig().learning_rate


def test_learning_rate_can_hold_before_it_decays():
    config = DQNConfig(
        learning_rate=1e-3,
        learning_rate_final=0.0,
        learning_rate_decay_start=50,
        learning_rate_decay_steps=100,
        train_freq=4,
        gradient_steps=8,
        batch_size=8,
        buffer_size=64,
    )
    schedule = learning_rate_schedule(config)  # held 100 gradient steps, then 200 to 0
    for step, rate in ((0, 1e-3), (100, 1e-3), (200, 5e-4), (300, 0.0), (10_000, 0.0)):
        assert float(schedule(step)) == pytest.approx(rate, abs=1e-9)
    with pytest.raises(ConfigError, match="learning_rate_decay_start"):
        DQNConfig(learning_rate_decay_start=-1)


def test_a_held_schedule_runs_inside_the_compiled_update_without_retracing():
    config = DQNConfig(
        learning_rate=1e-3,
        learning_rate_final=0.0,
        learning_rate_decay_start=2,
        learning_rate_decay_steps=1,
        train_freq=1,
        gradient_steps=4,
        batch_size=8,
        buffer_size=64,
        hidden_sizes=(8,),
    )
    agent = DQNAgent(build_q_network((4,), 2, (8,)), 2, config)
    buf = ReplayBuffer(64, (4,))
    rng = np.random.default_rng(0)
    for _ in range(64):
        buf.add(rng.normal(size=4), int(rng.integers(2)), 1.0, rng.normal(size=4), False)
    agent.learn(buf.sample(8, rng, 4))
    assert float(agent.optimizer.learning_rate.numpy()) == pytest.approx(1e-3)
    for _ in range(2):
        agent.learn(buf.sample(8, rng, 4))
    assert float(agent.optimizer.learning_rate.numpy()) == pytest.approx(0.0)
    assert agent._learn_fn.experimental_get_tracing_count() == 1 and len(agent._traced) == 1


def test_learning_rate_schedule_runs_inside_the_compiled_update_without_retracing():
    # 3 env steps at 4 gradient steps per env step: the rate reaches 0 after 12 gradient steps
    config = DQNConfig(
        learning_rate=1e-3,
        learning_rate_final=0.0,
        learning_rate_decay_steps=3,
        train_freq=1,
        gradient_steps=4,
        batch_size=8,
        buffer_size=64,
        hidden_sizes=(8,),
    )
    agent = DQNAgent(build_q_network((4,), 2, (8,)), 2, config)
    buf = ReplayBuffer(64, (4,))
    rng = np.random.default_rng(0)
    for _ in range(64):
        buf.add(rng.normal(size=4), int(rng.integers(2)), 1.0, rng.normal(size=4), False)
    for _ in range(3):
        agent.learn(buf.sample(8, rng, 4))
    assert int(agent.optimizer.iterations.numpy()) == 12
    assert float(agent.optimizer.learning_rate.numpy()) == pytest.approx(0.0)
    assert agent._learn_fn.experimental_get_tracing_count() == 1 and len(agent._traced) == 1
    before = [w.copy() for w in agent.q_network.get_weights()]
    agent.learn(buf.sample(8, rng, 4))  # learning rate 0: nothing moves
    for a, b in zip(before, agent.q_network.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("value", [-1e-4, 1.0, "0.1"])
def test_learning_rate_final_must_lie_between_zero_and_learning_rate(value):
    with pytest.raises(ConfigError, match="learning_rate_final"):
        DQNConfig(learning_rate=1e-3, learning_rate_final=value)
