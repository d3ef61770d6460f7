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


@pytest.mark.parametrize("game", minatar.GAMES)
def test_a_seeded_game_draws_what_minatars_own_seeding_draws(game):
    from minatar.gym import BaseEnv

    name = {"SpaceInvaders": "space_invaders"}.get(game, game.lower())
    own, ours = BaseEnv(name), make_env(f"MinAtar/{game}-v0")
    rng = np.random.default_rng(0)
    for seed in (5, None, None, 9, None):  # unseeded resets go on with the stream
        a, b = own.reset(seed=seed)[0], ours.reset(seed=seed)[0]
        np.testing.assert_array_equal(a, b)
        done = False
        while not done:
            action = int(rng.integers(6))
            x, y = own.step(action), ours.step(action)
            np.testing.assert_array_equal(x[0], y[0])
            assert x[1:3] == y[1:3]
            done = x[2]


def test_the_state_an_episode_starts_from_rebuilds_it_exactly_sticky_first_action_included():
    import json

    from tfdqn.envs.reset_state import reset_state, restore_reset_state

    env = make_env("MinAtar/Asterix-v0")
    rng = np.random.default_rng(1)
    env.reset(seed=3)
    for _ in range(30):  # episode after episode: its start state, and the episode rebuilt from it in a new env
        start = json.loads(json.dumps(reset_state(env)))  # as a training state holds it
        assert set(start) == {"rng", "carried"} and start["carried"]["last_action"] in range(6)
        rebuilt = make_env("MinAtar/Asterix-v0")
        rebuilt.reset(seed=0)  # as a resumed run's env is first reset
        restore_reset_state(rebuilt, start)
        np.testing.assert_array_equal(env.reset()[0], rebuilt.reset()[0])
        done = False
        while not done:
            action = int(rng.integers(1, 5))  # a move (never 0, a fresh env's last action): a sticky one shows
            x, y = env.step(action), rebuilt.step(action)
            np.testing.assert_array_equal(x[0], y[0])
            done = x[2]


def test_a_greedy_freeway_episode_is_scored_whole_not_cut_at_1000_steps(recwarn):
    from tfdqn.dqn import evaluation

    minatar.ensure_registered("MinAtar/Freeway-v1")
    assert evaluation.evaluation_step_cap("MinAtar/Freeway-v1") == minatar.EPISODE_CAP > 2_500
    assert evaluation.step_cap_line("MinAtar/Freeway-v1") == (
        "MinAtar/Freeway-v1 has no time limit: evaluation episodes are cut at 10,000 steps (--eval-max-steps)"
    )
    steps = []

    def up(obs):  # Freeway-v1's minimal actions: no-op, up, down
        steps.append(len(obs))
        return np.ones(len(obs), dtype=np.int64)

    env = make_env("MinAtar/Freeway-v1")
    assert evaluation.episode_step_cap(env) == minatar.EPISODE_CAP
    result = evaluation.evaluate(up, env, episodes=1, seed=0)
    assert 2_400 <= sum(steps) <= 2_600 and result.returns[0] > 0  # its own end, about 2,500 steps
    assert not [w for w in recwarn if "no time limit" in str(w.message)]


def test_minatar_cap_holds_for_the_module_form_and_is_said_before_any_minatar_id_is_registered(monkeypatch):
    from tfdqn.dqn import evaluation

    module_form = "tfdqn.envs.minatar:MinAtar/Freeway-v0"
    assert evaluation.evaluation_step_cap(module_form) == minatar.EPISODE_CAP
    for name in [name for name in gym.registry if name.startswith("MinAtar/")]:
        monkeypatch.delitem(gym.registry, name)  # put back after the test
    assert "MinAtar/Asterix-v1" not in gym.registry
    assert evaluation.step_cap_line("MinAtar/Asterix-v1") == (
        "MinAtar/Asterix-v1 has no time limit: evaluation episodes are cut at 10,000 steps (--eval-max-steps)"
    )
    assert evaluation.step_cap_line("MinAtar/Pong-v1") is None  # making it says what is wrong
