"""The classic-control suite beside RL-Zoo: tfdqn (each environment's preset, or the defaults) and Stable-Baselines3
DQN with RL-Zoo's tuned settings (rl-zoo3's hyperparams/dqn.yml, `tfdqn.presets.RL_ZOO`) on CartPole-v1,
Acrobot-v1, MountainCar-v0 and LunarLander-v3, at the Zoo's budgets, seed by seed, interleaved, as Ray tasks.

`python -m benchmarks.classic --seeds 10 --workers 2` writes `<out>/classic.md` and `.json` after every run (a rerun
keeps the runs finished in `<out>/runs/`, so a stopped suite goes on where it was):
- per environment and system: env steps to the first greedy evaluation >= the threshold (median, 95% bootstrap
  interval; unsolved = worse than any solve), tfdqn's median over SB3's (interval), best.keras and the final
  policy on 100 fresh episodes (how many at or above the threshold, Wilson interval), training seconds to solve;
- across environments: each final score normalised (random play 0, threshold 1; random play measured here on
  `--random-episodes` episodes), the IQM of every run with a stratified bootstrap interval, and the probability
  that a tfdqn run beats an SB3 run (`benchmarks.aggregate`, after Agarwal et al. 2021).
`--steps N` gives every run N env steps instead of the Zoo's budget (a smoke test); `--systems tfdqn_default`
runs tfdqn alone (SB3 needs `pip install -r requirements-bench.txt`).
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import aggregate
from benchmarks.common import (
    ROOT,
    atomic_write_text,
    command_line,
    config_digest,
    digest,
    fmt_steps,
    median_interval,
    rate_interval,
)
from benchmarks.launch import run_worker, worker_argv
from benchmarks.summary import summarize
from benchmarks.tasks import TASKS, missing_extras
from tfdqn.cli import ArgumentParser, non_negative_int, positive_int, prepare_process, run_main
from tfdqn.errors import ConfigError
from tfdqn.experiments import stats
from tfdqn.fileio import write_json
from tfdqn.presets import RL_ZOO, config_for_env

ENVS = ("CartPole-v1", "Acrobot-v1", "MountainCar-v0", "LunarLander-v3")
SYSTEMS = ("tfdqn_default", "sb3_zoo")
LABELS = {"tfdqn_default": "tfdqn (preset or defaults)", "sb3_zoo": "SB3 DQN, RL-Zoo tuned"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command's flags."""
    p = ArgumentParser(description="tfdqn beside SB3 with RL-Zoo's settings on the four classic tasks.")
    p.add_argument("--envs", nargs="+", default=list(ENVS), help="tasks (default: the four classic ones)")
    p.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    p.add_argument("--seeds", type=positive_int, default=10, help="seeds per task and system (default 10)")
    p.add_argument("--first-seed", type=non_negative_int, default=0)
    p.add_argument("--steps", type=positive_int, default=None, help="env steps per run (default: the Zoo's budget)")
    p.add_argument("--workers", type=non_negative_int, default=2, help="runs at once as Ray tasks (0: one by one)")
    p.add_argument("--random-episodes", type=positive_int, default=100, help="episodes of random play per task")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "benchmark" / "classic")
    return p.parse_args(argv)


def check(args: argparse.Namespace) -> None:
    """Every task has RL-Zoo settings and a protocol here, and SB3 is installed if asked for; else one line."""
    for env_id in args.envs:
        if env_id not in RL_ZOO or env_id not in TASKS:
            raise ConfigError(f"RL-Zoo has no DQN settings for {env_id} here; known: {', '.join(ENVS)}")
    missing = missing_extras() if "sb3_zoo" in args.systems else []
    if missing:
        raise ConfigError(f"SB3 runs need {' and '.join(missing)}: pip install -r requirements-bench.txt")


def settings_digest(env_id: str, system: str) -> str:
    """A short digest of the settings `system` trains with on `env_id` (tfdqn's preset or defaults; RL-Zoo's for
    SB3): part of each run's key, so a rerun after a preset changed runs those runs again instead of keeping
    runs of other settings."""
    if system == "sb3_zoo":
        settings: dict[str, Any] = dict(RL_ZOO[env_id])
    else:
        return config_digest(config_for_env(env_id, "auto").to_dict())
    return digest(settings)


def across(result: dict[str, Any]) -> dict[str, Any]:
    """Normalised final scores per system and task, their IQM with stratified intervals, and P(tfdqn > SB3)."""
    scores: dict[str, dict[str, list[float]]] = {s: {} for s in result["systems"]}
    for env_id, random in result["random_scores"].items():
        threshold = TASKS[env_id]["threshold"]
        for system in result["systems"]:
            finals = [r["final_100"]["mean"] for r in result["runs"] if r["env_id"] == env_id and r["system"] == system]
            if finals:
                scores[system][env_id] = [aggregate.normalise(f, random, threshold) for f in finals]
    tasks = set.intersection(*(set(v) for v in scores.values())) if scores else set()
    out: dict[str, Any] = {"tasks": sorted(tasks), "normalised_final": scores, "iqm": {}}
    if not tasks:
        return out
    for system, by_task in scores.items():
        mine = {t: by_task[t] for t in tasks}
        out["iqm"][system] = [
            aggregate.aggregate_iqm(mine),
            *stats.stratified_bootstrap_ci(aggregate.aggregate_iqm, mine),
        ]
    if set(SYSTEMS) <= set(scores):
        x, y = ({t: scores[s][t] for t in tasks} for s in SYSTEMS)
        pi = aggregate.probability_of_improvement
        out["p_improvement"] = [pi(x, y), *stats.stratified_bootstrap_ci(pi, x, y)]
    return out


def render(result: dict[str, Any]) -> str:
    """The Markdown report: per task a table of the systems, then the aggregate across tasks."""
    lines = [
        "# The classic suite: tfdqn beside SB3 with RL-Zoo's settings",
        "",
        f"Produced by `{result['command']}` on {result['date']}; seeds {result['seeds'][0]}-{result['seeds'][-1]}, "
        f"{len(result['runs'])} run(s) so far, every (seed, task, system) a fresh one-thread process, interleaved.",
    ]
    for env_id in result["envs"]:
        task, summary = TASKS[env_id], result["summary"].get(env_id, {})
        lines += [
            "",
            f"## {env_id}: threshold {task['threshold']:g}, budget {result['budgets'][env_id]:,} env steps, random "
            f"play {result['random_scores'][env_id]:.1f}",
            "",
            "| system | runs | env steps to threshold [95%] | best.keras >= threshold | final >= threshold | "
            "median final | train s to solve |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for system, s in summary.items():
            lines.append(
                f"| {LABELS.get(system, system)} | {s['runs']} | {fmt_steps(_finite(s['median_solved_step']))} "
                f"{median_interval(s['solved_steps'])} | {s['best_ge_threshold']}/{s['runs']} "
                f"{rate_interval(s['best_ge_threshold'], s['runs'])} | {s['final_ge_threshold']}/{s['runs']} "
                f"{rate_interval(s['final_ge_threshold'], s['runs'])} | {_num(s['median_final_100'])} | "
                f"{_num(_finite(s['median_solved_seconds']))} |"
            )
        if set(SYSTEMS) <= set(summary):
            a, b = (summary[s]["solved_steps"] for s in SYSTEMS)
            lo, hi = stats.ratio_ci(a, b)
            ratio = stats.median(a) / stats.median(b)
            lines += ["", f"tfdqn / SB3 median env steps to threshold: {ratio:.2f}x [{lo:.2f}, {hi:.2f}]"]
    agg = result.get("across", {})
    lines += ["", "## Across tasks", ""]
    if not agg.get("iqm"):
        return "\n".join(lines + ["No task has runs of every system yet.", ""])
    lines += [
        f"Final policies' scores normalised per task (random play 0, threshold 1) over {', '.join(agg['tasks'])}; "
        "IQM of every run with a 95% stratified bootstrap interval (Agarwal et al. 2021).",
        "",
    ]
    lines += [f"- {LABELS.get(s, s)}: IQM {v[0]:.2f} [{v[1]:.2f}, {v[2]:.2f}]" for s, v in agg["iqm"].items()]
    if "p_improvement" in agg:
        p = agg["p_improvement"]
        lines.append(f"- P(tfdqn run > SB3 run): {p[0]:.2f} [{p[1]:.2f}, {p[2]:.2f}]")
    return "\n".join(lines) + "\n"


def _finite(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else x


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def main(argv: list[str] | None = None) -> int:
    """Measure random play, then run every (seed, task, system) interleaved; rewrite the report after each run."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    check(args)
    prepare_process()
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    result: dict[str, Any] = {
        "command": command_line("classic", argv),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "envs": args.envs,
        "systems": args.systems,
        "seeds": seeds,
        "budgets": {e: args.steps or TASKS[e]["budget"] for e in args.envs},
        "random_scores": {e: aggregate.random_score(e, args.random_episodes) for e in args.envs},
        "runs": [],
        "summary": {},
    }
    t0 = time.perf_counter()

    def add(run: dict[str, Any], _all: list | None = None) -> None:
        if run.get("status", "ok") != "ok":
            raise RuntimeError(f"{run['key']} failed: {run.get('error')}")
        result["runs"].append(run)
        env_runs = [r for r in result["runs"] if r["env_id"] == run["env_id"]]
        result["summary"][run["env_id"]] = summarize(env_runs, TASKS[run["env_id"]]["threshold"])
        result["across"] = across(result)
        result["duration_seconds"] = time.perf_counter() - t0
        write_json(args.out / "classic.json", result)
        atomic_write_text(args.out / "classic.md", render(result))
        print(f"{run['env_id']} seed {run['seed']} {run['system']}: solved at {run.get('solved_step')}", flush=True)

    jobs = [(seed, env_id, system) for seed in seeds for env_id in args.envs for system in args.systems]
    if args.workers:
        from tfdqn.experiments.engine import read_record, run_specs
        from tfdqn.experiments.plan import RunSpec

        specs = [
            RunSpec(
                f"{env_id}_{system}_{seed}_{result['budgets'][env_id]}_{settings_digest(env_id, system)}",
                worker_argv(system, seed, result["budgets"][env_id], env_id, "{run_dir}/run.json"),
                {},
                "run.json",
            )
            for seed, env_id, system in jobs
        ]
        for spec in specs:  # a rerun keeps the runs an earlier one finished (OUT/runs/<key>/record.json)
            if (old := read_record(args.out / "runs" / spec.key)) is not None:
                add(old)
        run_specs(specs, args.out, num_cpus=args.workers, on_record=add)
    else:
        with tempfile.TemporaryDirectory(prefix="classic-") as tmp:
            for seed, env_id, system in jobs:
                add(
                    run_worker(
                        system, seed, result["budgets"][env_id], env_id, Path(tmp) / f"{env_id}_{system}_{seed}.json"
                    )
                )
    print(render(result))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    run_main(main)
