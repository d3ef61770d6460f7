"""MinAtar games: registered when asked for, boolean grids kept as bytes in the replay and fed raw to a model
that plain Keras loads; bad ids and a missing package are one clear error."""

import sys

import gymnasium as gym
import keras
import numpy as np
import pytest

from tfdqn import EnvError, config_for_env
from tfdqn.envs import minatar
from tfdqn.envs.make import make_env, observation_dtype
from tfdqn.replay.pixel import PixelReplayBuffer, replay_for_observations

pytest.importorskip("minatar", reason="the minatar extra is not installed (pip install 'tfdqn[minatar]')")


@pytest.mark.parametrize("game", minatar.GAMES)
def test_each_game_is_made_from_its_id_with_boolean_grids(game):
    env = make_env(f"MinAtar/{game}-v1", render_mode="rgb_array")
    obs, _ = env.reset(seed=0)
    assert obs.dtype == bool and obs.shape == (10, 10, minatar.CHANNELS[game])
    assert observation_dtype(env.observation_space) == np.bool_
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.shape == (160, 160, 3)
    assert make_env(f"MinAtar/{game}-v0").action_space.n == 6  # v0: the paper's full action set
    env.close()


def test_the_replay_keeps_one_byte_per_cell_once():
    replay = replay_for_observations(100, (10, 10, 4), np.bool_)
    assert isinstance(replay, PixelReplayBuffer) and replay.obs.dtype == np.bool_
    assert replay.obs.nbytes == 100 * 400


@pytest.mark.parametrize("bad", ["MinAtar/Pong-v1", "MinAtar/Breakout-v2", "MinAtar/breakout-v1"])
def test_unknown_games_are_refused_naming_the_known_ones(bad):
    with pytest.raises(EnvError, match="is not a MinAtar game: use one of MinAtar/Asterix-v1"):
        make_env(bad)


def test_a_missing_package_names_what_to_install(monkeypatch):
    for env_id in [i for i in gym.registry if i.startswith("MinAtar/")]:
        monkeypatch.delitem(gym.registry, env_id)
    monkeypatch.setitem(sys.modules, "minatar", None)
    monkeypatch.setitem(sys.modules, "minatar.gym", None)
    with pytest.raises(EnvError, match=r"need the minatar package, not installed: pip install 'tfdqn\[minatar\]'"):
        make_env("MinAtar/Breakout-v1")


def test_the_saved_model_takes_raw_booleans_and_loads_in_plain_keras(tmp_path):
    from tfdqn.dqn.agent import DQNAgent

    env = make_env("MinAtar/Breakout-v1")
    agent = DQNAgent.from_spaces(env.observation_space, env.action_space, config_for_env("MinAtar/Breakout-v1"))
    path = agent.save(tmp_path / "q.keras")
    model = keras.models.load_model(path, safe_mode=True)
    assert model.inputs[0].dtype == "bool"
    obs, _ = env.reset(seed=0)
    np.testing.assert_allclose(model(obs[None]).numpy(), agent.q_values(obs[None]), atol=1e-5)
