"""The listener contract (see `tfdqn.Listener`), clause by clause, and for every way training can end: each
listener gets `on_train_end` exactly once, every begun episode ends, and the checkpoint left on disk loads
with plain Keras and resumes."""

import math
import signal
import warnings

import keras
import numpy as np
import pytest
from helpers import BrokenEnv, FixedLengthEnv, Recorder, vec

from tfdqn import (
    ArgumentError,
    ConfigError,
    DQNAgent,
    DQNConfig,
    EnvError,
    Listener,
    ListenerList,
    ListenerWarning,
    ModelCheckpoint,
    NonFiniteError,
    PeriodicEvaluation,
    TfdqnError,
    Trainer,
    TrainingInterrupted,
    build_q_network,
    train,
)
from tfdqn.errors import ListenerError
from tfdqn.listeners.view import RunView
from tfdqn.training.resume import load_training_state

CONFIG = DQNConfig(
    hidden_sizes=(8,),
    batch_size=4,
    buffer_size=100,
    learning_starts=8,
    train_freq=4,
    gradient_steps=2,
    target_update_interval=4,
    jit_compile=False,
)


def trainer_for(env_fn, listeners=(), num_envs=1, config=CONFIG):
    config = config.replace(num_envs=num_envs)
    agent = DQNAgent(build_q_network((1,), 2, (8,)), 2, config)
    return Trainer(agent, vec(env_fn, num_envs), config, listeners)


class FailingEnv(FixedLengthEnv):
    """Raises `exc` from `step` on its `after`-th step."""

    def __init__(self, exc, after=20):
        super().__init__(3)
        self.exc, self.after, self.total = exc, after, 0

    def step(self, action):
        self.total += 1
        if self.total == self.after:
            raise self.exc
        return super().step(action)


def failing_listener(hook, exc=None, when=None):
    """A listener whose `hook` raises `exc` (default RuntimeError) the first time `when(args)` holds."""
    exc = exc or RuntimeError(f"boom in {hook}")

    def method(self, *args):
        if not self.fired and (when is None or when(args)):
            self.fired = True
            raise exc

    cls = type(f"Failing_{hook}", (Listener,), {hook: method, "fired": False})
    return cls()


def signal_listener(sig):
    class SendSignal(Listener):
        def on_step(self, step, logs=None):
            if step == 13:
                signal.raise_signal(sig)

    return SendSignal()


class StopBy(Listener):
    def __init__(self, how):
        self.how = how

    def on_episode_end(self, episode, logs=None):
        if episode == 3:
            if self.how == "model":
                self.model.stop_training = True
            else:
                self.trainer.stop_training = True


def evaluation_then(listener):
    return [PeriodicEvaluation(every=10, episodes=1), listener]


# name: (env factory, listeners placed before the recorder and the checkpoint, expected exception or None)
FAULTS = {
    "budget reached": (lambda: FixedLengthEnv(3), [], None),
    "stopped via trainer.stop_training": (lambda: FixedLengthEnv(3), [StopBy("trainer")], None),
    "stopped via model.stop_training": (lambda: FixedLengthEnv(3), [StopBy("model")], None),
    "SIGINT": (lambda: FixedLengthEnv(3), [signal_listener(signal.SIGINT)], TrainingInterrupted),
    "SIGTERM": (lambda: FixedLengthEnv(3), [signal_listener(signal.SIGTERM)], TrainingInterrupted),
    "env raises RuntimeError": (lambda: FailingEnv(RuntimeError("env broke")), [], RuntimeError),
    "env raises a TfdqnError (NaN observation)": (lambda: BrokenEnv("obs", after=20, length=3), [], EnvError),
    "non-finite loss": (lambda: BrokenEnv("reward", after=30, length=3), [], NonFiniteError),
    "SystemExit from a hook": (
        lambda: FixedLengthEnv(3),
        [failing_listener("on_episode_end", SystemExit(3))],
        SystemExit,
    ),
    "KeyboardInterrupt from a hook": (
        lambda: FixedLengthEnv(3),
        [failing_listener("on_step", KeyboardInterrupt(), lambda a: a[0] == 15)],
        KeyboardInterrupt,
    ),
    **{
        f"listener fails in {hook}": (lambda: FixedLengthEnv(3), [failing_listener(hook)], ListenerError)
        for hook in (
            "on_train_begin",
            "on_episode_begin",
            "on_episode_end",
            "on_step",
            "on_replay_start",
            "on_replay_end",
            "on_replay_fail",
            "on_target_update",
            "on_train_end",
        )
    },
    "listener fails in on_evaluation": (
        lambda: FixedLengthEnv(3),
        evaluation_then(failing_listener("on_evaluation")),
        ListenerError,
    ),
}


@pytest.mark.parametrize("case", list(FAULTS))
def test_every_ending_reaches_every_listener_and_leaves_a_resumable_checkpoint(tmp_path, case):
    env_fn, first, expected = FAULTS[case]
    before, after = Recorder.make(), Recorder.make()
    checkpoint = ModelCheckpoint(tmp_path, save_state=True, state_every=8)
    trainer = trainer_for(env_fn, [before, *first, checkpoint, after], num_envs=1)
    if expected is None:
        trainer.train(60)
    else:
        with pytest.raises(expected):
            trainer.train(60)
    for rec in (before, after):
        assert [e for e in rec.events if e[0] in ("train_begin", "train_end")] == [("train_begin",), ("train_end",)]
        assert rec.events[-1] == ("train_end",)
        begun = [e[1] for e in rec.events if e[0] == "episode_begin"]
        ended = [e[1] for e in rec.events if e[0] == "episode_end"]
        assert sorted(begun) == sorted(ended) and len(set(ended)) == len(ended)  # every begun episode ended once
        assert begun == sorted(begun)
    # The checkpoint on disk loads with plain Keras (safe mode) and the training state resumes.
    if expected is NonFiniteError:
        assert not (tmp_path / "last.keras").exists()  # NaN weights are never saved
    else:
        model = keras.models.load_model(tmp_path / "last.keras")
        assert all(np.isfinite(w).all() for w in model.get_weights())
    fresh = trainer_for(lambda: FixedLengthEnv(3))
    step = load_training_state(fresh, tmp_path / "state")
    assert step <= trainer.step and all(np.isfinite(w).all() for w in fresh.agent.q_network.get_weights())
    if expected is NonFiniteError:
        return  # the replay saved with the last good weights holds the NaN rewards: resuming meets them again
    end = fresh.train(step + 12)
    assert end["step"] >= step + 12


def test_two_failures_first_raised_later_attached_and_no_listener_starved(tmp_path):
    class BrokenEnd(Listener):
        def on_train_end(self, logs=None):
            raise ValueError("end broke")

    checkpoint = ModelCheckpoint(tmp_path)
    with pytest.raises(ListenerError, match="Failing_on_step.on_step raised RuntimeError") as info:
        trainer_for(lambda: FixedLengthEnv(3), [failing_listener("on_step"), BrokenEnd(), checkpoint]).train(30)
    later = info.value.later_errors
    assert len(later) == 1 and "BrokenEnd.on_train_end raised ValueError: end broke" in str(later[0])
    assert any("end broke" in note for note in info.value.__notes__)
    assert (tmp_path / "last.keras").is_file()  # [BrokenEnd(), ModelCheckpoint(d)]: the order no longer matters


def test_on_train_end_failure_alone_is_raised_after_all_listeners(tmp_path):
    rec = Recorder.make()
    with pytest.raises(ListenerError, match="on_train_end"):
        trainer_for(
            lambda: FixedLengthEnv(3), [failing_listener("on_train_end"), ModelCheckpoint(tmp_path), rec]
        ).train(10)
    assert rec.events[-1] == ("train_end",) and (tmp_path / "last.keras").is_file()


def test_end_logs_name_the_error():
    rec = Recorder.make()
    with pytest.raises(RuntimeError):
        trainer_for(lambda: FailingEnv(RuntimeError("env broke"), after=5), [rec]).train(30)
    assert rec.logs[-1]["error"] == "env broke" and rec.logs[-1]["healthy"] is True


@pytest.mark.parametrize("num_envs", [1, 4])
def test_no_episode_begins_after_stop_and_running_ones_end_incomplete(num_envs):
    rec = Recorder.make()

    class StopAtFirstEnd(Listener):
        def on_episode_end(self, episode, logs=None):
            self.model.stop_training = True

    env_fn = lambda: FixedLengthEnv(3)  # noqa: E731
    trainer = trainer_for(env_fn, [StopAtFirstEnd(), rec], num_envs=num_envs)
    end = trainer.train(1_000)
    assert end["stopped"] is True and trainer.step == 3 * num_envs  # the step that ended it finished
    ends = [(e[1], log["completed"]) for e, log in zip(rec.events, rec.logs) if e[0] == "episode_end"]
    begins = [e[1] for e in rec.events if e[0] == "episode_begin"]
    assert begins == list(range(num_envs))  # nothing began after the stop
    assert sorted(ends) == [(i, True) for i in range(num_envs)]  # all four ended on that step


@pytest.mark.parametrize("hook", ["on_step", "on_episode_end"])
def test_a_stop_in_a_steps_events_skips_that_steps_updates(hook):
    """The network a listener judged when it stopped (a confirmed solve) is the final one."""
    config = CONFIG.replace(learning_starts=2, train_freq=1, gradient_steps=2, batch_size=2, target_update_interval=1)
    seen = {}

    class StopAtStep6(Listener):
        def judge(self):
            if self.trainer.step == 6:
                seen["weights"] = [w.copy() for w in self.model.get_weights()]
                self.model.stop_training = True

        def on_step(self, step, logs=None):
            if hook == "on_step":
                self.judge()

        def on_episode_end(self, episode, logs=None):
            if hook == "on_episode_end":
                self.judge()

    trainer = trainer_for(lambda: FixedLengthEnv(3), [StopAtStep6()], config=config)
    end = trainer.train(1_000)
    assert end["stopped"] is True and trainer.step == 6
    assert trainer.updates > 0  # it trained before the stop, and not after it
    for now, judged in zip(trainer.agent.q_network.get_weights(), seen["weights"], strict=True):
        np.testing.assert_array_equal(now, judged)


def test_episode_numbers_increase_in_begin_order_with_four_envs():
    rec = Recorder.make()
    lengths = [2, 3, 5, 7]
    env = __import__("gymnasium").vector.SyncVectorEnv([lambda n=n: FixedLengthEnv(n) for n in lengths])
    config = CONFIG.replace(num_envs=4)
    trainer = Trainer(DQNAgent(build_q_network((1,), 2, (8,)), 2, config), env, config, [rec])
    trainer.train(200)
    begins = [e[1] for e in rec.events if e[0] == "episode_begin"]
    assert begins == list(range(len(begins)))
    ended = [e[1] for e in rec.events if e[0] == "episode_end"]
    assert sorted(ended) == begins  # each exactly once
    incomplete = [log for e, log in zip(rec.events, rec.logs) if e[0] == "episode_end" and not log["completed"]]
    assert 1 <= len(incomplete) <= 4 and trainer.episodes == len(ended) - len(incomplete)


def test_continued_episodes_begin_again_under_their_number():
    rec = Recorder.make()
    trainer = trainer_for(lambda: FixedLengthEnv(5), [rec])
    trainer.train(7)  # episode 1 is 2 steps in
    trainer.train(12)
    ep1 = [
        (e[0], log.get("continued"), log.get("completed"), log.get("length"))
        for e, log in zip(rec.events, rec.logs)
        if e[0].startswith("episode") and e[1] == 1
    ]
    assert ep1 == [
        ("episode_begin", False, None, None),
        ("episode_end", None, False, 2),
        ("episode_begin", True, None, None),
        ("episode_end", None, True, 5),
    ]


def test_model_params_and_trainer_are_set_before_train_begin():
    seen = {}

    class Inspect(Listener):
        def on_train_begin(self, logs=None):
            seen.update(model=self.model, params=self.params, trainer=self.trainer)

    trainer = trainer_for(lambda: FixedLengthEnv(3), [Inspect()])
    trainer.train(5)
    assert seen["model"] is trainer.agent.q_network
    assert isinstance(seen["trainer"], RunView) and seen["trainer"].agent is trainer.agent  # a view, not the Trainer
    assert seen["params"]["total_steps"] == 5 and seen["params"]["num_envs"] == 1
    assert seen["params"]["config"]["batch_size"] == 4 and seen["params"]["start_step"] == 0


# ----- failing early and clearly ---------------------------------------------------------------------------
class Quiet(Listener):
    def on_episode_end(self, episode, logs=None):
        pass


@pytest.mark.parametrize(
    "kwargs,error,message",
    [
        ({"listeners": [Quiet]}, ArgumentError, r"Quiet is a class, not a listener: did you mean Quiet\(\)\?"),
        ({"listeners": [object()]}, ArgumentError, "is not a tfdqn.Listener"),
        ({"listeners": 3}, ArgumentError, "pass a tfdqn.Listener or a list of them"),
        ({"total_steps": 0}, ArgumentError, "total_steps=0 is invalid: must be a positive integer"),
        ({"total_steps": 10.5}, ArgumentError, "total_steps=10.5 is invalid"),
        ({"total_steps": "100"}, ArgumentError, "total_steps='100' is invalid"),
        ({"config": {"batch_size": 64}}, ArgumentError, r"DQNConfig.from_dict\(\.\.\.\)"),
        ({"config": DQNConfig}, ArgumentError, r"did you mean DQNConfig\(\)\?"),
    ],
)
def test_train_checks_arguments_before_building_anything(monkeypatch, kwargs, error, message):
    import tfdqn.training.run

    def no_env(*args, **kw):
        raise AssertionError("an environment was built before the arguments were checked")

    monkeypatch.setattr(tfdqn.training.run, "make_vec_env", no_env)
    args = {"config": CONFIG, "total_steps": 10, "listeners": (), **kwargs}
    with pytest.raises(error, match=message) as info:
        train(**args)
    assert isinstance(info.value, TfdqnError)


def test_single_listener_numpy_budget_and_keras_callback_accepted():
    rec = Recorder.make()
    trainer = train(CONFIG.replace(env_id="CartPole-v1"), np.int64(20), rec)
    assert trainer.step == 20 and rec.events[-1] == ("train_end",)
    seen = []
    trainer = train(
        CONFIG.replace(env_id="CartPole-v1"),
        30,
        [keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))],
    )
    assert seen == list(range(trainer.episodes))


def test_trainer_refuses_bad_arguments_with_tfdqn_errors():
    env = vec(lambda: FixedLengthEnv(3))
    agent = DQNAgent(build_q_network((1,), 2, (8,)), 2, CONFIG)
    with pytest.raises(ArgumentError, match="did you mean Quiet"):
        Trainer(agent, env, CONFIG, Quiet)
    with pytest.raises(ArgumentError, match="from_dict"):
        Trainer(agent, env, {"batch_size": 4})
    trainer = Trainer(agent, env, CONFIG, Quiet())  # one listener, not in a list
    with pytest.raises(ArgumentError, match="positive integer"):
        trainer.train(-5)
    assert trainer.train(np.int32(4))["step"] == 4


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"batchsize": 64}, r"unknown DQNConfig field 'batchsize' \(did you mean 'batch_size'\?\)"),
        ({"hidden_sizes": (64.5,)}, "hidden_sizes=.*positive integer"),
        ({"batch_size": 64.5}, "batch_size=64.5 is invalid"),
        ({"buffer_size": 1e5}, "buffer_size=100000.0 is invalid"),
    ],
)
def test_config_mistakes_are_config_errors_naming_the_field(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        DQNConfig(**kwargs)
    with pytest.raises(ConfigError, match=message.replace("DQNConfig field", "DQNConfig field")):
        DQNConfig.from_dict({**CONFIG.to_dict(), **kwargs})


@pytest.mark.parametrize(
    "name,hint",
    [
        ("on_episode_ends", "on_episode_end"),
        ("on_epoch_end", "on_episode_end"),
        ("on_train_batch_end", "on_replay_end"),
        ("on_stepp", "on_step"),
    ],
)
def test_misnamed_hooks_warn_with_the_closest_hook(name, hint):
    with pytest.warns(ListenerWarning, match=f"{name} .*will never be called; did you mean {hint}\\?"):
        type("Mine", (Listener,), {name: lambda self, *a: None})


def test_hooks_assigned_on_the_instance_are_called():
    calls = []
    listener = Listener()
    listener.on_episode_end = lambda episode, logs=None: calls.append(episode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trainer_for(lambda: FixedLengthEnv(3), [listener]).train(9)
    assert calls == [0, 1, 2]


def test_listener_list_accepts_one_listener():
    listener = Quiet()
    assert list(ListenerList(listener)) == [listener]


def test_train_end_logs_are_complete_when_stopped():
    rec = Recorder.make()
    trainer_for(lambda: FixedLengthEnv(3), [StopBy("model"), rec]).train(100)
    end = rec.logs[-1]
    assert end["stopped"] is True and end["error"] is None and end["interrupted"] is None
    incomplete = [log for e, log in zip(rec.events, rec.logs) if e[0] == "episode_end" and not log["completed"]]
    assert incomplete == []  # stopped on an episode's end: nothing was running
    last_end = [(e, log) for e, log in zip(rec.events, rec.logs) if e[0] == "episode_end"][-1]
    assert last_end[0] == ("episode_end", 3) and math.isfinite(last_end[1]["return"])


def test_ctrl_c_while_listeners_close_still_reaches_every_listener(tmp_path):
    """Issue 31: Ctrl-C in one listener's on_train_end no longer cuts the others' (the checkpoint's) short."""
    rec = Recorder.make()
    listeners = [failing_listener("on_train_end", KeyboardInterrupt()), ModelCheckpoint(tmp_path), rec]
    with pytest.raises(KeyboardInterrupt):
        trainer_for(lambda: FixedLengthEnv(3), listeners).train(5)
    assert rec.events[-1] == ("train_end",) and (tmp_path / "last.keras").is_file()
