"""`tfdqn search`: an Optuna search (TPE, random or grid) over named DQNConfig fields, each trial's seeds run as
Ray tasks, scored by the median over seeds of env steps to the threshold (unsolved = the budget), hopeless
trials pruned; the study resumes from `<out>/study.db`. `scripts/search.py` is this command."""

from __future__ import annotations

import argparse
from pathlib import Path

from tfdqn.cli import non_negative_int, positive_int
from tfdqn.commands._ray_flags import add_common, command_line, protocol_of, seeds_of, tracking_of
from tfdqn.fileio import check_out_dir

HELP = "Optuna search (TPE, random or grid) over DQNConfig fields on Ray, pruning hopeless trials"
DESCRIPTION = (
    "Hyperparameter search on Optuna (TPE by default, random or grid) over named DQNConfig fields, each "
    "trial's seeds run as Ray tasks, scored by the median over seeds of env steps to the threshold "
    "(unsolved = the budget); a pruner (successive halving or Hyperband at env-step milestones, or "
    "Wilcoxon over seeds) stops hopeless trials. The study lives in OUT/study.db: rerun to resume."
)
EXAMPLES = (
    'space.json: {"learning_rate": {"log_uniform": [1e-4, 3e-3]}, "gamma": {"uniform": [0.95, 0.995]}, '
    '"train_freq": {"int": [1, 8]}, "batch_size": [64, 128]}'
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.epilog, p.formatter_class = EXAMPLES, argparse.RawDescriptionHelpFormatter
    p.add_argument("space", type=Path, help="JSON file: field -> list of choices or {kind: [low, high]}")
    p.add_argument(
        "--sampler",
        "--method",
        dest="sampler",
        choices=("tpe", "random", "grid"),
        default="tpe",
        help="how trials are chosen: Optuna's TPE, random, or every combination of a grid of lists (default tpe)",
    )
    p.add_argument(
        "--pruner",
        choices=("halving", "hyperband", "wilcoxon", "none"),
        default="halving",
        help="what stops hopeless trials: successive halving or Hyperband at the milestones, a Wilcoxon test "
        "over seeds (needs SciPy and at least 4 seeds), or none (default halving: the cheapest that kept the "
        "winner in a replayed search, docs/sweeps.md)",
    )
    p.add_argument("--trials", type=positive_int, default=12, help="trials of TPE or random search (default 12)")
    p.add_argument("--sample-seed", type=non_negative_int, default=0, help="seed of the sampler (default 0)")
    p.add_argument(
        "--eta",
        type=float,
        default=3.0,
        help="reduction factor: at each rung a trial goes on only if in the top 1/eta (an integer; default 3)",
    )
    p.add_argument(
        "--milestones",
        type=positive_int,
        nargs="+",
        default=None,
        help="env-step milestones where halving and Hyperband compare trials: their rungs M, M*eta, M*eta^2, ... "
        "below the budget, none skipped (default: from budget/eta^2 on evaluation steps, e.g. 6000 18000 for a "
        "50,000-step budget); another list is refused",
    )
    p.add_argument("--no-halving", dest="pruner", action="store_const", const="none", help="the same as --pruner none")
    p.add_argument(
        "--out", type=Path, default=Path("results/sweeps/search"), help="the search's folder (default %(default)s)"
    )
    add_common(p)


def run(args: argparse.Namespace) -> int:
    """Run the search (or resume it), print the ranking."""
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
        sampler=args.sampler,
        pruner=args.pruner,
        trials=args.trials,
        sample_seed=args.sample_seed,
        eta=args.eta,
        milestones=args.milestones,
        address=args.address,
        num_cpus=args.num_cpus,
        cpus_per_run=args.cpus_per_run,
        ship_code=args.ship_code,
        tracking=tracking_of(args),
        command=command_line(args, "search"),
    )
    print((args.out / "search.md").read_text(encoding="utf-8"))
    return 0
