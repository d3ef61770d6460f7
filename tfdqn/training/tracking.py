"""What a run's flags ask for beside its folder: mp4 videos (`--video`) and an MLflow run (`--mlflow`).

The flags, the checks made before TensorFlow loads (the extras installed, an environment that renders, a tracking
store that answers), the listeners (after the protocol's: listener states are keyed by position), and what they
add once the run has finished (videos/best.mp4, best.keras's final score in MLflow). `tfdqn train` and the sweep
worker use it, so a tracked run means the same thing in both.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tfdqn.cli import positive_int
from tfdqn.config import DQNConfig
from tfdqn.errors import EnvError
from tfdqn.extras import require_extra
from tfdqn.listeners.base import Listener

VIDEO_EVERY = 5
"""`--video` alone: an mp4 every 5 periodic evaluations (the 1st, 6th, 11th...)."""
MLFLOW_FLAG, EXPERIMENT_FLAG, VIDEO_FLAG = "--mlflow", "--mlflow-experiment", "--video"
"""The tracking flags' names: `add_tracking_flags` defines them, `tracking_argv` writes them for a sweep's worker."""


def add_tracking_flags(
    parser: argparse.ArgumentParser, *, video: bool = True, experiment: str = "the environment id"
) -> None:
    """`--mlflow [URI]`, `--mlflow-experiment NAME` (its default described by `experiment`) and (with `video`)
    `--video [N]`."""
    parser.add_argument(
        MLFLOW_FLAG,
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
        EXPERIMENT_FLAG,
        default=None,
        metavar="NAME",
        help=f"the MLflow experiment of --mlflow, created if new (default: {experiment})",
    )
    if video:
        parser.add_argument(
            VIDEO_FLAG,
            nargs="?",
            type=positive_int,
            const=VIDEO_EVERY,
            default=None,
            metavar="N",
            help=f"also record an mp4 of a greedy episode every N periodic evaluations (N default {VIDEO_EVERY}) into "
            'OUT/videos/, and one of best.keras as videos/best.mp4 (needs pip install "tfdqn[video]"); the GIFs '
            "need nothing extra (default: no videos)",
        )


def tracking_argv(mlflow: str | None, experiment: str | None = None) -> list[str]:
    """The flags of `add_tracking_flags` that ask a run for MLflow tracking into store `mlflow` ("" = MLflow's
    default, None = no MLflow) and `experiment`: what a sweep passes its workers."""
    if mlflow is None:
        return []
    return [MLFLOW_FLAG, mlflow] + ([EXPERIMENT_FLAG, experiment] if experiment is not None else [])


@dataclass
class Tracking:
    """The videos and the MLflow run of one run, as its flags asked (`Tracking.start`)."""

    config: DQNConfig
    out: Path
    video_every: int | None = None
    mlflow: Any = None  # an MLflowLogger (tfdqn.listeners.mlflow) when --mlflow was given
    eval_max_steps: int | None = None  # --eval-max-steps: the videos' episodes are cut as the evaluations' are

    @classmethod
    def start(
        cls,
        args: argparse.Namespace,
        config: DQNConfig,
        out: Path,
        run_name: str | None = None,
        run_key: str | None = None,
    ) -> Tracking:
        """Check and open what the flags ask for, before TensorFlow loads: moviepy and `rgb_array` frames for
        --video, the tracking store and experiment for --mlflow (one line and status 2 when one cannot be had).
        `run_key` (a sweep's run): an earlier, unfinished MLflow run with that key is marked KILLED."""
        video_every = getattr(args, "video", None)
        if video_every is not None:
            from tfdqn.envs.make import can_render  # here: Gymnasium stays out of `tfdqn --help`

            require_extra("video", VIDEO_FLAG)
            if not can_render(config.env_id):
                raise EnvError(f"{VIDEO_FLAG}: {config.env_id} does not render rgb_array frames")
        logger = None
        if getattr(args, "mlflow", None) is not None:
            from tfdqn.listeners.mlflow import MLflowLogger  # light: MLflow, no TensorFlow

            experiment = args.mlflow_experiment or config.env_id
            name = run_name or out.name
            logger = MLflowLogger(
                args.mlflow or None, experiment, run_name=name, directory=out, run_key=run_key, end_on_train_end=False
            )
        return cls(config, out, video_every, logger, getattr(args, "eval_max_steps", None))

    def listeners(self) -> list[Listener]:
        """The listeners to put after the protocol's: a `VideoRecorder`, then the `MLflowLogger` (it uploads the
        videos, so it comes last)."""
        listeners: list[Listener] = []
        if self.video_every is not None:
            from tfdqn.listeners.video import VideoRecorder  # loads TensorFlow: after the checks of `start`

            cap = self.video_step_cap()
            listeners.append(VideoRecorder(self.out / "videos", self.video_every, max_steps=cap))
        if self.mlflow is not None:
            listeners.append(self.mlflow)
        return listeners

    def video_step_cap(self) -> int | None:
        """Where the videos' episodes are cut: where the run's evaluations and GIFs cut theirs."""
        from tfdqn.dqn.evaluation import evaluation_step_cap

        return evaluation_step_cap(self.config.env_id, self.eval_max_steps)

    def finish(self, run_finish: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Call `run_finish` (`Run.finish`: best.keras's final score, the GIFs, summary.json), record
        videos/best.mp4 of best.keras (on trained.gif's seed), log the final score and the files written since
        training ended to MLflow, and only then end the MLflow run: FINISHED, or FAILED (KILLED on Ctrl-C) when
        any of it raises, so a FINISHED run has all its results. Returns the summary."""
        try:
            summary = run_finish()
            if self.video_every is not None:
                self.record_best()
            if self.mlflow is not None:
                self.mlflow.log_summary(summary)
        except BaseException as exc:
            if self.mlflow is not None:
                self.mlflow.end("KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED")
            raise
        if self.mlflow is not None:
            self.mlflow.end("FINISHED")
            where = f"(experiment id {self.mlflow.experiment_id}) in {self.mlflow.client.tracking_uri}"
            if self.mlflow.run_id is None:  # the store did not answer when training began (warned then)
                print(f"no MLflow run was made {where}", file=sys.stderr)
            else:
                print(f"MLflow run {self.mlflow.run_id} {where}", file=sys.stderr)
        return summary

    def record_best(self) -> None:
        """videos/best.mp4: best.keras's greedy episode on trained.gif's seed, cut as the evaluations are."""
        from tfdqn.dqn.evaluation import greedy_policy
        from tfdqn.dqn.video import record_video
        from tfdqn.networks.export import load_q_network

        best = greedy_policy(load_q_network(self.out / "best.keras"))
        path = self.out / "videos" / "best.mp4"
        ret = record_video(best, self.config.env_id, path, seed=self.config.seed + 1, max_steps=self.video_step_cap())
        print(f"recorded best.keras's episode (return {ret:.1f}) to {path}", file=sys.stderr)
