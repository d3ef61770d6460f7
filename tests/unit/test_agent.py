import gymnasium as gym
import keras
import numpy as np
import pytest
import tensorflow as tf

from tfdqn import Batch, DQNAgent, DQNConfig, EnvError, build_mlp_q_network, build_q_network, td_targets
from tfdqn.networks.numpy_mirror import NumpyQ


def test_td_target_termination_stops_bootstrap_truncation_does_not():
    rewards = tf.constant([1.0, 1.0, 0.5])
    # transition 0 terminated; 1 was truncated by a time limit (terminated=0); 2 ordinary
    terminated = tf.constant([1.0, 0.0, 0.0])
    next_q = tf.constant([[2.0, 3.0], [2.0, 3.0], [-1.0, -4.0]])
    y = td_targets(rewards, terminated, next_q, 0.9).numpy()
    np.testing.assert_allclose(y, [1.0, 1.0 + 0.9 * 3.0, 0.5 + 0.9 * -1.0])


def test_double_dqn_target_takes_online_argmax_and_target_value():
    rewards = tf.constant([0.0, 1.0])
    terminated = tf.constant([0.0, 0.0])
    next_q_target = tf.constant([[10.0, 1.0], [4.0, 6.0]])
    next_q_online = tf.constant([[0.0, 5.0], [7.0, 2.0]])  # online prefers action 1, then 0
    y = td_targets(rewards, terminated, next_q_target, 0.5, next_q_online).numpy()
    np.testing.assert_allclose(y, [0.5 * 1.0, 1.0 + 0.5 * 4.0])
    plain = td_targets(rewards, terminated, next_q_target, 0.5).numpy()
    np.testing.assert_allclose(plain, [0.5 * 10.0, 1.0 + 0.5 * 6.0])


def test_builder_shapes_and_errors():
    net = build_q_network((4,), 3, (16, 8))
    assert isinstance(net, keras.Sequential)
    assert net.output_shape == (None, 3)
    assert [layer.units for layer in net.layers] == [16, 8, 3]
    assert net.layers[0].kernel_initializer.__class__.__name__ == "RandomUniform"  # fan_in_uniform default
    assert (
        build_q_network((4,), 3, (16,), initializer="he").layers[0].kernel_initializer.__class__.__name__ == "HeNormal"
    )
    with pytest.raises(EnvError, match="not a flat vector"):
        build_q_network((84, 84), 2)
    with pytest.raises(EnvError, match=r"\(84, 84, 4\) is an image; the MLP Q-network takes a flat vector"):
        build_mlp_q_network((84, 84, 4), 2)


def test_numpy_mirror_matches_keras_and_follows_updates():
    agent = DQNAgent(build_q_network((4,), 2, (32, 32)), 2, DQNConfig(batch_size=8, buffer_size=8))
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_allclose(agent.q_values(x), agent.q_network(x).numpy(), rtol=1e-5, atol=1e-5)
    batch = _random_batch(np.random.default_rng(1), steps=3, size=8)
    agent.learn(batch)
    np.testing.assert_allclose(agent.q_values(x), agent.q_network(x).numpy(), rtol=1e-5, atol=1e-5)
    assert NumpyQ.from_model(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="tanh")])) is None
    lora = keras.layers.Dense(2)
    lora_model = keras.Sequential([keras.Input((4,)), lora])
    lora.enable_lora(1)
    assert NumpyQ.from_model(lora_model) is None  # its kernel is computed, not a variable the mirror can copy


@pytest.mark.parametrize("jit", [False, True])
def test_rainbow_mirror_syncs_from_the_update_outputs(jit):
    # The compiled update returns the new weights the NumPy mirror copies (noisy sigmas and the dueling map
    # included): after learn() the mirror equals a fresh read of the variables, and acts like the network.
    from tfdqn.presets import rainbow_fields

    config = DQNConfig(
        **{
            **rainbow_fields("CartPole-v1"),
            "hidden_sizes": (16,),
            "jit_compile": jit,
            "batch_size": 8,
            "buffer_size": 8,
        }
    )
    space = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
    agent = DQNAgent.from_spaces(space, gym.spaces.Discrete(2), config)
    agent.learn(_random_batch(np.random.default_rng(1), steps=3, size=8))
    synced = [a for arrays in agent._numpy.params for a in arrays]
    read = [v.numpy() for v in agent._numpy.variables()]
    assert len(synced) == len(read) and len(read) > 6
    for a, b in zip(synced, read):
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_allclose(agent.q_values(x), agent._q_fn(x).numpy(), rtol=1e-5, atol=1e-5)


def _random_batch(rng, steps, size, dim=4):
    return Batch(
        rng.normal(size=(steps, size, dim)).astype(np.float32),
        rng.integers(0, 2, (steps, size)).astype(np.int32),
        rng.normal(size=(steps, size)).astype(np.float32),
        rng.normal(size=(steps, size, dim)).astype(np.float32),
        (rng.random((steps, size)) < 0.1).astype(np.float32),
    )


@pytest.mark.parametrize("jit", [False, True])
def test_learn_fits_fixed_targets_without_retracing(jit):
    config = DQNConfig(jit_compile=jit, learning_rate=1e-2, gamma=0.5, batch_size=16, buffer_size=16)
    agent = DQNAgent(build_q_network((4,), 2, (32,)), 2, config)
    rng = np.random.default_rng(0)
    batch = _random_batch(rng, steps=20, size=16)
    # terminal transitions: the targets are the rewards, a learnable function of (obs, action)
    batch = batch._replace(
        terminated=np.ones_like(batch.terminated), rewards=(batch.obs[..., 0] + batch.actions).astype(np.float32)
    )
    first = agent.learn(batch)[0]["loss"]
    for _ in range(15):
        last = agent.learn(batch)[0]["loss"]
    assert last < 0.5 * first
    assert agent._learn_fn.experimental_get_tracing_count() == 1 and len(agent._traced) == 1
    single = Batch(*(a[0] for a in batch))  # (batch,) shape is promoted to one gradient step
    assert np.isfinite(agent.learn(single)[0]["loss"])


@pytest.mark.parametrize("jit", [False, True])
def test_one_gradient_step_skips_the_loop_and_equals_it(jit):
    # a (1, batch) call runs the step compiled alone (XLA runs a convolution's update 2.5x slower inside the
    # loop): the same update as the loop's, traced once for any batch size, never the loop
    config = DQNConfig(jit_compile=jit, learning_rate=1e-2, batch_size=8, buffer_size=8)
    one, many = (DQNAgent(build_q_network((4,), 2, (16,)), 2, config) for _ in range(2))
    one.set_state(many.get_state())
    rng = np.random.default_rng(1)
    batch = _random_batch(rng, steps=2, size=8)
    logs_many, priorities_many = many.learn(batch)
    logs = [one.learn(Batch(*(a[i : i + 1] for a in batch))) for i in range(2)]
    tol = {"rtol": 1e-5, "atol": 1e-6} if jit else {"rtol": 0, "atol": 0}
    for a, b in zip(one.q_network.get_weights(), many.q_network.get_weights()):
        np.testing.assert_allclose(a, b, **tol)
    np.testing.assert_allclose(np.concatenate([p for _, p in logs]), priorities_many, **tol)
    assert logs[1][1].shape == (1, 8)
    one.learn(_random_batch(rng, steps=1, size=5))  # another batch size: no new trace
    assert one._learn_one_fn.experimental_get_tracing_count() == 1
    assert one._learn_fn.experimental_get_tracing_count() == 0
    np.testing.assert_allclose(one._numpy(batch.obs[0]), one.q_network(batch.obs[0]).numpy(), rtol=1e-5, atol=1e-6)


def test_xla_takes_a_conv_networks_steps_one_compiled_call_each():
    # XLA runs a convolution's update inside the loop 3-10x slower: several steps become one call each
    config = DQNConfig(jit_compile=True, learning_rate=1e-2, batch_size=4, buffer_size=8)
    net = build_q_network((5, 5, 2), 3, (8,), conv_layers=((4, 3, 1),), input_dtype="bool")
    alone, step_by_step = DQNAgent(net, 3, config), DQNAgent(keras.models.clone_model(net), 3, config)
    step_by_step.set_state(alone.get_state())
    rng = np.random.default_rng(2)
    obs, next_obs = (rng.random((3, 4, 5, 5, 2)) < 0.3 for _ in range(2))
    batch = Batch(obs, rng.integers(0, 3, (3, 4)), rng.normal(size=(3, 4)).astype(np.float32), next_obs,
                  np.zeros((3, 4), np.float32))  # fmt: skip
    logs, priorities = alone.learn(batch)
    singles = [step_by_step.learn(Batch(*(a[i : i + 1] for a in batch))) for i in range(3)]
    assert alone._learn_fn.experimental_get_tracing_count() == 0 and len(alone._traced) == 1
    for a, b in zip(alone.q_network.get_weights(), step_by_step.q_network.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(priorities, np.concatenate([p for _, p in singles]))
    assert logs["loss"] == pytest.approx(np.mean([s[0]["loss"] for s in singles]))
    assert logs["max_abs_q"] == max(s[0]["max_abs_q"] for s in singles)


def test_target_network_changes_only_on_update():
    agent = DQNAgent(build_q_network((4,), 2, (8,)), 2, DQNConfig(batch_size=8, buffer_size=8, tau=1.0))
    before = [w.copy() for w in agent.target_network.get_weights()]
    agent.learn(_random_batch(np.random.default_rng(0), 5, 8))
    for a, b in zip(before, agent.target_network.get_weights()):
        np.testing.assert_array_equal(a, b)
    agent.update_target()
    for a, b in zip(agent.q_network.get_weights(), agent.target_network.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_polyak_update():
    agent = DQNAgent(build_q_network((4,), 2, (8,)), 2, DQNConfig(tau=0.25, batch_size=8, buffer_size=8))
    old_target = [w.copy() for w in agent.target_network.get_weights()]
    agent.learn(_random_batch(np.random.default_rng(0), 5, 8))
    online = agent.q_network.get_weights()
    agent.update_target()
    for t, o, n in zip(old_target, online, agent.target_network.get_weights()):
        np.testing.assert_allclose(n, 0.25 * o + 0.75 * t, rtol=1e-5, atol=1e-6)


def test_act_is_epsilon_greedy():
    agent = DQNAgent(build_q_network((4,), 3, (8,)), 3, DQNConfig())
    rng = np.random.default_rng(0)
    obs = np.random.default_rng(1).normal(size=(2000, 4)).astype(np.float32)
    greedy = agent.greedy(obs)
    np.testing.assert_array_equal(agent.act(obs, 0.0, rng), greedy)
    random_actions = agent.act(obs, 1.0, rng)
    assert set(np.unique(random_actions)) == {0, 1, 2}
    mixed = agent.act(obs, 0.3, rng)
    share = np.mean(mixed != greedy)  # random picks that differ from greedy: 0.3 * 2/3
    assert 0.15 < share < 0.25
