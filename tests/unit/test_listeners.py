import math

import gymnasium as gym
import numpy as np
import pytest
from helpers import CHAIN_ID, ChainEnv, FixedLengthEnv, Recorder, vec

from tfdqn import (
    DQNAgent,
    DQNConfig,
    Listener,
    ListenerList,
    ModelCheckpoint,
    PeriodicEvaluation,
    StopOnReward,
    Trainer,
    TrainingError,
    build_q_network,
)
from tfdqn.listeners.base import overrides
from tfdqn.listeners.view import RunView

TINY = DQNConfig(
    env_id=CHAIN_ID,
    hidden_sizes=(8,),
    batch_size=2,
    buffer_size=10,
    learning_starts=4,
    train_freq=2,
    gradient_steps=1,
    target_update_interval=3,
)


def make_trainer(env, listeners, config=TINY):
    agent = DQNAgent(build_q_network(env.single_observation_space.shape, 2, config.hidden_sizes), 2, config)
    return Trainer(agent, env, config, listeners)


def test_event_order_and_counts():
    rec = Recorder.make()
    make_trainer(vec(lambda: FixedLengthEnv(3)), [rec]).train(7)
    assert rec.events == [
        ("train_begin",),
        ("episode_begin", 0),
        ("step", 1),
        ("step", 2),
        ("replay_fail", 2),
        ("step", 3),
        ("episode_end", 0),
        ("target_update", 3),
        ("episode_begin", 1),  # a new episode begins only when training goes on
        ("step", 4),
        ("replay_start", 4),
        ("replay_end", 4),  # the reset-only step is not a step
        ("step", 5),
        ("step", 6),
        ("episode_end", 1),
        ("target_update", 6),
        ("replay_start", 6),
        ("replay_end", 6),
        ("episode_begin", 2),
        ("step", 7),
        ("episode_end", 2),  # still running when the budget ran out: completed=False
        ("train_end",),
    ]
    assert rec.logs[-2]["completed"] is False and rec.logs[-2]["length"] == 1
    end = rec.logs[-1]
    assert end["step"] == 7 and end["episodes"] == 2 and end["updates"] == 2 and end["stopped"] is False
    episode_end = rec.logs[rec.events.index(("episode_end", 1))]
    assert episode_end["return"] == 3.0 and episode_end["length"] == 3 and episode_end["terminated"] is True
    assert episode_end["completed"] is True
    assert math.isfinite(episode_end["loss"]) and episode_end["mean_return_100"] == 3.0
    replay_end = rec.logs[rec.events.index(("replay_end", 4))]
    assert set(replay_end) >= {"loss", "mean_q", "step", "gradient_steps", "updates"}


def test_stop_training_flag():
    class StopAfterTwoEpisodes(Listener):
        def on_episode_end(self, episode, logs=None):
            if episode == 1:
                self.trainer.stop_training = True

    rec = Recorder.make()
    trainer = make_trainer(vec(lambda: FixedLengthEnv(3)), [StopAfterTwoEpisodes(), rec])
    end = trainer.train(1_000)
    assert end["stopped"] is True and trainer.step == 6 and trainer.episodes == 2
    assert rec.events[-1] == ("train_end",)


def test_a_listener_sees_a_narrow_view_of_the_run_not_the_trainer():
    """`self.trainer` is a `RunView`: exactly the documented names, the counters live and read-only, its services
    reaching every listener, `stop_training` stopping the Trainer, and none of the Trainer's internals."""
    assert {name for name in dir(RunView) if not name.startswith("_")} == {
        *("step", "updates", "episodes", "num_envs", "agent", "config", "replay", "stop_training"),
        *("at_quiet_point", "emit_evaluation", "save_state"),
    }
    seen, quiet = [], []

    class Watch(Listener):
        def on_episode_end(self, episode, logs=None):
            view = self.trainer
            seen.append((view.step, view.episodes, view.updates))
            view.emit_evaluation({"step": view.step, "kind": "periodic", "episodes": 1, "mean_return": 0.0})
            view.at_quiet_point(lambda: quiet.append(rec.events.count(("evaluation", "periodic"))))
            if episode == 1:
                view.stop_training = True

    watch, rec = Watch(), Recorder.make()
    trainer = make_trainer(vec(lambda: FixedLengthEnv(3)), [watch, rec])
    end = trainer.train(1_000)
    assert end["stopped"] is True and trainer.stop_training is True and trainer.step == 6  # set on the view
    assert seen == [(3, 1, 0), (6, 2, 1)] and quiet == [1, 2]  # deferred until every listener saw the evaluation
    view = watch.trainer
    assert isinstance(view, RunView) and view is not trainer
    assert (view.step, view.updates, view.episodes, view.num_envs) == (6, trainer.updates, 2, 1)
    assert view.agent is trainer.agent and view.config is trainer.config and view.replay is trainer.replay
    internals = ("rng", "adder", "env", "listeners", "schedule", "episodes_in_progress", "total_steps", "train")
    for name in (*internals, "interrupted", "_choose_actions", "_on_signal", "trainer", "__dict__"):
        assert not hasattr(view, name), name
    with pytest.raises(AttributeError, match="call at_quiet_point and emit_evaluation on the view itself"):
        _ = view.listeners
    for name in ("step", "updates", "agent", "config", "replay", "num_envs", "rng", "stop_trainig"):
        with pytest.raises(AttributeError):  # read-only, and no new attribute (a typo) is silently accepted
            setattr(view, name, 0)
    assert view.step == 6 and view.agent is trainer.agent


def test_hooks_not_overridden_are_not_called():
    class OnlyEpisodes(Listener):
        def on_episode_end(self, episode, logs=None):
            pass

    listeners = ListenerList([OnlyEpisodes()])
    assert listeners.wants("on_episode_end") and not listeners.wants("on_step")
    assert overrides(OnlyEpisodes(), "on_episode_end") and not overrides(OnlyEpisodes(), "on_step")


def test_listener_exception_names_the_listener():
    class Broken(Listener):
        def on_episode_end(self, episode, logs=None):
            raise KeyError("boom")

    with pytest.raises(TrainingError, match=r"Broken\.on_episode_end raised KeyError"):
        make_trainer(vec(lambda: FixedLengthEnv(3)), [Broken()]).train(10)


def test_non_listener_rejected():
    with pytest.raises(TypeError, match="not a tfdqn.Listener"):
        ListenerList([object()])


def test_periodic_evaluation_confirmation_and_checkpoint(tmp_path):
    rec = Recorder.make()
    checkpoint = ModelCheckpoint(tmp_path)
    stop = StopOnReward(threshold=-1.0, confirm_episodes=3)
    listeners = [PeriodicEvaluation(every=5, episodes=2), checkpoint, stop, rec]
    trainer = make_trainer(vec(lambda: ChainEnv()), listeners)
    trainer.train(100)
    evaluations = [(e, log["step"], log["episodes"]) for e, log in zip(rec.events, rec.logs) if e[0] == "evaluation"]
    assert evaluations == [(("evaluation", "periodic"), 5, 2), (("evaluation", "confirmation"), 5, 3)]
    assert trainer.stop_training and trainer.step == 5
    assert (tmp_path / "best.keras").is_file() and (tmp_path / "last.keras").is_file()
    assert checkpoint.best_step == 5 and checkpoint.best_episodes == 3  # the confirmation refined the score
    assert stop.confirmed["episodes"] == 3


def test_unconfirmed_result_does_not_stop():
    rec = Recorder.make()
    stop = StopOnReward(threshold=1.5, confirm_episodes=4)  # chain returns are at most 1: only lucky passes
    trainer = make_trainer(vec(lambda: ChainEnv()), [PeriodicEvaluation(every=10, episodes=1), stop, rec])

    def always_pass(logs=None):  # the periodic evaluation reports a pass; the confirmation decides
        if logs["kind"] == "periodic":
            logs["mean_return"] = 2.0

    original = stop.on_evaluation
    stop.on_evaluation = lambda logs=None: (always_pass(logs), original(logs))
    trainer.train(30)
    kinds = [e[1] for e in rec.events if e[0] == "evaluation"]
    assert kinds == ["periodic", "confirmation"] * 3
    assert not trainer.stop_training and trainer.step == 30


def test_checkpoint_keeps_best_and_refines_same_step(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path)

    class FakeTrainer:
        agent = DQNAgent(build_q_network((2,), 2, (4,)), 2, DQNConfig(batch_size=2, buffer_size=2))

    checkpoint.set_trainer(FakeTrainer())
    checkpoint.on_evaluation({"step": 10, "mean_return": 500.0, "episodes": 20, "kind": "periodic"})
    checkpoint.on_evaluation({"step": 10, "mean_return": 300.0, "episodes": 100, "kind": "confirmation"})
    assert checkpoint.best_score == 300.0 and checkpoint.best_step == 10
    checkpoint.on_evaluation({"step": 20, "mean_return": 450.0, "episodes": 20, "kind": "periodic"})
    assert checkpoint.best_step == 20
    checkpoint.on_evaluation({"step": 30, "mean_return": 449.0, "episodes": 20, "kind": "periodic"})
    assert checkpoint.best_step == 20


def test_vector_env_transitions_and_episodes():
    """Sub-envs end at known steps; the autoreset step must never be stored or reported."""
    rec = Recorder.make()
    env = gym.vector.SyncVectorEnv([lambda: FixedLengthEnv(2), lambda: FixedLengthEnv(3, terminate=False)])
    config = TINY.replace(learning_starts=1_000, buffer_size=100, num_envs=2)
    trainer = make_trainer(env, [rec], config)
    trainer.train(20)
    n = len(trainer.replay)
    assert n == trainer.step and 20 <= n <= 21  # the last iteration may overshoot by num_envs - 1
    obs, next_obs = trainer.replay.obs[:n, 0], trainer.replay.next_obs[:n, 0]
    np.testing.assert_array_equal(next_obs, obs + 1)  # never a (last obs -> reset obs) pair
    ends = [
        (log["env_index"], log["length"], log["return"], log["terminated"], log["truncated"])
        for e, log in zip(rec.events, rec.logs)
        if e[0] == "episode_end" and log["completed"]
    ]
    assert set(ends) == {(0, 2, 2.0, True, False), (1, 3, 3.0, False, True)}
    term = trainer.replay.terminated[:n]
    np.testing.assert_array_equal(term, ((next_obs == 2) & (obs == 1) & (term == 1)).astype(np.float32))
    episode_ids = [e[1] for e, log in zip(rec.events, rec.logs) if e[0] == "episode_end" and log["completed"]]
    assert len(episode_ids) == len(set(episode_ids)) == trainer.episodes
