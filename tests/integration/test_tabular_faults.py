"""Tabular Q-learning keeps the DQN trainer's listener contract when something raises: whatever a hook or the
environment raises (an `Exception`, `KeyboardInterrupt`, `SystemExit`), every listener gets matched episode
begin/end pairs and exactly one `on_train_end`, then the first error reaches the caller."""

import gymnasium as gym
import pytest
from helpers import Recorder, assert_pairs_matched, raising_recorder

from tfdqn.errors import ListenerError
from tfdqn.tabular.config import TabularConfig
from tfdqn.tabular.mdp import make_frozenlake
from tfdqn.tabular.qlearning import QLearner

CONFIG = TabularConfig(episodes=20, seed=0)
HOOKS = ("on_train_begin", "on_episode_begin", "on_episode_end", "on_step", "on_train_end")
FAULTS = {"RuntimeError": (RuntimeError, ListenerError), "KeyboardInterrupt": (KeyboardInterrupt, KeyboardInterrupt)}
FAULTS["SystemExit"] = (SystemExit, SystemExit)


class RaisingEnv(gym.Wrapper):
    """Raises `exc` from `step` at the `at`-th step of its life (mid-episode: FrozenLake's first episodes take
    several steps)."""

    def __init__(self, env, exc, at=8):
        super().__init__(env)
        self.exc, self.at, self.steps = exc, at, 0

    def step(self, action):
        self.steps += 1
        if self.steps == self.at:
            raise self.exc
        return self.env.step(action)


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("hook", HOOKS)
def test_a_hook_raising_anything_leaves_every_listener_with_matched_pairs(hook, fault):
    exc_type, expected = FAULTS[fault]
    first = raising_recorder(hook, exc_type("raised by the first listener"))
    second, third = Recorder.make(), Recorder.make()
    learner = QLearner(CONFIG, listeners=[first, second, third])
    with pytest.raises(expected) as info:
        learner.train()
    if expected is ListenerError:
        assert isinstance(info.value.__cause__, RuntimeError)
    for rec in (first, second, third):
        assert_pairs_matched(rec)
    paired = [[e for e in rec.events if e[0] != "step"] for rec in (first, second, third)]
    assert paired[0] == paired[1] == paired[2]  # each got every begin and end the others got


@pytest.mark.parametrize("fault", list(FAULTS))
def test_the_environment_raising_mid_episode_ends_it_for_every_listener(fault):
    exc_type = FAULTS[fault][0]
    recs = [Recorder.make(), Recorder.make()]
    learner = QLearner(CONFIG, env=RaisingEnv(make_frozenlake(), exc_type("the env broke")), listeners=recs)
    with pytest.raises(exc_type, match="the env broke"):
        learner.train()
    for rec in recs:
        assert_pairs_matched(rec)
        (name, episode), logs = rec.events[-2], rec.logs[-2]
        assert name == "episode_end" and episode == learner.episodes  # the episode under way, not counted
        done = sum(log["length"] for (event, *_), log in zip(rec.events[:-2], rec.logs) if event == "episode_end")
        assert logs["completed"] is False and logs["length"] == learner.step - done  # its steps so far
        assert rec.logs[-1]["error"] == "the env broke"


def test_a_later_train_call_starts_a_fresh_episode_under_the_cut_ones_number():
    rec = Recorder.make()
    learner = QLearner(CONFIG, env=RaisingEnv(make_frozenlake(), RuntimeError("once")), listeners=[rec])
    with pytest.raises(RuntimeError):
        learner.train()
    cut = learner.episodes
    learner.train(3)
    begins = [e[1] for e in rec.events if e[0] == "episode_begin"]
    assert begins.count(cut) == 2 and learner.episodes == cut + 3
    ends = [log.get("completed", True) for e, log in zip(rec.events, rec.logs) if e[0] == "episode_end"]
    assert ends.count(False) == 1
