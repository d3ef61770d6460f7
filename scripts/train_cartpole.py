"""Train DQN on CartPole-v1 until a confirmed solve, and leave the evidence under results/cartpole/.

Writes: metrics.csv, evaluations.csv, learning_curve.png, best.keras (+ best.json), last.keras,
config.json, summary.json (best.keras greedily on 100 fresh episodes), untrained.gif and trained.gif.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

START = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tfdqn.cli import ArgumentParser, non_negative_int, positive_int, quiet_tensorflow, run_main  # noqa: E402


def parse_args(argv: list[str] | None = None):
    p = ArgumentParser(description="Train a DQN on CartPole-v1 (or another discrete-action environment) "
                                   "and write metrics, plots, the best model and GIFs to --out.")
    p.add_argument("--steps", type=positive_int, default=50_000,
                   help="maximum environment steps; training stops earlier once solved (default 50000)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    p.add_argument("--out", type=Path, default=Path("results/cartpole"),
                   help="output directory (default results/cartpole)")
    p.add_argument("--env", default="CartPole-v1", help="Gymnasium environment id (default CartPole-v1)")
    p.add_argument("--config", type=Path, default=None,
                   help="JSON file of DQNConfig fields overriding the defaults (e.g. a config.json)")
    p.add_argument("--num-envs", type=positive_int, default=None,
                   help="environments stepped together (default: the config's num_envs, 1)")
    p.add_argument("--threshold", type=float, default=475.0,
                   help="evaluation mean return that counts as solved (default 475)")
    p.add_argument("--eval-every", type=positive_int, default=1_000,
                   help="env steps between greedy evaluations (default 1000)")
    p.add_argument("--eval-episodes", type=positive_int, default=20,
                   help="episodes per periodic evaluation (default 20)")
    p.add_argument("--confirm-episodes", type=non_negative_int, default=100,
                   help="fresh episodes that must confirm a solve before stopping; 0 = trust one evaluation "
                        "(default 100)")
    p.add_argument("--final-episodes", type=positive_int, default=100,
                   help="fresh episodes for the final evaluation of best.keras in summary.json (default 100)")
    p.add_argument("--no-stop", action="store_true", help="train for all --steps even once solved")
    p.add_argument("--no-live-plot", action="store_true",
                   help="do not refresh the learning curve during training (it is still written at the end)")
    p.add_argument("--no-gif", action="store_true", help="skip rendering untrained.gif and trained.gif")
    p.add_argument("--threads", type=positive_int, default=1,
                   help="TensorFlow CPU threads (default 1: fastest for small networks)")
    return p.parse_args(argv)


def main() -> int:
    args = parse_args()
    quiet_tensorflow()
    import keras

    import tfdqn
    from tfdqn.fileio import write_json

    tfdqn.configure_threads(args.threads)
    config = tfdqn.DQNConfig()
    if args.config is not None:
        if not args.config.is_file():
            raise tfdqn.ConfigError(f"config file {str(args.config)!r} does not exist")
        config = tfdqn.DQNConfig.from_json(args.config.read_text())
    overrides = {"env_id": args.env, "seed": args.seed}
    if args.num_envs is not None:
        overrides["num_envs"] = args.num_envs
    config = config.replace(**overrides)

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    env = tfdqn.make_vec_env(config.env_id, config.num_envs)
    agent = tfdqn.DQNAgent.from_spaces(env.single_observation_space, env.single_action_space, config)
    write_json(out / "config.json", config.to_dict())
    if not args.no_gif:
        tfdqn.record_gif(agent.greedy, config.env_id, out / "untrained.gif", seed=config.seed)

    checkpoint = tfdqn.ModelCheckpoint(out)
    listeners = [tfdqn.ProgressLogger(), tfdqn.MetricsLogger(out),
                 tfdqn.LivePlot(out / "learning_curve.png", live=not args.no_live_plot),
                 tfdqn.PeriodicEvaluation(args.eval_every, args.eval_episodes, seed=config.seed + 10_000),
                 checkpoint]
    stopper = None
    if not args.no_stop:
        stopper = tfdqn.StopOnReward(args.threshold, args.confirm_episodes, seed=config.seed + 20_000)
        listeners.append(stopper)
    trainer = tfdqn.Trainer(agent, env, config, listeners)
    try:
        end = trainer.train(args.steps)
    finally:
        env.close()

    if not checkpoint.best_path.exists():  # no evaluation ran (tiny budget): keep the final network
        agent.save(checkpoint.best_path)
    result = tfdqn.evaluate_model(checkpoint.best_path, config.env_id, args.final_episodes,
                                  seed=config.seed + 30_000)
    if not args.no_gif:
        best = tfdqn.load_q_network(checkpoint.best_path)
        tfdqn.record_gif(tfdqn.greedy_policy(best), config.env_id, out / "trained.gif", seed=config.seed + 1)
    evaluations = [row for row in _read_evaluations(out / "evaluations.csv") if row["kind"] == "periodic"]
    first_solved = next((int(r["step"]) for r in evaluations if float(r["mean_return"]) >= args.threshold), None)
    summary = {
        "env_id": config.env_id, "seed": config.seed, "env_steps": end["step"], "episodes": end["episodes"],
        "gradient_steps": end["updates"], "train_seconds": round(end["wall_seconds"], 2),
        "wall_seconds": round(time.perf_counter() - START, 2), "stopped_on_reward": end["stopped"],
        "first_evaluation_at_threshold_step": first_solved, "threshold": args.threshold,
        "best_checkpoint_step": checkpoint.best_step,
        "best_keras_evaluation": {"episodes": args.final_episodes, "mean_return": result.mean,
                                  "std_return": result.std},
        "versions": {"tfdqn": tfdqn.__version__, "keras": keras.__version__, "tensorflow": _tf_version()},
    }
    write_json(out / "summary.json", summary)
    print(f"best.keras on {args.final_episodes} fresh episodes: {result}")
    print(f"results written to {out}/")
    return 0


def _read_evaluations(path: Path) -> list[dict[str, str]]:
    import csv

    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _tf_version() -> str:
    import tensorflow as tf

    return tf.__version__


if __name__ == "__main__":
    run_main(main)
