"""`ProgressLogger`: a one-line progress bar with episode, return, 100-episode mean, epsilon, loss, steps/s."""

from __future__ import annotations

import math
import sys
import time
from typing import Any, TextIO

from tfdqn.listeners.base import Listener


class ProgressLogger(Listener):
    """Redraws one status line on a terminal; on a pipe or file, prints a line every `every_seconds`.

    Evaluations and the end of training are printed on lines of their own.
    """

    def __init__(self, stream: TextIO | None = None, every_seconds: float = 10.0, width: int = 24):
        self.stream = stream
        self.every_seconds, self.width = every_seconds, width

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.out = self.stream or sys.stderr
        self.tty = bool(getattr(self.out, "isatty", lambda: False)())
        self.total = logs["total_steps"]
        self.total_episodes = logs.get("total_episodes")  # an episode budget (tabular training) if given
        self.start_step = logs.get("step", 0)
        self.start = time.perf_counter()
        self._last_print = -math.inf
        self._line = ""

    def _rate(self, step: int) -> float:
        elapsed = time.perf_counter() - self.start
        return (step - self.start_step) / elapsed if elapsed > 0 else 0.0

    def on_episode_end(self, episode: int, logs: dict[str, Any] | None = None) -> None:
        if not logs.get("completed", True):
            return  # an episode cut short by the end of training is not a result
        step = logs["step"]
        if self.total_episodes:
            done, total, unit = episode + 1, self.total_episodes, "episodes"
        else:
            done, total, unit = step, self.total, "steps"
        filled = int(min(done / total, 1.0) * self.width)
        loss = logs["loss"]
        self._line = (f"[{'#' * filled}{'.' * (self.width - filled)}] {done:,}/{total:,} {unit} "
                      f"| episode {episode} | return {_num(logs['return'])} "
                      f"| mean100 {_num(logs['mean_return_100'])} | eps {logs['epsilon']:.3f} "
                      f"| loss {'-' if math.isnan(loss) else f'{loss:.4f}'} | {self._rate(step):,.0f} steps/s")
        now = time.perf_counter()
        if self.tty:
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
        if self.tty and self._line:
            self.out.write(self._line)
        self.out.flush()

    def on_evaluation(self, logs: dict[str, Any] | None = None) -> None:
        self._print(f"evaluation ({logs['kind']}) at step {logs['step']:,}: "
                    f"{logs['mean_return']:.1f} ± {logs['std_return']:.1f} over {logs['episodes']} episodes")

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.tty:
            self.out.write("\n")
        self._line = ""
        if logs.get("interrupted"):
            why = f"interrupted by {logs['interrupted']}"
        elif logs.get("error"):
            why = "failed"
        elif logs.get("stopped"):
            why = "stopped by a listener"
        else:
            why = "episode budget reached" if self.total_episodes else "step budget reached"
        self._print(f"training ended ({why}): {logs['step']:,} steps, {logs['episodes']} episodes, "
                    f"{logs['wall_seconds']:.1f} s, {self._rate(logs['step']):,.0f} steps/s")


def _num(x: float) -> str:
    """Returns like 487.0 keep one decimal; small values such as a success rate keep three digits."""
    return f"{x:.1f}" if abs(x) >= 10 else f"{x:.3g}"
