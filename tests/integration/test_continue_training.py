"""Calling `train` again continues the run: `run.train(150)` then `run.train(300)` leaves the files an uninterrupted
`run.train(300)` leaves (metrics.csv, evaluations.csv, best.json, the curves, TensorBoard's scalars), the training
environment stays open for it, and each built-in listener goes on where it stopped instead of starting over."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import FixedLengthEnv, vec

import tfdqn
from tfdqn import (
    DQNAgent,
    DQNConfig,
    KerasCallbacks,
    Listener,
    MetricsLogger,
    ModelCheckpoint,
    Trainer,
    build_q_network,
    load_q_network,
)
from tfdqn.listeners import plotting
from tfdqn.listeners.plotting import LivePlot
from tfdqn.listeners.tensorboard import TensorBoard
from tfdqn.training.protocol import Protocol
from tfdqn.training.run import assemble

# CartPole, ~35 training calls after learning_starts and a target sync: enough for the losses to show a difference
SMALL = DQNConfig(
    hidden_sizes=(16,), learning_starts=100, buffer_size=1_000, train_freq=4, target_update_interval=100, seed=5
)
PROTOCOL = Protocol(eval_every=100, eval_episodes=2, confirm_episodes=0, final_episodes=1, stop_on_reward=False)
# a few updates and no compilation: the listeners' tests (no target sync: they do not need one)
TINY = DQNConfig(hidden_sizes=(8,), batch_size=4, buffer_size=100, learning_starts=8, train_freq=4, jit_compile=False)


def rows(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV file without the wall-clock column (the one thing two runs never share)."""
    with open(path, newline="", encoding="utf-8") as f:
        return [{k: v for k, v in row.items() if k != "wall_seconds"} for row in csv.DictReader(f)]


def scalars(log_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """TensorBoard's scalars in every event file under `log_dir`: tag -> [(step, value)] (speed left out)."""
    found: dict[str, list[tuple[int, float]]] = {}
    for path in sorted(log_dir.rglob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                if value.tag != "config" and not value.tag.startswith("perf/"):
                    found.setdefault(value.tag, []).append((event.step, float(tf.make_ndarray(value.tensor))))
    return {tag: sorted(points) for tag, points in found.items()}


def protocol_run(out: Path, splits: list[int]):
    """The standard protocol's listeners (TensorBoard included) on SMALL, trained by `run.train(s)` for each s."""
    run = assemble(SMALL, out, dataclasses.replace(PROTOCOL, tensorboard=str(out / "tb")))
    try:
        for steps in splits:
            run.train(steps)
    finally:
        run.close()
    return run


def test_a_run_continued_by_calling_train_again_writes_what_one_call_writes(tmp_path):
    one, two = protocol_run(tmp_path / "one", [300]), protocol_run(tmp_path / "two", [150, 300])
    a, b = tmp_path / "one", tmp_path / "two"
    assert len(rows(a / "metrics.csv")) > 10 and rows(a / "metrics.csv")[-1]["loss"]  # updates ran
    assert rows(b / "metrics.csv") == rows(a / "metrics.csv")  # the second call appended, not wiped
    assert [int(r["step"]) for r in rows(b / "evaluations.csv")] == [100, 200, 300]
    assert rows(b / "evaluations.csv") == rows(a / "evaluations.csv")
    assert (b / "best.json").read_text() == (a / "best.json").read_text()
    for x, y in zip(load_q_network(a / "last.keras").get_weights(), load_q_network(b / "last.keras").get_weights()):
        np.testing.assert_array_equal(x, y)
    assert scalars(b / "tb") == scalars(a / "tb")
    curves = [next(x for x in run.trainer.listeners if isinstance(x, LivePlot)) for run in (one, two)]
    assert len({(str(c.steps), str(c.values), str(c.evaluations)) for c in curves}) == 1  # learning_curve.png's data


class ClosingEnv(FixedLengthEnv):
    """Refuses a step once closed, as Gymnasium's asynchronous vector environments do."""

    closed = False

    def close(self):
        self.closed = True

    def step(self, action):
        if self.closed:
            raise RuntimeError("stepped after close")
        return super().step(action)


def test_the_training_environment_stays_open_for_the_next_call_until_the_run_is_closed(tmp_path):
    run = assemble(TINY, env=vec(ClosingEnv), listeners=[MetricsLogger(tmp_path)])
    run.train(10)
    run.train(20)  # the same environment, its episode 3 going on
    assert [int(r["step"]) for r in rows(tmp_path / "metrics.csv")] == [3, 6, 9, 12, 15, 18]
    run.close()
    assert run.env.closed and all(env.closed for env in run.env.envs)
    trainer = tfdqn.train(TINY.replace(learning_starts=1_000), 10)  # the public API: the trainer goes on
    assert not trainer.env.closed and trainer.train(20)["step"] == 20
    trainer.env.close()


def tiny_trainer(listeners, length=3):
    agent = DQNAgent(build_q_network((1,), 2, (8,)), 2, TINY)
    return Trainer(agent, vec(lambda: FixedLengthEnv(length)), TINY, listeners)


def test_a_metrics_logger_given_to_a_new_run_starts_its_files_afresh(tmp_path):
    logger = MetricsLogger(tmp_path)
    tiny_trainer([logger]).train(9)
    tiny_trainer([logger]).train(6)  # a new run, from step 0: not a continuation of the first
    assert [int(r["step"]) for r in rows(tmp_path / "metrics.csv")] == [3, 6]


class ScriptedEvaluation(Listener):
    """Announces an evaluation with the next of `scores` every `every` env steps."""

    def __init__(self, scores, every=6):
        self.scores, self.every = iter(scores), every

    def on_step(self, step, logs=None):
        if step % self.every == 0:
            score = next(self.scores)
            self.trainer.emit_evaluation({"kind": "periodic", "step": step, "episodes": 5, "mean_return": score})


def test_the_best_model_and_its_score_carry_over_to_the_next_call(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path)
    trainer = tiny_trainer([ScriptedEvaluation([10.0, 5.0, 12.0]), checkpoint])
    trainer.train(6)
    best = (tmp_path / "best.keras").read_bytes()
    trainer.train(12)  # a worse evaluation at step 12: best.keras stays the one of step 6
    assert (tmp_path / "best.keras").read_bytes() == best and (checkpoint.best_step, checkpoint.best_score) == (6, 10.0)
    trainer.train(18)  # a better one replaces it
    assert checkpoint.best_step == 18 and (tmp_path / "best.keras").read_bytes() != best


def test_keras_callbacks_go_on_counting_epochs_as_fit_with_initial_epoch_does(tmp_path):
    def epochs(splits):
        log = tmp_path / f"{len(splits)}.csv"
        trainer = tiny_trainer([KerasCallbacks(keras.callbacks.CSVLogger(str(log), append=True))])
        for steps in splits:
            trainer.train(steps)
        return [(row["epoch"], row["step"]) for row in csv.DictReader(open(log, newline=""))]

    assert epochs([7, 31]) == epochs([31]) == [(str(i), f"{3.0 * (i + 1)}") for i in range(10)]


def test_tensorboard_writes_the_hparams_once_per_run(tmp_path):
    trainer = tiny_trainer([TensorBoard(tmp_path, hparams={"lr": 0.1})])
    trainer.train(6)
    trainer.train(12)
    files = sorted(tmp_path.glob("events.out.tfevents.*"))
    tags = [
        value.tag
        for path in files
        for event in tf.compat.v1.train.summary_iterator(str(path))
        for value in event.summary.value
    ]
    assert len(files) == 2 and tags.count("_hparams_/session_start_info") == 1 and tags.count("config") == 2


@pytest.mark.parametrize("every_seconds", [0.0, 1e9])  # a redraw at every episode; none before training ends
def test_the_live_plot_opens_a_window_again_for_the_next_call(tmp_path, monkeypatch, every_seconds):
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plotting, "has_display", lambda: True)  # Agg stands in for the display
    plot, drawn = LivePlot(tmp_path / "curve.png", every_seconds=every_seconds), []

    class Watch(Listener):
        def on_episode_end(self, episode, logs=None):
            figure = plot.__dict__.get("_figure")
            drawn.append(figure is not None and plt.fignum_exists(figure.number))

    trainer = tiny_trainer([plot, Watch()])
    trainer.train(6)
    trainer.train(12)
    assert drawn == [every_seconds == 0.0] * 4 and plt.get_fignums() == []  # each call's window open, then closed
    assert len(plot.steps) == 4 and (tmp_path / "curve.png").is_file()
    plt.ioff()


def test_progress_counts_the_episodes_of_this_call_against_a_tabular_budget():
    import io

    from tfdqn.listeners.progress import ProgressLogger
    from tfdqn.tabular import QLearner, TabularConfig

    out = io.StringIO()
    learner = QLearner(TabularConfig(episodes=20), listeners=[ProgressLogger(stream=out, every_seconds=0.0)])
    learner.train()
    learner.train(10)
    lines = [line for line in out.getvalue().splitlines() if "episodes |" in line]
    assert "20/20 episodes" in lines[19] and "10/10 episodes" in lines[-1] and "30/10" not in out.getvalue()
    learner.env.close()


def test_the_progress_bars_eta_on_a_continued_call_counts_this_calls_steps_and_time():
    """Keras's bar shows the run's step; its time per step and ETA come from this call's steps and time alone."""
    import io
    import re

    from tfdqn.listeners.progress import ProgressLogger

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out, paused = Terminal(), [0.0]
    progress = ProgressLogger(stream=out, clock=lambda: paused[0] + trainer.step)  # a fake clock: 1 s an env step
    trainer = tiny_trainer([progress], length=10)
    trainer.train(100)
    paused[0] = 5_000.0  # time between the calls: neither it nor the first call's steps count in the second's rate
    trainer.train(200)
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())  # Keras's colours off
    *calls, _ = re.split(r"training ended .*", text)
    ends = re.findall(r"training ended .*", text)
    bars = [re.findall(r"(\d+)/(\d+) ━+ (\S+) (\S+)/step", call) for call in calls]
    assert len(bars) == 2 and bars[0] and bars[1] and all(int(step) > 100 for step, *_ in bars[1])  # the run's step
    for step, total, eta, per_step in bars[0] + bars[1]:
        left = int(total) - int(step)  # at 1 s a step, the seconds left, as Keras writes them (all under an hour)
        # Which bars show depends on Keras's throttle of 0.1 s of real time: a loaded machine shows more of them.
        assert (eta, per_step) == (f"{left // 60}:{left % 60:02d}" if left > 60 else f"{left}s", "1s"), (step, total)
    assert [end.split(", ")[-1] for end in ends] == ["1 steps/s", "1 steps/s"]  # the end line's rate: the call's
