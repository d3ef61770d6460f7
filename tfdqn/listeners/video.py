"""`VideoRecorder`: an mp4 of a greedy episode every N periodic evaluations, so a run's folder shows how its
policy changed (moviepy: the optional `video` extra; the GIFs need nothing extra)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tfdqn.dqn.video import record_video, require_moviepy
from tfdqn.listeners.base import Listener
from tfdqn.validation import check_budget

VIDEO_SEED_OFFSET = 40_000
"""The recorded episode starts from seed `config.seed + VIDEO_SEED_OFFSET` (the protocol's other offsets are
10,000-30,000), every time: the videos of one run differ only by the policy."""


class VideoRecorder(Listener):
    """After the 1st, (1 + every)-th, (1 + 2 * every)-th ... periodic evaluation, record one greedy episode of
    the current online network into `directory/step-<env step>.mp4` (the same seeded episode each time).

    `env_id` defaults to the run's environment; `seed` to the run's seed plus `VIDEO_SEED_OFFSET`; the episode
    is cut after `max_steps` steps (give the run's evaluation cap, as `--video` does; default: `evaluate`'s). The
    environment must render `rgb_array` frames. Raises `ExtraNotInstalled` at once without moviepy.
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        every: int = 5,
        env_id: str | None = None,
        seed: int | None = None,
        max_steps: int | None = None,
    ):
        require_moviepy("VideoRecorder")
        self.directory = Path(directory)
        self.every = check_budget(every, "every")
        self.max_steps = None if max_steps is None else check_budget(max_steps, "max_steps")
        self.env_id, self.seed = env_id, seed
        self.evaluations = 0  # periodic evaluations seen, saved with a training checkpoint
        self.paths: list[Path] = []  # the videos this listener recorded

    def get_state(self) -> dict[str, Any]:
        return {"evaluations": self.evaluations}

    def set_state(self, state: dict[str, Any]) -> None:
        self.evaluations = int(state.get("evaluations", 0))

    def on_evaluation(self, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        if logs.get("kind") != "periodic":
            return
        self.evaluations += 1
        if (self.evaluations - 1) % self.every:
            return
        config = self.trainer.config
        seed = config.seed + VIDEO_SEED_OFFSET if self.seed is None else self.seed
        path = self.directory / f"step-{int(logs['step']):08d}.mp4"
        env_id = self.env_id or config.env_id
        record_video(self.trainer.agent.greedy, env_id, path, seed=seed, max_steps=self.max_steps)
        self.paths.append(path)
