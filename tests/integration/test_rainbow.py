"""Rainbow's parts, checked exactly: dueling aggregation, n-step windows, the sum-tree and importance
weights, the C51 projection, noisy layers and the plain-Keras exports."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import FixedLengthEnv, vec

from tfdqn import DQNAgent, DQNConfig, PixelReplayBuffer, ReplayBuffer, Trainer
from tfdqn.dqn.targets import project_distribution
from tfdqn.networks.build import build_network, dueling_matrix
from tfdqn.networks.distributional import support
from tfdqn.networks.export import export_q_network
from tfdqn.networks.noisy import NoisyDense
from tfdqn.networks.numpy_conv import MAX_CONV_MULTIPLY_ADDS, conv_multiply_adds
from tfdqn.networks.numpy_mirror import NumpyQ
from tfdqn.replay.nstep import NStepWindows
from tfdqn.replay.prioritized import ExtendedReplay, importance_weights
from tfdqn.replay.sumtree import SumTree
from tfdqn.training.resume import restore_trainer, trainer_state


def _builtin_only(model):
    return all(type(layer).__module__.startswith("keras.") for layer in model.layers)


# ----- dueling ----------------------------------------------------------------------------------------
def test_dueling_output_on_hand_set_weights():
    config = DQNConfig(hidden_sizes=(2,), dueling=True)
    model = build_network((2,), 3, config)
    hidden, head, aggregation = model.layers
    hidden.set_weights([np.eye(2, dtype=np.float32), np.zeros(2, np.float32)])
    # [V, A0, A1, A2] = h @ W + b with h = relu(x)
    head.set_weights(
        [
            np.array([[1.0, 2.0, 0.0, -1.0], [0.5, 0.0, 3.0, 1.0]], np.float32),
            np.array([0.25, 0.0, 0.0, 1.0], np.float32),
        ]
    )
    x = np.array([[1.0, 2.0], [-1.0, 1.0]], np.float32)
    h = np.maximum(x, 0)
    va = h @ head.get_weights()[0] + head.get_weights()[1]
    v, a = va[:, :1], va[:, 1:]
    expected = v + a - a.mean(axis=1, keepdims=True)
    # first row: V = 2.25, A = (2, 6, 2), mean 10/3 -> Q = (0.9167, 4.9167, 0.9167)
    np.testing.assert_allclose(expected[0], [2.25 + 2 - 10 / 3, 2.25 + 6 - 10 / 3, 2.25 + 2 - 10 / 3], rtol=1e-6)
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(NumpyQ.from_model(model)(x), expected, rtol=1e-6)
    assert not aggregation.trainable and len(model.trainable_variables) == 4  # the map is fixed


def test_dueling_matrix_per_atom():
    m = dueling_matrix(2, num_atoms=3)
    va = np.arange(9, dtype=np.float32)  # V = (0,1,2), A0 = (3,4,5), A1 = (6,7,8)
    v, a0, a1 = va[:3], va[3:6], va[6:]
    np.testing.assert_allclose(va @ m, np.concatenate([v + a0 - (a0 + a1) / 2, v + a1 - (a0 + a1) / 2]))


def test_saved_models_load_with_plain_keras(tmp_path):
    config = DQNConfig(
        hidden_sizes=(8,), dueling=True, noisy=True, distributional=True, num_atoms=5, v_min=-2.0, v_max=2.0
    )
    agent = DQNAgent(build_network((3,), 2, config), 2, config)
    path = agent.save(tmp_path / "q.keras")
    loaded = keras.models.load_model(path, safe_mode=True, compile=False)
    assert _builtin_only(loaded)
    x = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
    np.testing.assert_allclose(loaded(x).numpy(), agent.q_values(x), rtol=1e-5, atol=1e-6)


# ----- n-step -----------------------------------------------------------------------------------------
def _push(w, obs, r, term=False, trunc=False, real=True, next_obs=None):
    o = np.array([[obs]], np.float32)
    n = np.array([[obs + 1 if next_obs is None else next_obs]], np.float32)
    return w.push(o, np.array([0]), np.array([r], np.float32), n, np.array([term]), np.array([trunc]), np.array([real]))


def test_nstep_full_windows_and_termination_by_hand():
    w = NStepWindows(3, 0.5, 1, (1,))
    assert _push(w, 0, 1.0) is None and _push(w, 1, 2.0) is None
    obs, act, ret, nxt, term, disc = _push(w, 2, 4.0)  # window s0: 1 + 0.5*2 + 0.25*4 = 3, next s3, gamma^3
    np.testing.assert_allclose([obs[0, 0], ret[0], nxt[0, 0], term[0], disc[0]], [0, 3.0, 3, 0, 0.125])
    obs, act, ret, nxt, term, disc = _push(w, 3, 8.0, term=True)  # s1 full window + s2, s3 cut by termination
    # s1: 2 + 0.5*4 + 0.25*8 = 6 (full: the episode's end is its last step) ... s2: 4 + 0.5*8 = 8, s3: 8
    np.testing.assert_allclose(obs[:, 0], [1, 2, 3])
    np.testing.assert_allclose(ret, [6.0, 8.0, 8.0])
    np.testing.assert_allclose(nxt[:, 0], [4, 4, 4])
    np.testing.assert_allclose(term, [1, 1, 1])
    np.testing.assert_allclose(disc, [0.125, 0.25, 0.5])
    assert w.length[0] == 0


def test_nstep_truncation_bootstraps_from_the_cut_state():
    w = NStepWindows(3, 0.5, 1, (1,))
    _push(w, 0, 1.0)
    obs, _, ret, nxt, term, disc = _push(w, 1, 2.0, trunc=True, next_obs=9)
    np.testing.assert_allclose(ret, [1 + 0.5 * 2, 2.0])
    np.testing.assert_allclose(nxt[:, 0], [9, 9])
    np.testing.assert_allclose(term, [0, 0])  # truncation: still bootstraps, from s=9 with gamma^k
    np.testing.assert_allclose(disc, [0.25, 0.5])


def test_nstep_skips_autoreset_steps_and_state_round_trip():
    w = NStepWindows(2, 0.5, 1, (1,))
    _push(w, 0, 1.0, term=True)
    assert _push(w, 99, 100.0, real=False) is None  # the autoreset step is not a transition
    assert w.length[0] == 0
    _push(w, 0, 1.0)
    again = NStepWindows(2, 0.5, 1, (1,))
    again.load_state_dict({k: v.copy() for k, v in w.state_dict().items()})
    a, b = _push(w, 1, 2.0), _push(again, 1, 2.0)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_allclose(a[2], [2.0])


@pytest.mark.parametrize(
    "n,dtype,real_as",
    [(1, np.float32, "array"), (2, np.float32, "list"), (3, np.uint8, "array"), (5, np.float64, "none")],
)
def test_nstep_single_env_fast_path_matches_the_general_path(n, dtype, real_as):
    # One environment's usual step takes a scalar path; the general (vector) path must give the same transitions
    # and leave the same windows, over random episodes with terminations, truncations and autoreset steps.
    rng = np.random.default_rng(n)
    fast, general = NStepWindows(n, 0.9, 1, (2, 3), dtype), NStepWindows(n, 0.9, 1, (2, 3), dtype)
    fast_path = 0
    for step in range(3_000):
        obs, next_obs = (rng.normal(size=(2, 1, 2, 3)) * 50 + 100).astype(dtype)
        actions, rewards = rng.integers(0, 4, size=1), rng.normal(size=1).astype(np.float32)
        terminated, truncated, real = rng.random(1) < 0.05, rng.random(1) < 0.03, rng.random(1) > 0.05
        real = {"array": real, "list": [bool(real[0])], "none": None}[real_as]
        fast_path += bool((real is None or real[0]) and not (terminated[0] or truncated[0]))
        a = fast.push(obs, actions, rewards, next_obs, terminated, truncated, real)
        b = general._push(obs, actions, rewards, next_obs, terminated, truncated, real)
        assert (a is None) == (b is None), step
        for x, y in zip(a or (), b or ()):
            assert x.dtype == y.dtype and x.shape == y.shape, step
            np.testing.assert_array_equal(x, y)
        for name, arr in fast.state_dict().items():  # the whole windows, not only their filled part
            np.testing.assert_array_equal(arr, general.state_dict()[name])
    assert fast_path > 2_000  # the fast path was the one tested


@pytest.mark.parametrize("terminate", [True, False])
def test_trainer_stores_nstep_transitions_of_vector_envs(terminate):
    """Two sub-envs, episodes of 4 steps (reward 1 each, obs = steps taken), n = 3, gamma 0.5: every
    stored transition is checked by hand, none spans an autoreset."""
    gamma, n = 0.5, 3
    config = DQNConfig(
        hidden_sizes=(4,),
        n_step=n,
        gamma=gamma,
        batch_size=4,
        buffer_size=100,
        learning_starts=1000,
        train_freq=1000,
        target_update_interval=1000,
    )
    env = vec(lambda: FixedLengthEnv(4, terminate=terminate), n=2)
    trainer = Trainer(DQNAgent(build_network((1,), 2, config), 2, config), env, config)
    trainer.train(24)  # 3 episodes per env
    replay = trainer.replay
    size = len(replay)
    assert size == 24  # every one-step transition starts exactly one n-step transition
    b = replay.base.gather(np.arange(size))
    disc = replay.discounts[:size]
    for t, r, nxt, term, d in zip(b.obs[:, 0], b.rewards, b.next_obs[:, 0], b.terminated, disc):
        k = min(n, 4 - int(t))  # rewards left in the window before the episode's end
        assert r == pytest.approx(sum(gamma**j for j in range(k)))
        assert nxt == t + k and d == pytest.approx(gamma**k)
        assert term == (1.0 if (terminate and t + k == 4) else 0.0)


def test_nstep_windows_survive_a_resume():
    config = DQNConfig(
        hidden_sizes=(4,),
        n_step=3,
        gamma=0.5,
        batch_size=4,
        buffer_size=100,
        learning_starts=1000,
        train_freq=1000,
        target_update_interval=1000,
    )

    def make():
        return Trainer(
            DQNAgent(build_network((1,), 2, config), 2, config),
            vec(lambda: FixedLengthEnv(5, terminate=False), n=2),
            config,
        )

    full, part = make(), make()
    full.train(16)
    part.train(6)  # mid-episode: windows open
    meta, arrays = trainer_state(part)
    resumed = make()
    restore_trainer(resumed, meta, arrays)
    resumed.train(16)
    for name in ("obs", "rewards", "terminated"):
        np.testing.assert_array_equal(getattr(resumed.replay.base, name)[:16], getattr(full.replay.base, name)[:16])
    np.testing.assert_array_equal(resumed.replay.discounts[:16], full.replay.discounts[:16])


# ----- prioritized replay -----------------------------------------------------------------------------
def test_sumtree_sampling_frequencies_match_priorities_to_the_alpha():
    errors = np.array([0.1, 0.5, 1.0, 2.0, 4.0, 0.0, 3.0, 0.2, 1.5, 0.7, 2.5, 0.05, 1.2])
    replay = ExtendedReplay(ReplayBuffer(16, (1,)), gamma=0.9, prioritized=True, alpha=0.6, eps=0.01)
    for i in range(len(errors)):
        replay.add(np.array([i]), 0, 0.0, np.array([i]), False)
    replay.update_priorities(np.arange(len(errors)), errors)
    p = (errors + 0.01) ** 0.6
    expected = p / p.sum()
    rng = np.random.default_rng(1234)
    draws = replay.sample(256, rng, gradient_steps=400).indices.ravel()  # 102,400 draws, stratified per batch
    counts = np.bincount(draws, minlength=16)
    assert counts[len(errors) :].sum() == 0  # empty slots never drawn
    n = len(draws)
    chi2 = float(((counts[: len(errors)] - n * expected) ** 2 / (n * expected)).sum())
    assert chi2 < 32.91  # chi-square, 12 degrees of freedom, p = 0.001


def test_sumtree_batched_updates_keep_sums_exact():
    tree = SumTree(10)
    rng = np.random.default_rng(0)
    values = np.zeros(10)
    for _ in range(50):
        idx = rng.integers(0, 10, size=7)
        p = rng.random(7)
        tree.set(idx, p)
        for i, v in zip(idx, p):  # the last write of a repeated slot wins
            values[i] = v
        np.testing.assert_allclose(tree.get(np.arange(10)), values)
        assert tree.total == pytest.approx(values.sum())
    cumulative = np.cumsum(values)
    mass = np.array([0.0, cumulative[3] - 1e-9, cumulative[3] + 1e-9, cumulative[-1] - 1e-9])
    np.testing.assert_array_equal(tree.find(mass), np.searchsorted(cumulative, mass, side="right"))


def test_importance_weights_by_hand():
    # priorities 1, 2, 5 of a buffer of 3: P = 0.125, 0.25, 0.625; beta 0.5: w = (3P)^-0.5 / max
    replay = ExtendedReplay(ReplayBuffer(4, (1,)), gamma=0.9, prioritized=True, alpha=1.0, eps=1e-9)
    for i in range(3):
        replay.add(np.array([i]), 0, 0.0, np.array([i]), False)
    replay.update_priorities(np.arange(3), np.array([1.0, 3.0, 5.0]) - 1e-9)
    replay.update_priorities(np.array([1]), np.array([2.0]) - 1e-9)
    replay.beta = 0.5
    sample = replay.sample(3, np.random.default_rng(0), gradient_steps=50)
    raw = {0: (3 * 0.125) ** -0.5, 1: (3 * 0.25) ** -0.5, 2: (3 * 0.625) ** -0.5}
    for idx, w in zip(sample.indices, sample.weights):
        expected = np.array([raw[i] for i in idx])
        np.testing.assert_allclose(w, expected / expected.max(), rtol=1e-6)
    np.testing.assert_allclose(importance_weights(np.array([0.5, 0.25, 0.25]), 4, 1.0), [0.5, 1.0, 1.0])
    assert replay.max_priority == pytest.approx(5.0)
    replay.add(np.array([3]), 0, 0.0, np.array([3]), False)  # new transitions at the largest priority
    assert replay.tree.get(np.array([3]))[0] == pytest.approx(5.0)


def test_prioritized_replay_with_pixel_buffer_and_state_round_trip():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, size=(9, 4, 4, 1), dtype=np.uint8)
    replay = ExtendedReplay(PixelReplayBuffer(8, (4, 4, 1)), gamma=0.9, prioritized=True)
    for t in range(8):  # one episode: next obs of t is obs of t+1
        replay.add_batch(
            frames[t : t + 1],
            np.array([t % 2]),
            np.array([float(t)], np.float32),
            frames[t + 1 : t + 2],
            np.array([t == 7]),
            np.array([0.9 ** (t % 3 + 1)]),
        )
    replay.update_priorities(np.arange(8), np.arange(8, dtype=float))
    sample = replay.sample(16, np.random.default_rng(1))
    t = sample.rewards.astype(int)
    np.testing.assert_array_equal(sample.indices, t)
    np.testing.assert_array_equal(sample.obs, frames[t])
    np.testing.assert_array_equal(sample.next_obs, frames[t + 1])
    np.testing.assert_allclose(sample.discounts, 0.9 ** (t % 3 + 1), rtol=1e-6)
    assert 0 not in t  # priority (0 + eps)^0.6 is almost never drawn
    again = ExtendedReplay(PixelReplayBuffer(8, (4, 4, 1)), gamma=0.9, prioritized=True)
    again.load_state_dict(replay.state_dict())
    a, b = replay.sample(16, np.random.default_rng(2)), again.sample(16, np.random.default_rng(2))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


# ----- C51 --------------------------------------------------------------------------------------------
ATOMS = support(0.0, 4.0, 5)  # 0, 1, 2, 3, 4: spacing 1


@pytest.mark.parametrize(
    "probs,reward,discount,terminated,expected",
    [
        ([0, 1, 0, 0, 0], 0.5, 1.0, 0, [0, 0.5, 0.5, 0, 0]),  # between two atoms: shared by closeness
        ([0, 0, 0, 1, 0], 1.0, 0.5, 0, [0, 0, 0.5, 0.5, 0]),  # 1 + 0.5 * 3 = 2.5
        ([0.2] * 5, 2.0, 1.0, 0, [0, 0, 0.2, 0.2, 0.6]),  # 5 and 6 fall above v_max: clipped to 4
        ([0.2] * 5, -3.0, 1.0, 0, [0.8, 0.2, 0, 0, 0]),  # -3 .. 0 fall below v_min: clipped to 0
        ([0.1, 0.2, 0.3, 0.4, 0.0], 2.5, 0.9, 1, [0, 0, 0.5, 0.5, 0]),  # terminal: all mass at r
        ([0.5, 0, 0, 0, 0.5], 0.25, 1.0, 0, [0.375, 0.125, 0, 0, 0.5]),  # 0.25 -> 0/1; 4.25 -> clipped to 4
    ],
)
def test_c51_projection_on_hand_made_distributions(probs, reward, discount, terminated, expected):
    m = project_distribution(
        tf.constant([probs], tf.float32),
        tf.constant([reward], tf.float32),
        tf.constant([discount], tf.float32),
        tf.constant([terminated], tf.float32),
        tf.constant(ATOMS),
    )
    np.testing.assert_allclose(m.numpy()[0], expected, atol=1e-6)
    assert m.numpy().sum() == pytest.approx(1.0)


def test_c51_export_outputs_the_expectation(tmp_path):
    config = DQNConfig(hidden_sizes=(8,), distributional=True, num_atoms=11, v_min=-1.0, v_max=4.0)
    agent = DQNAgent(build_network((3,), 4, config), 4, config)
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    logits = agent.q_network(x).numpy()
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    expected = p @ support(-1.0, 4.0, 11)
    np.testing.assert_allclose(agent.q_values(x), expected, rtol=1e-5)
    loaded = keras.models.load_model(agent.save(tmp_path / "c51.keras"), safe_mode=True, compile=False)
    assert _builtin_only(loaded) and loaded.outputs[0].shape[1:] == (4,)
    np.testing.assert_allclose(loaded(x).numpy(), expected, rtol=1e-5)


# ----- noisy nets -------------------------------------------------------------------------------------
def test_noisy_layer_noise_statistics():
    keras.utils.set_random_seed(0)
    layer = NoisyDense(64, sigma0=0.5)
    layer.build((None, 3))
    layer.kernel.assign(np.zeros((3, 64)))
    layer.bias.assign(np.zeros(64))
    layer.kernel_sigma.assign(np.ones((3, 64)))
    layer.bias_sigma.assign(np.zeros(64))
    x = tf.constant([[0.0, 1.0, 0.0]])
    draw = tf.function(lambda: tf.stack([layer(x, training=True)[0] for _ in range(50)]))
    w = np.concatenate([draw().numpy() for _ in range(60)])  # 3,000 draws of row 1 of the noise matrix
    # w_1j = f(e_in_1) f(e_out_j), f(e) = sign(e) sqrt|e|: mean 0, variance (E|e|)^2 = 2/pi
    assert abs(w.mean()) < 0.02
    assert w.var() == pytest.approx(2 / math.pi, rel=0.05)
    assert np.abs(np.corrcoef(w[:, 0], w[:, 1])[0, 1]) < 0.05  # e_out independent across outputs
    # the factorised form: |w_1j| / |w_1k| = sqrt|e_out_j| / sqrt|e_out_k| share the factor e_in_1
    assert np.all(np.sign(w[:, 0] * w[:, 1]) == np.sign(w[:, 0] * w[:, 1]))
    layer.kernel_sigma.assign(np.zeros((3, 64)))
    layer.bias_sigma.assign(np.ones(64))
    b = np.concatenate([draw().numpy() for _ in range(20)])  # bias noise f(e_out): variance E|e| = sqrt(2/pi)
    assert b.var() == pytest.approx(math.sqrt(2 / math.pi), rel=0.06)
    assert np.all(layer(x, training=False).numpy() == 0.0)  # no noise outside training: the mean


def test_noisy_export_is_the_deterministic_mean_network(tmp_path):
    keras.utils.set_random_seed(1)
    config = DQNConfig(hidden_sizes=(16, 16), noisy=True, dueling=True)
    agent = DQNAgent(build_network((4,), 3, config), 3, config)
    x = np.random.default_rng(0).normal(size=(7, 4)).astype(np.float32)
    mean_q = agent.q_network(x, training=False).numpy()
    assert not np.allclose(agent.q_network(x, training=True).numpy(), mean_q)  # noise is on in training
    np.testing.assert_allclose(agent.q_values(x), mean_q, rtol=1e-5, atol=1e-6)
    noisy = agent.noisy_q_values(x, np.random.default_rng(0))
    assert not np.allclose(noisy, mean_q)
    exported = export_q_network(agent.q_network, config)
    assert _builtin_only(exported)
    loaded = keras.models.load_model(agent.save(tmp_path / "noisy.keras"), safe_mode=True, compile=False)
    np.testing.assert_allclose(loaded(x).numpy(), mean_q, rtol=1e-5, atol=1e-6)


def test_noisy_acting_replaces_epsilon_greedy():
    config = DQNConfig(
        hidden_sizes=(8,),
        noisy=True,
        learning_starts=0,
        batch_size=4,
        buffer_size=50,
        train_freq=1000,
        target_update_interval=1000,
    )
    trainer = Trainer(DQNAgent(build_network((1,), 2, config), 2, config), vec(lambda: FixedLengthEnv(3)), config)
    actions, epsilon = trainer._choose_actions(np.zeros((1, 1), np.float32))
    assert epsilon == 0.0


# ----- the compiled update with every part ------------------------------------------------------------
def test_all_parts_learn_in_one_compiled_call_without_retracing():
    config = DQNConfig(
        hidden_sizes=(8,),
        dueling=True,
        noisy=True,
        distributional=True,
        num_atoms=7,
        v_min=-1.0,
        v_max=1.0,
        n_step=3,
        prioritized=True,
        batch_size=8,
        gradient_steps=3,
    )
    agent = DQNAgent(build_network((3,), 2, config), 2, config)
    replay = ExtendedReplay.for_config(ReplayBuffer(64, (3,)), config)
    rng = np.random.default_rng(0)
    for _ in range(64):
        replay.add(
            rng.normal(size=3),
            int(rng.integers(2)),
            float(rng.normal()),
            rng.normal(size=3),
            bool(rng.random() < 0.1),
            0.99**3,
        )
    for _ in range(4):
        sample = replay.sample(8, rng, gradient_steps=3)
        metrics, priorities = agent.learn(sample)
        replay.update_priorities(sample.indices, priorities)
        assert all(math.isfinite(v) for v in metrics.values())
        assert priorities.shape == (3, 8) and (priorities > 0).all()
    assert agent._learn_fn.experimental_get_tracing_count() == 1 and len(agent._traced) == 1


def test_rainbow_preset_turns_every_part_on():
    from tfdqn import config_for_env

    for env_id in ("CartPole-v1", "LunarLander-v3"):
        config = config_for_env(env_id, preset="rainbow")
        assert config.dueling and config.noisy and config.distributional and config.prioritized
        assert config.n_step == 3 and config.double_dqn and config.num_atoms == 51
        assert config.v_max > 0 > config.v_min or env_id == "CartPole-v1"
    with pytest.raises(ValueError):
        DQNConfig(n_step=0)
    with pytest.raises(ValueError):
        DQNConfig(v_min=1.0, v_max=1.0)


RESUME = """
import sys
import keras, numpy as np, tensorflow as tf
tf.config.experimental.enable_op_determinism()  # bit-identical reruns, as train_cartpole.py --deterministic
sys.path.insert(0, sys.argv[2])
from helpers import FixedLengthEnv, vec
from tfdqn import DQNAgent, DQNConfig, Listener, Trainer
from tfdqn.networks.build import build_network
from tfdqn.training.resume import load_training_state, save_training_state


class StopAt(Listener):  # an interruption half way through a 300-step run (beta anneals over the 300)
    def on_step(self, step, logs=None):
        if step >= 150:
            self.trainer.stop_training = True

config = DQNConfig(hidden_sizes=(8,), dueling=True, noisy=True, distributional=True, num_atoms=11, v_min=0.0,
                   v_max=10.0, n_step=3, prioritized=True, batch_size=16, buffer_size=500, learning_starts=50,
                   train_freq=4, gradient_steps=2, target_update_interval=20, seed=2)

def make(listeners=()):
    keras.utils.set_random_seed(config.seed)
    return Trainer(DQNAgent(build_network((1,), 2, config), 2, config),
                   vec(lambda: FixedLengthEnv(7, terminate=False), n=2), config, listeners)

full = make()
full.train(300)
half = make([StopAt()])
half.train(300)
assert half.step == 150
save_training_state(half, sys.argv[1])
resumed = make()
load_training_state(resumed, sys.argv[1])
resumed.train(300)
for x, y in zip(full.agent.q_network.weights + full.agent.target_network.weights,
                resumed.agent.q_network.weights + resumed.agent.target_network.weights):
    np.testing.assert_array_equal(x.numpy(), y.numpy())
np.testing.assert_array_equal(full.replay.tree.tree, resumed.replay.tree.tree)
np.testing.assert_array_equal(full.adder.windows.obs, resumed.adder.windows.obs)
print("exact")
"""


def test_resume_with_every_part_is_exact(tmp_path):
    """Noise generators, priorities, n-step windows and C51's update all continue exactly after a resume."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TF_")}, "PYTHONPATH": str(root)}
    proc = subprocess.run(
        [sys.executable, "-c", RESUME, str(tmp_path / "state"), str(root / "tests")],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=root,
    )
    assert proc.returncode == 0 and "exact" in proc.stdout, proc.stderr[-3000:]


def test_pixel_network_with_every_part_exports_plain_keras(tmp_path):
    config = DQNConfig(hidden_sizes=(16,), dueling=True, noisy=True, distributional=True, num_atoms=5)
    agent = DQNAgent(build_network((36, 36, 2), 3, config), 3, config)
    # NumPy acts for convolutions up to MAX_CONV_MULTIPLY_ADDS (tfdqn.networks.numpy_conv), TensorFlow above it
    small = conv_multiply_adds(agent.q_network) <= MAX_CONV_MULTIPLY_ADDS
    assert isinstance(agent._numpy, NumpyQ) if small else agent._numpy is None
    x = np.random.default_rng(0).integers(0, 255, size=(4, 36, 36, 2), dtype=np.uint8)
    q = agent.q_values(x)
    assert q.shape == (4, 3)
    assert not np.allclose(agent.noisy_q_values(x, np.random.default_rng(0)), q)
    loaded = keras.models.load_model(agent.save(tmp_path / "pixels.keras"), safe_mode=True, compile=False)
    assert _builtin_only(loaded) and loaded.inputs[0].dtype == "uint8"
    np.testing.assert_allclose(loaded(x).numpy(), q, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("part", ["noisy", "distributional"])
def test_parts_with_a_rebuilt_export_refuse_encoded_observations_clearly(part):
    # Their saved model is rebuilt from plain layers, which does not yet carry the observation encoder.
    import gymnasium as gym

    from tfdqn.errors import ConfigError

    with pytest.raises(ConfigError, match="take Box observations only"):
        DQNAgent.from_spaces(
            gym.spaces.Discrete(16), gym.spaces.Discrete(4), DQNConfig(env_id="FrozenLake-v1", **{part: True})
        )
    dueling = DQNAgent.from_spaces(
        gym.spaces.Discrete(16), gym.spaces.Discrete(4), DQNConfig(env_id="FrozenLake-v1", dueling=True)
    )
    assert dueling.q_values(np.array([3])).shape == (1, 4)
