"""A MinAtar benchmark run's saved training state: where it lives (the run's own folder), resuming it exactly, and
the episodes and training seconds its attempts add up to (`Attempts`), so a stopped run loses only what it did
after its last save (`benchmarks.minatar_runs`)."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tfdqn.listeners.base import Listener

if TYPE_CHECKING:
    from tfdqn.training.trainer import Trainer


def run_folder(record: Path) -> Path:
    """A tfdqn run's own folder, beside its record and named as it (`runs/<name>.json` -> `runs/<name>/`): its
    training state (`state/`, removed once the record is written) and, for the preset, its run files."""
    return record.with_suffix("")


class Attempts(Listener):
    """A run's completed training episodes and the seconds its training took over every attempt: part of the
    saved training state, so a resumed run goes on with them and counts each frame's seconds once."""

    def __init__(self) -> None:
        self.returns: list[float] = []
        self.end_frames: list[int] = []
        self.resumed_from: list[int] = []  # the frame each later attempt resumed from
        self.earlier_cpu = self.earlier_wall = 0.0  # earlier attempts' training seconds, up to the state resumed
        self._started = (0.0, 0.0)  # this attempt's CPU and wall clocks when its training began

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._started = (time.process_time(), time.perf_counter())

    def on_episode_end(self, episode: int, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        if logs["completed"]:
            self.returns.append(float(logs["return"]))
            self.end_frames.append(int(logs["step"]))

    def get_state(self) -> dict[str, Any]:
        cpu, wall = time.process_time() - self._started[0], time.perf_counter() - self._started[1]
        return {
            "returns": self.returns,
            "end_frames": self.end_frames,
            "resumed_from": self.resumed_from,
            "cpu_seconds": self.earlier_cpu + cpu,
            "wall_seconds": self.earlier_wall + wall,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.returns, self.end_frames = list(state["returns"]), list(state["end_frames"])
        self.resumed_from = list(state["resumed_from"])
        self.earlier_cpu, self.earlier_wall = state["cpu_seconds"], state["wall_seconds"]


def resume(trainer: Trainer, state: Path, attempts: Attempts) -> None:
    """Restore the training state saved in `state` into `trainer` (built as the run that saved it), if there is
    one: a damaged state, or one of other settings, is a `StateError` (one line) naming the folder to remove."""
    from tfdqn.config import DQNConfig
    from tfdqn.training.resume import StateError, check_training_state, load_training_state, read_state_config

    if not (state / "latest").is_file():
        return
    try:
        check_training_state(state)
        if DQNConfig.from_dict(read_state_config(state)) != trainer.config:
            raise StateError(f"{state} holds a run of other settings")
        step = load_training_state(trainer, state)
    except StateError as exc:
        raise StateError(f"{exc}; remove {state} to run it again from its first frame") from None
    attempts.resumed_from.append(step)
    print(f"resuming from frame {step:,} ({state})", file=sys.stderr)


def discard_state(folder: Path) -> None:
    """Remove a finished run's training state (its record is written: nothing resumes it), and its folder if
    nothing else is in it."""
    shutil.rmtree(folder / "state", ignore_errors=True)
    try:
        folder.rmdir()
    except OSError:  # the preset's run files (best.keras, metrics), or no folder: kept as they are
        pass
