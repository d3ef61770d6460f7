"""`tfdqn search`: random or grid search over named DQNConfig fields on Ray, scored by the median over seeds
of env steps to the threshold (unsolved = the budget), with ASHA-style halving of hopeless trials.
`scripts/search.py` is this command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tfdqn.cli import positive_int
from tfdqn.commands._ray_flags import add_common, invoked_as, protocol_of, seeds_of, tracking_of
from tfdqn.fileio import check_out_dir

HELP = "random or grid search over DQNConfig fields on Ray, with ASHA-style halving of hopeless trials"
DESCRIPTION = (
    "Hyperparameter search (random or grid) over named DQNConfig fields on Ray, scored by the median "
    "over seeds of env steps to the threshold (unsolved = the budget), with ASHA-style halving of "
    "hopeless trials at env-step milestones."
)
EXAMPLES = (
    'space.json: {"learning_rate": {"log_uniform": [1e-4, 3e-3]}, "gamma": {"uniform": [0.95, 0.995]}, '
    '"train_freq": {"int": [1, 8]}, "batch_size": [64, 128]}'
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.epilog, p.formatter_class = EXAMPLES, argparse.RawDescriptionHelpFormatter
    p.add_argument("space", type=Path, help="JSON file: field -> list of choices or {kind: [low, high]}")
    p.add_argument("--method", choices=("random", "grid"), default="random", help="search method (default random)")
    p.add_argument("--trials", type=positive_int, default=12, help="configs sampled by random search (default 12)")
    p.add_argument("--sample-seed", type=int, default=0, help="seed of the random sampling (default 0)")
    p.add_argument(
        "--eta",
        type=float,
        default=3.0,
        help="halving rate: at each milestone a trial goes on only if in the top 1/eta (default 3)",
    )
    p.add_argument(
        "--milestones",
        type=positive_int,
        nargs="+",
        default=None,
        help="env-step milestones (default: budget/eta^2 and budget/eta, on evaluation steps)",
    )
    p.add_argument("--no-halving", action="store_true", help="run every trial to its end (default off)")
    p.add_argument(
        "--out", type=Path, default=Path("results/sweeps/search"), help="the search's folder (default %(default)s)"
    )
    add_common(p)


def run(args: argparse.Namespace) -> int:
    """Sample or enumerate configs, run them with halving, print the ranking."""
    check_out_dir(args.out)  # before Ray starts
    # Imported here, not at the top: `tfdqn --help` stays fast, and Ray stays an optional extra.
    from tfdqn.config import read_config_file
    from tfdqn.experiments.cluster import require_ray
    from tfdqn.experiments.search import search

    require_ray("tfdqn search")
    space = read_config_file(args.space)
    search(
        space,
        seeds_of(args),
        args.out,
        protocol_of(args, True),
        method=args.method,
        trials=args.trials,
        sample_seed=args.sample_seed,
        eta=args.eta,
        milestones=args.milestones,
        halving=not args.no_halving,
        address=args.address,
        num_cpus=args.num_cpus,
        cpus_per_run=args.cpus_per_run,
        ship_code=args.ship_code,
        tracking=tracking_of(args),
        command=" ".join([invoked_as(args, "search"), *sys.argv[1:]]),
    )
    print((args.out / "search.md").read_text(encoding="utf-8"))
    return 0
