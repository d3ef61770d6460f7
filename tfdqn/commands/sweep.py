"""`tfdqn sweep`: a grid of DQNConfig overrides x seeds as Ray tasks (locally or on a cluster), one table
(sweep.json, sweep.md) with per-config medians and 95% intervals; rerunning into the same folder resumes.
`scripts/sweep.py` is this command."""

from __future__ import annotations

import argparse
from pathlib import Path

from tfdqn.commands._ray_flags import add_common, command_line, protocol_of, seeds_of, tracking_of
from tfdqn.fileio import check_out_dir

HELP = "train a grid of DQNConfig overrides x seeds as Ray tasks, one table with medians and 95%% intervals"
DESCRIPTION = (
    "Train a grid of DQNConfig overrides x seeds as Ray tasks and write one table (sweep.json, "
    "sweep.md) with per-config medians and 95% intervals. Rerunning into the same --out resumes."
)
EXAMPLES = """examples:
  tfdqn sweep --set learning_rate=1e-3,2.3e-3 --set batch_size=64,128 --seeds 0 1 2 --out results/sweeps/lr_batch
  tfdqn sweep --grid grid.json --seeds 0-9 --address ray://head:10001 --ship-code
grid.json: {"grid": {"learning_rate": [1e-3, 2.3e-3]}} or {"configs": {"name": {"gamma": 0.98}}}"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.epilog, p.formatter_class = EXAMPLES, argparse.RawDescriptionHelpFormatter
    p.add_argument("--grid", type=Path, default=None, help="JSON file of configs (see below; default: none)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=V1,V2",
        help="a DQNConfig field and its values (repeatable: every combination is run; default: none)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("results/sweeps/sweep"),
        help="the sweep's folder (default %(default)s); rerunning into it resumes",
    )
    p.add_argument("--no-stop", action="store_true", help="train the whole budget even once solved (default off)")
    add_common(p)


def run(args: argparse.Namespace) -> int:
    """The grid from --grid and --set, the seeds, the protocol; prints the table at the end."""
    check_out_dir(args.out)  # before Ray starts
    # Imported here, not at the top: `tfdqn --help` stays fast, and Ray stays an optional extra.
    from tfdqn.experiments.cluster import require_ray
    from tfdqn.experiments.grid import combine, read_configs
    from tfdqn.experiments.sweep import sweep

    require_ray("tfdqn sweep")
    configs = combine(read_configs(args.grid) if args.grid is not None else {}, args.set)
    result = sweep(
        configs,
        seeds_of(args),
        args.out,
        protocol_of(args, not args.no_stop),
        address=args.address,
        num_cpus=args.num_cpus,
        cpus_per_run=args.cpus_per_run,
        ship_code=args.ship_code,
        tracking=tracking_of(args),
        command=command_line(args, "sweep"),
    )
    print((args.out / "sweep.md").read_text(encoding="utf-8"))
    return 0 if all(r["status"] == "ok" for r in result["runs"]) else 1
