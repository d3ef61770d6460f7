"""`tfdqn.load_policy`: the greedy action of one raw observation of any space or of a batch, Q-values equal to
Keras's, epsilon-greedy actions from the caller's generator, the NumPy path where the network allows; and it is
what evaluation acts through."""

import gymnasium as gym
import numpy as np
import pytest
import tensorflow as tf
from q_kinds import KINDS, MIRRORED, TRAINED, env_id, observation_space, observations, save_kind

import tfdqn
from tfdqn.envs.spaces import flatten_observation
from tfdqn.errors import ArgumentError, ModelFileError


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder, cache = tmp_path_factory.mktemp("kinds"), {}

    def get(kind):
        if kind not in cache:
            cache[kind] = save_kind(kind, folder)
        return cache[kind]

    return get


@pytest.mark.parametrize("kind", [*KINDS, *TRAINED])
def test_actions_and_q_values_of_one_raw_observation_and_of_a_batch(kind, saved):
    space = observation_space(kind)
    policy = tfdqn.load_policy(saved(kind), space)
    model = policy.model
    assert (policy.numpy is not None) == (kind in MIRRORED or kind == "cartpole_c51")
    x = observations(kind, 200)
    want = model(x.astype(model.inputs[0].dtype), training=False).numpy()
    q = policy.q_values(x)
    np.testing.assert_allclose(q, want, rtol=1e-5, atol=1e-5)
    actions = policy(x)
    assert actions.shape == (200,) and actions.dtype.kind == "i"
    np.testing.assert_array_equal(actions, np.argmax(q, axis=-1))
    space.seed(3)
    raw = [space.sample() for _ in range(5)]  # as the environment gives them: ints, tuples, dicts, uint8 images
    flat = np.stack([flatten_observation(space, o) for o in raw])
    for one, row in zip(raw, flat):
        action = policy(one)
        assert isinstance(action, int) and action == int(np.argmax(policy.q_values(row)))
        assert policy.q_values(one).shape == (model.outputs[0].shape[-1],)
    np.testing.assert_array_equal(policy(raw if isinstance(raw[0], dict | tuple) else np.stack(raw)), policy(flat))


def test_a_vector_envs_dict_batch_and_the_space_from_config_json(saved, tmp_path):
    path = tmp_path / "best.keras"
    path.write_bytes(saved("dict").read_bytes())
    (tmp_path / "config.json").write_text(tfdqn.DQNConfig(env_id=env_id("dict")).to_json())
    policy = tfdqn.load_policy(path)  # the space of config.json's env_id: raw dicts taken as they are
    assert isinstance(policy.observation_space, gym.spaces.Dict)
    envs = gym.vector.SyncVectorEnv([lambda: gym.make(env_id("dict"))] * 4)
    obs, _ = envs.reset(seed=0)
    assert isinstance(obs, dict)
    rows = [{key: value[i] for key, value in obs.items()} for i in range(4)]
    np.testing.assert_array_equal(policy(obs), [policy(row) for row in rows])
    envs.close()
    one = {key: value[:1] for key, value in obs.items()}  # a batch of one is a batch
    assert policy(one).tolist() == [policy(rows[0])]


def test_epsilon_greedy_draws_from_the_callers_generator(saved):
    policy = tfdqn.load_policy(saved("mlp"))
    x = observations("mlp", 500)
    greedy = policy(x)
    np.testing.assert_array_equal(policy.epsilon_greedy(x, 0.0, np.random.default_rng(0)), greedy)
    explored = policy.epsilon_greedy(x, 1.0, np.random.default_rng(1))
    np.testing.assert_array_equal(explored, policy.epsilon_greedy(x, 1.0, np.random.default_rng(1)))
    assert set(explored) == {0, 1, 2} and np.mean(explored != greedy) > 0.5
    half = policy.epsilon_greedy(x, 0.5, np.random.default_rng(2))
    assert 0.5 < np.mean(half == greedy) < 0.9  # about 1/2 + 1/2 * 1/3 agree with the greedy action
    one = policy.epsilon_greedy(x[0], 0.3, np.random.default_rng(3))
    assert isinstance(one, int) and 0 <= one < 3
    with pytest.raises(ArgumentError, match=r"epsilon=1.5 is invalid: must lie in \[0, 1\]"):
        policy.epsilon_greedy(x[0], 1.5, np.random.default_rng(0))


def test_observations_that_do_not_fit_and_files_that_are_not_q_networks(saved, tmp_path):
    policy = tfdqn.load_policy(saved("mlp"))
    with pytest.raises(ArgumentError, match=r"observations of shape \(3,\) do not fit the model, which takes one of"):
        policy(np.zeros(3))
    with pytest.raises(ArgumentError, match=r"shape \(2, 2, 4\)"):
        policy(np.zeros((2, 2, 4)))
    with pytest.raises(ModelFileError, match=r"takes observations of shape \(4,\) but the environment gives \(6,\)"):
        tfdqn.load_policy(saved("mlp"), gym.spaces.Box(-1.0, 1.0, (6,), np.float32))
    (tmp_path / "x.keras").write_text("no")
    with pytest.raises(ModelFileError, match="not a .keras archive"):
        tfdqn.load_policy(tmp_path / "x.keras")


def test_evaluation_acts_through_the_policy_with_kerass_returns(saved):
    path = TRAINED["cartpole_c51"]
    policy = tfdqn.greedy_policy(tfdqn.load_q_network(path))
    assert isinstance(policy, tfdqn.Policy) and policy.numpy is not None  # C51's expectation in NumPy
    model = policy.model
    keras_q = tf.function(lambda obs: model(obs, training=False))
    want = tfdqn.evaluate(lambda obs: np.argmax(keras_q(obs), axis=-1), tfdqn.make_env("CartPole-v1"), 2, seed=5)
    assert tfdqn.evaluate_model(path, "CartPole-v1", 2, seed=5).returns.tolist() == want.returns.tolist()
