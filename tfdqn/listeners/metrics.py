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
    """Append metrics to CSV files under `directory`, flushed after every row so a crash loses nothing."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self._files: list = []
        self.rows = {"metrics.csv": 0, "evaluations.csv": 0}  # data rows written so far
        self._resume_rows: dict[str, int] | None = None

    def get_state(self) -> dict[str, Any]:
        return {"rows": dict(self.rows)}

    def set_state(self, state: dict[str, Any]) -> None:
        self._resume_rows = dict(state["rows"])

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for name in self.rows:  # what a killed rewrite left behind
            remove_temporaries(self.directory / name)
        self._episodes = self._open("metrics.csv", EPISODE_FIELDS)
        self._evaluations = self._open("evaluations.csv", EVALUATION_FIELDS)

    def _open(self, name: str, fields: tuple[str, ...]) -> csv.DictWriter:
        path = self.directory / name
        if self._resume_rows is not None and path.exists():
            # Resuming: keep the rows the checkpoint had seen, drop any written after it.
            keep = self._resume_rows.get(name, 0)
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


def _fmt(value: Any) -> Any:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    if isinstance(value, bool):
        return int(value)
    return value
