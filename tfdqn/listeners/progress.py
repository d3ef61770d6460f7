"""`ProgressLogger`: a one-line progress bar with episode, return, 100-episode mean, epsilon, loss, steps/s."""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from tfdqn.listeners.base import Listener


class ProgressLogger(Listener):
    """On a terminal, Keras's own `keras.utils.Progbar` (steps done, bar, ETA, time per step, and the
    episode, return, 100-episode mean, epsilon and loss); on a pipe or file, a plain line every
    `every_seconds`. Evaluations and the end of training are printed on lines of their own.

    The bar is Keras's only where Keras is already loaded (DQN training): tabular Q-learning, which needs no
    TensorFlow, keeps the same information on a hand-drawn line rather than import it for a progress bar.
    The bar shows the run's step; steps/s, time per step and ETA count this `train` call's steps and time
    (`clock`, seconds), so a continued or resumed run's ETA is not flattered by the steps done before it.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        every_seconds: float = 10.0,
        width: int = 24,
        *,
        clock: Callable[[], float] = time.perf_counter,
    ):
        self.stream = stream
        self.every_seconds, self.width = every_seconds, width
        self.clock = clock

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        self.out = self.stream or sys.stderr
        self.tty = bool(getattr(self.out, "isatty", lambda: False)())
        self.total = logs["total_steps"]
        self.total_episodes = logs.get("total_episodes")  # an episode budget (tabular training) if given
        self.start_episode = getattr(self.trainer, "episodes", 0)  # that budget counts from here: episodes "more"
        self.start_step = logs.get("step", 0)
        self.start = self.clock()
        self._last_print = -math.inf
        self._line = ""
        self._bar = None
        keras = sys.modules.get("keras")
        if self.tty and keras is not None and not self.total_episodes:
            with contextlib.redirect_stdout(self.out):  # Progbar writes to sys.stdout; ours may be stderr
                self._bar = _call_progbar(
                    keras.utils.Progbar,
                    self._rate,
                    target=self.total,
                    width=self.width,
                    interval=0.1,
                    unit_name="step",
                    stateful_metrics=PROGBAR_METRICS,
                )

    def _rate(self, step: int) -> float:
        """Steps per second of this call: its steps over its time (not the run's step over this call's time)."""
        elapsed = self.clock() - self.start
        return (step - self.start_step) / elapsed if elapsed > 0 else 0.0

    def on_episode_end(self, episode: int, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        if not logs.get("completed", True):
            return  # an episode cut short by the end of training is not a result
        step = logs["step"]
        if self.total_episodes:
            done, total, unit = episode + 1 - self.start_episode, self.total_episodes, "episodes"
        else:
            done, total, unit = step, self.total, "steps"
        filled = int(min(done / total, 1.0) * self.width)
        loss = logs["loss"]
        self._line = (
            f"[{'#' * filled}{'.' * (self.width - filled)}] {done:,}/{total:,} {unit} "
            f"| episode {episode} | return {_num(logs['return'])} "
            f"| mean100 {_num(logs['mean_return_100'])} | eps {logs['epsilon']:.3f} "
            f"| loss {'-' if math.isnan(loss) else f'{loss:.4f}'} | {self._rate(step):,.0f} steps/s"
        )
        now = self.clock()
        if self._bar is not None:
            with contextlib.redirect_stdout(self.out):
                self._bar.update(
                    min(step, self.total),
                    [
                        ("episode", episode),
                        ("return", logs["return"]),
                        ("mean100", logs["mean_return_100"]),
                        ("eps", logs["epsilon"]),
                        ("loss", loss),
                    ],
                    finalize=False,
                )
        elif self.tty:
            if now - self._last_print >= 0.1:
                self.out.write("\r\033[K" + self._line)
                self.out.flush()
                self._last_print = now
        elif now - self._last_print >= self.every_seconds:
            self._print(self._line)
            self._last_print = now

    def _print(self, text: str) -> None:
        prefix = "\r\033[K" if self.tty else ""
        self.out.write(prefix + text + "\n")
        if self.tty and self._line and self._bar is None:
            self.out.write(self._line)
        self.out.flush()

    def on_evaluation(self, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        self._print(
            f"evaluation ({logs['kind']}) at step {logs['step']:,}: "
            f"{logs['mean_return']:.1f} ± {logs['std_return']:.1f} over {logs['episodes']} episodes"
        )

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        if self.tty:
            self.out.write("\n")
        self._bar = None
        self._line = ""
        if logs.get("interrupted"):
            why = f"interrupted by {logs['interrupted']}"
        elif logs.get("error"):
            why = "failed"
        elif logs.get("stopped"):
            why = "stopped by a listener"
        else:
            why = "episode budget reached" if self.total_episodes else "step budget reached"
        self._print(
            f"training ended ({why}): {logs['step']:,} steps, {logs['episodes']} episodes, "
            f"{logs['wall_seconds']:.1f} s, {self._rate(logs['step']):,.0f} steps/s"
        )


PROGBAR_METRICS = ("episode", "return", "mean100", "eps", "loss")


def _call_progbar(progbar: type, rate: Callable[[int], float], **kwargs: Any) -> Any:
    """A Keras `Progbar` whose time per step (and so ETA) is 1 / `rate(step)`, this call's steps/s: Keras's own
    divides the time since the bar was made by the position it shows, the run's step, earlier calls' steps too."""

    class CallProgbar(progbar):
        def _estimate_step_duration(self, current: int, now: float) -> float:  # Keras 3's hook for time per step
            steps_per_second = rate(current)
            return 1.0 / steps_per_second if steps_per_second > 0 else 0.0

    return CallProgbar(**kwargs)


def _num(x: float) -> str:
    """Returns like 487.0 keep one decimal; small values such as a success rate keep three digits."""
    return f"{x:.1f}" if abs(x) >= 10 else f"{x:.3g}"
