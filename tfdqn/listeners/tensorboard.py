"""`TensorBoard`: training curves, evaluations, speed, optional weight histograms and the config, written as
TensorBoard event files (`tensorboard --logdir DIR` follows them live)."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import time
from pathlib import Path
from typing import Any

import tensorflow as tf

from tfdqn.errors import TfdqnError
from tfdqn.listeners.base import Listener
from tfdqn.validation import check_budget


class TensorBoard(Listener):
    """Write scalars against env steps to `log_dir`:

    - per completed episode: `episode/return`, `episode/length`, `episode/mean_return_100`,
      `train/epsilon`, `train/loss` and `train/mean_q` (means over the training calls since the previous
      episode ended; none before the first update), `perf/env_steps_per_second` (since the previous one);
    - per evaluation: `evaluation/<kind>_mean_return` and `evaluation/<kind>_std_return` (kind is "periodic"
      or "confirmation");
    - every `histogram_every` gradient steps (if given): a histogram of each weight of the online network,
      `weights/<layer>/<weight>`;
    - once per `train` call: the config as a text table (`config`), at the step the call starts from;
    - with `hparams` (e.g. the fields a sweep varies, and the seed), once per run (not by a later `train` call,
      nor by a resumed run): those values for the HParams dashboard, which then compares the runs of a
      `--logdir` by their evaluations (lists, None and other values that are not bool, int, float or str are
      shown as JSON text).

    Events are flushed every `flush_seconds`, at each evaluation and when training ends, so a live
    `tensorboard --logdir` follows training. Episodes cut short by the end of training are not written. A later
    `train` call continues the curves at the run's env steps, in a new event file of the same folder.
    """

    def __init__(
        self,
        log_dir: str | os.PathLike,
        histogram_every: int | None = None,
        flush_seconds: float = 5.0,
        hparams: dict[str, Any] | None = None,
    ):
        if importlib.util.find_spec("tensorboard") is None:  # tf.summary's writers live in that package
            raise TfdqnError(
                "tfdqn.TensorBoard needs the tensorboard package (TensorFlow 2.21 does not install "
                "it): pip install tensorboard"
            )
        self.log_dir = Path(log_dir)
        self.histogram_every = None if histogram_every is None else check_budget(histogram_every, "histogram_every")
        self.flush_seconds = float(flush_seconds)
        self.hparams = {key: _hparam(value) for key, value in (hparams or {}).items()}
        self._writer: Any | None = None  # a tf.summary file writer, open between train begin and end
        self._hparams_due = True  # the hparams are written once per run: not again by a later train call
        # the training calls since the last completed episode (kept across train calls: its means include them)
        self._losses, self._mean_qs, self._calls = 0.0, 0.0, 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        self._tf = tf
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(
                str(self.log_dir), flush_millis=max(int(self.flush_seconds * 1000), 1)
            )
        self._last_flush = self._last_time = time.perf_counter()
        self._last_step = logs["step"]
        self._next_histogram = None
        if self.histogram_every:
            updates = self.trainer.updates if self.trainer is not None else 0
            self._next_histogram = (updates // self.histogram_every + 1) * self.histogram_every
        rows = "\n".join(f"| {key} | {value} |" for key, value in logs.get("config", {}).items())
        with self._writer.as_default():
            tf.summary.text("config", "| field | value |\n| --- | --- |\n" + rows, step=logs["step"])
            if self.hparams and self._hparams_due and not logs.get("resumed"):
                from tensorboard.plugins.hparams import api as hp

                hp.hparams(self.hparams, trial_id=self.log_dir.name)
        self._hparams_due = False
        self._writer.flush()

    def on_replay_end(self, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        self._losses += logs["loss"]
        self._mean_qs += logs["mean_q"]
        self._calls += 1
        if self._next_histogram is not None and logs["updates"] >= self._next_histogram:
            self._next_histogram = (logs["updates"] // self.histogram_every + 1) * self.histogram_every
            assert self._writer is not None
            with self._writer.as_default():
                for weight in self.model.weights:
                    self._tf.summary.histogram(f"weights/{weight.path}", weight, step=logs["step"])

    def on_episode_end(self, episode: int, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        if not logs.get("completed", True):
            return
        step, now = logs["step"], time.perf_counter()
        scalars = {
            "episode/return": logs["return"],
            "episode/length": logs["length"],
            "episode/mean_return_100": logs["mean_return_100"],
            "train/epsilon": logs["epsilon"],
        }
        if self._calls:
            scalars["train/loss"] = self._losses / self._calls
            scalars["train/mean_q"] = self._mean_qs / self._calls
            self._losses, self._mean_qs, self._calls = 0.0, 0.0, 0
        if now > self._last_time and step > self._last_step:
            scalars["perf/env_steps_per_second"] = (step - self._last_step) / (now - self._last_time)
            self._last_step, self._last_time = step, now
        self._write(scalars, step)
        if now - self._last_flush >= self.flush_seconds:
            self._flush(now)

    def on_evaluation(self, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        kind = logs.get("kind", "periodic")
        self._write(
            {
                f"evaluation/{kind}_mean_return": logs["mean_return"],
                f"evaluation/{kind}_std_return": logs["std_return"],
            },
            logs["step"],
        )
        self._flush(time.perf_counter())

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.close()

    def close(self) -> None:
        """Flush and close the event file (a later `train` call opens a new one)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _write(self, scalars: dict[str, float], step: int) -> None:
        assert self._writer is not None
        with self._writer.as_default():
            for name, value in scalars.items():
                if value is not None and not (isinstance(value, float) and math.isnan(value)):
                    self._tf.summary.scalar(name, float(value), step=step)

    def _flush(self, now: float) -> None:
        assert self._writer is not None
        self._writer.flush()
        self._last_flush = now


def _hparam(value: Any) -> bool | int | float | str:
    """A value the HParams plugin takes: bool, int, float and str as they are, anything else as JSON text."""
    return value if isinstance(value, bool | int | float | str) else json.dumps(value)
