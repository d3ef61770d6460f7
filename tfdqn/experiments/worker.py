"""One run of a sweep: train one DQNConfig with one seed in this (fresh, one-thread) process.

`python -m tfdqn.experiments.worker --out RUN_DIR --env ENV --seed S --steps N --overrides JSON` is what each
Ray task of `tfdqn.experiments.sweep` launches. The run is put together by `tfdqn.training.run.assemble`, as a
single run of the training command is (metrics, greedy evaluation every `--eval-every` env steps, best.keras,
a confirmed stop at the threshold unless `--no-stop`), writes the single run's files into RUN_DIR, then
evaluates best.keras and the final policy on the same `--final-episodes` fresh episodes and writes
RUN_DIR/result.json, the record the sweep's table is built from.

Each periodic evaluation is also printed on stdout as one line `PROGRESS_TAG {"step": ..., "mean": ...}`,
so the task that launched the run can report progress (and a search can stop a hopeless run).
"""

from __future__ import annotations

import time

START = time.perf_counter()  # wall_seconds in summary.json count the imports too

from tfdqn.cli import prepare_process  # noqa: E402

prepare_process()  # before NumPy and TensorFlow load: they read its thread and logging settings at import

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from tfdqn.cli import ArgumentParser, non_negative_int, positive_int, run_main  # noqa: E402
from tfdqn.config import DQNConfig  # noqa: E402
from tfdqn.dqn.evaluation import evaluate  # noqa: E402
from tfdqn.envs.make import make_env  # noqa: E402
from tfdqn.experiments.plan import PROGRESS_TAG  # noqa: E402
from tfdqn.fileio import write_json  # noqa: E402
from tfdqn.listeners.base import Listener  # noqa: E402
from tfdqn.listeners.tensorboard import TensorBoard  # noqa: E402
from tfdqn.presets import config_for_env  # noqa: E402
from tfdqn.runtime import configure_threads, enable_determinism  # noqa: E402
from tfdqn.training.protocol import FINAL_SEED_OFFSET, Protocol, add_run_flags  # noqa: E402
from tfdqn.training.run import assemble  # noqa: E402
from tfdqn.training.tracking import Tracking, add_tracking_flags  # noqa: E402

RESULT_FILE = "result.json"


class Progress(Listener):
    """Prints each periodic evaluation as a tagged JSON line on stdout (read by the sweep's task) and keeps it."""

    def __init__(self) -> None:
        self.evaluations: list[dict[str, float]] = []

    def on_evaluation(self, logs: dict[str, Any] | None = None) -> None:
        """A periodic evaluation: `{"step", "mean"}` kept and printed."""
        if logs is not None and logs["kind"] == "periodic":
            self.evaluations.append({"step": int(logs["step"]), "mean": float(logs["mean_return"])})
            print(PROGRESS_TAG, json.dumps(self.evaluations[-1]), flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The worker's flags: the run's folder, environment, preset, overrides, seed, budget and protocol."""
    p = ArgumentParser(description="Train one config with one seed (a sweep's run) and write RUN_DIR/result.json.")
    p.add_argument("--out", type=Path, required=True, help="the run's folder")
    p.add_argument("--env", default="CartPole-v1", help="Gymnasium environment id")
    p.add_argument("--preset", default="auto", help="'auto' (the environment's preset), 'none', or a preset name")
    p.add_argument("--overrides", default="{}", help="JSON object of DQNConfig fields set on top of the preset")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--steps", type=positive_int, required=True, help="env-step budget")
    p.add_argument("--deterministic", action="store_true", help="TensorFlow op determinism")
    p.add_argument(
        "--name",
        default=None,
        help="the run's name and key in MLflow: an unfinished MLflow run of an earlier attempt with this key is marked "
        "KILLED (default: the --out folder's name, no key)",
    )
    p.add_argument("--hparams", default="", help="comma-separated DQNConfig fields: TensorBoard hparams, with the seed")
    add_run_flags(p, eval_every=1_000, eval_episodes=20, confirm_episodes=100, final_episodes=100)
    add_tracking_flags(p, video=False)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Train the run, write its files and RUN_DIR/result.json."""
    args = parse_args(argv)
    configure_threads(args.threads)
    if args.deterministic:
        enable_determinism()
    config = config_for_env(args.env, args.preset, **{**json.loads(args.overrides), "seed": args.seed})
    tracking = Tracking.start(args, config, args.out, run_name=args.name, run_key=args.name)
    args.out.mkdir(parents=True, exist_ok=True)
    # the curve is drawn once, at the end; TensorBoard comes with the sweep's hyperparameters (`board`)
    protocol = dataclasses.replace(Protocol.from_args(args), live_plot=False, tensorboard=None)
    progress = Progress()
    run = assemble(config, args.out, protocol, listeners=[progress, *board(args, config), *tracking.listeners()])
    for note in run.notes:  # what the run stops at, where evaluations are cut
        print(note, file=sys.stderr)
    write_json(args.out / "config.json", config.to_dict())
    try:
        end = run.train(args.steps)
    finally:
        run.close()
    summary = tracking.finish(lambda: run.finish(end, start=START, gif=False))  # the MLflow run ends last
    eval_env = make_env(config.env_id)
    try:  # the final network on best.keras's episodes
        seed = config.seed + FINAL_SEED_OFFSET
        final = evaluate(run.agent.greedy, eval_env, protocol.final_episodes, seed, run.eval_max_steps)
    finally:
        eval_env.close()
    write_json(args.out / RESULT_FILE, result_record(summary, progress.evaluations, run.threshold, final.mean))
    return 0


def board(args: argparse.Namespace, config: DQNConfig) -> list[Listener]:
    """With --tensorboard: a `TensorBoard` listener whose hparams are the --hparams fields and the seed."""
    if args.tensorboard is None:
        return []
    values = config.to_dict()
    hparams = {field: values[field] for field in args.hparams.split(",") if field}
    return [TensorBoard(args.tensorboard, hparams={**hparams, "seed": config.seed})]


def result_record(
    summary: dict[str, Any], evaluations: list[dict[str, float]], threshold: float | None, final_mean: float
) -> dict[str, Any]:
    """The sweep's figures of one run: steps to the first evaluation at the threshold, best and final policy on
    the same fresh episodes, the evaluations, wall seconds (imports included)."""
    solved = None if threshold is None else next((e["step"] for e in evaluations if e["mean"] >= threshold), None)
    return {
        "solved_step": solved,
        "best_score": summary["best_keras_evaluation"]["mean_return"],
        "final_score": final_mean,
        "env_steps": summary["env_steps"],
        "train_seconds": summary["train_seconds"],
        "stopped_on_reward": summary["stopped_on_reward"],
        "threshold": threshold,
        "evaluations": evaluations,
        "versions": summary["versions"],
    }


if __name__ == "__main__":
    run_main(lambda: main(sys.argv[1:]))
