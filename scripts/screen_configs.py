"""Screen candidate DQNConfig settings on several tasks and seeds, side by side, before a full benchmark.

`python scripts/screen_configs.py CANDIDATES.json --seeds 3 --jobs 2 --out results/benchmark/screen`
runs every (candidate, task, seed) as a fresh one-thread process of `benchmark_systems.py tfdqn_default
--no-preset` with the candidate's fields as overrides of the plain `DQNConfig` defaults (no preset) (the same evaluation protocol as the benchmark suites), two at a
time by default, interleaved so that every candidate sees the same machine load; it writes
`screen.json` (raw runs) and `screen.md` (per candidate and task: solved, median steps to the first
evaluation at the threshold, best and final policy on 100 fresh episodes) after every run.

CANDIDATES.json: {"name": {"<DQNConfig field>": value, ...}, ...}; a value may be a {"<env id>": value}
object to differ by task (e.g. a learning-rate decay over each task's budget).
"""

from __future__ import annotations

import concurrent.futures
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from tfdqn.cli import ArgumentParser, positive_int, run_main  # noqa: E402

import benchmark_systems as bs  # noqa: E402


def parse_args(argv=None):
    p = ArgumentParser(description="Screen candidate configs on several tasks and seeds.")
    p.add_argument("candidates", type=Path, help="JSON file {name: {field: value or {env_id: value}}}")
    p.add_argument("--envs", nargs="+", default=list(bs.TASKS), choices=tuple(bs.TASKS))
    p.add_argument("--seeds", type=positive_int, default=3)
    p.add_argument("--first-seed", type=int, default=0, help="seeds run are first-seed .. first-seed + seeds - 1")
    p.add_argument("--jobs", type=positive_int, default=2, help="runs at once (default 2: this machine's cores)")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "benchmark" / "screen")
    return p.parse_args(argv)


def fields_for(candidate: dict, env_id: str) -> dict:
    """The candidate's fields for one task (per-task values resolved)."""
    return {k: (v[env_id] if isinstance(v, dict) else v) for k, v in candidate.items()}


def summarize(runs: list[dict]) -> list[dict]:
    rows = []
    for name in dict.fromkeys(r["candidate"] for r in runs):
        for env_id in dict.fromkeys(r["env_id"] for r in runs):
            rs = [r for r in runs if r["candidate"] == name and r["env_id"] == env_id]
            if not rs:
                continue
            th = bs.TASKS[env_id]["threshold"]
            rows.append({
                "candidate": name, "env_id": env_id, "runs": len(rs),
                "solved": sum(r["solved_step"] is not None for r in rs),
                "solved_steps": [r["solved_step"] for r in rs],
                "median_solved_step": bs._median_or_inf([r["solved_step"] for r in rs]),
                "best_100": [round(r["best_100"]["mean"], 1) for r in rs],
                "final_100": [round(r["final_100"]["mean"], 1) for r in rs],
                "best_ge": sum(r["best_100"]["mean"] >= th for r in rs),
                "final_ge": sum(r["final_100"]["mean"] >= th for r in rs),
                "median_train_steps_per_s": statistics.median(r["train_steps_per_s"] for r in rs),
                "max_loss": max((r.get("max_loss") or 0) for r in rs)})
    return rows


def render(result: dict) -> str:
    lines = ["# Config screening", "", f"`{result['command']}`, {result['date']}; "
             f"{len(result['runs'])} runs, {result['duration_seconds'] / 60:.1f} min.", "",
             "| candidate | env | solved | steps to first eval >= threshold (per seed) | best on 100 | final on 100 "
             "| final >= threshold | env steps/s | max loss |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in summarize(result["runs"]):
        steps = ", ".join("never" if s is None else f"{s:,}" for s in r["solved_steps"])
        lines.append(f"| {r['candidate']} | {r['env_id']} | {r['solved']}/{r['runs']} | {steps} | "
                     f"{', '.join(map(str, r['best_100']))} | {', '.join(map(str, r['final_100']))} | "
                     f"{r['final_ge']}/{r['runs']} | {r['median_train_steps_per_s']:,.0f} | {r['max_loss']:,.1f} |")
    lines += ["", "Candidates:", ""]
    lines += [f"- **{k}**: `{json.dumps(v)}`" for k, v in result["candidates"].items()]
    return "\n".join(lines) + "\n"


def main() -> int:
    args = parse_args()
    from tfdqn.fileio import write_json
    from benchmark import atomic_write_text

    candidates = json.loads(args.candidates.read_text())
    args.out.mkdir(parents=True, exist_ok=True)
    jobs = [(seed, env_id, name) for seed in range(args.first_seed, args.first_seed + args.seeds)
            for env_id in args.envs for name in candidates]
    result = {"command": "python scripts/screen_configs.py " + " ".join(sys.argv[1:]),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "candidates": candidates,
              "runs": [], "duration_seconds": 0.0}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        def run(job):
            seed, env_id, name = job
            out = Path(tmp) / f"{name}_{env_id}_{seed}.json"
            proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "benchmark_systems.py"), "tfdqn_default",
                                   "--no-preset", "--seed", str(seed), "--steps", str(bs.TASKS[env_id]["budget"]), "--env", env_id,
                                   "--config", json.dumps(fields_for(candidates[name], env_id)), "--out", str(out)],
                                  capture_output=True, text=True, cwd=ROOT, env=bs.thread_env())
            if proc.returncode != 0:
                raise RuntimeError(f"{name} {env_id} seed {seed} failed:\n{proc.stderr[-3000:]}")
            record = json.loads(out.read_text())
            record["candidate"] = name
            return record

        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            for record in pool.map(run, jobs):
                record.pop("evaluations_raw", None)
                result["runs"].append(record)
                result["duration_seconds"] = time.perf_counter() - t0
                print(f"{record['candidate']:12s} {record['env_id']:15s} seed {record['seed']}: solved at "
                      f"{record['solved_step']}, best {record['best_100']['mean']:.1f}, final "
                      f"{record['final_100']['mean']:.1f}, {record['train_steps_per_s']:.0f} steps/s", flush=True)
                write_json(args.out / "screen.json", result)
                atomic_write_text(args.out / "screen.md", render(result))
    print(render(result))
    return 0


if __name__ == "__main__":
    run_main(main)
