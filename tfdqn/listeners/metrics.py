"""`MetricsLogger`: one CSV row per episode (`metrics.csv`) and per evaluation (`evaluations.csv`)."""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from typing import Any

from tfdqn.fileio import atomic_write, remove_temporaries
from tfdqn.listeners.base import Listener

EPISODE_FIELDS = (
    "episode",
    "step",
    "return",
    "length",
    "mean_return_100",
    "epsilon",
    "loss",
    "mean_q",
    "terminated",
    "truncated",
    "env_index",
    "wall_seconds",
)
EVALUATION_FIELDS = ("step", "kind", "episodes", "mean_return", "std_return")


class MetricsLogger(Listener):
    """Append metrics to CSV files under `directory`, flushed after every row so a crash loses nothing.

    A run's first `train` call (from step 0) starts both files afresh; a later call that continues the run (or a
    resumed run) appends to the rows written before it, so a run continued by calling `train` again writes the
    rows an uninterrupted run would. Rows in the files beyond those this logger wrote (or the checkpoint saw) are
    dropped.
    """

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self._files: list = []
        self.rows = {"metrics.csv": 0, "evaluations.csv": 0}  # data rows written so far
        self._keep_rows: dict[str, int] | None = None  # rows to keep at the next open (None: start afresh)

    def get_state(self) -> dict[str, Any]:
        return {"rows": dict(self.rows)}

    def set_state(self, state: dict[str, Any]) -> None:
        self._keep_rows = dict(state["rows"])

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        if not logs.get("step") and not logs.get("resumed"):  # a new run from its first step: fresh files
            self._keep_rows = None
        self.directory.mkdir(parents=True, exist_ok=True)
        for name in self.rows:  # what a killed rewrite left behind
            remove_temporaries(self.directory / name)
        self._episodes = self._open("metrics.csv", EPISODE_FIELDS)
        self._evaluations = self._open("evaluations.csv", EVALUATION_FIELDS)

    def _open(self, name: str, fields: tuple[str, ...]) -> csv.DictWriter:
        path = self.directory / name
        if self._keep_rows is not None and path.exists():
            # Continuing (a later train call, or a resume): keep the rows written so far (those the checkpoint
            # had seen), drop any written after them.
            keep = self._keep_rows.get(name, 0)
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)[: keep + 1]
            # atomically: a kill while rewriting leaves the whole old file, which the next resume cuts again
            atomic_write(path, lambda tmp: Path(tmp).write_text("".join(lines), encoding="utf-8"))
            self.rows[name] = max(len(lines) - 1, 0)
            f = open(path, "a", newline="", encoding="utf-8")
            header = not lines
        else:
            f = open(path, "w", newline="", encoding="utf-8")
            self.rows[name], header = 0, True
        self._files.append(f)
        writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        if header:
            writer.writeheader()
        f.flush()
        return writer

    def _write(self, writer: csv.DictWriter, row: dict[str, Any]) -> None:
        writer.writerow({k: _fmt(v) for k, v in row.items()})
        self._files[0 if writer is self._episodes else 1].flush()
        self.rows["metrics.csv" if writer is self._episodes else "evaluations.csv"] += 1

    def on_episode_end(self, episode: int, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        if not logs.get("completed", True):
            return  # an episode cut short by the end of training is not a result
        self._write(self._episodes, {"episode": episode, **logs})

    def on_evaluation(self, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        self._write(self._evaluations, logs)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        for f in self._files:
            f.close()
        self._files.clear()
        self._keep_rows = dict(self.rows)  # a later train call of this run goes on after these rows


def _fmt(value: Any) -> Any:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    if isinstance(value, bool):
        return int(value)
    return value
