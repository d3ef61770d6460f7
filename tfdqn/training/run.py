"""What the training scripts share: a run's standard listeners and the files written when it ends.

`train_cartpole.py`, `train_pixels.py` and `train_atari.py` differ in their defaults and environments,
not in how a run is observed and summarised; this module is that common part, so the three write the
same files with the same meaning.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tfdqn.cli import non_negative_int, positive_int

if TYPE_CHECKING:  # NumPy must not load before the scripts' prepare_process()
    import numpy as np


def add_run_flags(
    parser: argparse.ArgumentParser, *, eval_every: int, eval_episodes: int, confirm_episodes: int, final_episodes: int
) -> None:
    """The evaluation, stopping, plotting and thread flags every training script takes, with its defaults."""
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="evaluation mean return that counts as solved (default: the environment's "
        "reward_threshold from its Gymnasium spec, 475 for CartPole-v1, 200 for LunarLander-v3; "
        "without one, training runs the whole budget)",
    )
    parser.add_argument(
        "--eval-every",
        type=positive_int,
        default=eval_every,
        help="env steps between greedy evaluations (default %(default)s)",
    )
    parser.add_argument(
        "--eval-episodes",
        type=positive_int,
        default=eval_episodes,
        help="episodes per periodic evaluation (default %(default)s)",
    )
    parser.add_argument(
        "--confirm-episodes",
        type=non_negative_int,
        default=confirm_episodes,
        help="fresh episodes that must confirm a solve before stopping; 0 = trust one evaluation (default %(default)s)",
    )
    parser.add_argument(
        "--final-episodes",
        type=positive_int,
        default=final_episodes,
        help="fresh episodes for the final evaluation of best.keras in summary.json (default %(default)s)",
    )
    parser.add_argument("--no-stop", action="store_true", help="train for all --steps even once solved")
    parser.add_argument(
        "--no-live-plot",
        action="store_true",
        help="do not refresh the learning curve during training (it is still written at the end)",
    )
    parser.add_argument(
        "--no-divergence-alarm",
        action="store_true",
        help="do not warn when Q-values exceed r_max / (1 - gamma) (the alarm is on by default)",
    )
    parser.add_argument(
        "--tensorboard",
        metavar="DIR",
        default=None,
        help="also write TensorBoard event files to DIR (view: tensorboard --logdir DIR); default: none",
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=1,
        help="TensorFlow CPU threads (default %(default)s: fastest for small networks)",
    )


def run_listeners(out: Path, config, args: argparse.Namespace, checkpoint, *, plot_threshold: bool = True) -> list:
    """Progress bar, metrics CSV, divergence alarm (unless --no-divergence-alarm), TensorBoard (--tensorboard),
    learning curve (with the
    `--threshold` line if `plot_threshold`), periodic evaluation, `checkpoint`, and (unless --no-stop or no
    threshold) a confirmed stop on `--threshold`, which defaults to the environment's `reward_threshold` (set
    into `args.threshold` here); evaluation seeds are offset from the run's seed so they never replay
    training episodes."""
    import tfdqn
    from tfdqn.envs.make import reward_threshold

    if args.threshold is None:  # the environment's own; the scripts read args.threshold afterwards
        args.threshold = reward_threshold(config.env_id)
        if args.threshold is None and not args.no_stop:
            print(
                f"{config.env_id} has no reward_threshold in its Gymnasium spec: training runs the whole "
                "budget (pass --threshold to stop on a confirmed score)",
                file=sys.stderr,
            )
    listeners = [
        tfdqn.ProgressLogger(),
        tfdqn.MetricsLogger(out),
        tfdqn.LivePlot(
            out / "learning_curve.png", live=not args.no_live_plot, target=args.threshold if plot_threshold else None
        ),
        tfdqn.PeriodicEvaluation(args.eval_every, args.eval_episodes, seed=config.seed + 10_000),
        checkpoint,
    ]
    if not args.no_stop and args.threshold is not None:  # train_atari.py: threshold None = never stop early
        listeners.append(tfdqn.StopOnReward(args.threshold, args.confirm_episodes, seed=config.seed + 20_000))
    if not getattr(args, "no_divergence_alarm", False):  # last: saved listener states are keyed by position
        listeners.append(tfdqn.DivergenceAlarm())
    if getattr(args, "tensorboard", None):  # after the others, so it keeps their saved states' positions
        listeners.append(tfdqn.TensorBoard(args.tensorboard))
    return listeners


def finish_run(
    out: Path,
    agent,
    checkpoint,
    config,
    end: dict[str, Any],
    args: argparse.Namespace,
    start: float,
    *,
    gif: bool,
    more_gifs: Callable[[Callable[[np.ndarray], np.ndarray]], None] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Evaluate best.keras on `--final-episodes` fresh episodes, record trained.gif (and `more_gifs`), and
    write summary.json (`extra` adds script-specific fields); returns the summary.

    `start` is the script's `time.perf_counter()` at launch, so `wall_seconds` counts the imports too.
    """
    import keras
    import tensorflow as tf

    import tfdqn
    from tfdqn.fileio import write_json

    if not checkpoint.best_path.exists():  # no evaluation ran (tiny budget): keep the final network
        agent.save(checkpoint.best_path)
    result = tfdqn.evaluate_model(checkpoint.best_path, config.env_id, args.final_episodes, seed=config.seed + 30_000)
    if gif:
        best = tfdqn.greedy_policy(tfdqn.load_q_network(checkpoint.best_path))
        tfdqn.record_gif(best, config.env_id, out / "trained.gif", seed=config.seed + 1)
        if more_gifs is not None:
            more_gifs(best)
    summary = {
        "env_id": config.env_id,
        "seed": config.seed,
        "env_steps": end["step"],
        "episodes": end["episodes"],
        "gradient_steps": end["updates"],
        "train_seconds": round(end["wall_seconds"], 2),
        "wall_seconds": round(time.perf_counter() - start, 2),
        "stopped_on_reward": end["stopped"],
        "threshold": args.threshold,
        "best_checkpoint_step": checkpoint.best_step,
        "best_keras_evaluation": {
            "episodes": args.final_episodes,
            "mean_return": result.mean,
            "std_return": result.std,
        },
        "versions": {"tfdqn": tfdqn.__version__, "keras": keras.__version__, "tensorflow": tf.__version__},
        **(extra or {}),
    }
    write_json(out / "summary.json", summary)
    print(f"best.keras on {args.final_episodes} fresh episodes: {result}")
    print(f"results written to {out}/")
    return summary


def periodic_evaluations(out: Path) -> list[dict[str, str]]:
    """The rows of `out/evaluations.csv` written by `PeriodicEvaluation` (none if no evaluation ran)."""
    path = out / "evaluations.csv"
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return [row for row in csv.DictReader(f) if row["kind"] == "periodic"]
