"""The solve suite: the training command (`scripts/train_cartpole.py`) over seeds, each run a fresh process
(its import included): env steps to the first evaluation >= 475, best.keras on 100 fresh episodes, wall
seconds; one run after another, or as Ray tasks (`tfdqn.experiments.sweep`), N at once."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, fmt_steps, median_interval, rate_interval
from tfdqn.experiments.engine import run_specs
from tfdqn.experiments.plan import RunSpec

OLD_COMMAND = "python scripts/benchmark.py --suite solve"
"""What results recorded before reports stored their command were produced by."""


def bench_solve(seeds: int, steps: int, extra: tuple[str, ...] = (), workers: int | None = None) -> dict[str, Any]:
    """Run `train_cartpole.py` once per seed in a fresh process and collect its summary and evaluations:
    one after another, or with `workers` as Ray tasks (tfdqn.experiments.sweep), that many at once."""
    runs = []
    t_begin = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:

        def argv(seed: int, out: str) -> list[str]:
            return [
                str(ROOT / "scripts" / "train_cartpole.py"),
                "--seed",
                str(seed),
                "--steps",
                str(steps),
                "--out",
                out,
                "--no-live-plot",
                "--no-gif",
                *extra,
            ]

        def collect(seed: int, out: Path, wall: float) -> None:
            summary = json.loads((out / "summary.json").read_text())
            evaluations = (out / "evaluations.csv").read_text().splitlines()
            run = {
                "seed": seed,
                "wall_seconds": wall,
                "first_solved_step": summary["first_evaluation_at_threshold_step"],
                "env_steps": summary["env_steps"],
                "best_score_100": summary["best_keras_evaluation"]["mean_return"],
                "train_seconds": summary["train_seconds"],
                "evaluations_csv": evaluations,
            }
            runs.append(run)
            print(
                f"seed {seed}: first eval >= 475 at {run['first_solved_step']}, best.keras "
                f"{run['best_score_100']:.1f} on 100 episodes, {wall:.1f} s",
                flush=True,
            )

        if workers is None:
            for seed in range(seeds):
                out = Path(tmp) / f"seed{seed}"
                t0 = time.perf_counter()
                proc = subprocess.run([sys.executable, *argv(seed, str(out))], capture_output=True, text=True, cwd=ROOT)
                if proc.returncode != 0:
                    raise RuntimeError(f"seed {seed} failed:\n{proc.stderr[-2000:]}")
                collect(seed, out, time.perf_counter() - t0)
        else:
            specs = [
                RunSpec(f"seed{s}", ("{python}", *argv(s, "{run_dir}")), {"seed": s}, "summary.json")
                for s in range(seeds)
            ]
            for r in run_specs(specs, Path(tmp), num_cpus=workers, resume=False):
                if r["status"] != "ok":
                    raise RuntimeError(f"{r['key']} failed: {r.get('error')}")
                collect(r["seed"], Path(tmp) / "runs" / r["key"], r["wall_seconds"])
    solved = [r["first_solved_step"] for r in runs if r["first_solved_step"] is not None]
    return {
        "seeds": seeds,
        "step_budget": steps,
        "runs": runs,
        "best_ge_475": sum(r["best_score_100"] >= 475 for r in runs),
        "median_first_solved_step": statistics.median(solved) if solved else None,
        "max_first_solved_step": max(solved) if solved else None,
        "solved_runs": len(solved),
        "median_wall_seconds": statistics.median(r["wall_seconds"] for r in runs),
        "workers": workers,
        "suite_wall_seconds": time.perf_counter() - t_begin,
        "median_train_seconds": statistics.median(r["train_seconds"] for r in runs),
    }


def report_solve(r: dict[str, Any]) -> str:
    """The solve suite's Markdown report."""
    rows = [
        f"| {x['seed']} | {x['first_solved_step'] if x['first_solved_step'] is not None else 'not solved'} | "
        f"{x['env_steps']:,} | {x['best_score_100']:.1f} | {x['train_seconds']:.1f} | {x['wall_seconds']:.1f} |"
        for x in r["runs"]
    ]
    return "\n".join(
        [
            "# Solving CartPole-v1 with the default configuration",
            "",
            f"`python scripts/train_cartpole.py --seed S` for S in 0..{r['seeds'] - 1} "
            f"(step budget {r['step_budget']:,}), "
            "each in a fresh process; greedy evaluation of 20 episodes every 1,000 env steps; training stops once "
            "an evaluation >= 475 is confirmed on 100 fresh episodes. Produced by "
            f"`{r.get('command', OLD_COMMAND)}`.",
            "",
            "| seed | env steps to first evaluation >= 475 | env steps used | best.keras, 100 fresh episodes | "
            "train s | wall s (import included) |",
            "| --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
            f"- best.keras >= 475 on 100 fresh episodes: **{r['best_ge_475']}/{r['seeds']}** seeds (goal >= 9/10; "
            f"95% Wilson interval of the rate {rate_interval(r['best_ge_475'], r['seeds'])})",
            f"- env steps to the first evaluation >= 475: median **{fmt_steps(r['median_first_solved_step'])}** "
            f"(95% bootstrap interval {median_interval([x['first_solved_step'] for x in r['runs']])}), max "
            f"{fmt_steps(r['max_first_solved_step'])} ({r['solved_runs']}/{r['seeds']} runs reached it; "
            "goal median <= 15,000, max <= 30,000)",
            f"- wall seconds per run, import included: median **{r['median_wall_seconds']:.1f}** "
            f"(training alone: {r['median_train_seconds']:.1f})",
            *(
                [
                    f"- the whole suite: {r['suite_wall_seconds']:.0f} s wall, "
                    + (
                        f"{r['workers']} runs at once as Ray tasks (`--workers {r['workers']}`, "
                        "tfdqn.experiments.sweep)"
                        if r.get("workers")
                        else "one run after another"
                    )
                ]
                if "suite_wall_seconds" in r
                else []
            ),
            "",
        ]
    )
