"""The `sweep` and `search` commands (`python scripts/sweep.py`, `python scripts/search.py`; `tfdqn sweep` /
`tfdqn search` once the CLI package wires them): flags -> `tfdqn.sweep.sweep` / `tfdqn.search.search`.

Both print bad input as one line on stderr with status 2 (`run_main`), before Ray starts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tfdqn.cli import ArgumentParser, non_negative_int, positive_int

SWEEP_EXAMPLES = """examples:
  python scripts/sweep.py --set learning_rate=1e-3,2.3e-3 --set batch_size=64,128 --seeds 0 1 2 --out results/sweeps/lr_batch
  python scripts/sweep.py --grid grid.json --seeds 0-9 --address ray://head:10001 --ship-code
grid.json: {"grid": {"learning_rate": [1e-3, 2.3e-3]}} or {"configs": {"name": {"gamma": 0.98}}}"""


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
    p.add_argument("--preset", default="auto",
                   help="base of every config: 'auto' (the environment's preset), 'none' or a preset name")
    p.add_argument("--seeds", nargs="+", default=["0", "1", "2"],
                   help="seeds: a list, ranges like 0-9, or both (default 0 1 2)")
    p.add_argument("--steps", type=positive_int, default=None,
                   help="env-step budget per run (default: the environment's, tfdqn.BUDGETS)")
    p.add_argument("--threshold", type=float, default=None,
                   help="evaluation mean that counts as solved (default: the environment's reward_threshold)")
    p.add_argument("--eval-every", type=positive_int, default=1_000)
    p.add_argument("--eval-episodes", type=positive_int, default=20)
    p.add_argument("--confirm-episodes", type=non_negative_int, default=100)
    p.add_argument("--final-episodes", type=positive_int, default=100)
    p.add_argument("--deterministic", action="store_true", help="TensorFlow op determinism in every run")
    p.add_argument("--address", default=None,
                   help="Ray cluster to join (host:port, ray://host:port or auto; default: RAY_ADDRESS, else a "
                        "local Ray on this machine's cores, stopped at the end)")
    p.add_argument("--num-cpus", type=positive_int, default=None,
                   help="cores of the local Ray (default: all of this machine's)")
    p.add_argument("--cpus-per-run", type=float, default=1.0, help="CPUs reserved per run (default 1)")
    p.add_argument("--ship-code", action="store_true",
                   help="send the working directory to the cluster's nodes (Ray runtime_env working_dir) instead "
                        "of relying on tfdqn being installed there")


def protocol_of(args: argparse.Namespace, stop_on_reward: bool):
    from tfdqn.sweep import Protocol

    return Protocol(env_id=args.env, preset=None if args.preset == "none" else args.preset, steps=args.steps,
                    threshold=args.threshold, eval_every=args.eval_every, eval_episodes=args.eval_episodes,
                    confirm_episodes=args.confirm_episodes, final_episodes=args.final_episodes,
                    stop_on_reward=stop_on_reward, deterministic=args.deterministic)


def parse_sweep_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(prog="sweep", description="Train a grid of DQNConfig overrides x seeds as Ray tasks and "
                       "write one table (sweep.json, sweep.md) with per-config medians and 95%% intervals.",
                       epilog=SWEEP_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--grid", type=Path, default=None, help="JSON file of configs (see below)")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=V1,V2",
                   help="a DQNConfig field and its values (repeatable: every combination is run)")
    p.add_argument("--out", type=Path, default=Path("results/sweeps/sweep"),
                   help="the sweep's folder (default %(default)s); rerunning into it resumes")
    p.add_argument("--no-stop", action="store_true", help="train the whole budget even once solved")
    add_common(p)
    return p.parse_args(argv)


def sweep_main(argv: list[str] | None = None) -> int:
    """`sweep`: the grid from --grid and --set, the seeds, the protocol; prints the table at the end."""
    args = parse_sweep_args(argv)
    from tfdqn import sweep as sw

    configs = sw.read_configs(args.grid) if args.grid is not None else {}
    if args.set:  # every --set combination, on top of each file config if there is a file
        combos = sw.expand_grid(sw.parse_set(args.set))
        configs = {(f"{base},{name}" if base else name): {**fields, **more}
                   for base, fields in (configs or {"": {}}).items() for name, more in combos.items()}
    if not configs:
        configs = {"defaults": {}}
    result = sw.sweep(configs, _seeds(args), args.out, protocol_of(args, not args.no_stop), address=args.address,
                      num_cpus=args.num_cpus, cpus_per_run=args.cpus_per_run, ship_code=args.ship_code,
                      command="python scripts/sweep.py " + " ".join(argv if argv is not None else sys.argv[1:]))
    print((args.out / "sweep.md").read_text(encoding="utf-8"))
    return 0 if all(r["status"] == "ok" for r in result["runs"]) else 1


def _seeds(args: argparse.Namespace) -> list[int]:
    from tfdqn.errors import ConfigError

    try:
        return seed_list(args.seeds)
    except argparse.ArgumentTypeError as exc:
        raise ConfigError(str(exc)) from None


def parse_search_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(prog="search", description="Hyperparameter search (random or grid) over named DQNConfig "
                       "fields on Ray, scored by the median over seeds of env steps to the threshold (unsolved = "
                       "the budget), with ASHA-style halving of hopeless trials at env-step milestones.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog='space.json: {"learning_rate": {"log_uniform": [1e-4, 3e-3]}, "gamma": {"uniform": '
                              '[0.95, 0.995]}, "train_freq": {"int": [1, 8]}, "batch_size": [64, 128]}')
    p.add_argument("space", type=Path, help="JSON file: field -> list of choices or {kind: [low, high]}")
    p.add_argument("--method", choices=("random", "grid"), default="random")
    p.add_argument("--trials", type=positive_int, default=12, help="configs sampled by random search (default 12)")
    p.add_argument("--sample-seed", type=int, default=0, help="seed of the random sampling (default 0)")
    p.add_argument("--eta", type=float, default=3.0,
                   help="halving rate: at each milestone a trial goes on only if in the top 1/eta (default 3)")
    p.add_argument("--milestones", type=positive_int, nargs="+", default=None,
                   help="env-step milestones (default: budget/eta^2 and budget/eta, on evaluation steps)")
    p.add_argument("--no-halving", action="store_true", help="run every trial to its end")
    p.add_argument("--out", type=Path, default=Path("results/sweeps/search"))
    add_common(p)
    return p.parse_args(argv)


def search_main(argv: list[str] | None = None) -> int:
    """`search`: sample or enumerate configs, run them with halving, print the ranking."""
    args = parse_search_args(argv)
    from tfdqn import search as se
    from tfdqn.config import read_config_file

    space = read_config_file(args.space)
    se.search(space, _seeds(args), args.out, protocol_of(args, True), method=args.method, trials=args.trials,
              sample_seed=args.sample_seed, eta=args.eta, milestones=args.milestones, halving=not args.no_halving,
              address=args.address, num_cpus=args.num_cpus, cpus_per_run=args.cpus_per_run,
              ship_code=args.ship_code,
              command="python scripts/search.py " + " ".join(argv if argv is not None else sys.argv[1:]))
    print((args.out / "search.md").read_text(encoding="utf-8"))
    return 0


def main(argv: list[str] | None = None) -> int:
    """`tfdqn sweep ...` (default) or `tfdqn search ...` when the first word is "search"."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["search"]:
        return search_main(argv[1:])
    return sweep_main(argv[1:] if argv[:1] == ["sweep"] else argv)


if __name__ == "__main__":
    from tfdqn.cli import run_main

    run_main(lambda: main(sys.argv[1:]))
