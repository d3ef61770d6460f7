"""`ModelCheckpoint`: keep the best-evaluated and the last Q-network as `.keras` files, written atomically."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from tfdqn.fileio import write_json
from tfdqn.listeners.base import Listener
from tfdqn.model_io import save_model


class ModelCheckpoint(Listener):
    """Save `best.keras` whenever an evaluation beats the best so far, and `last.keras` at the end.

    A later evaluation of the *same* policy (same step) on at least as many episodes replaces its score
    rather than competing with it, so a confirmation on 100 episodes corrects a lucky 20-episode result.
    `best.json` beside the model records the step and score of `best.keras`.
    """

    def __init__(self, directory: str | os.PathLike, save_best: bool = True, save_last: bool = True):
        self.directory = Path(directory)
        self.save_best, self.save_last = save_best, save_last
        self.best_score = -math.inf
        self.best_step: int | None = None
        self.best_episodes = 0

    @property
    def best_path(self) -> Path:
        return self.directory / "best.keras"

    @property
    def last_path(self) -> Path:
        return self.directory / "last.keras"

    def on_evaluation(self, logs: dict[str, Any] | None = None) -> None:
        if not self.save_best:
            return
        score, step, episodes = logs["mean_return"], logs["step"], logs["episodes"]
        if step == self.best_step:
            if episodes >= self.best_episodes:  # a better estimate of the saved policy
                self.best_score, self.best_episodes = score, episodes
                self._write_best_info(logs)
            return
        if score > self.best_score:
            save_model(self.trainer.agent.q_network, self.best_path)
            self.best_score, self.best_step, self.best_episodes = score, step, episodes
            self._write_best_info(logs)

    def _write_best_info(self, logs: dict[str, Any]) -> None:
        write_json(self.directory / "best.json", {"step": self.best_step, "mean_return": self.best_score,
                                                  "episodes": self.best_episodes, "kind": logs.get("kind")})

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.save_last:
            save_model(self.trainer.agent.q_network, self.last_path)
