"""Train DQN on CartPole-v1 (or any discrete-action Gymnasium environment with vector observations, e.g.
LunarLander-v3) until a confirmed solve, and leave the evidence under results/<env>/ (results/cartpole/).

The config is the defaults plus the preset registered for the environment (`tfdqn.PRESETS`; printed at the
start), then `--config`, then the flags. Writes: metrics.csv, evaluations.csv, learning_curve.png, best.keras (+ best.json), last.keras,
config.json, summary.json (best.keras greedily on 100 fresh episodes), untrained.gif and trained.gif,
and state/ (the full training state, for --resume).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

START = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tfdqn.cli import ArgumentParser, non_negative_int, positive_int, prepare_process, run_main  # noqa: E402
from tfdqn.runs import add_run_flags  # noqa: E402

DEFAULT_OUT = Path("results/cartpole")


def default_out(env_id: str) -> Path:
    """results/<the id's name, lower case, without its version>: results/cartpole, results/lunarlander."""
    name = env_id.split("/")[-1].rsplit("-v", 1)[0]
    return Path("results") / ("".join(c for c in name.lower() if c.isalnum()) or "run")


def parse_args(argv: list[str] | None = None):
    p = ArgumentParser(description="Train a DQN on CartPole-v1 (or another discrete-action environment) "
                                   "and write metrics, plots, the best model and GIFs to --out.")
    p.add_argument("--steps", type=positive_int, default=None,
                   help="total environment-step budget (a resumed run counts the steps already done); "
                        "training stops earlier once solved (default: the budget the environment's config was "
                        "measured with, tfdqn.BUDGETS: 50000 for CartPole-v1, 100000 for LunarLander-v3; else 50000)")
    p.add_argument("--seed", type=non_negative_int, default=None, help="random seed (default 0)")
    p.add_argument("--out", type=Path, default=None,
                   help=f"output directory (default results/<env name>: {DEFAULT_OUT} for CartPole-v1, "
                        "results/lunarlander for LunarLander-v3; or the --resume directory)")
    p.add_argument("--env", default=None, help="Gymnasium environment id (default CartPole-v1)")
    p.add_argument("--preset", default="auto",
                   help="hyperparameter preset: 'auto' (default: the one registered for --env, if any), 'none' "
                        "(the plain DQNConfig defaults) or a name from tfdqn.PRESETS")
    p.add_argument("--config", type=Path, default=None,
                   help="JSON file of DQNConfig fields overriding the defaults (e.g. a config.json)")
    p.add_argument("--num-envs", type=positive_int, default=None,
                   help="environments stepped together (default: the config's num_envs, 1)")
    p.add_argument("--resume", type=Path, default=None, metavar="DIR",
                   help="continue the run whose output directory is DIR (its state/ folder), exactly where "
                        "it stopped; its config is used")
    p.add_argument("--state-every", type=positive_int, default=10_000,
                   help="env steps between full training-state saves, besides the one at the end (default 10000)")
    p.add_argument("--no-gif", action="store_true", help="skip rendering untrained.gif and trained.gif")
    p.add_argument("--deterministic", action="store_true",
                   help="enable TensorFlow op determinism (bit-identical reruns and resumes; a little slower)")
    add_run_flags(p, eval_every=1_000, eval_episodes=20, confirm_episodes=100, final_episodes=100)
    return p.parse_args(argv)


def build_config(args, tfdqn):
    """The run's DQNConfig: defaults < --config < flags; or, with --resume, the saved one unchanged."""
    from tfdqn.config import read_config_file

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
    fields = read_config_file(args.config) if args.config is not None else {}
    fields.update(seed=0 if args.seed is None else args.seed)
    if args.num_envs is not None:
        fields["num_envs"] = args.num_envs
    file_env = fields.pop("env_id", None)
    env_id = args.env or file_env or "CartPole-v1"  # --env wins over the file's
    return tfdqn.config_for_env(env_id, preset_arg(args), **fields)


def preset_arg(args) -> str | None:
    """`--preset` as `config_for_env` takes it: "auto", None for 'none', or a name."""
    return None if args.preset == "none" else args.preset


def describe_config(args, config, tfdqn) -> str:
    """One line saying where the run's hyperparameters come from."""
    if args.resume is not None:
        return f"config: the saved one of {args.resume} ({config.env_id})"
    name = tfdqn.preset_for_env(config.env_id) if args.preset == "auto" else preset_arg(args)
    parts = ["DQNConfig defaults"] + ([f"preset {name!r}"] if name else []) + (
        [f"--config {args.config}"] if args.config else [])
    return f"config for {config.env_id}: {' + '.join(parts)}"


def main() -> int:
    args = parse_args()
    prepare_process()
    import keras

    import tfdqn
    from tfdqn.fileio import write_json
    from tfdqn.runs import finish_run, periodic_evaluations, run_listeners
    from tfdqn.state import load_training_state

    tfdqn.configure_threads(args.threads)
    if args.deterministic:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    config = build_config(args, tfdqn)
    if args.steps is None:
        args.steps = tfdqn.budget_for_env(config.env_id)
    out: Path = args.out or args.resume or default_out(config.env_id)
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    env = tfdqn.make_vec_env(config.env_id, config.num_envs)  # checks the id and the spaces first
    print(describe_config(args, config, tfdqn), file=sys.stderr)
    agent = tfdqn.DQNAgent.from_spaces(env.single_observation_space, env.single_action_space, config)
    write_json(out / "config.json", config.to_dict())
    if not args.no_gif and args.resume is None:
        tfdqn.record_gif(agent.greedy, config.env_id, out / "untrained.gif", seed=config.seed)

    checkpoint = tfdqn.ModelCheckpoint(out, save_state=True, state_every=args.state_every)
    trainer = tfdqn.Trainer(agent, env, config, run_listeners(out, config, args, checkpoint))
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

    first_solved = None if args.threshold is None else next(
        (int(r["step"]) for r in periodic_evaluations(out) if float(r["mean_return"]) >= args.threshold), None)
    finish_run(out, agent, checkpoint, config, end, args, START, gif=not args.no_gif,
               extra={"resumed": args.resume is not None, "first_evaluation_at_threshold_step": first_solved})
    return 0


if __name__ == "__main__":
    run_main(main)
