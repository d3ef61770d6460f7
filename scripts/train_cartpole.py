"""Train DQN on CartPole-v1 until a confirmed solve, and leave the evidence under results/cartpole/.

Writes: metrics.csv, evaluations.csv, learning_curve.png, best.keras (+ best.json), last.keras,
config.json, summary.json (best.keras greedily on 100 fresh episodes), untrained.gif and trained.gif,
and state/ (the full training state, for --resume).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

START = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tfdqn.cli import ArgumentParser, non_negative_int, positive_int, quiet_tensorflow, run_main  # noqa: E402

DEFAULT_OUT = Path("results/cartpole")


def parse_args(argv: list[str] | None = None):
    p = ArgumentParser(description="Train a DQN on CartPole-v1 (or another discrete-action environment) "
                                   "and write metrics, plots, the best model and GIFs to --out.")
    p.add_argument("--steps", type=positive_int, default=50_000,
                   help="total environment-step budget (a resumed run counts the steps already done); "
                        "training stops earlier once solved (default 50000)")
    p.add_argument("--seed", type=non_negative_int, default=None, help="random seed (default 0)")
    p.add_argument("--out", type=Path, default=None,
                   help=f"output directory (default {DEFAULT_OUT}, or the --resume directory)")
    p.add_argument("--env", default=None, help="Gymnasium environment id (default CartPole-v1)")
    p.add_argument("--config", type=Path, default=None,
                   help="JSON file of DQNConfig fields overriding the defaults (e.g. a config.json)")
    p.add_argument("--num-envs", type=positive_int, default=None,
                   help="environments stepped together (default: the config's num_envs, 1)")
    p.add_argument("--resume", type=Path, default=None, metavar="DIR",
                   help="continue the run whose output directory is DIR (its state/ folder), exactly where "
                        "it stopped; its config is used")
    p.add_argument("--state-every", type=positive_int, default=10_000,
                   help="env steps between full training-state saves, besides the one at the end (default 10000)")
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
    p.add_argument("--deterministic", action="store_true",
                   help="enable TensorFlow op determinism (bit-identical reruns and resumes; a little slower)")
    p.add_argument("--threads", type=positive_int, default=1,
                   help="TensorFlow CPU threads (default 1: fastest for small networks)")
    return p.parse_args(argv)


def build_config(args, tfdqn):
    """The run's DQNConfig: defaults < --config < flags; or, with --resume, the saved one unchanged."""
    if args.resume is not None:
        from tfdqn.state import StateError, read_state_config

        if args.config is not None:
            raise StateError("--config cannot be combined with --resume (the saved config is used)")
        config = tfdqn.DQNConfig.from_dict(read_state_config(args.resume / "state"))
        for flag, value, saved in (("--env", args.env, config.env_id), ("--seed", args.seed, config.seed),
                                   ("--num-envs", args.num_envs, config.num_envs)):
            if value is not None and value != saved:
                raise StateError(f"resume directory {str(args.resume)!r} holds a run with {flag} {saved}, "
                                 f"not {value}")
        return config
    config = tfdqn.DQNConfig()
    if args.config is not None:
        if not args.config.is_file():
            raise tfdqn.ConfigError(f"config file {str(args.config)!r} does not exist")
        config = tfdqn.DQNConfig.from_json(args.config.read_text())
    overrides = {"env_id": args.env or "CartPole-v1", "seed": 0 if args.seed is None else args.seed}
    if args.num_envs is not None:
        overrides["num_envs"] = args.num_envs
    return config.replace(**overrides)


def main() -> int:
    args = parse_args()
    quiet_tensorflow()
    import keras

    import tfdqn
    from tfdqn.fileio import write_json
    from tfdqn.state import load_training_state

    tfdqn.configure_threads(args.threads)
    if args.deterministic:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    config = build_config(args, tfdqn)
    out: Path = args.out or args.resume or DEFAULT_OUT
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    env = tfdqn.make_vec_env(config.env_id, config.num_envs)
    agent = tfdqn.DQNAgent.from_spaces(env.single_observation_space, env.single_action_space, config)
    write_json(out / "config.json", config.to_dict())
    if not args.no_gif and args.resume is None:
        tfdqn.record_gif(agent.greedy, config.env_id, out / "untrained.gif", seed=config.seed)

    checkpoint = tfdqn.ModelCheckpoint(out, save_state=True, state_every=args.state_every)
    listeners = [tfdqn.ProgressLogger(), tfdqn.MetricsLogger(out),
                 tfdqn.LivePlot(out / "learning_curve.png", live=not args.no_live_plot, target=args.threshold),
                 tfdqn.PeriodicEvaluation(args.eval_every, args.eval_episodes, seed=config.seed + 10_000),
                 checkpoint]
    if not args.no_stop:
        listeners.append(tfdqn.StopOnReward(args.threshold, args.confirm_episodes, seed=config.seed + 20_000))
    trainer = tfdqn.Trainer(agent, env, config, listeners)
    if args.resume is not None:
        step = load_training_state(trainer, args.resume / "state")
        print(f"resuming {config.env_id} from step {step:,} ({args.resume / 'state'})", file=sys.stderr)
    try:
        end = trainer.train(args.steps)
    except tfdqn.TrainingInterrupted as exc:
        print(f"{exc}; full training state saved in {checkpoint.state_dir}/\n"
              f"resume with: python scripts/train_cartpole.py --resume {out}", file=sys.stderr)
        return exc.exit_code
    except tfdqn.TrainingError as exc:
        kept = checkpoint.last_state_path
        where = f"; last good state: {kept} (resume with --resume {out})" if kept else ""
        raise type(exc)(f"{exc}{where}") from None
    finally:
        env.close()

    if not checkpoint.best_path.exists():  # no evaluation ran (tiny budget): keep the final network
        agent.save(checkpoint.best_path)
    result = tfdqn.evaluate_model(checkpoint.best_path, config.env_id, args.final_episodes,
                                  seed=config.seed + 30_000)
    if not args.no_gif:
        best = tfdqn.load_q_network(checkpoint.best_path)
        tfdqn.record_gif(tfdqn.greedy_policy(best), config.env_id, out / "trained.gif", seed=config.seed + 1)
    evaluations = [row for row in _read_csv(out / "evaluations.csv") if row["kind"] == "periodic"]
    first_solved = next((int(r["step"]) for r in evaluations if float(r["mean_return"]) >= args.threshold), None)
    summary = {
        "env_id": config.env_id, "seed": config.seed, "env_steps": end["step"], "episodes": end["episodes"],
        "gradient_steps": end["updates"], "train_seconds": round(end["wall_seconds"], 2),
        "wall_seconds": round(time.perf_counter() - START, 2), "stopped_on_reward": end["stopped"],
        "resumed": args.resume is not None,
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


def _read_csv(path: Path) -> list[dict[str, str]]:
    import csv

    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _tf_version() -> str:
    import tensorflow as tf

    return tf.__version__


if __name__ == "__main__":
    run_main(main)
