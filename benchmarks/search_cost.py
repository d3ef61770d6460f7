"""What a search costs and what it finds: the hand-written halving search (the tree at `--baseline`, taken from
git) against the Optuna search with each pruner, on the same trials, interleaved.

`python -m benchmarks.search_cost SPACE.json --seeds 0 1 2 --repeats 2 --pruners halving hyperband none`
runs, per repeat, the old `tfdqn search SPACE --method grid` and the new `tfdqn search SPACE --sampler grid
--pruner P` for every P, in rotating order (drift in the machine's load hits every arm alike); a grid, so every
arm scores the same configs on the same seeds with the same protocol. Each search is one fresh process, Ray's
start included, timed whole. Writes `<out>/search_cost.md` and `.json`: per arm the wall time of each repeat,
the runs started and stopped early, the env steps spent, and the winner with its objective.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, atomic_write_text, command_line, load_note
from tfdqn.cli import ArgumentParser, non_negative_int, positive_int, prepare_process, run_main
from tfdqn.errors import ConfigError
from tfdqn.experiments import stats
from tfdqn.experiments.study import check_choices
from tfdqn.fileio import write_json

BASELINE = "b3a49e1"
"""The last commit with the hand-written halving (tfdqn/experiments/halving.py)."""
OLD = "old halving"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command's flags."""
    p = ArgumentParser(description="Wall time and winner: the hand-written halving search vs Optuna's pruners.")
    p.add_argument("space", type=Path, help="search space (lists only: every arm runs the same grid)")
    p.add_argument("--env", default="CartPole-v1")
    p.add_argument("--seeds", nargs="+", default=["0", "1", "2"])
    p.add_argument("--steps", type=positive_int, default=None, help="budget per run (default: the env's)")
    p.add_argument("--eval-every", type=positive_int, default=1_000)
    p.add_argument("--eval-episodes", type=positive_int, default=20)
    p.add_argument("--confirm-episodes", type=non_negative_int, default=100)
    p.add_argument("--final-episodes", type=positive_int, default=100)
    p.add_argument("--eta", type=positive_int, default=3)
    p.add_argument("--pruners", nargs="+", default=["halving", "hyperband", "none"], help="Optuna arms (wilcoxon needs "
                   "4 seeds or more; default halving hyperband none)")  # fmt: skip
    p.add_argument("--no-old", action="store_true", help="only the Optuna arms (no baseline tree)")
    p.add_argument("--baseline", default=BASELINE, help=f"git revision of the old search (default {BASELINE})")
    p.add_argument("--repeats", type=positive_int, default=2)
    p.add_argument("--num-cpus", type=positive_int, default=None)
    p.add_argument("--out", type=Path, default=ROOT / "results" / "benchmark" / "search_cost")
    return p.parse_args(argv)


def baseline_tree(revision: str, into: Path) -> Path:
    """The `tfdqn` package at `revision`, unpacked under `into` (a folder to put first on PYTHONPATH)."""
    archive = into / "baseline.tar"
    subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", "-o", str(archive), revision, "tfdqn"], check=True
    )
    with tarfile.open(archive) as tar:
        tar.extractall(into / "baseline", filter="data")
    return into / "baseline"


def shared_flags(args: argparse.Namespace) -> list[str]:
    """The protocol every arm runs with."""
    flags = ["--env", args.env, "--seeds", *args.seeds, "--eta", str(args.eta)]
    flags += ["--eval-every", str(args.eval_every), "--eval-episodes", str(args.eval_episodes)]
    flags += ["--confirm-episodes", str(args.confirm_episodes), "--final-episodes", str(args.final_episodes)]
    flags += ["--steps", str(args.steps)] if args.steps else []
    return flags + (["--num-cpus", str(args.num_cpus)] if args.num_cpus else [])


def run_arm(arm: str, args: argparse.Namespace, tree: Path | None, out: Path) -> dict[str, Any]:
    """One search of `arm` into `out`, as a fresh process; its wall time and what its search.json says."""
    which = ["--method", "grid"] if arm == OLD else ["--sampler", "grid", "--pruner", arm]
    argv = [sys.executable, "-m", "tfdqn", "search", str(args.space.resolve()), *which, *shared_flags(args)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(tree or ROOT), env.get("PYTHONPATH")) if p)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run([*argv, "--out", str(out)], env=env, cwd=tree or ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"error: the {arm} search failed: {proc.stderr.strip().splitlines()[-1:]}")
    result = json.loads((out / "search.json").read_text(encoding="utf-8"))
    runs = result["runs"]
    top = result["ranking"][0] if result["ranking"] else None
    return {
        "arm": arm,
        "wall_seconds": wall,
        "load": [load, os.getloadavg()[0]],
        "runs": len(runs),
        "started": sum(r.get("wall_seconds", 0) > 0 for r in runs),
        "stopped": sum(r["status"] == "stopped" for r in runs),
        "env_steps": sum(_steps(r) for r in runs),
        "run_seconds": sum(r.get("wall_seconds", 0.0) for r in runs),
        "winner": None if top is None else top["fields"],
        "objective": None if top is None else top["objective"],
    }


def render(result: dict[str, Any]) -> str:
    """The Markdown report: per arm the wall times and what it found; then every search in order."""
    old = [s["wall_seconds"] for s in result["searches"] if s["arm"] == OLD]
    lines = [
        "# What a search costs: the hand-written halving against Optuna's pruners",
        "",
        f"Produced by `{result['command']}` on {result['date']}. Every arm runs the same grid ({result['trials']} "
        f"configs x seeds {', '.join(result['seeds'])}) with the same protocol; the arms rotate within each of "
        f"{result['repeats']} repeat(s); each search is a fresh process timed whole (Ray's start included). "
        f"Old: `tfdqn search --method grid` at {result['baseline']}.",
        "",
        "| arm | wall s per repeat | median / old | paired ratio to old, median [95%] | runs started | stopped early "
        "| env steps | winner | objective |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for arm in result["arms"]:
        ss = [s for s in result["searches"] if s["arm"] == arm]
        if not ss:
            continue
        walls = [s["wall_seconds"] for s in ss]
        ratio = f"{statistics.median(walls) / statistics.median(old):.2f}x" if old else "-"
        last = ss[-1]
        paired = "-" if arm == OLD else _paired(walls, old)
        lines.append(
            f"| {arm} | {', '.join(f'{w:.0f}' for w in walls)} | {ratio} | {paired} | {last['started']} | "
            f"{last['stopped']} | {last['env_steps']:,} | `{json.dumps(last['winner'])}` | "
            f"{'-' if last['objective'] is None else format(last['objective'], ',.0f')} |"
        )
    lines += [
        "",
        "Paired ratio: each repeat's wall time over the old arm's in the same repeat (the arms of a repeat meet the "
        "same load), median over the repeats both finished (their number in brackets) with a 95% bootstrap "
        "interval; an arm costs no more than the old search where the interval's top is at most 1.",
    ]
    lines += ["", "Order: " + ", ".join(f"{s['arm']} {s['wall_seconds']:.0f} s" for s in result["searches"])]
    return "\n".join(lines) + "\n" + load_note(result["load"][0], result["load"][1])


def main(argv: list[str] | None = None) -> int:
    """Run every arm --repeats times, rotating; write search_cost.md and .json after each search."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    prepare_process()
    space = json.loads(args.space.read_text(encoding="utf-8"))
    if not all(isinstance(v, list) and v for v in space.values()):
        raise ConfigError("the space must give a non-empty list for every field (every arm runs its grid)")
    from tfdqn.commands._ray_flags import seeds_of

    seeds = seeds_of(argparse.Namespace(seeds=args.seeds))
    for pruner in args.pruners:  # every arm's choices checked before the first (10-minute) search runs
        check_choices("grid", pruner, args.eta, len(seeds))
    arms = ([] if args.no_old else [OLD]) + list(args.pruners)
    result: dict[str, Any] = {
        "command": command_line("search_cost", argv),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "baseline": args.baseline,
        "seeds": args.seeds,
        "trials": _grid_size(space),
        "repeats": args.repeats,
        "arms": arms,
        "searches": [],
        "load": [os.getloadavg()[0]] * 2,
    }
    with tempfile.TemporaryDirectory(prefix="search-cost-") as tmp:
        tree = None if args.no_old else baseline_tree(args.baseline, Path(tmp))
        for repeat in range(args.repeats):
            order = arms[repeat % len(arms) :] + arms[: repeat % len(arms)]
            for arm in order:
                folder = Path(tmp) / f"{arm.replace(' ', '_')}_{repeat}"
                s = run_arm(arm, args, tree if arm == OLD else None, folder)
                result["searches"].append(s)
                result["load"][1] = os.getloadavg()[0]
                print(f"{arm}: {s['wall_seconds']:.0f} s, winner {s['winner']} at {s['objective']}", flush=True)
                write_json(args.out / "search_cost.json", result)
                atomic_write_text(args.out / "search_cost.md", render(result))
    print(render(result))
    return 0


def _paired(walls: list[float], old: list[float]) -> str:
    """Per repeat both arms finished, the arm's wall time over the old arm's: median [95% bootstrap] ("-" without
    the old arm). With a few repeats the interval is about their range."""
    ratios = [w / o for w, o in zip(walls, old, strict=False)]
    if not ratios:
        return "-"
    lo, hi = stats.bootstrap_ci(ratios)
    return f"{statistics.median(ratios):.2f}x [{lo:.2f}, {hi:.2f}] ({len(ratios)})"


def _steps(run: dict[str, Any]) -> int:
    """Env steps a run spent: its own count, or (stopped early) its last evaluation's step."""
    return int(run.get("env_steps") or max((p["step"] for p in run.get("progress", [])), default=0))


def _grid_size(space: dict[str, list[Any]]) -> int:
    """How many configs the grid has."""
    n = 1
    for values in space.values():
        n *= len(values)
    return n


if __name__ == "__main__":
    run_main(main)
