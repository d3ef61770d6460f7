"""Every common observation space: raw observations in, the encoding inside the saved model (plain Keras,
safe_mode), the compact raw form in the replay buffer, and one clear error for what cannot be encoded."""

import gymnasium as gym
import keras
import numpy as np
import pytest

import tfdqn
from tfdqn.envs.spaces import FlatBox, RawObservation, encoded_size, flat_space, flatten_observation, replay_dtype
from tfdqn.errors import EnvError, ModelFileError

SPACES = {
    "box": gym.spaces.Box(-1.0, 1.0, (3,), np.float32),
    "box_2d": gym.spaces.Box(-1.0, 1.0, (2, 3), np.float32),
    "discrete": gym.spaces.Discrete(5, start=2),
    "multidiscrete": gym.spaces.MultiDiscrete([3, 4], start=[1, 0]),
    "multibinary": gym.spaces.MultiBinary(4),
    "tuple": gym.spaces.Tuple((gym.spaces.Discrete(3), gym.spaces.Discrete(2))),
    "dict": gym.spaces.Dict(
        {
            "pos": gym.spaces.Box(0.0, 1.0, (2,), np.float32),
            "cell": gym.spaces.Discrete(4),
            "bits": gym.spaces.MultiBinary(2),
        }
    ),
}
# width of the encoded feature vector: Box values, one-hot per categorical variable, MultiBinary bits
WIDTHS = {"box": 3, "box_2d": 6, "discrete": 5, "multidiscrete": 7, "multibinary": 4, "tuple": 5, "dict": 2 + 4 + 2}


class SpaceEnv(gym.Env):
    """Random observations of `space`; action 1 pays 1; episodes last 5 steps (terminated)."""

    def __init__(self, kind: str = "discrete"):
        self.observation_space = SPACES[kind]
        self.action_space = gym.spaces.Discrete(2)
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.observation_space.seed(seed)
        self.t = 0
        return self.observation_space.sample(), {}

    def step(self, action):
        self.t += 1
        return self.observation_space.sample(), float(action == 1), self.t >= 5, False, {}


for _kind in SPACES:
    if f"tfdqn-test/Space-{_kind}-v0" not in gym.registry:
        gym.register(f"tfdqn-test/Space-{_kind}-v0", entry_point=SpaceEnv, kwargs={"kind": _kind})

SMALL = dict(hidden_sizes=(8,), learning_starts=20, buffer_size=200, batch_size=8, train_freq=4, gradient_steps=2)


def raw_batch(kind: str, n: int = 6) -> np.ndarray:
    env = tfdqn.make_env(f"tfdqn-test/Space-{kind}-v0")
    obs = [env.reset(seed=i)[0] for i in range(n)]
    return np.stack(obs)


@pytest.mark.parametrize("kind", SPACES)
def test_encoding_width_and_network_shapes(kind):
    space = flat_space(SPACES[kind])
    assert encoded_size(space) == WIDTHS[kind]
    agent = tfdqn.DQNAgent.from_spaces(space, gym.spaces.Discrete(3), tfdqn.DQNConfig(hidden_sizes=(8,)))
    obs = raw_batch(kind)
    assert tuple(agent.q_network.inputs[0].shape[1:]) == tuple(space.shape)
    assert agent.q_values(obs).shape == (6, 3)
    first_dense = next(x for x in agent.q_network.layers if isinstance(x, keras.layers.Dense) and x.trainable)
    assert first_dense.kernel.shape[0] == WIDTHS[kind]


def test_one_hot_is_exact():
    from tfdqn.networks.encoders import encoder_layers

    space = flat_space(
        gym.spaces.Tuple(
            (gym.spaces.Discrete(3, start=1), gym.spaces.Box(-5, 5, (1,)), gym.spaces.MultiDiscrete([2, 2]))
        )
    )
    inputs, features = encoder_layers(space)
    encode = keras.Model(inputs, features)
    out = encode(np.array([[3, -2.5, 1, 0], [1, 4.0, 0, 1]], np.float32)).numpy()
    # numeric entries first (in order), then the one-hots of the categorical entries (in order)
    np.testing.assert_array_equal(out, [[-2.5, 0, 0, 1, 0, 1, 1, 0], [4.0, 1, 0, 0, 1, 0, 0, 1]])


def test_flatten_order_is_the_spaces_order():
    space = SPACES["dict"]  # Gymnasium sorts a plain dict's keys: bits, cell, pos
    assert list(space.spaces) == ["bits", "cell", "pos"]
    flat = flatten_observation(space, {"pos": np.array([0.25, 0.5]), "cell": 3, "bits": np.array([1, 0])})
    np.testing.assert_array_equal(flat, [1, 0, 3, 0.25, 0.5])
    assert flat.dtype == np.float32
    tup = flatten_observation(SPACES["tuple"], (2, 1))
    assert tup.dtype == np.int64 and tup.tolist() == [2, 1]
    box = flat_space(SPACES["dict"])
    assert isinstance(box, FlatBox) and box.original is SPACES["dict"] and box.shape == (5,)


@pytest.mark.parametrize("kind", SPACES)
def test_saved_model_takes_raw_observations_in_plain_keras(kind, tmp_path):
    env = tfdqn.make_env(f"tfdqn-test/Space-{kind}-v0")
    agent = tfdqn.DQNAgent.from_spaces(env.observation_space, env.action_space, tfdqn.DQNConfig(hidden_sizes=(8,)))
    path = agent.save(tmp_path / "q.keras")
    model = keras.models.load_model(path, safe_mode=True)  # no tfdqn object involved
    obs = raw_batch(kind)
    np.testing.assert_allclose(model(obs).numpy(), agent.q_values(obs), rtol=1e-6, atol=1e-6)
    one, _ = env.reset(seed=3)
    assert model(np.asarray(one)[None]).shape == (1, 2)  # a single raw observation, batched


@pytest.mark.parametrize("kind", SPACES)
def test_short_training_run_stores_the_compact_raw_form(kind):
    env_id = f"tfdqn-test/Space-{kind}-v0"
    config = tfdqn.DQNConfig(env_id=env_id, seed=1, num_envs=2, **SMALL)
    venv = tfdqn.make_vec_env(env_id, config.num_envs)
    agent = tfdqn.DQNAgent.from_spaces(venv.single_observation_space, venv.single_action_space, config)
    trainer = tfdqn.Trainer(agent, venv, config)
    end = trainer.train(60)
    venv.close()
    assert end["updates"] > 0
    space = flat_space(SPACES[kind])
    assert trainer.replay.obs.shape[1:] == tuple(space.shape)  # a Discrete state is one number, not a one-hot
    assert trainer.replay.obs.dtype == replay_dtype(space)
    if kind in ("discrete", "multidiscrete", "tuple"):
        assert np.issubdtype(trainer.replay.obs.dtype, np.integer)
    result = tfdqn.evaluate(tfdqn.greedy_policy(agent.q_network), tfdqn.make_env(env_id), 2, seed=0)
    assert len(result.returns) == 2


def test_frozenlake_observation_is_one_integer():
    env = tfdqn.make_env("FrozenLake-v1")
    assert isinstance(env, RawObservation)
    obs, _ = env.reset(seed=0)
    assert obs.shape == () and obs.dtype == np.int64 and int(obs) == 0
    venv = tfdqn.make_vec_env("FrozenLake-v1", 2)
    assert venv.single_observation_space == gym.spaces.Discrete(16)
    venv.close()


@pytest.mark.parametrize(
    "space,name",
    [
        (gym.spaces.Text(5), "Text"),
        (gym.spaces.Graph(gym.spaces.Box(0, 1, (2,)), None), "Graph"),
        (gym.spaces.Sequence(gym.spaces.Discrete(3)), "Sequence"),
        (gym.spaces.Tuple((gym.spaces.Discrete(2), gym.spaces.Text(3))), "Text"),
        (gym.spaces.Discrete(100_000), "one-hot"),
    ],
)
def test_unsupported_space_is_one_clear_error(space, name):
    from tfdqn.envs.make import check_spaces

    with pytest.raises(EnvError, match=name) as info:
        check_spaces(space, gym.spaces.Discrete(2), "Some-v0")
    assert "\n" not in str(info.value) and "Some-v0" in str(info.value)


def test_model_that_does_not_fit_the_environment(tmp_path):
    lake = tfdqn.make_env("FrozenLake-v1")
    agent = tfdqn.DQNAgent.from_spaces(lake.observation_space, lake.action_space, tfdqn.DQNConfig(hidden_sizes=(8,)))
    path = agent.save(tmp_path / "lake4.keras")
    with pytest.raises(ModelFileError, match="one-hot encodes 16 categories .* has 64"):
        tfdqn.evaluate_model(path, "FrozenLake8x8-v1", 1)
    with pytest.raises(ModelFileError, match="outputs 4 Q-values but the environment has 2 actions"):
        tfdqn.evaluate_model(path, "Blackjack-v1", 1)
    cartpole = tfdqn.DQNAgent.from_spaces(
        tfdqn.make_env("CartPole-v1").observation_space, gym.spaces.Discrete(2), tfdqn.DQNConfig(hidden_sizes=(8,))
    ).save(tmp_path / "cartpole.keras")
    with pytest.raises(ModelFileError, match=r"shape \(4,\) but the environment gives \(3,\)"):
        tfdqn.evaluate_model(cartpole, "Blackjack-v1", 1)
