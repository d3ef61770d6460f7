"""What a run's flags ask for beside its folder: mp4 videos (`--video`) and an MLflow run (`--mlflow`).

The flags, the checks made before TensorFlow loads (the extras installed, an environment that renders, a tracking
store that answers), the listeners (after the protocol's: listener states are keyed by position), and what they
add once the run has finished (videos/best.mp4, best.keras's final score in MLflow). `tfdqn train` and the sweep
worker use it, so a tracked run means the same thing in both.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tfdqn.cli import positive_int
from tfdqn.config import DQNConfig
from tfdqn.errors import EnvError
from tfdqn.extras import require_extra
from tfdqn.listeners.base import Listener

VIDEO_EVERY = 5
"""`--video` alone: an mp4 every 5 periodic evaluations (the 1st, 6th, 11th...)."""


def add_tracking_flags(
    parser: argparse.ArgumentParser, *, video: bool = True, experiment: str = "the environment id"
) -> None:
    """`--mlflow [URI]`, `--mlflow-experiment NAME` (its default described by `experiment`) and (with `video`)
    `--video [N]`."""
    parser.add_argument(
        "--mlflow",
        nargs="?",
        const="",
        default=None,
        metavar="URI",
        help="also log the run to MLflow: the config as parameters, episode and evaluation metrics at env steps, "
        "best.keras, the curves and config.json as artifacts. URI: a tracking store, e.g. sqlite:///mlflow.db or "
        "http://host:5000 (default when given alone: MLFLOW_TRACKING_URI, else MLflow's own default; needs "
        'pip install "tfdqn[tracking]") (default: no MLflow)',
    )
    parser.add_argument(
        "--mlflow-experiment",
        default=None,
        metavar="NAME",
        help=f"the MLflow experiment of --mlflow, created if new (default: {experiment})",
    )
    if video:
        parser.add_argument(
            "--video",
            nargs="?",
            type=positive_int,
            const=VIDEO_EVERY,
            default=None,
            metavar="N",
            help=f"also record an mp4 of a greedy episode every N periodic evaluations (N default {VIDEO_EVERY}) into "
            'OUT/videos/, and one of best.keras as videos/best.mp4 (needs pip install "tfdqn[video]"); the GIFs '
            "need nothing extra (default: no videos)",
        )


@dataclass
class Tracking:
    """The videos and the MLflow run of one run, as its flags asked (`Tracking.start`)."""

    config: DQNConfig
    out: Path
    video_every: int | None = None
    mlflow: Any = None  # an MLflowLogger (tfdqn.listeners.mlflow) when --mlflow was given
    recorded: list[Path] = field(default_factory=list)

    @classmethod
    def start(cls, args: argparse.Namespace, config: DQNConfig, out: Path, run_name: str | None = None) -> Tracking:
        """Check and open what the flags ask for, before TensorFlow loads: moviepy and `rgb_array` frames for
        --video, the tracking store and experiment for --mlflow (one line and status 2 when one cannot be had)."""
        video_every = getattr(args, "video", None)
        if video_every is not None:
            from tfdqn.envs.make import can_render  # here: Gymnasium stays out of `tfdqn --help`

            require_extra("video", "--video")
            if not can_render(config.env_id):
                raise EnvError(f"--video: {config.env_id} does not render rgb_array frames")
        logger = None
        if getattr(args, "mlflow", None) is not None:
            from tfdqn.listeners.mlflow import MLflowLogger  # light: MLflow, no TensorFlow

            experiment = args.mlflow_experiment or config.env_id
            logger = MLflowLogger(args.mlflow or None, experiment, run_name=run_name or out.name, directory=out)
        return cls(config, out, video_every, logger)

    def listeners(self) -> list[Listener]:
        """The listeners to put after the protocol's: a `VideoRecorder`, then the `MLflowLogger` (it uploads the
        videos, so it comes last)."""
        listeners: list[Listener] = []
        if self.video_every is not None:
            from tfdqn.listeners.video import VideoRecorder  # loads TensorFlow: after the checks of `start`

            listeners.append(VideoRecorder(self.out / "videos", self.video_every))
        if self.mlflow is not None:
            listeners.append(self.mlflow)
        return listeners

    def finish(self, summary: dict[str, Any]) -> None:
        """After `Run.finish`: record videos/best.mp4 of best.keras (on trained.gif's seed), then log best.keras's
        final score and the files written since training ended to MLflow, and say where the MLflow run is."""
        if self.video_every is not None:
            from tfdqn.dqn.evaluation import greedy_policy
            from tfdqn.dqn.video import record_video
            from tfdqn.networks.export import load_q_network

            best = greedy_policy(load_q_network(self.out / "best.keras"))
            path = self.out / "videos" / "best.mp4"
            ret = record_video(best, self.config.env_id, path, seed=self.config.seed + 1)
            print(f"recorded best.keras's episode (return {ret:.1f}) to {path}", file=sys.stderr)
        if self.mlflow is not None:
            self.mlflow.log_summary(summary)
            print(
                f"MLflow run {self.mlflow.run_id} (experiment id {self.mlflow.experiment_id}) in "
                f"{self.mlflow.client.tracking_uri}",
                file=sys.stderr,
            )
