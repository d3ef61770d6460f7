"""Keras callbacks inside tfdqn training (`tfdqn.KerasCallbacks`) and the `tfdqn.TensorBoard` listener, both
checked by reading back what they wrote."""

import csv
import json
import math
import os
import signal
from pathlib import Path

import gymnasium as gym
import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import FixedLengthEnv, vec

from tfdqn import (
    ArgumentError,
    DQNAgent,
    DQNConfig,
    KerasCallbacks,
    Listener,
    PeriodicEvaluation,
    TensorBoard,
    Trainer,
    TrainingInterrupted,
    build_q_network,
)

FIXED_ID = "tfdqn-test/FixedLength-v0"
if FIXED_ID not in gym.registry:
    gym.register(FIXED_ID, entry_point=FixedLengthEnv)
CONFIG = DQNConfig(
    env_id=FIXED_ID,
    hidden_sizes=(8,),
    batch_size=4,
    buffer_size=100,
    learning_starts=8,
    train_freq=4,
    gradient_steps=2,
    target_update_interval=4,
    jit_compile=False,
)


def trainer_for(listeners, length=3, num_envs=1):
    config = CONFIG.replace(num_envs=num_envs)
    return Trainer(
        DQNAgent(build_q_network((1,), 2, (8,)), 2, config),
        vec(lambda: FixedLengthEnv(length), num_envs),
        config,
        listeners,
    )


def read_events(log_dir: Path) -> dict[str, list[tuple[int, object]]]:
    """Every summary in the event files under `log_dir`: tag -> [(step, value)]."""
    found: dict[str, list] = {}
    for path in sorted(Path(log_dir).rglob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                found.setdefault(value.tag, []).append((event.step, tf.make_ndarray(value.tensor)))
    return found


def test_csv_logger_and_lambda_callback_see_one_epoch_per_episode(tmp_path):
    epochs, begins = [], []
    lam = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: begins.append(epoch),
        on_epoch_end=lambda epoch, logs: epochs.append((epoch, logs)),
    )
    trainer = trainer_for([KerasCallbacks([keras.callbacks.CSVLogger(str(tmp_path / "log.csv")), lam])])
    trainer.train(31)  # 10 complete episodes and one cut short
    assert [e for e, _ in epochs] == begins == list(range(10)) and trainer.episodes == 10
    assert all(logs["return"] == 3.0 and logs["length"] == 3.0 for _, logs in epochs)
    rows = list(csv.DictReader(open(tmp_path / "log.csv")))
    assert [int(r["epoch"]) for r in rows] == list(range(10)) and {float(r["return"]) for r in rows} == {3.0}
    assert [float(r["step"]) for r in rows] == [3.0 * (i + 1) for i in range(10)]


def test_early_stopping_on_the_return_stops_training():
    stop = keras.callbacks.EarlyStopping(monitor="return", mode="max", patience=2)
    trainer = trainer_for([KerasCallbacks([stop])])
    end = trainer.train(1_000)
    # the return is 3 every episode: no improvement after the first, so patience 2 stops after episode 3
    assert end["stopped"] is True and trainer.episodes == 3 and stop.stopped_epoch == 2


@pytest.mark.filterwarnings("ignore:Early stopping conditioned on metric")
def test_early_stopping_on_the_evaluation_return():
    stop = keras.callbacks.EarlyStopping(monitor="val_return", mode="max", patience=1)
    trainer = trainer_for([PeriodicEvaluation(every=6, episodes=1), KerasCallbacks(stop)])
    end = trainer.train(1_000)
    # evaluations at steps 6 and 12 (greedy return 3 both times): the second is the one without improvement,
    # shown with the episode that ends at step 12 after it
    assert end["stopped"] is True and trainer.step == 12 and stop.stopped_epoch == 3


def drive(keras_callbacks, events, model=None):
    """Run `KerasCallbacks` through a scripted sequence of tfdqn events, without a trainer: "episode" (a
    completed episode of return 3) or a float (a periodic evaluation of that mean return)."""
    model = model or build_q_network((1,), 2, (8,))
    model.stop_training = False  # as the trainer sets it
    keras_callbacks.set_model(model)
    keras_callbacks.set_params({"total_steps": 1_000, "start_step": 0})
    keras_callbacks.on_train_begin({"step": 0})
    step = episode = 0
    for event in events:
        if event == "episode":
            step += 3
            logs = {"return": 3.0, "length": 3, "step": step, "epsilon": 0.1, "mean_return_100": 3.0}
            keras_callbacks.on_episode_end(episode, {**logs, "completed": True})
            episode += 1
        else:
            keras_callbacks.on_evaluation({"kind": "periodic", "step": step, "mean_return": event})
            keras_callbacks.on_evaluation({"kind": "confirmation", "step": step, "mean_return": 99.0})
    end = {"step": step, "stopped": bool(model.stop_training), "interrupted": None, "error": None}
    keras_callbacks.on_train_end(end)
    return model


@pytest.mark.filterwarnings("ignore:Early stopping conditioned on metric")
def test_val_return_is_only_in_the_epoch_of_an_evaluation_and_patience_counts_evaluations():
    stop = keras.callbacks.EarlyStopping(monitor="val_return", mode="max", patience=3)
    seen = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append((epoch, logs.get("val_return"), stop.model.stop_training))
    )
    events = (["episode"] * 3 + [1.0]) + (["episode"] * 3 + [2.0]) + (["episode"] * 3 + [2.0]) * 3 + ["episode"] * 5
    drive(KerasCallbacks([stop, record]), events)
    shown = [(epoch, val) for epoch, val, _ in seen if val is not None]
    # one epoch per evaluation (the first to end after it), never the confirmations: 1, then 2 four times
    assert shown == [(3, 1.0), (6, 2.0), (9, 2.0), (12, 2.0), (15, 2.0)] and len(seen) == 20
    # patience 3 = three evaluations without improvement after the best (epoch 6): stop at epoch 15, not before
    assert [epoch for epoch, _, stopped in seen if stopped][0] == 15 and stop.stopped_epoch == 15


def test_verbose_is_handed_to_callbacks_so_progbar_logger_prints(capsys):
    trainer_for([KerasCallbacks([keras.callbacks.ProgbarLogger()], epoch=10)]).train(20)
    out = capsys.readouterr().out  # verbose="auto", the default, as in fit: ProgbarLogger prints
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "return: 3.0000" in out
    trainer_for([KerasCallbacks([keras.callbacks.ProgbarLogger()], epoch=10, verbose=0)]).train(20)
    assert capsys.readouterr().out == ""  # verbose=0: silent
    trainer_for([KerasCallbacks([keras.callbacks.ProgbarLogger()], epoch=10, verbose=2)]).train(20)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "return: 3.0000" in out
    trainer_for([KerasCallbacks([keras.callbacks.ProgbarLogger()], verbose=1)]).train(9)
    out = capsys.readouterr().out
    assert "Epoch 3/9" in out and "return: 3.0000" in out  # episode epochs: at most one per step
    with pytest.raises(ArgumentError, match="verbose=3 is invalid"):
        KerasCallbacks([], verbose=3)


class Crash(Listener):
    """Raises `error` at the end of the episode numbered `at`."""

    def __init__(self, error, at=4):
        self.error, self.at = error, at

    def on_episode_end(self, episode, logs=None):
        if episode == self.at:
            if self.error == "SIGINT":  # a clean Ctrl-C stop: tfdqn finishes the step and stops
                os.kill(os.getpid(), signal.SIGINT)
            else:
                raise self.error


@pytest.mark.parametrize(
    "error", [RuntimeError("boom"), KeyboardInterrupt(), "SIGINT"], ids=["exception", "KeyboardInterrupt", "SIGINT"]
)
def test_a_crash_gives_keras_callbacks_no_on_train_end_so_backup_and_restore_keeps_its_backup(tmp_path, error):
    backup = tmp_path / "backup"
    ended = []
    lam = keras.callbacks.LambdaCallback(on_train_end=lambda logs: ended.append(logs))
    trainer = trainer_for([KerasCallbacks([keras.callbacks.BackupAndRestore(str(backup)), lam]), Crash(error)])
    with pytest.raises((RuntimeError, KeyboardInterrupt, TrainingInterrupted)):
        trainer.train(1_000)
    assert ended == [] and (backup / "training_metadata.json").exists()  # as after fit raised
    saved = json.loads((backup / "training_metadata.json").read_text())
    assert saved["epoch"] >= 4  # backed up at each episode before the crash

    # the next run restores the backed-up weights into the online network and the target follows
    fresh = trainer_for([])
    before = [np.array(w) for w in fresh.agent.q_network.get_weights()]
    checked = []

    class Check(Listener):
        def on_train_begin(self, logs=None):
            agent = self.trainer.agent
            online, target = agent.q_network.get_weights(), agent.target_network.get_weights()
            checked.append(not all(np.array_equal(a, b) for a, b in zip(before, online)))
            checked.append(all(np.array_equal(a, b) for a, b in zip(online, target)))

    restored = trainer_for([KerasCallbacks([keras.callbacks.BackupAndRestore(str(backup)), lam]), Check()])
    restored.agent.q_network.set_weights(before)
    restored.train(10)
    assert checked == [True, True] and len(ended) == 1 and not backup.exists()  # a normal end deletes it


def test_restoring_the_best_weights_sets_the_target_network_too():
    stop = keras.callbacks.EarlyStopping(monitor="return", mode="max", patience=5, restore_best_weights=True)
    trainer = trainer_for([KerasCallbacks([stop])])
    agent = trainer.agent
    first = [np.array(w) for w in agent.q_network.get_weights()]
    trainer.train(1_000)
    # the return is 3 every episode: the best is epoch 0 (before any update); stopped at epoch 5 (step 18),
    # after target copies of trained weights
    assert stop.stopped_epoch == 5 and trainer.step == 18 and trainer.updates > 0
    online, target = agent.q_network.get_weights(), agent.target_network.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(first, online))
    assert all(np.array_equal(a, b) for a, b in zip(online, target))
    obs = np.arange(4, dtype=np.float32).reshape(4, 1)  # the acting path follows the restored weights
    np.testing.assert_allclose(agent.q_values(obs), agent.q_network(obs).numpy(), rtol=1e-5, atol=1e-6)


def test_terminate_on_nan_sees_every_update_and_stops_on_a_nan_loss():
    losses = []

    class PoisonThirdBatch(keras.callbacks.Callback):  # stands in for a loss that went NaN (tfdqn raises on one)
        def on_train_batch_end(self, batch, logs=None):  # Keras callbacks share a batch's logs, as in fit
            losses.append(logs["loss"])
            if len(losses) == 3:
                logs["loss"] = math.nan

    trainer = trainer_for([KerasCallbacks([PoisonThirdBatch(), keras.callbacks.TerminateOnNaN()])])
    end = trainer.train(1_000)
    assert end["stopped"] is True and len(losses) == 3 and trainer.agent.q_network.stop_training


def test_step_windows_as_epochs():
    epochs = []
    lam = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: epochs.append((epoch, dict(logs))))
    trainer = trainer_for([KerasCallbacks([lam], epoch=10)], length=4)
    trainer.train(25)
    assert [e for e, _ in epochs] == [0, 1, 2]  # two full windows and the partial last one
    assert [logs["step"] for _, logs in epochs] == [10, 20, 25]
    assert epochs[0][1]["episodes"] == 2 and epochs[0][1]["return"] == 4.0
    assert all(math.isfinite(logs["loss"]) for _, logs in epochs)  # an update every 4 steps from step 8


def test_keras_tensorboard_callback_writes_epoch_scalars(tmp_path):
    board = keras.callbacks.TensorBoard(str(tmp_path), histogram_freq=2, update_freq=1)
    trainer = trainer_for([KerasCallbacks([board])])
    trainer.train(31)
    events = read_events(tmp_path)
    assert [step for step, _ in events["epoch_return"]] == list(range(10))
    assert {float(v) for _, v in events["epoch_return"]} == {3.0}
    assert any(tag.endswith("histogram") for tag in events)
    assert len(events["batch_loss"]) == trainer.updates // CONFIG.gradient_steps  # a batch per training call
    assert "epoch_learning_rate" in events  # model.optimizer is the agent's


def test_keras_callbacks_refuse_what_is_not_a_callback():
    with pytest.raises(ArgumentError, match=r"did you mean CSVLogger\(\)"):
        KerasCallbacks([keras.callbacks.CSVLogger])
    with pytest.raises(ArgumentError, match="positive number of env steps"):
        KerasCallbacks([], epoch=0)


def test_one_failing_keras_callback_does_not_starve_the_others(tmp_path):
    ended = []

    class Broken(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            raise OSError("full")

    lam = keras.callbacks.LambdaCallback(on_train_end=lambda logs: ended.append(logs))
    with pytest.raises(Exception, match="full"):
        trainer_for([KerasCallbacks([Broken(), lam])]).train(10)
    assert len(ended) == 1


def test_a_keyboard_interrupt_in_one_on_train_end_reaches_the_others_and_the_target_sync():
    ended = []

    class Perturb(keras.callbacks.Callback):  # changes the online weights at the end, as restore_best_weights does
        def on_train_end(self, logs=None):
            self.model.set_weights([w + 1.0 for w in self.model.get_weights()])

    class Interrupted(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            raise KeyboardInterrupt

    class Broken(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            raise OSError("full")

    lam = keras.callbacks.LambdaCallback(on_train_end=lambda logs: ended.append(logs))
    trainer = trainer_for([KerasCallbacks([Perturb(), Interrupted(), Broken(), lam])])
    with pytest.raises(KeyboardInterrupt) as info:
        trainer.train(10)
    assert len(ended) == 1  # the callback after the interrupted one still got on_train_end
    assert [type(e) for e in info.value.later_errors] == [OSError]  # the first error, later ones attached
    agent = trainer.agent
    online, target = agent.q_network.get_weights(), agent.target_network.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(online, target))  # the target synced all the same


def test_tensorboard_listener_writes_scalars_histograms_and_config(tmp_path):
    board = TensorBoard(tmp_path, histogram_every=4)
    trainer = trainer_for([PeriodicEvaluation(every=10, episodes=2), board])
    trainer.train(30)
    events = read_events(tmp_path)
    returns = events["episode/return"]
    assert [step for step, _ in returns] == [3 * (i + 1) for i in range(10)]
    assert {float(v) for _, v in returns} == {3.0}
    for tag in (
        "episode/length",
        "train/epsilon",
        "train/loss",
        "train/mean_q",
        "perf/env_steps_per_second",
        "episode/mean_return_100",
    ):
        assert tag in events, tag
    assert all(np.isfinite(float(v)) for _, v in events["train/loss"])
    assert [step for step, _ in events["evaluation/periodic_mean_return"]] == [10, 20, 30]
    histograms = [tag for tag in events if tag.startswith("weights/")]
    assert len(histograms) == len(trainer.agent.q_network.weights)
    assert len(events[histograms[0]]) == trainer.updates // 4
    config_text = events["config"][0][1]
    assert b"batch_size" in config_text.reshape(-1)[0]


def test_tensorboard_flushes_while_training(tmp_path):
    """A live `tensorboard --logdir` sees episodes before training ends."""
    seen = []
    board = TensorBoard(tmp_path, flush_seconds=0.0)

    class Peek(Listener):
        def on_episode_end(self, episode, logs=None):
            if episode == 4:
                seen.append(len(read_events(tmp_path).get("episode/return", [])))

    trainer_for([board, Peek()]).train(30)
    assert seen == [5]


def test_training_command_writes_tensorboard_events(tmp_path):
    import json
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    config = tmp_path / "small.json"
    config.write_text(
        json.dumps(
            {"hidden_sizes": [16], "learning_starts": 100, "buffer_size": 1000, "train_freq": 8, "gradient_steps": 4}
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    proc = subprocess.run(
        [
            sys.executable,
            str(root / "scripts" / "train_cartpole.py"),
            "--steps",
            "300",
            "--out",
            str(tmp_path / "run"),
            "--config",
            str(config),
            "--no-live-plot",
            "--no-gif",
            "--no-stop",
            "--eval-every",
            "150",
            "--eval-episodes",
            "2",
            "--final-episodes",
            "1",
            "--tensorboard",
            str(tmp_path / "tb"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=root,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    events = read_events(tmp_path / "tb")
    assert len(events["episode/return"]) >= 5 and len(events["evaluation/periodic_mean_return"]) == 2
    assert "config" in events


class _Terminal(__import__("io").StringIO):
    def isatty(self):
        return True


def test_progress_on_a_terminal_is_keras_progbar_and_on_a_pipe_one_plain_line_per_interval():
    import io

    from tfdqn import ProgressLogger

    terminal = _Terminal()
    trainer_for([ProgressLogger(stream=terminal)]).train(60)
    shown = terminal.getvalue()
    assert "━" in shown and "/step" in shown
    for name in ("return:", "mean100:", "eps:", "loss:", "episode:"):
        assert name in shown, name
    assert shown.endswith("\n") and "\r\x1b[Ktraining ended (step budget reached): 60 steps" in shown.split("\n")[-2]

    pipe = io.StringIO()
    trainer_for([ProgressLogger(stream=pipe, every_seconds=0.0)]).train(30)
    lines = pipe.getvalue().splitlines()
    assert "\x1b" not in pipe.getvalue() and len(lines) == 11  # 10 episodes, one line each, and the end line
    assert lines[0].startswith("[") and "| episode 0 | return 3 |" in lines[0] and "steps/s" in lines[0]


def test_readme_keras_callbacks_example_runs(tmp_path):
    import os
    import re
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    code = re.search(
        r"<!-- example: keras-callbacks -->\s*```python\n(.*?)```", (root / "README.md").read_text(), re.S
    ).group(1)
    assert "3_000" in code
    proc = subprocess.run(
        [sys.executable, "-c", code.replace("3_000", "300")],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(root)},
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = list(csv.DictReader(open(tmp_path / "episodes.csv")))
    assert len(rows) >= 5 and "return" in rows[0]
    assert len(read_events(tmp_path / "logs" / "cartpole")["episode/return"]) == len(rows)
