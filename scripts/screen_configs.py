"""Screen candidate DQNConfig settings on several tasks and seeds, side by side, before a full benchmark.

`python scripts/screen_configs.py CANDIDATES.json --seeds 3 --jobs 2 --out results/benchmark/screen`
runs every (candidate, task, seed) as a fresh one-thread process of `benchmark_systems.py tfdqn_default
--preset none` (a Ray task of `tfdqn.experiments.sweep`) with the candidate's fields as overrides of the plain `DQNConfig`
defaults (no preset; the same evaluation protocol as the benchmark suites), two at a
time by default, interleaved so that every candidate sees the same machine load; it writes
`screen.json` (raw runs) and `screen.md` (per candidate and task: solved, median steps to the first
evaluation at the threshold, best and final policy on 100 fresh episodes) after every run.

CANDIDATES.json: {"name": {"<DQNConfig field>": value, ...}, ...}; a value may be a {"<env id>": value}
object to differ by task (e.g. a learning-rate decay over each task's budget).

`--rerender SCREEN_JSON ...` rewrites reports from their JSON; `--merge OUT_JSON A.json B.json ...` writes one
screen holding several screens' runs (a candidate screened over two rounds of seeds).
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

import benchmark_systems as bs  # noqa: E402

from tfdqn.cli import ArgumentParser, positive_int, run_main  # noqa: E402


def parse_args(argv=None):
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
    p.add_argument("--envs", nargs="+", default=list(bs.TASKS), choices=tuple(bs.TASKS))
    p.add_argument("--seeds", type=positive_int, default=3)
    p.add_argument("--first-seed", type=int, default=0, help="seeds run are first-seed .. first-seed + seeds - 1")
    p.add_argument(
        "--steps",
        type=positive_int,
        default=None,
        help="env steps per run (default: each task's budget, benchmark_systems.TASKS)",
    )
    p.add_argument("--jobs", type=positive_int, default=2, help="runs at once (default 2: this machine's cores)")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "benchmark" / "screen")
    return p.parse_args(argv)


def fields_for(candidate: dict, env_id: str) -> dict:
    """The candidate's fields for one task (per-task values resolved)."""
    return {k: (v[env_id] if isinstance(v, dict) else v) for k, v in candidate.items()}


LATE_EVALUATIONS, late_mean = bs.LATE_EVALUATIONS, bs.late_mean  # the side-by-side suites' "late" figure


def known(values: list[float]) -> list[float]:
    """`values` without NaN (runs that have no evaluations)."""
    return [v for v in values if not math.isnan(v)]


def summarize(runs: list[dict]) -> list[dict]:
    """Per candidate and task: per-seed figures, the median steps to solve and the rates, with 95% intervals."""
    from tfdqn.experiments import stats

    rows = []
    for name in dict.fromkeys(r["candidate"] for r in runs):
        for env_id in dict.fromkeys(r["env_id"] for r in runs):
            rs = sorted((r for r in runs if r["candidate"] == name and r["env_id"] == env_id), key=lambda r: r["seed"])
            if not rs:
                continue
            th = bs.TASKS[env_id]["threshold"]
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
                    "max_loss": bs.max_loss(rs),
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
    from tfdqn.experiments import stats

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


def render(result: dict) -> str:
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
    from benchmark import atomic_write_text

    for path in paths:
        atomic_write_text(path.with_suffix(".md"), render(json.loads(path.read_text(encoding="utf-8"))))


def merge(out: Path, paths: list[Path]) -> None:
    """One screen from several: their runs and candidates together, each source's command kept."""
    from tfdqn.fileio import write_json

    sources = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    result = {
        "command": " + ".join(r["command"] for r in sources) + f" (merged by python scripts/screen_configs.py "
        f"--merge {' '.join(map(str, [out, *paths]))})",
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


def run_candidates(result: dict, jobs: list, jobs_at_once: int, json_path: Path, md_path: Path, render_fn) -> None:
    """Run `jobs` [(candidate, seed, env_id, steps, extra worker flags)] as Ray tasks (tfdqn.experiments.sweep), in this
    order so every candidate meets the same load, appending each record to `result["runs"]` as it finishes and
    rewriting `json_path` and `md_path` (`render_fn(result)`) after every run; a failed run stops the screen."""
    from benchmark import atomic_write_text

    from tfdqn.experiments.sweep import RunSpec, run_specs
    from tfdqn.fileio import write_json

    t0 = time.perf_counter()
    width = max([12, *(len(name) + 1 for name, *_ in jobs)])

    def add(record: dict, _all: list) -> None:
        if record["status"] != "ok":
            raise RuntimeError(f"{record['key']} failed: {record.get('error')}")
        result["runs"].append(record)
        result["duration_seconds"] = time.perf_counter() - t0
        print(
            f"{record['candidate']:{width}s} {record['env_id']:15s} seed {record['seed']}: solved at "
            f"{record['solved_step']}, best {record['best_100']['mean']:.1f}, final "
            f"{record['final_100']['mean']:.1f}, {record['train_steps_per_s']:.0f} steps/s",
            flush=True,
        )
        write_json(json_path, result)
        atomic_write_text(md_path, render_fn(result))

    specs = [
        RunSpec(
            f"{name}_{env_id}_{seed}",
            bs.worker_argv("tfdqn_default", seed, steps, env_id, "{run_dir}/run.json", *flags),
            {"candidate": name},
            "run.json",
        )
        for name, seed, env_id, steps, flags in jobs
    ]
    with tempfile.TemporaryDirectory() as tmp:
        run_specs(specs, Path(tmp), num_cpus=jobs_at_once, resume=False, on_record=add)


def main() -> int:
    args = parse_args()
    if args.merge:
        if len(args.merge) < 3:
            from tfdqn.errors import ConfigError

            raise ConfigError("--merge needs OUT_JSON and at least two SCREEN_JSON files")
        merge(args.merge[0], args.merge[1:])
        return 0
    if args.rerender:
        rerender(args.rerender)
        return 0
    if args.candidates is None:
        from tfdqn.errors import ConfigError

        raise ConfigError("name a CANDIDATES.json file (or --rerender SCREEN_JSON ...)")
    candidates = json.loads(args.candidates.read_text())
    args.out.mkdir(parents=True, exist_ok=True)
    jobs = [
        (seed, env_id, name)
        for seed in range(args.first_seed, args.first_seed + args.seeds)
        for env_id in args.envs
        for name in candidates
    ]
    result = {
        "command": "python scripts/screen_configs.py " + " ".join(sys.argv[1:]),
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
                args.steps or bs.TASKS[env_id]["budget"],
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
