"""The benchmark suites, one command: `python -m benchmarks.suite --suite NAME` (run from the repository root).

Each suite prints its figures and writes `<out>/<suite>.md` and `<suite>.json` (raw runs included):
  loop   time of one compiled gradient step and of one env step + action, the floor they imply, and the
         train-only env steps/s the Trainer achieves against that floor (measured in the same process);
  solve  the default `train_cartpole.py` over --seeds seeds (each run a fresh process, import included):
         env steps to the first evaluation >= 475, best.keras on 100 fresh episodes, wall seconds;
  vector env steps/s with num_envs in {1, 4, 8, 16}, collection only and at the default update ratio,
         and env steps to solve over --vector-seeds seeds for num_envs 1 and 8;
  memory resident memory every 10k env steps over --memory-steps of CartPole training (the CartPole config,
         config_for_env): it must stay flat (within 10%) from 20k steps on;
  cartpole  (not part of "all": needs `pip install -r requirements-bench.txt`) tfdqn's defaults, Stable-
         Baselines3 DQN with RL-Zoo's tuned CartPole settings, tfdqn with those same settings, and a
         tutorial-style Keras loop, side by side over --seeds seeds with the same evaluation protocol;
         writes cartpole.md, cartpole.json (raw runs) and cartpole_curves.png (benchmarks.side_by_side);
  rainbow  the Rainbow ablation (`python -m benchmarks.rainbow`, which has more options): CartPole-v1 and
         LunarLander-v3, each part alone, all together and the config as it is, --seeds (default here 5)
         seeds each, plus the act cost of each part; rainbow.md and rainbow.json. Hours on 2 cores.
  lunarlander  (likewise) tfdqn's config for LunarLander-v3 (the defaults with its 'lunarlander' preset) against
         SB3 DQN with RL-Zoo's LunarLander settings (--sb3-seeds of them); lunarlander.md, .json and _curves.png.
  --preset NAME runs tfdqn in a side-by-side suite with that preset instead (e.g. --preset rainbow).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from benchmarks import rainbow
from benchmarks.common import ROOT, atomic_write_text, command_line, load_note
from benchmarks.loop import bench_loop, report_loop
from benchmarks.memory import bench_memory, report_memory
from benchmarks.side_by_side import SIDE_BY_SIDE, bench_side_by_side, rerender
from benchmarks.solve import bench_solve, report_solve
from benchmarks.tasks import EXTRAS_MESSAGE, missing_extras
from benchmarks.vector import bench_vector, report_vector
from tfdqn.cli import ArgumentParser, non_negative_int, positive_int, prepare_process, run_main
from tfdqn.errors import ConfigError
from tfdqn.fileio import write_json
from tfdqn.presets import preset_fields, resolve_preset

SUITES = ("loop", "solve", "memory", "vector")
"""The suites `--suite all` runs (the side-by-side ones need the extras and run only when named)."""
REPORTS = {"loop": report_loop, "vector": report_vector, "memory": report_memory, "solve": report_solve}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The suite command's flags."""
    p = ArgumentParser(description="Run tfdqn's benchmarks and write reports under results/benchmark/.")
    p.add_argument(
        "--suite",
        choices=SUITES + ("cartpole", "lunarlander", "rainbow", "all"),
        default="all",
        help="which benchmark (default all: every suite but the side-by-side cartpole and lunarlander)",
    )
    p.add_argument(
        "--seeds",
        type=positive_int,
        default=10,
        help="seeds for the solve, cartpole and lunarlander suites (default 10)",
    )
    p.add_argument(
        "--first-seed",
        type=non_negative_int,
        default=0,
        help="side-by-side suites: seeds are first-seed .. first-seed + seeds - 1, e.g. fresh seeds to "
        "confirm a config chosen on seeds 0-9 (default 0)",
    )
    p.add_argument(
        "--preset",
        default=None,
        help="side-by-side suites: run tfdqn with this preset (e.g. rainbow; none: the plain DQNConfig "
        "defaults) instead of the one the training command picks for the environment",
    )
    p.add_argument(
        "--sb3-seeds",
        type=positive_int,
        default=None,
        help="seeds of SB3 in the side-by-side suites (default: --seeds; the first ones)",
    )
    p.add_argument(
        "--workers",
        "--jobs",
        dest="workers",
        type=positive_int,
        default=None,
        help="run the solve and side-by-side suites' runs as Ray tasks (tfdqn.experiments.sweep), N at once on a "
        "local Ray (one thread each; 2 uses both cores here), or on the cluster at RAY_ADDRESS; "
        "default: one after another, no Ray",
    )
    p.add_argument(
        "--deterministic",
        action="store_true",
        help="solve suite: TensorFlow op determinism in every run (identical results serial or parallel)",
    )
    p.add_argument(
        "--steps",
        type=positive_int,
        default=None,
        help="step budget per run (default: 50000 for solve and cartpole, 100000 for lunarlander; "
        "e.g. 3000 for a quick smoke run)",
    )
    p.add_argument(
        "--tutorial-steps",
        type=positive_int,
        default=300,
        help="env steps of each tutorial-style loop run in the cartpole suite (default 300)",
    )
    p.add_argument(
        "--tutorial-seeds",
        type=positive_int,
        default=3,
        help="seeds (the first ones) on which the cartpole suite runs the tutorial-style loop (default 3)",
    )
    p.add_argument("--repeats", type=positive_int, default=5, help="repeats of each loop timing (default 5)")
    p.add_argument(
        "--vector-seeds",
        type=positive_int,
        default=5,
        help="seeds per num_envs for the vector suite's solve runs (default 5)",
    )
    p.add_argument(
        "--memory-steps", type=positive_int, default=200_000, help="env steps of the memory suite (default 200000)"
    )
    p.add_argument(
        "--rerender",
        action="store_true",
        help="rewrite <suite>.md from the <suite>.json already in --out, without measuring",
    )
    p.add_argument("--out", type=Path, default=ROOT / "results" / "benchmark", help="report directory")
    return p.parse_args(argv)


def check_preset(args: argparse.Namespace, suites: tuple[str, ...]) -> None:
    """--preset only for one side-by-side suite, and a preset that exists for its environment (one line, status 2)."""
    if args.preset is None:
        return
    if suites != (args.suite,) or args.suite not in SIDE_BY_SIDE:
        raise ConfigError(
            f"--preset is for the side-by-side suites ({', '.join(SIDE_BY_SIDE)}), not --suite {args.suite}"
        )
    name = resolve_preset(SIDE_BY_SIDE[args.suite], args.preset)  # auto and none are fine
    if name is not None:
        preset_fields(name, SIDE_BY_SIDE[args.suite])  # unknown, or for another env: one line, status 2


def run_rainbow(args: argparse.Namespace, argv: list[str]) -> int:
    """--suite rainbow: the ablation's own command with this command's seeds (default 5 here), workers and out."""
    return rainbow.main(
        [
            "--seeds",
            str(min(args.seeds, 5) if "--seeds" not in argv else args.seeds),
            "--jobs",
            str(args.workers or 2),
            "--out",
            str(args.out),
        ]
        + (["--steps", str(args.steps)] if args.steps else [])
    )


def measure(suite: str, args: argparse.Namespace) -> dict:
    """Run one in-process suite (loop, vector, memory, solve) and return its result."""
    if suite == "loop":
        return bench_loop(args.repeats)
    if suite == "vector":
        return bench_vector(args.repeats, args.vector_seeds, args.steps or 50_000)
    if suite == "memory":
        return bench_memory(args.memory_steps)
    return bench_solve(
        args.seeds, args.steps or 50_000, ("--deterministic",) if args.deterministic else (), args.workers
    )


def main(argv: list[str] | None = None) -> int:
    """Run the suites --suite names (or rewrite their reports with --rerender) and print each report."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    prepare_process()
    if args.suite == "rainbow":  # the ablation has its own command and options (benchmarks.rainbow)
        return run_rainbow(args, argv)
    suites = SUITES if args.suite == "all" else (args.suite,)
    check_preset(args, suites)
    if not args.rerender and any(suite in SIDE_BY_SIDE for suite in suites) and missing_extras():
        print(EXTRAS_MESSAGE, file=sys.stderr)
        return 2
    for suite in suites:
        md = args.out / f"{suite}.md"
        if suite in SIDE_BY_SIDE:
            if args.rerender:
                rerender(args.out, suite)
            else:
                bench_side_by_side(args, suite, argv)  # writes <suite>.md, .json and _curves.png after every run
            print(md.read_text(encoding="utf-8"))
            continue
        if args.rerender:
            if not (args.out / f"{suite}.json").is_file():
                raise ConfigError(f"--rerender needs {args.out / f'{suite}.json'}, which does not exist: run the suite")
            result = json.loads((args.out / f"{suite}.json").read_text(encoding="utf-8"))
            text = REPORTS[suite](result)
            if "load_average" in result:
                text += load_note(*result["load_average"])
            atomic_write_text(md, text)
            print(text)
            continue
        load_before = os.getloadavg()[0]
        result = measure(suite, args)
        result["command"] = command_line("suite", argv)
        result["load_average"] = [load_before, os.getloadavg()[0]]
        text = REPORTS[suite](result) + load_note(*result["load_average"])
        write_json(args.out / f"{suite}.json", result)
        atomic_write_text(md, text)
        print(text)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    run_main(main)
