"""The sweep's speed-up: the solve suite one run after another vs `--workers N` (Ray tasks), interleaved.

`python -m benchmarks.workers --seeds 10 --steps 10000 --rounds 2` runs the solve suite
(`benchmarks.solve.bench_solve`: `train_cartpole.py --deterministic` per seed, a fresh one-thread process each) in the
order parallel, serial, parallel, serial, ... (`--rounds` of each, alternating so that drift in the machine's
load hits both alike), and writes `results/benchmark/workers.md` and `.json`: each suite's wall time, the
ratio parallel/serial per round and its median, and whether every seed gave identical results (env steps to
the first evaluation >= 475, env steps used, best.keras on 100 episodes, every evaluation's mean) in every
suite, serial or parallel: op determinism is on.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, atomic_write_text, command_line
from benchmarks.solve import bench_solve
from tfdqn.cli import ArgumentParser, positive_int, prepare_process, run_main
from tfdqn.fileio import write_json

OLD_SWEEP = "tfdqn.sweep"
"""Where the sweep lived when results did not record it yet (before the package moved into subpackages)."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command's flags."""
    p = ArgumentParser(description="Wall time of the solve suite serial vs --workers N, interleaved.")
    p.add_argument("--seeds", type=positive_int, default=10)
    p.add_argument("--steps", type=positive_int, default=10_000, help="step budget per run (default 10000)")
    p.add_argument("--workers", type=positive_int, default=2)
    p.add_argument("--rounds", type=positive_int, default=2, help="suites of each kind, alternating (default 2)")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "benchmark")
    return p.parse_args(argv)


def fingerprint(run: dict[str, Any]) -> tuple:
    """What must be identical for a seed across suites: step counts, best.keras's score, every evaluation's mean."""
    means = tuple(line.split(",")[3] for line in run["evaluations_csv"][1:])
    return (run["first_solved_step"], run["env_steps"], round(run["best_score_100"], 6), means)


def render(result: dict[str, Any]) -> str:
    """The Markdown report: each suite's wall time, the ratios per round, whether every seed matched."""
    suites = result["suites"]
    ratios = result["ratios"]
    lines = [
        "# Many runs at once: the solve suite serial vs Ray workers",
        "",
        f"Produced by `{result['command']}` on {result['date']}: the solve suite ({result['seeds']} seeds, "
        f"`train_cartpole.py --deterministic --steps {result['steps']:,}`, each run a fresh one-thread process) "
        f"run alternately with `--workers {result['workers']}` (Ray tasks through "
        f"`{result.get('sweep', OLD_SWEEP)}`, a "
        "local Ray started and stopped inside the timing) and one run after another. The whole process of every run is "
        "timed, its import included.",
        "",
        "| order | mode | suite wall s | median run wall s | 1-min load average before -> after |",
        "| --- | --- | --- | --- | --- |",
    ]
    for i, s in enumerate(suites):
        lines.append(
            f"| {i + 1} | {s['mode']} | {s['suite_wall_seconds']:.0f} | {s['median_wall_seconds']:.1f} | "
            f"{s['load'][0]:.1f} -> {s['load'][1]:.1f} |"
        )
    lines += [
        "",
        "- parallel / serial wall time per round (each parallel suite over the serial one after it): "
        + ", ".join(f"{r:.2f}x" for r in ratios)
        + f"; median **{statistics.median(ratios):.2f}x** (target <= 0.6x; {len(ratios)} round(s): too few for "
        "an interval, read the spread)",
        f"- per-seed results identical in every suite (serial and parallel, op determinism on): "
        f"**{'yes' if result['identical'] else 'no'}** ({result['identical_seeds']}/{result['seeds']} seeds)",
    ]
    if result.get("differences"):
        lines += [f"  - seed {d['seed']}: {d['what']}" for d in result["differences"]]
    lines += [
        "",
        f"Machine: {os.cpu_count()} cores shared with other jobs (load averages above): wall times are "
        "noisy, step counts and scores are not.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the solve suite alternately with --workers N and serially, --rounds times each; write workers.md."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    prepare_process()
    result: dict[str, Any] = {
        "command": command_line("workers", argv),
        "sweep": "tfdqn.experiments.sweep",
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "seeds": args.seeds,
        "steps": args.steps,
        "workers": args.workers,
        "suites": [],
        "ratios": [],
    }
    for _ in range(args.rounds):
        for workers in (args.workers, None):
            load = os.getloadavg()[0]
            t0 = time.perf_counter()
            r = bench_solve(args.seeds, args.steps, ("--deterministic",), workers)
            r.update(
                mode=f"--workers {workers}" if workers else "serial",
                suite_wall_seconds=time.perf_counter() - t0,
                load=[load, os.getloadavg()[0]],
            )
            result["suites"].append(r)
            print(f"{r['mode']}: {r['suite_wall_seconds']:.0f} s", flush=True)
        par, ser = result["suites"][-2:]
        result["ratios"].append(par["suite_wall_seconds"] / ser["suite_wall_seconds"])
        reference = {run["seed"]: fingerprint(run) for run in result["suites"][0]["runs"]}
        differences = []
        for suite in result["suites"][1:]:
            for run in suite["runs"]:
                if fingerprint(run) != reference[run["seed"]]:
                    differences.append(
                        {
                            "seed": run["seed"],
                            "what": f"{suite['mode']} differs: {fingerprint(run)[:3]} vs {reference[run['seed']][:3]}",
                        }
                    )
        result.update(
            identical=not differences,
            differences=differences,
            identical_seeds=args.seeds - len({d["seed"] for d in differences}),
        )
        write_json(args.out / "workers.json", result)
        atomic_write_text(args.out / "workers.md", render(result))
    print(render(result))
    return 0


if __name__ == "__main__":
    run_main(main)
