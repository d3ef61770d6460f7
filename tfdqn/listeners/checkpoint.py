"""`ModelCheckpoint`: keep the best-evaluated and the last Q-network as `.keras` files, and optionally the
full training state for `--resume`; everything is written atomically."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from tfdqn.fileio import remove_temporaries, write_json
from tfdqn.listeners.base import Listener
from tfdqn.networks.export import save_model


class ModelCheckpoint(Listener):
    """Save `best.keras` whenever an evaluation beats the best so far, and `last.keras` at the end.

    A later evaluation of the *same* policy (same step) on at least as many episodes replaces its score
    rather than competing with it, so a confirmation on 100 episodes corrects a lucky 20-episode result.
    `best.json` beside the model records the step and score of `best.keras`.

    With `save_state=True` the full training state (see `tfdqn.training.resume`) is written to `directory/state`
    every `state_every` env steps (if given) and when training ends, also on SIGINT/SIGTERM or an error
    in a listener. A state is written only at a quiet point of the run (`RunView.at_quiet_point`), once
    every listener has seen every event before it, so a resumed run loses no evaluation. Weights that are
    not finite (after a non-finite loss) are never written: the last good files are kept.
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        save_best: bool = True,
        save_last: bool = True,
        save_state: bool = False,
        state_every: int | None = None,
    ):
        if state_every is not None and state_every < 1:
            raise ValueError(f"state_every={state_every} is invalid: must be a positive number of steps")
        self.directory = Path(directory)
        self.save_best, self.save_last = save_best, save_last
        self.save_state, self.state_every = save_state, state_every
        self.best_score = -math.inf
        self.best_step: int | None = None
        self.best_episodes = 0
        self._next_state_step: int | None = None
        self._state_due = False  # a state write waits for the next quiet point
        self._healthy = True
        self.last_state_path: Path | None = None

    @property
    def best_path(self) -> Path:
        return self.directory / "best.keras"

    @property
    def last_path(self) -> Path:
        return self.directory / "last.keras"

    @property
    def state_dir(self) -> Path:
        return self.directory / "state"

    def get_state(self) -> dict[str, Any]:
        return {"best_score": self.best_score, "best_step": self.best_step, "best_episodes": self.best_episodes}

    def set_state(self, state: dict[str, Any]) -> None:
        self.best_score, self.best_step = state["best_score"], state["best_step"]
        self.best_episodes = state["best_episodes"]

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        self._state_due, self._healthy = False, True
        remove_temporaries(self.directory)  # what a killed run left half-written in its folder
        if self.save_state and self.state_every:
            self._next_state_step = (logs["step"] // self.state_every + 1) * self.state_every

    def on_step(self, step: int, logs: dict[str, Any] | None = None) -> None:
        if self._next_state_step is not None and step >= self._next_state_step:
            assert self.state_every is not None  # _next_state_step is only set when it is
            self._next_state_step = (step // self.state_every + 1) * self.state_every
            self._request_state()

    def on_evaluation(self, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        if not self.save_best:
            return
        score, step, episodes = logs["mean_return"], logs["step"], logs["episodes"]
        if step == self.best_step:
            if episodes >= self.best_episodes:  # a better estimate of the saved policy
                self.best_score, self.best_episodes = score, episodes
                self._write_best_info(logs)
            return
        if score > self.best_score and self._weights_finite():
            save_model(self.trainer.agent.export_model(), self.best_path)
            self.best_score, self.best_step, self.best_episodes = score, step, episodes
            self._write_best_info(logs)

    def _write_best_info(self, logs: dict[str, Any]) -> None:
        write_json(
            self.directory / "best.json",
            {
                "step": self.best_step,
                "mean_return": self.best_score,
                "episodes": self.best_episodes,
                "kind": logs.get("kind"),
            },
        )

    def _weights_finite(self) -> bool:
        return all(np.isfinite(w).all() for w in self.trainer.agent.q_network.get_weights())

    def _request_state(self) -> None:
        if not self._state_due:
            self._state_due = True
            self.trainer.at_quiet_point(self._write_state)

    def _write_state(self) -> None:
        self._state_due = False
        if self._healthy and self._weights_finite():
            self.last_state_path = self.trainer.save_state(self.state_dir)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        self._healthy = bool(logs.get("healthy", True)) and self._weights_finite()
        if not self._healthy:
            return  # the weights may hold NaN: keep the last good files
        # last.keras and the state once every listener has ended (one restoring best weights included), so the
        # two hold the same weights; after an abort mid-step (a second Ctrl-C) the state may be torn: the last
        # periodic one is kept
        if self.save_last:
            self.trainer.at_quiet_point(self._write_last)
        if self.save_state and not logs.get("aborted", False):
            self._request_state()

    def _write_last(self) -> None:
        if self._weights_finite():
            save_model(self.trainer.agent.export_model(), self.last_path)
