"""Issue 31: faults a listener can cause. Whatever a hook raises (an `Exception`, `KeyboardInterrupt`,
`SystemExit`), every listener's begin/end pairs stay matched and the exception reaches the caller; a listener
cannot change what other listeners or training see through `logs`; the same listener given twice is refused."""

import csv
import json
import signal

import keras
import numpy as np
import pytest
from helpers import FixedLengthEnv, Recorder, assert_pairs_matched, raising_recorder, vec

import tfdqn
from tfdqn import (
    ArgumentError,
    DQNAgent,
    DQNConfig,
    Listener,
    ListenerList,
    MetricsLogger,
    ModelCheckpoint,
    Trainer,
    build_q_network,
)
from tfdqn.errors import ListenerError

CONFIG = DQNConfig(
    hidden_sizes=(8,),
    batch_size=4,
    buffer_size=100,
    learning_starts=8,
    train_freq=4,
    gradient_steps=1,
    target_update_interval=4,
    jit_compile=False,
)


def trainer_for(listeners, num_envs=2, length=3):
    config = CONFIG.replace(num_envs=num_envs)
    keras.utils.set_random_seed(0)  # the same weights for every run
    agent = DQNAgent(build_q_network((1,), 2, (8,)), 2, config)
    return Trainer(agent, vec(lambda: FixedLengthEnv(length), num_envs), config, listeners)


HOOKS = ("on_train_begin", "on_episode_begin", "on_episode_end", "on_step", "on_train_end")
FAULTS = {"RuntimeError": (RuntimeError, ListenerError), "KeyboardInterrupt": (KeyboardInterrupt, KeyboardInterrupt)}
FAULTS["SystemExit"] = (SystemExit, SystemExit)


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("hook", HOOKS)
def test_a_hook_raising_anything_leaves_every_listener_with_matched_pairs(tmp_path, hook, fault):
    exc_type, expected = FAULTS[fault]
    first = raising_recorder(hook, exc_type("raised by the first listener"))
    second, third = Recorder.make(), Recorder.make()
    checkpoint = ModelCheckpoint(tmp_path)
    with pytest.raises(expected) as info:
        trainer_for([first, second, checkpoint, third]).train(30)
    if expected is ListenerError:
        assert isinstance(info.value.__cause__, RuntimeError)
    for rec in (first, second, third):
        assert_pairs_matched(rec)
    assert (tmp_path / "last.keras").is_file()  # the checkpoint got on_train_end too


def test_several_episodes_ending_at_one_step_all_end_when_a_listener_raises_at_the_first():
    first = raising_recorder("on_episode_end", KeyboardInterrupt())
    second = Recorder.make()
    trainer = trainer_for([first, second], num_envs=3)
    with pytest.raises(KeyboardInterrupt):
        trainer.train(30)
    ends = [(e[1], log["completed"]) for e, log in zip(second.events, second.logs) if e[0] == "episode_end"]
    assert ends[:3] == [(0, True), (1, True), (2, True)]  # all three ended at step 3, before the raise
    assert trainer.episodes == 3
    assert_pairs_matched(second)


def test_no_end_without_a_begin_at_the_dispatch():
    rec = Recorder.make()
    listeners = ListenerList([rec])
    assert listeners.call_all("on_train_end", {}) == [] and listeners.call_all("on_episode_end", 4, {}) == []
    assert rec.events == []
    listeners.on_train_begin({})
    listeners.on_episode_begin(4, {})
    listeners.on_episode_end(4, {})
    listeners.on_episode_end(4, {})  # a second end of one episode reaches no one
    listeners.on_train_end({})
    listeners.on_train_end({})
    assert rec.events == [("train_begin",), ("episode_begin", 4), ("episode_end", 4), ("train_end",)]


class Meddler(Listener):
    """Changes every logs dict it gets, and tries to change the arrays of on_step in place."""

    def __init__(self):
        self.refused = 0

    def on_train_begin(self, logs=None):
        logs["config"]["gamma"] = -1.0
        logs["total_steps"] = 0

    def on_episode_end(self, episode, logs=None):
        logs["return"] = -12345.0
        logs.clear()

    def on_step(self, step, logs=None):
        for key in ("reward", "terminated", "truncated"):
            try:
                logs[key][:] = 0
            except ValueError:  # read-only
                self.refused += 1
        logs["terminated"] = np.zeros(2, bool)
        logs.clear()


def test_a_listener_changing_logs_or_arrays_changes_nothing_others_or_training_see(tmp_path):
    def run(listeners):
        rec = Recorder.make()
        trainer = trainer_for([*listeners, rec, MetricsLogger(tmp_path / str(len(listeners)))])
        trainer.train(40)
        return trainer, rec

    plain_trainer, plain = run([])
    meddler = Meddler()
    meddled_trainer, meddled = run([meddler])
    assert meddler.refused > 0
    assert meddled_trainer.episodes == plain_trainer.episodes > 0  # training counted every episode
    assert meddled.events == plain.events
    for a, b in zip(plain.logs, meddled.logs):
        assert (a is None) == (b is None)
        if a is not None:
            assert a.keys() == b.keys()
            for key in a:
                if key not in ("wall_seconds",):
                    np.testing.assert_equal(a[key], b[key])
    assert meddled.logs[0]["config"]["gamma"] == CONFIG.gamma
    with open(tmp_path / "1" / "metrics.csv") as f:
        returns = [float(row["return"]) for row in csv.DictReader(f)]
    assert returns and -12345.0 not in returns


def test_params_are_each_listeners_own():
    class NoInit(Listener):
        def __init__(self):  # does not call super().__init__()
            self.x = 1

    a, b, c = Listener(), NoInit(), NoInit()
    a.params["total_steps"] = 5
    assert b.params == {} and c.params == {} and Listener().params == {}
    b.params["x"] = 1
    assert "x" not in c.params
    listeners = ListenerList([b, c])
    listeners.set_params({"total_steps": 10, "config": {"gamma": 0.99}})
    b.params["total_steps"] = 0
    b.params["config"]["gamma"] = -1.0  # nested: each listener has its own deep copy
    assert c.params == {"total_steps": 10, "config": {"gamma": 0.99}}


def test_the_same_listener_given_twice_is_refused_before_anything_is_built():
    class Mine(Listener):
        def on_step(self, step, logs=None):
            pass

    mine = Mine()
    with pytest.raises(ArgumentError, match="Mine.*given twice"):
        ListenerList([mine, Recorder.make(), mine])
    with pytest.raises(ArgumentError, match="Mine.*given twice"):
        trainer_for([mine, mine])
    with pytest.raises(ArgumentError, match="Mine.*given twice"):
        tfdqn.train(CONFIG.replace(env_id="CartPole-v1"), 10, listeners=[mine, mine])
    listeners = ListenerList([mine])
    with pytest.raises(ArgumentError, match="given twice"):
        listeners.append(mine)
    ListenerList([Mine(), Mine()])  # two instances of one class are two listeners


def test_the_same_keras_callback_given_twice_is_refused_naming_it():
    stop = keras.callbacks.EarlyStopping(monitor="return")
    with pytest.raises(ArgumentError, match="Keras callback EarlyStopping.*given twice"):
        ListenerList([stop, stop])
    with pytest.raises(ArgumentError, match="Keras callback EarlyStopping.*given twice"):
        tfdqn.KerasCallbacks([stop, stop])
    with pytest.raises(ArgumentError, match="Keras callback EarlyStopping.*given twice"):
        ListenerList([tfdqn.KerasCallbacks(stop), tfdqn.KerasCallbacks([keras.callbacks.History(), stop])])
    with pytest.raises(ArgumentError, match="Keras callback EarlyStopping.*given twice"):
        trainer_for([stop, tfdqn.KerasCallbacks(stop)])
    listeners = ListenerList([stop, keras.callbacks.EarlyStopping(monitor="return")])  # two instances: fine
    assert len(listeners) == 2


def test_each_listener_gets_its_own_logs_nested_lists_and_dicts_included():
    class Changer(Listener):
        def on_evaluation(self, logs=None):
            logs["returns"].append(-12345.0)
            logs["extra"] = {"x": 1}
            logs["mean_return"] = -12345.0

    rec = Recorder.make()
    logs = {"kind": "periodic", "mean_return": 1.0, "returns": [1.0, 1.0], "extra": {"x": 0}}
    ListenerList([Changer(), rec]).on_evaluation(logs)
    assert rec.logs == [{"kind": "periodic", "mean_return": 1.0, "returns": [1.0, 1.0], "extra": {"x": 0}}]
    assert logs == rec.logs[0]  # the caller's dict is untouched too


def test_replay_fail_says_its_cause_once_per_step():
    """Several environments cross several train_freq multiples in one step: a replay that cannot be sampled is
    said once for that step, with its cause (learning_starts, or a buffer smaller than batch_size)."""
    from tfdqn import DQNConfig, Listener, train

    class Fails(Listener):
        def __init__(self):
            self.fails = []

        def on_replay_fail(self, logs=None):
            self.fails.append(dict(logs))

    fails = Fails()
    config = DQNConfig(num_envs=4, train_freq=1, learning_starts=40, batch_size=64, hidden_sizes=(8,), seed=0)
    train(config, 80, [fails])
    steps = [f["step"] for f in fails.fails]
    assert len(steps) == len(set(steps))  # once per step, not once per train_freq crossing
    causes = {f["step"]: f["cause"] for f in fails.fails}
    assert causes[min(causes)] == "learning_starts"
    assert causes[max(causes)] == "buffer smaller than batch_size"  # step >= 40 but fewer than 64 transitions
    assert all(f["batch_size"] == 64 for f in fails.fails)


class FailsAtStep(Listener):
    """Raises `fault` in `on_step` at env step `at` (FixedLengthEnv(3): an episode ends at every third step)."""

    def __init__(self, at, fault=RuntimeError):
        self.at, self.fault = at, fault

    def on_step(self, step, logs=None):
        if step == self.at:
            raise self.fault("fails in on_step")


@pytest.mark.parametrize("fault", [RuntimeError, KeyboardInterrupt])
def test_a_failure_in_on_step_still_books_the_step_so_training_can_go_on(fault):
    """The episodes that ended at that step end (for the listeners and the counters), and the sub-env's next
    step is its autoreset: a second train() call stores no transition across the boundary and merges nothing."""
    trainer = trainer_for([FailsAtStep(9, fault)], num_envs=1)
    with pytest.raises((ListenerError, KeyboardInterrupt)):
        trainer.train(30)
    assert trainer.step == 9 and trainer.episodes == 3
    assert bool(trainer.episodes_in_progress.state.resetting[0])
    trainer.listeners.listeners[0].at = -1
    trainer.train(30)
    assert trainer.episodes == 10  # 30 steps of 3-step episodes
    obs, next_obs = trainer.replay.obs[: trainer.step, 0], trainer.replay.next_obs[: trainer.step, 0]
    np.testing.assert_array_equal(next_obs, obs + 1)  # every stored transition is one step of one episode


def test_a_second_ctrl_c_aborts_without_writing_a_state_at_the_end(tmp_path):
    """The second SIGINT raises at once, wherever the loop is: the state may be torn, so the last periodic
    checkpoint stays the one to resume from."""

    class CtrlC(Listener):  # reaches the Trainer through the test, not its view of the run
        def on_step(self, step, logs=None):
            if step == 13:
                trainer._on_signal(signal.SIGINT)  # what the handler does on the first Ctrl-C...
                trainer._on_signal(signal.SIGINT)  # ...and on the second

    checkpoint = ModelCheckpoint(tmp_path, save_state=True, state_every=8)
    trainer = trainer_for([CtrlC(), checkpoint], num_envs=1)
    with pytest.raises(KeyboardInterrupt):
        trainer.train(40)
    assert json.loads((tmp_path / "state" / "latest").read_text())["step"] == 8
    assert (tmp_path / "last.keras").is_file()
