"""The Atari protocol end to end on a stand-in game registered under a tfdqn/ALE id (no ale-py): the training env
alone gets the training-only wrappers; the learner stores clipped rewards and a terminal at each life lost, n-step
returns stop there, and the episodes reported are whole games with their raw scores, as evaluations are."""

import gymnasium as gym
import numpy as np
import pytest
from atari_fakes import LivesGame, game_score
from helpers import Recorder

from tfdqn import DQNConfig, make_env, make_vec_env
from tfdqn.dqn.evaluation import evaluate
from tfdqn.envs.training_signal import ClipRewardSignal, LifeLossSignal
from tfdqn.training.run import assemble

STUB_ID = "tfdqn/ALE-LivesStub-v5"
TRAINING_ONLY = {LifeLossSignal, ClipRewardSignal}
LIFE = [1.0, -1.0, 1.0, 0.0]
"""The clipped rewards of one life of a `LivesGame` (4 steps, paying 4, -2.5, 0.5, 0)."""


@pytest.fixture
def stub_id():
    gym.register(STUB_ID, entry_point=LivesGame)  # registered, so tfdqn.envs.atari leaves it as it is
    yield STUB_ID
    del gym.registry[STUB_ID]


def wrappers_of(env: gym.Env) -> set[type]:
    kinds = set()
    while isinstance(env, gym.Wrapper):
        kinds.add(type(env))
        env = env.env
    return kinds


def test_only_the_training_env_gets_the_training_only_wrappers(stub_id):
    venv = make_vec_env(stub_id, 2)
    assert all(TRAINING_ONLY <= wrappers_of(sub) for sub in venv.envs)
    venv.close()
    env = make_env(stub_id)  # what evaluations, GIFs and `tfdqn evaluate` play
    assert not TRAINING_ONLY & wrappers_of(env)
    result = evaluate(lambda obs: np.zeros(len(obs), int), env, episodes=2, seed=0)
    assert result.returns.tolist() == [game_score(), game_score()]  # whole games, raw scores
    env.close()


@pytest.mark.parametrize("n_step", [1, 3])
def test_the_learner_sees_lives_and_clipped_rewards_and_the_episodes_are_games(stub_id, n_step):
    config = DQNConfig(env_id=stub_id, hidden_sizes=(8,), buffer_size=100, batch_size=8, learning_starts=1_000)
    rec = Recorder.make()
    run = assemble(config.replace(n_step=n_step, gamma=0.5), listeners=[rec])
    run.train(30)  # 2 games of 3 lives of 4 steps, and 6 steps of a third
    ends = [log for event, log in zip(rec.events, rec.logs) if event[0] == "episode_end" and log["completed"]]
    assert [(log["return"], log["length"], log["terminated"]) for log in ends] == [(game_score(), 12, True)] * 2
    replay = run.trainer.replay
    base = getattr(replay, "base", replay)  # n-step returns: the buffer inside ExtendedReplay
    stored = len(replay)
    rewards, terminated = base.rewards[:stored].tolist(), base.terminated[:stored].tolist()
    if n_step == 1:
        assert stored == 30 and rewards == (LIFE * 8)[:30]
        assert terminated == ([0.0, 0.0, 0.0, 1.0] * 8)[:30]  # a terminal at every life lost, the 3rd the game's
    else:  # each life: one full 3-step window, then the life's end empties the open ones, terminal
        g = 0.5
        life = [LIFE[0] + g * LIFE[1] + g * g * LIFE[2], LIFE[1] + g * LIFE[2] + g * g * LIFE[3], LIFE[2], LIFE[3]]
        assert stored == 7 * 4 and rewards == pytest.approx(life * 7)  # the 8th life's 2 steps: a window open
        assert terminated == [0.0, 1.0, 1.0, 1.0] * 7
