"""One run of a sweep: train one DQNConfig with one seed in this (fresh, one-thread) process.

`python -m tfdqn.experiments.worker --out RUN_DIR --env ENV --seed S --steps N --overrides JSON` is what each
Ray task of `tfdqn.experiments.sweep` launches. It trains with the same listeners and evaluation protocol as a single
run of the training command (`tfdqn.training.run.run_listeners`: metrics, greedy evaluation every `--eval-every`
env steps, best.keras, a confirmed stop at the threshold unless `--no-stop`), writes the single run's files
into RUN_DIR, then evaluates best.keras and the final policy on the same `--final-episodes` fresh episodes
and writes RUN_DIR/result.json, the record the sweep's table is built from.

Each periodic evaluation is also printed on stdout as one line `PROGRESS_TAG {"step": ..., "mean": ...}`,
so the task that launched the run can report progress (and a search can stop a hopeless run).
"""

from __future__ import annotations

import time

START = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from tfdqn.cli import ArgumentParser, non_negative_int, positive_int, prepare_process, run_main  # noqa: E402
from tfdqn.training.run import add_run_flags  # noqa: E402

PROGRESS_TAG = "@tfdqn-progress"
RESULT_FILE = "result.json"


def parse_args(argv: list[str] | None = None):
    p = ArgumentParser(description="Train one config with one seed (a sweep's run) and write RUN_DIR/result.json.")
    p.add_argument("--out", type=Path, required=True, help="the run's folder")
    p.add_argument("--env", default="CartPole-v1", help="Gymnasium environment id")
    p.add_argument("--preset", default="auto", help="'auto' (the environment's preset), 'none', or a preset name")
    p.add_argument("--overrides", default="{}", help="JSON object of DQNConfig fields set on top of the preset")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--steps", type=positive_int, required=True, help="env-step budget")
    p.add_argument("--deterministic", action="store_true", help="TensorFlow op determinism")
    add_run_flags(p, eval_every=1_000, eval_episodes=20, confirm_episodes=100, final_episodes=100)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.no_live_plot = True  # the curve is still drawn once at the end
    prepare_process()
    import keras

    import tfdqn
    from tfdqn.fileio import write_json
    from tfdqn.training.run import finish_run, run_listeners

    tfdqn.configure_threads(args.threads)
    if args.deterministic:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    overrides = json.loads(args.overrides)
    config = tfdqn.config_for_env(args.env, args.preset, **{**overrides, "seed": args.seed})
    args.out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    env = tfdqn.make_vec_env(config.env_id, config.num_envs)
    agent = tfdqn.DQNAgent.from_spaces(env.single_observation_space, env.single_action_space, config)
    write_json(args.out / "config.json", config.to_dict())
    checkpoint = tfdqn.ModelCheckpoint(args.out)
    evaluations: list[dict[str, float]] = []

    class Progress(tfdqn.Listener):
        """Prints each periodic evaluation as a tagged JSON line on stdout (read by the sweep's task)."""

        def on_evaluation(self, logs=None):
            if logs["kind"] == "periodic":
                evaluations.append({"step": int(logs["step"]), "mean": float(logs["mean_return"])})
                print(PROGRESS_TAG, json.dumps(evaluations[-1]), flush=True)

    trainer = tfdqn.Trainer(agent, env, config, [*run_listeners(args.out, config, args, checkpoint), Progress()])
    try:
        end = trainer.train(args.steps)
    finally:
        env.close()
    summary = finish_run(args.out, agent, checkpoint, config, end, args, START, gif=False)
    eval_env = tfdqn.make_env(config.env_id)
    final = tfdqn.evaluate(agent.greedy, eval_env, args.final_episodes, seed=config.seed + 30_000)  # best's episodes
    eval_env.close()
    write_json(args.out / RESULT_FILE, result_record(summary, evaluations, args.threshold, final.mean))
    return 0


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
