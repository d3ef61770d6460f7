"""Screening candidate DQNConfig settings on several tasks and seeds, side by side, before a full benchmark.

`python -m benchmarks.screen CANDIDATES.json --seeds 3 --jobs 2 --out results/benchmark/screen`
runs every (candidate, task, seed) as a fresh one-thread process of `python -m benchmarks.systems tfdqn_default
--preset none` (a Ray task of `tfdqn.experiments.sweep`) with the candidate's fields as overrides of the plain
`DQNConfig` defaults (no preset; the same evaluation protocol as the benchmark suites), two at a time by default,
interleaved so that every candidate sees the same machine load; it writes `screen.json` (raw runs) and
`screen.md` (per candidate and task: solved, median steps to the first evaluation at the threshold, best and
final policy on 100 fresh episodes) after every run.

CANDIDATES.json (e.g. benchmarks/screens/*.json): {"name": {"<DQNConfig field>": value, ...}, ...}; a value may be
a {"<env id>": value} object to differ by task (e.g. a learning-rate decay over each task's budget).

`--rerender SCREEN_JSON ...` rewrites reports from their JSON; `--merge OUT_JSON A.json B.json ...` writes one
screen holding several screens' runs (a candidate screened over two rounds of seeds).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.candidates import run_candidates
from benchmarks.common import ROOT, atomic_write_text, command_line
from benchmarks.summary import LATE_EVALUATIONS, late_mean, max_loss
from benchmarks.tasks import TASKS
from tfdqn.cli import ArgumentParser, positive_int, run_main
from tfdqn.errors import ConfigError
from tfdqn.experiments import stats
from tfdqn.fileio import write_json


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The screen command's flags."""
    p = ArgumentParser(description="Screen candidate configs on several tasks and seeds.")
    p.add_argument("candidates", type=Path, nargs="?", help="JSON file {name: {field: value or {env_id: value}}}")
    p.add_argument(
        "--rerender",
        type=Path,
        nargs="+",
        metavar="SCREEN_JSON",
        help="rewrite these screen reports' .md from their .json, without measuring",
    )
    p.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        metavar=("OUT_JSON", "SCREEN_JSON"),
        help="write OUT_JSON (and its .md) holding the runs of the SCREEN_JSON files together, e.g. "
        "one candidate's seeds screened in two rounds",
    )
    p.add_argument("--envs", nargs="+", default=list(TASKS), choices=tuple(TASKS))
    p.add_argument("--seeds", type=positive_int, default=3)
    p.add_argument("--first-seed", type=int, default=0, help="seeds run are first-seed .. first-seed + seeds - 1")
    p.add_argument(
        "--steps",
        type=positive_int,
        default=None,
        help="env steps per run (default: each task's budget, benchmarks.tasks.TASKS)",
    )
    p.add_argument("--jobs", type=positive_int, default=2, help="runs at once (default 2: this machine's cores)")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "benchmark" / "screen")
    return p.parse_args(argv)


def fields_for(candidate: dict, env_id: str) -> dict:
    """The candidate's fields for one task (per-task values resolved)."""
    return {k: (v[env_id] if isinstance(v, dict) else v) for k, v in candidate.items()}


def known(values: list[float]) -> list[float]:
    """`values` without NaN (runs that have no evaluations)."""
    return [v for v in values if not math.isnan(v)]


def summarize(runs: list[dict]) -> list[dict[str, Any]]:
    """Per candidate and task: per-seed figures, the median steps to solve and the rates, with 95% intervals."""
    rows = []
    for name in dict.fromkeys(r["candidate"] for r in runs):
        for env_id in dict.fromkeys(r["env_id"] for r in runs):
            rs = sorted((r for r in runs if r["candidate"] == name and r["env_id"] == env_id), key=lambda r: r["seed"])
            if not rs:
                continue
            th = TASKS[env_id]["threshold"]
            steps = [r["solved_step"] for r in rs]
            best_ge = sum(r["best_100"]["mean"] >= th for r in rs)
            final_ge = sum(r["final_100"]["mean"] >= th for r in rs)
            late = [late_mean(r) for r in rs]
            rows.append(
                {
                    "candidate": name,
                    "env_id": env_id,
                    "runs": len(rs),
                    "seeds": [r["seed"] for r in rs],
                    "solved": sum(s is not None for s in steps),
                    "solved_steps": steps,
                    "median_solved_step": stats.median(steps),
                    "ci_solved_step": stats.bootstrap_ci(steps),
                    "best_100": [round(r["best_100"]["mean"], 1) for r in rs],
                    "final_100": [round(r["final_100"]["mean"], 1) for r in rs],
                    "best_ge": best_ge,
                    "ci_best_rate": stats.wilson_ci(best_ge, len(rs)),
                    "final_ge": final_ge,
                    "ci_final_rate": stats.wilson_ci(final_ge, len(rs)),
                    "late_mean": [round(v, 1) for v in late],
                    "median_late_mean": stats.median(known(late)),
                    "ci_late_mean": stats.bootstrap_ci(known(late)),
                    "median_train_steps_per_s": statistics.median(r["train_steps_per_s"] for r in rs),
                    "max_loss": max_loss(rs),
                }
            )
    return rows


INTERVALS_NOTE = (
    "Intervals are 95%: bootstrap over seeds for the median (an unsolved seed counts as worse than any "
    "solve), Wilson for the rates."
)
"""What the intervals in `render_table` are, said under every report that prints it."""


def render_table(runs: list[dict]) -> list[str]:
    """The screen's table: per candidate and task, per-seed figures and rates with 95% intervals."""

    def rate(k: int, n: int, ci: tuple[float, float]) -> str:
        return f"{k}/{n} [{ci[0]:.2f}, {ci[1]:.2f}]"

    lines = [
        "| candidate | env | seeds | solved | steps to first eval >= threshold (per seed) | median [95%] "
        "| best on 100 | best >= threshold [95%] | final on 100 | final >= threshold [95%] "
        f"| mean of the last {LATE_EVALUATIONS} evaluations | median [95%] | env steps/s | max loss |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in summarize(runs):
        steps = ", ".join("never" if s is None else f"{s:,}" for s in r["solved_steps"])
        median = "not solved" if r["median_solved_step"] == float("inf") else f"{r['median_solved_step']:,.0f}"
        lines.append(
            f"| {r['candidate']} | {r['env_id']} | {', '.join(map(str, r['seeds']))} | "
            f"{r['solved']}/{r['runs']} | {steps} | {median} {stats.fmt_interval(r['ci_solved_step'])} | "
            f"{', '.join(map(str, r['best_100']))} | {rate(r['best_ge'], r['runs'], r['ci_best_rate'])} | "
            f"{', '.join(map(str, r['final_100']))} | {rate(r['final_ge'], r['runs'], r['ci_final_rate'])} | "
            f"{', '.join('-' if math.isnan(v) else str(v) for v in r['late_mean'])} | "
            f"{'-' if math.isnan(r['median_late_mean']) else format(r['median_late_mean'], ',.1f')} "
            f"{stats.fmt_interval(r['ci_late_mean'], ',.1f')} | "
            f"{r['median_train_steps_per_s']:,.0f} | "
            f"{'-' if r['max_loss'] is None else format(r['max_loss'], ',.1f')} |"
        )
    return lines


def render(result: dict[str, Any]) -> str:
    """A screen report: its command, the table, the candidates' fields."""
    lines = [
        "# Config screening",
        "",
        f"`{result['command']}`, {result['date']}; "
        f"{len(result['runs'])} runs, {'the last command ' if '; then ' in result['command'] else ''}"
        f"{result['duration_seconds'] / 60:.1f} min"
        + (f"; {result['step_budget']:,} env steps per run, not the task's budget" if "step_budget" in result else "")
        + ".",
        "",
        f"{INTERVALS_NOTE} Screens are small samples: read them as where to look next.",
        "",
        *render_table(result["runs"]),
    ]
    lines += ["", "Candidates:", ""]
    lines += [f"- **{k}**: `{json.dumps(v)}`" for k, v in result["candidates"].items()]
    return "\n".join(lines) + "\n"


def rerender(paths: list[Path]) -> None:
    """Rewrite each screen report (.md) from the .json beside it, without measuring."""
    for path in paths:
        atomic_write_text(path.with_suffix(".md"), render(json.loads(path.read_text(encoding="utf-8"))))


def merge(out: Path, paths: list[Path]) -> None:
    """One screen from several: their runs and candidates together, each source's command kept."""
    sources = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    result = {
        "command": " + ".join(r["command"] for r in sources)
        + f" (merged by {command_line('screen', ['--merge', out, *paths])})",
        "date": ", ".join(r["date"] for r in sources),
        "candidates": {k: v for r in sources for k, v in r["candidates"].items()},
        "runs": [run for r in sources for run in r["runs"]],
        "duration_seconds": sum(r["duration_seconds"] for r in sources),
    }
    budgets = {r.get("step_budget") for r in sources}
    if len(budgets) == 1 and None not in budgets:  # every source ran --steps N alike
        result["step_budget"] = budgets.pop()
    write_json(out, result)
    rerender([out])


def main(argv: list[str] | None = None) -> int:
    """Screen the candidates of a CANDIDATES.json, or --rerender / --merge screen reports."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    if args.merge:
        if len(args.merge) < 3:
            raise ConfigError("--merge needs OUT_JSON and at least two SCREEN_JSON files")
        merge(args.merge[0], args.merge[1:])
        return 0
    if args.rerender:
        rerender(args.rerender)
        return 0
    if args.candidates is None:
        raise ConfigError("name a CANDIDATES.json file (or --rerender SCREEN_JSON ...)")
    candidates = json.loads(args.candidates.read_text())
    args.out.mkdir(parents=True, exist_ok=True)
    jobs = [
        (seed, env_id, name)
        for seed in range(args.first_seed, args.first_seed + args.seeds)
        for env_id in args.envs
        for name in candidates
    ]
    result: dict[str, Any] = {
        "command": command_line("screen", argv),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "candidates": candidates,
        "runs": [],
        "duration_seconds": 0.0,
    }
    if args.steps:
        result["step_budget"] = args.steps
    run_candidates(
        result,
        [
            (
                name,
                seed,
                env_id,
                args.steps or TASKS[env_id]["budget"],
                ["--preset", "none", "--config", json.dumps(fields_for(candidates[name], env_id))],
            )
            for seed, env_id, name in jobs
        ],
        args.jobs,
        args.out / "screen.json",
        args.out / "screen.md",
        render,
    )
    print(render(result))
    return 0


if __name__ == "__main__":
    run_main(main)
