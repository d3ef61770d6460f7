"""Recording one greedy episode as an mp4 through Gymnasium's `RecordVideo` (moviepy: the optional `video` extra).

The GIFs (`record_gif`) need nothing extra and stay the default; an mp4 keeps every frame at the environment's
own frame rate, and is what experiment trackers and web pages play.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gymnasium.wrappers import RecordVideo

from tfdqn.dqn.evaluation import ActionFn, evaluate
from tfdqn.envs.make import has_display, make_env
from tfdqn.extras import require_extra


def require_moviepy(what: str = "mp4 videos") -> None:
    """One line naming the extra to install (`ExtraNotInstalled`) unless moviepy can be imported."""
    require_extra("video", what)


def record_video(
    policy: ActionFn, env_id: str, path: str | os.PathLike, seed: int = 0, max_steps: int | None = None
) -> float:
    """Record one greedy episode of `policy` on `env_id` (seeded with `seed`) as an mp4 at `path`, cut after
    `max_steps` steps as in `evaluate` (and `record_gif`); returns its return. The file appears whole or not at
    all: RecordVideo writes into a hidden folder beside it first."""
    require_moviepy()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not has_display():  # rgb_array needs no window; stop SDL complaining that it has none
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".video-") as tmp:
        folder = Path(tmp) / "episode"  # a new folder: RecordVideo warns when it overwrites one
        env = RecordVideo(
            make_env(env_id, render_mode="rgb_array"),
            str(folder),
            episode_trigger=lambda _episode: True,
            name_prefix="greedy",
            disable_logger=True,
        )
        try:
            result = evaluate(policy, env, 1, seed, max_steps)
        finally:
            env.close()  # writes the mp4
        os.replace(folder / "greedy-episode-0.mp4", path)
    return float(result.returns[0])
