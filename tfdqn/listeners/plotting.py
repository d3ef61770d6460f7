"""`LivePlot`: the learning curve (episode returns, their moving average, greedy evaluations).

With a display it draws in a window while training; without one it refreshes the PNG on disk. The
final PNG is always written at the end of training.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from tfdqn.envs.make import has_display
from tfdqn.fileio import atomic_write
from tfdqn.listeners.base import Listener


def moving_average(values: ArrayLike, window: int) -> np.ndarray:
    """Mean of the last `window` values at each position (fewer at the start)."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return values
    cumsum = np.cumsum(np.insert(values, 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    lo = np.maximum(idx - window, 0)
    return (cumsum[idx] - cumsum[lo]) / (idx - lo)


class LivePlot(Listener):
    """Plot episode return against env steps, its `window`-episode moving average, and evaluations.

    `live=False` only writes the PNG at the end of training (no window, no refresh); `target` draws a
    dashed line at a goal return.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        live: bool = True,
        every_seconds: float = 5.0,
        window: int = 100,
        title: str | None = None,
        value_key: str = "return",
        value_label: str = "episode return",
        target: float | None = None,
    ):
        self.path = Path(path)
        self.live, self.every_seconds, self.window, self.title = live, every_seconds, window, title
        self.value_key, self.value_label, self.target = value_key, value_label, target
        self.steps: list[int] = []
        self.values: list[float] = []
        self.evaluations: list[tuple[int, float, float]] = []
        self._window_open = False
        self._last_draw = 0.0

    def get_state(self) -> dict[str, Any]:
        return {"steps": self.steps, "values": self.values, "evaluations": self.evaluations}

    def set_state(self, state: dict[str, Any]) -> None:
        self.steps, self.values = list(state["steps"]), list(state["values"])
        self.evaluations = [tuple(e) for e in state["evaluations"]]

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        self.title = self.title or logs.get("config", {}).get("env_id")
        self._window_open = self.live and has_display()
        self._last_draw = time.perf_counter()

    def on_episode_end(self, episode: int, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        if not logs.get("completed", True):
            return  # an episode cut short by the end of training is not a result
        self.steps.append(logs["step"])
        self.values.append(float(logs[self.value_key]))
        if self.live and time.perf_counter() - self._last_draw >= self.every_seconds:
            self.refresh()

    def on_evaluation(self, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        if logs.get("kind") == "periodic":
            self.evaluations.append((logs["step"], logs["mean_return"], logs["std_return"]))

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.save()
        figure = self.__dict__.pop("_figure", None)  # none if training ended before the first redraw
        if figure is not None:  # closed: a later train call opens a window of its own
            import matplotlib.pyplot as plt

            plt.close(figure)
        self._window_open = False

    def refresh(self) -> None:
        """Redraw the window if one is open, else rewrite the PNG."""
        self._last_draw = time.perf_counter()
        if self._window_open:
            import matplotlib.pyplot as plt

            if not hasattr(self, "_figure"):
                plt.ion()
                self._figure = plt.figure(figsize=(8, 4.5))
            self._draw(self._figure)
            self._figure.canvas.draw_idle()
            plt.pause(0.001)
        else:
            self.save()

    def save(self) -> Path:
        """Write the current plot to `path` atomically, without touching pyplot's global state."""
        from matplotlib.figure import Figure

        figure = Figure(figsize=(8, 4.5))
        self._draw(figure)
        return atomic_write(self.path, lambda tmp: figure.savefig(tmp, dpi=100))

    def _draw(self, figure) -> None:
        figure.clear()
        ax = figure.add_subplot(1, 1, 1)
        if self.steps:
            ax.plot(self.steps, self.values, color="tab:blue", alpha=0.35, lw=0.8, label=self.value_label)
            ax.plot(
                self.steps,
                moving_average(self.values, self.window),
                color="tab:blue",
                lw=2,
                label=f"moving average ({self.window} episodes)",
            )
        if self.evaluations:
            s, m, sd = (np.array(v) for v in zip(*self.evaluations))
            ax.errorbar(s, m, yerr=sd, fmt="o", color="tab:red", ms=4, capsize=2, label="greedy evaluation")
        if self.target is not None:
            ax.axhline(self.target, color="gray", ls="--", lw=1, label=f"target {self.target:g}")
        ax.set_xlabel("environment steps")
        ax.set_ylabel(self.value_label)
        if self.title:
            ax.set_title(self.title)
        ax.grid(alpha=0.3)
        if self.steps or self.evaluations:
            ax.legend(loc="best", fontsize=8)
        figure.tight_layout()
