"""`tfdqn train`: train DQN on any Gymnasium environment with a discrete action space until a confirmed solve
(or for the step budget), and leave the evidence in --out (results/<env name>/ by default).

The config is the DQNConfig defaults plus the preset registered for the environment (`tfdqn.PRESETS`; printed
at the start), then `--config` (JSON or TOML), then the flags. Writes: metrics.csv, evaluations.csv,
learning_curve.png, best.keras (+ best.json), last.keras, config.json, summary.json (best.keras greedily on
fresh episodes), untrained.gif and trained.gif (when the environment renders), and state/ (for --resume);
with --video, mp4s in videos/; with --mlflow, the run in an MLflow tracking store as well.
`scripts/train_cartpole.py` is this command.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from tfdqn.cli import disk_error, disk_error_line, non_negative_int, positive_int, prepare_process
from tfdqn.config import DQNConfig, read_config_file
from tfdqn.envs.make import can_render
from tfdqn.errors import OutputDirError
from tfdqn.fileio import check_out_dir, write_json
from tfdqn.presets import budget_for_env, resolve_preset
from tfdqn.runtime import enable_determinism
from tfdqn.training.protocol import Protocol, add_run_flags
from tfdqn.training.tracking import Tracking, add_tracking_flags

START = time.perf_counter()
HELP = "train a DQN on a Gymnasium environment (default CartPole-v1) and write results to --out"
DESCRIPTION = (
    "Train a DQN on any Gymnasium environment with a discrete action space (Box, Discrete, "
    "MultiDiscrete, MultiBinary, Tuple or Dict observations) and write metrics, plots, the best "
    "model and GIFs to --out."
)
DEFAULT_ENV = "CartPole-v1"


def default_out(env_id: str) -> Path:
    """results/<the id's name, lower case, without its version>: results/cartpole, results/lunarlander."""
    name = env_id.split("/")[-1].rsplit("-v", 1)[0]
    return Path("results") / ("".join(c for c in name.lower() if c.isalnum()) or "run")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--env", default=None, help=f"Gymnasium environment id (default {DEFAULT_ENV}, or the --config file's env_id)"
    )
    p.add_argument(
        "--preset",
        default="auto",
        help="hyperparameter preset: 'auto' (default: the one registered for --env, if any), 'none' "
        "(the plain DQNConfig defaults) or a name from tfdqn.PRESETS",
    )
    p.add_argument(
        "--config",
        type=Path,
        default=None,
        help="DQNConfig fields overriding the defaults: a JSON file (e.g. a saved config.json) or a "
        ".toml file (default: none)",
    )
    p.add_argument(
        "--steps",
        type=positive_int,
        default=None,
        help="total environment-step budget (a resumed run counts the steps already done); "
        "training stops earlier once solved (default: the budget the environment's config was "
        "measured with, tfdqn.BUDGETS: 50000 for CartPole-v1, 100000 for LunarLander-v3; else 50000)",
    )
    p.add_argument("--seed", type=non_negative_int, default=None, help="random seed (default 0)")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output directory (default results/<env name>: results/cartpole for CartPole-v1, "
        "results/lunarlander for LunarLander-v3; or the --resume directory)",
    )
    p.add_argument(
        "--num-envs",
        type=positive_int,
        default=None,
        help="environments stepped together (default: the config's num_envs, 1)",
    )
    p.add_argument(
        "--resume",
        type=Path,
        default=None,
        metavar="DIR",
        help="continue the run whose output directory is DIR (its state/ folder), exactly where "
        "it stopped; its config is used (default: a new run)",
    )
    p.add_argument(
        "--state-every",
        type=positive_int,
        default=10_000,
        help="env steps between full training-state saves, besides the one at the end (default 10000)",
    )
    p.add_argument(
        "--no-gif",
        action="store_true",
        help="skip rendering untrained.gif and trained.gif (default: render them when the environment can)",
    )
    p.add_argument(
        "--deterministic",
        action="store_true",
        help="TensorFlow op determinism: a seed gives identical metrics.csv and weights on this machine, resumes "
        "included (docs/reproducibility.md says what changes without it) (default off)",
    )
    add_run_flags(p, eval_every=1_000, eval_episodes=20, confirm_episodes=100, final_episodes=100)
    add_tracking_flags(p)


def build_config(args: argparse.Namespace, tfdqn):
    """The run's DQNConfig: defaults < preset < --config < flags; or, with --resume, the saved one unchanged."""
    if args.resume is not None:
        from tfdqn.training.resume import StateError, read_state_config

        if args.config is not None:
            raise StateError("--config cannot be combined with --resume (the saved config is used)")
        config = tfdqn.DQNConfig.from_dict(read_state_config(args.resume / "state"))
        for flag, value, saved in (
            ("--env", args.env, config.env_id),
            ("--seed", args.seed, config.seed),
            ("--num-envs", args.num_envs, config.num_envs),
        ):
            if value is not None and value != saved:
                raise StateError(f"resume directory {str(args.resume)!r} holds a run with {flag} {saved}, not {value}")
        return config
    fields = read_config_file(args.config) if args.config is not None else {}
    fields.update(seed=0 if args.seed is None else args.seed)
    if args.num_envs is not None:
        fields["num_envs"] = args.num_envs
    file_env = fields.pop("env_id", None)
    env_id = args.env or file_env or DEFAULT_ENV  # --env wins over the file's
    return tfdqn.config_for_env(env_id, args.preset, **fields)


def describe_config(args: argparse.Namespace, config: DQNConfig) -> str:
    """One line saying where the run's hyperparameters come from."""
    if args.resume is not None:
        return f"config: the saved one of {args.resume} ({config.env_id})"
    name = resolve_preset(config.env_id, args.preset)
    parts = (
        ["DQNConfig defaults"]
        + ([f"preset {name!r}"] if name else [])
        + ([f"--config {args.config}"] if args.config else [])
    )
    return f"config for {config.env_id}: {' + '.join(parts)}"


def decay_note(config: DQNConfig, steps: int) -> str | None:
    """A line when a run longer than its environment's budget (`BUDGETS`) has the learning rate reach
    `learning_rate_final` before it ends: a preset's decay is measured for that budget, and at rate 0 the
    steps past it learn nothing."""
    if config.learning_rate_final is None or steps <= budget_for_env(config.env_id):
        return None
    end = config.learning_starts + config.learning_rate_decay_start + config.learning_rate_decay_steps
    if steps <= end:
        return None
    return (
        f"note: the learning rate decays to {config.learning_rate_final:g} by env step {end:,} of this "
        f"{steps:,}-step run (learning_rate_decay_start/_steps in --config to change it)"
    )


def run(args: argparse.Namespace) -> int:
    prepare_process()
    import tfdqn
    from tfdqn.training.resume import check_training_state, read_state_step  # light: NumPy only

    config = build_config(args, tfdqn)  # bad input fails here and below, before TensorFlow loads
    out: Path = args.out or args.resume or default_out(config.env_id)
    flag = "--resume" if args.out is None and args.resume is not None else "--out"
    check_out_dir(out, flag)
    if (out / "state").is_dir():  # a resumed run writes its next checkpoints beside the last
        check_out_dir(out / "state", flag)
    steps_given = args.steps is not None
    if not steps_given:
        args.steps = tfdqn.budget_for_env(config.env_id)
    if args.resume is not None:
        check_training_state(args.resume / "state")  # a damaged arrays.npz is one line, not a traceback
        saved = read_state_step(args.resume / "state")
        if saved >= args.steps and finished_at(out) == saved:  # else its final files are still to be written
            print(f"nothing to do: the saved run is at step {saved:,} of --steps {args.steps:,}", file=sys.stderr)
            return 0
    env = tfdqn.make_vec_env(config.env_id, config.num_envs)  # checks the id and the spaces first
    tracking = Tracking.start(args, config, out)  # --video, --mlflow: the extras and the store, checked here
    # TensorFlow loads from here on (the modules below import it)
    from tfdqn.training.resume import load_training_state
    from tfdqn.training.run import assemble

    tfdqn.configure_threads(args.threads)
    if args.deterministic:
        enable_determinism()
    if steps_given and args.resume is None and (note := decay_note(config, args.steps)):
        print(note, file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    print(describe_config(args, config), file=sys.stderr)
    run = assemble(
        config,
        out,
        Protocol.from_args(args),
        env=env,
        save_state=True,
        state_every=args.state_every,
        listeners=tracking.listeners(),
    )
    for note in run.notes:  # what the run stops at, where evaluations are cut
        print(note, file=sys.stderr)
    write_json(out / "config.json", config.to_dict())
    gif = not args.no_gif and can_render(config.env_id)
    if gif and args.resume is None:
        tfdqn.record_gif(
            run.agent.greedy, config.env_id, out / "untrained.gif", seed=config.seed, max_steps=run.eval_max_steps
        )
    if args.resume is not None:
        step = load_training_state(run.trainer, args.resume / "state")
        print(f"resuming {config.env_id} from step {step:,} ({args.resume / 'state'})", file=sys.stderr)
    checkpoint = run.checkpoint
    assert checkpoint is not None  # assemble makes one when given `out` and a protocol
    try:
        end = run.train(args.steps)
    except tfdqn.TrainingInterrupted as exc:
        print(
            f"{exc}; full training state saved in {checkpoint.state_dir}/\n"
            f"resume with: {resume_command(args)} --resume {out}",
            file=sys.stderr,
        )
        return exc.exit_code
    except tfdqn.TrainingError as exc:
        kept = checkpoint.last_state_path
        where = f"; last good state: {kept} (resume with --resume {out})" if kept else ""
        if (disk := disk_error(exc)) is not None:  # a full or read-only disk: the user's to fix, not a failed run
            stopped = f"run stopped at step {run.trainer.step:,}"
            raise OutputDirError(f"{disk_error_line(disk, out)}: {stopped}{where}") from None
        raise type(exc)(f"{exc}{where}") from None
    finally:
        run.close()  # the evaluations of `finish` make their own environments
    extra = {"resumed": args.resume is not None, "first_evaluation_at_threshold_step": run.first_solved_step()}
    tracking.finish(lambda: run.finish(end, start=START, gif=gif, extra=extra))  # the MLflow run ends last
    return 0


def finished_at(out: Path) -> int | None:
    """The env step at which the run in `out` wrote its summary.json (its last file), or None."""
    try:
        return json.loads((out / "summary.json").read_text(encoding="utf-8"))["env_steps"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def resume_command(args: argparse.Namespace) -> str:
    """How the user started this run: `python scripts/train_cartpole.py` or `tfdqn train`."""
    prog = getattr(args, "_prog", None)
    return f"python scripts/{prog}" if prog else "tfdqn train"
