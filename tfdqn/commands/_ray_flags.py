"""Flags shared by `tfdqn sweep` and `tfdqn search`: the evaluation protocol, the seeds and the Ray cluster."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from tfdqn.cli import non_negative_int, positive_int
from tfdqn.errors import ConfigError
from tfdqn.training.tracking import add_tracking_flags

if TYPE_CHECKING:
    from tfdqn.experiments.plan import SweepProtocol
    from tfdqn.experiments.tracking import SweepTracking


def seed_list(items: list[str]) -> list[int]:
    """`0 1 2`, `0-9` or `0,3,5` -> [ints]; the sweep checks emptiness and duplicates."""
    seeds: list[int] = []
    for item in items:
        for part in item.split(","):
            if not part:
                continue
            lo, dash, hi = part.partition("-")
            try:
                seeds += list(range(int(lo), int(hi) + 1)) if dash else [int(lo)]
            except ValueError:
                raise argparse.ArgumentTypeError(f"seed {part!r} is not an integer or a range like 0-9") from None
    return seeds


def add_common(p: argparse.ArgumentParser) -> None:
    """The protocol and Ray flags shared by `sweep` and `search`."""
    p.add_argument("--env", default="CartPole-v1", help="Gymnasium environment id (default %(default)s)")
    p.add_argument(
        "--preset",
        default="auto",
        help="base of every config: 'auto' (the environment's preset), 'none' or a preset name (default auto)",
    )
    p.add_argument(
        "--seeds", nargs="+", default=["0", "1", "2"], help="seeds: a list, ranges like 0-9, or both (default 0 1 2)"
    )
    p.add_argument(
        "--steps",
        type=positive_int,
        default=None,
        help="env-step budget per run (default: the environment's, tfdqn.BUDGETS)",
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="evaluation mean that counts as solved (default: the environment's reward_threshold)",
    )
    p.add_argument(
        "--eval-every", type=positive_int, default=1_000, help="env steps between greedy evaluations (default 1000)"
    )
    p.add_argument("--eval-episodes", type=positive_int, default=20, help="episodes per evaluation (default 20)")
    p.add_argument(
        "--confirm-episodes",
        type=non_negative_int,
        default=100,
        help="fresh episodes that confirm a solve before a run stops (default 100)",
    )
    p.add_argument(
        "--final-episodes",
        type=positive_int,
        default=100,
        help="fresh episodes scoring the best and the final network (default 100)",
    )
    p.add_argument(
        "--eval-max-steps",
        type=positive_int,
        default=None,
        metavar="N",
        help="cut every greedy evaluation episode after N steps (default: the environment's own time limit; "
        "1000 for one without a time limit, e.g. CliffWalking-v1; 10000 on MinAtar)",
    )
    p.add_argument("--deterministic", action="store_true", help="TensorFlow op determinism in every run (default off)")
    p.add_argument(
        "--address",
        default=None,
        help="Ray cluster to join (host:port, ray://host:port or auto; default: RAY_ADDRESS, else a "
        "local Ray on this machine's cores, stopped at the end)",
    )
    p.add_argument(
        "--num-cpus", type=positive_int, default=None, help="cores of the local Ray (default: all of this machine's)"
    )
    p.add_argument("--cpus-per-run", type=float, default=1.0, help="CPUs reserved per run (default 1)")
    p.add_argument(
        "--ship-code",
        action="store_true",
        help="send the working directory to the cluster's nodes (Ray runtime_env working_dir) instead "
        "of relying on tfdqn being installed there (default off)",
    )
    add_tracking_flags(p, video=False, experiment="the --out folder's name")
    p.add_argument(
        "--tensorboard",
        metavar="DIR",
        default=None,
        help="also write each run's TensorBoard events to DIR/<config>__seed<S>, with the swept fields and the "
        "seed as hparams (tensorboard --logdir DIR: the HParams tab compares them) (default: none)",
    )


def protocol_of(args: argparse.Namespace, stop_on_reward: bool) -> SweepProtocol:
    """The evaluation protocol every run of a sweep or search follows, from the shared flags."""
    from tfdqn.experiments.plan import SweepProtocol  # here, not at the top: keeps `tfdqn --help` fast

    return SweepProtocol(
        env_id=args.env,
        preset=args.preset,
        steps=args.steps,
        threshold=args.threshold,
        eval_every=args.eval_every,
        eval_episodes=args.eval_episodes,
        confirm_episodes=args.confirm_episodes,
        final_episodes=args.final_episodes,
        stop_on_reward=stop_on_reward,
        deterministic=args.deterministic,
        eval_max_steps=args.eval_max_steps,
    )


def tracking_of(args: argparse.Namespace) -> SweepTracking | None:
    """Where the runs are also logged (--mlflow, --tensorboard), or None."""
    from tfdqn.experiments.tracking import SweepTracking

    if args.mlflow is None and args.tensorboard is None:
        return None
    return SweepTracking(args.mlflow, args.mlflow_experiment, args.tensorboard)


def seeds_of(args: argparse.Namespace) -> list[int]:
    """The seeds of --seeds; a malformed one is a ConfigError (one line, status 2)."""
    try:
        return seed_list(args.seeds)
    except argparse.ArgumentTypeError as exc:
        raise ConfigError(str(exc)) from None


def invoked_as(args: argparse.Namespace, command: str) -> str:
    """How the user started this command, for the report: `python scripts/sweep.py` or `tfdqn sweep`."""
    prog = getattr(args, "_prog", None)
    return f"python scripts/{prog}" if prog else f"tfdqn {command}"


def command_line(args: argparse.Namespace, command: str) -> str:
    """The command line as the user typed it, for the report (`tfdqn search ...` names its subcommand once)."""
    rest = sys.argv[1:]
    if getattr(args, "_prog", None) is None and rest[:1] == [command]:
        rest = rest[1:]
    return " ".join([invoked_as(args, command), *rest])
