"""The Atari protocol's wrappers on a stand-in game (no ale-py): FIRE at every life start, and the training-only
signals (a terminal at each life lost, rewards clipped to their sign) that leave the game and its score alone; and,
where ale-py is installed, the preprocessing (no-op starts, frame skip, 84x84 greyscale, the frame stack)."""

import gymnasium as gym
import numpy as np
import pytest
from atari_fakes import FIRE_GAME, NO_FIRE_GAME, REWARDS, LivesGame

from tfdqn.envs.atari import FireOnLifeStart, atari_env_id, fire_on_life_start, training_wrappers
from tfdqn.envs.training_signal import (
    TRAINING_REWARD,
    TRAINING_TERMINATED,
    ClipRewardSignal,
    LifeLossSignal,
    training_signal,
)
from tfdqn.errors import EnvError

FIRE, RIGHT = FIRE_GAME.index("FIRE"), FIRE_GAME.index("RIGHT")


def test_fire_is_pressed_after_reset_and_after_each_life_lost_but_not_at_game_over():
    game = LivesGame(lives=2, life_steps=2)
    env = fire_on_life_start(game)
    assert isinstance(env, FireOnLifeStart)
    obs, info = env.reset(seed=0)
    assert game.actions == [FIRE] and info["lives"] == 2 and obs[0] == 1  # the press is a step of the game (t=1)
    _, reward, terminated, _, info = env.step(RIGHT)  # t=2 loses a life: FIRE follows (t=3), rewards summed
    assert game.actions == [FIRE, RIGHT, FIRE] and not terminated and info["lives"] == 1
    assert reward == REWARDS[2] + REWARDS[3]
    _, reward, terminated, _, _ = env.step(RIGHT)  # t=4: the last life lost ends the game, no press after it
    assert game.actions == [FIRE, RIGHT, FIRE, RIGHT] and terminated and reward == REWARDS[0]


def test_a_game_without_fire_is_left_alone():
    game = LivesGame(meanings=NO_FIRE_GAME)
    assert fire_on_life_start(game) is game
    with pytest.raises(EnvError, match="FIRE"):
        FireOnLifeStart(game)


def test_a_life_lost_is_terminal_for_the_learner_and_the_game_goes_on():
    game = LivesGame(lives=3, life_steps=2)
    env = LifeLossSignal(game)
    env.reset(seed=0)
    signals, ends = [], []
    for _ in range(6):
        _, _, terminated, truncated, info = env.step(0)
        signals.append(info[TRAINING_TERMINATED])
        ends.append(terminated or truncated)
    assert signals == [False, True, False, True, False, True]  # a terminal for the learner at every life lost
    assert ends == [False] * 5 + [True]  # the episode is the whole game
    assert game.resets == 1 and game.t == 6  # never reset in between


def test_rewards_are_clipped_to_their_sign_for_the_learner_only():
    env = ClipRewardSignal(LivesGame(lives=9))
    env.reset(seed=0)
    steps = [env.step(0) for _ in range(4)]
    assert [s[1] for s in steps] == [REWARDS[1], REWARDS[2], REWARDS[3], REWARDS[0]]  # the game's rewards
    assert [s[4][TRAINING_REWARD] for s in steps] == [1.0, -1.0, 1.0, 0.0]


def test_the_learner_reads_the_signals_from_vector_infos_and_the_game_elsewhere():
    def wrapped():
        return ClipRewardSignal(LifeLossSignal(LivesGame(lives=2, life_steps=1)))

    venv = gym.vector.SyncVectorEnv([wrapped, lambda: LivesGame(lives=2, life_steps=1)])  # the 2nd: no wrappers
    venv.reset(seed=0)
    _, rewards, terminated, _, infos = venv.step(np.zeros(2, int))  # t=1: a life lost, reward 4
    learn_rewards, learn_terminated = training_signal(rewards, terminated, infos)
    assert rewards.tolist() == [4.0, 4.0] and not terminated.any()
    assert learn_rewards.tolist() == [1.0, 4.0] and learn_terminated.tolist() == [True, False]
    venv.step(np.zeros(2, int))  # t=2: both games over; the next step autoresets them (infos from reset)
    _, rewards, terminated, _, infos = venv.step(np.zeros(2, int))
    learn_rewards, learn_terminated = training_signal(rewards, terminated, infos)
    assert learn_rewards.tolist() == rewards.tolist() and learn_terminated.tolist() == terminated.tolist()
    venv.close()


def test_only_atari_ids_get_training_wrappers():
    assert training_wrappers(atari_env_id("ALE/Pong-v5")) == [LifeLossSignal, ClipRewardSignal]
    assert training_wrappers(atari_env_id("ALE/Pong-v5", sticky_actions=0.0)) == [LifeLossSignal, ClipRewardSignal]
    assert training_wrappers("CartPole-v1") == [] and training_wrappers("tfdqn/PixelCartPole-v0") == []


def test_the_sticky_action_probability_is_named_in_the_id_and_given_to_the_game():
    assert atari_env_id("ALE/Breakout-v5") == "tfdqn/ALE-Breakout-v5"
    assert atari_env_id("ALE/Breakout-v5", 0.0) == "tfdqn/ALE-Breakout-sticky0-v5"
    assert gym.spec("tfdqn/ALE-Breakout-v5").kwargs["repeat_action_probability"] == 0.25
    assert gym.spec("tfdqn/ALE-Breakout-sticky0-v5").kwargs["repeat_action_probability"] == 0.0
    with pytest.raises(EnvError, match=r"not in \[0, 1\]"):
        atari_env_id("ALE/Breakout-v5", 1.5)
    with pytest.raises(EnvError, match="too many digits"):
        atari_env_id("ALE/Breakout-v5", 0.1234567)  # the id would round it: the game would get another value


def test_the_game_is_preprocessed_as_the_field_runs_it():
    """With ale-py (the atari extra): no-op starts up to 30, frame skip 4 (the game itself skips none), 84x84
    greyscale uint8, lives not terminal at this level, FIRE at life starts, 4 frames stacked channels last."""
    pytest.importorskip("ale_py", reason="the atari extra is not installed")
    from gymnasium.wrappers import AtariPreprocessing, FrameStackObservation

    from tfdqn.envs.atari import make_atari

    env = make_atari("ALE/Pong-v5")
    layers = [env]
    while hasattr(layers[-1], "env"):
        layers.append(layers[-1].env)
    (prep,) = [w for w in layers if isinstance(w, AtariPreprocessing)]
    (stack,) = [w for w in layers if isinstance(w, FrameStackObservation)]
    assert (prep.noop_max, prep.frame_skip, prep.screen_size) == (30, 4, (84, 84))
    assert prep.grayscale_obs and not prep.scale_obs and not prep.terminal_on_life_loss
    assert stack.stack_size == 4 and any(isinstance(w, FireOnLifeStart) for w in layers)
    game = layers[-1]
    assert game._frameskip == 1 and game.ale.getFloat("repeat_action_probability") == pytest.approx(0.25)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (84, 84, 4) and obs.dtype == np.uint8 and env.observation_space.contains(obs)
    env.close()
