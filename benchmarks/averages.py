"""Weight averages of the online network, scored beside the final network: does averaging hold the final policy?

`python -m benchmarks.averages --env LunarLander-v3 --preset auto --seeds 10 --first-seed 20 --jobs 2 --out DIR`
trains tfdqn exactly as the benchmark suites' worker does (`benchmarks.protocol.Protocol`: the same config, seeds,
greedy evaluations, best and final on 100 fresh episodes), one fresh one-thread process per seed, and also keeps a
copy of the online weights every 1,000 env steps. After the budget it scores, on the same 100 final episodes as the
final network (seed + 30,000):

- `swa_half`: the uniform mean of the copies after the first half of the budget (stochastic weight averaging;
  Izmailov et al. 2018, for RL Nikishin et al. 2018);
- `swa_last_fifth`: the uniform mean of the copies in the last fifth;
- `ema`: an exponential moving average of every copy, 0.1 per copy (a time constant of about 10,000 env steps);
- `target`: the target network at the end (the Polyak average the update bootstraps from).

Training is not changed by the copies, so each run's final and best are the suite's run of the same seed. Writes
`averages.json` and `averages.md` in `--out` after every run; `--rerender AVERAGES_JSON` rewrites the report.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import ROOT, atomic_write_text, command_line
from benchmarks.launch import thread_env
from benchmarks.systems import RunHooks, json_default, run_tfdqn
from benchmarks.tasks import FINAL_EPISODES, TASKS
from tfdqn.cli import ArgumentParser, positive_int, run_main
from tfdqn.errors import ConfigError
from tfdqn.experiments.stats import bootstrap_ci, fmt_interval, wilson_ci
from tfdqn.fileio import write_json
from tfdqn.listeners.base import Listener
from tfdqn.presets import config_for_env, resolve_preset

COPY_EVERY = 1_000
EMA_RATE = 0.1
VARIANTS = ("swa_half", "swa_last_fifth", "ema", "target")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The averages command's flags."""
    p = ArgumentParser(description="Score weight averages of tfdqn's online network beside its final network.")
    p.add_argument("--env", default="LunarLander-v3", choices=tuple(TASKS))
    p.add_argument("--preset", default="auto", help="auto (the environment's own, default), none, or a name")
    p.add_argument("--seeds", type=positive_int, default=10)
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--steps", type=positive_int, default=None, help="env steps per run (default: the task's budget)")
    p.add_argument("--jobs", type=positive_int, default=2)
    p.add_argument("--out", type=Path, default=ROOT / "results" / "benchmark" / "screen" / "averages")
    p.add_argument(
        "--rerender",
        type=Path,
        default=None,
        metavar="AVERAGES_JSON",
        help="rewrite the report next to AVERAGES_JSON from it, without measuring",
    )
    p.add_argument("--worker", type=int, default=None, metavar="SEED", help=argparse.SUPPRESS)  # one run, internal
    p.add_argument("--worker-out", type=Path, default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


class Averages(RunHooks):
    """The suite worker's run plus copies of the online weights, then the averages' scores in the record."""

    def __init__(self, seed: int, steps: int, env_id: str) -> None:
        self.seed, self.steps, self.env_id = seed, steps, env_id
        self.copies: dict[int, list] = {}
        self.ema: list = []

    def listeners(self, config: Any) -> list:
        hooks = self

        class Copies(Listener):
            def on_step(self, step, logs=None):
                if step % COPY_EVERY == 0:
                    hooks.keep(step, self.trainer.agent.q_network.get_weights())

        return [Copies()]

    def keep(self, step: int, weights: list) -> None:
        """One copy: kept for the SWA means after half the budget, always folded into the EMA."""
        if step > self.steps // 2:
            self.copies[step] = weights
        self.ema = weights if not self.ema else [(1 - EMA_RATE) * e + EMA_RATE * w for e, w in zip(self.ema, weights)]

    def mean_after(self, after: int) -> list:
        """The uniform mean of the copies taken after env step `after`."""
        kept = [self.copies[s] for s in sorted(self.copies) if s > after]
        return [np.mean(np.stack(layer), axis=0) for layer in zip(*kept)]

    def record(self, agent, config, make_policy) -> dict[str, Any]:
        """Each average's score on the final policy's 100 episodes."""
        # in the worker, after training: TensorFlow is loaded by now
        import gymnasium as gym

        from tfdqn.dqn.evaluation import evaluate

        weights = {
            "swa_half": self.mean_after(self.steps // 2),
            "swa_last_fifth": self.mean_after(self.steps * 4 // 5),
            "ema": self.ema,
            "target": agent.target_network.get_weights(),
        }
        averages = {}
        for name in VARIANTS:
            env = gym.make(self.env_id)
            r = evaluate(make_policy(weights[name]), env, FINAL_EPISODES, self.seed + 30_000)  # the final's episodes
            env.close()
            averages[name] = {"mean": r.mean, "std": r.std}
        return {"averages": averages}


def check_steps(steps: int) -> None:
    """Every average needs a copy: at least one multiple of COPY_EVERY in the budget's last fifth."""
    if steps // COPY_EVERY * COPY_EVERY <= steps * 4 // 5:
        raise ConfigError(
            f"--steps {steps:,}: the averages need a copy of the weights (every {COPY_EVERY:,} env "
            f"steps) in the last fifth of the budget; give at least {5 * COPY_EVERY:,} steps or a "
            f"multiple of {COPY_EVERY:,}"
        )


def worker(seed: int, steps: int, env_id: str, preset: str, out: Path) -> None:
    """One run in this process: `benchmarks.systems.run_tfdqn` (the suite worker's run) with `Averages` hooks."""
    record = run_tfdqn(seed, steps, zoo=False, env_id=env_id, preset=preset, hooks=Averages(seed, steps, env_id))
    record.update(seed=seed, env_id=env_id, preset=preset, step_budget=steps)
    out.write_text(json.dumps(record, indent=1, default=json_default), encoding="utf-8")


def scores(run: dict[str, Any]) -> dict[str, float]:
    """A run's 100-episode scores: final, best and every average."""
    return {
        "final": run["final_100"]["mean"],
        "best": (run["best_100"] or {"mean": float("nan")})["mean"],
        **{name: run["averages"][name]["mean"] for name in VARIANTS},
    }


def render(result: dict[str, Any]) -> str:
    """The report: per seed, then per network the count >= threshold and the median, with 95% intervals."""
    runs = sorted(result["runs"], key=lambda r: r["seed"])
    threshold = TASKS[result["env_id"]]["threshold"]
    names = ("final", "best", *VARIANTS)
    lines = [
        f"`{result['command']}`",
        "",
        f"# Weight averages beside the final network: {result['env_id']}, preset {result['preset']!r}",
        "",
        f"{len(runs)} runs of {result['steps']:,} env steps (seeds {', '.join(str(r['seed']) for r in runs)}); "
        f"scores are means over the same 100 fresh episodes (seed + 30,000). Copies of the online weights every "
        f"{COPY_EVERY:,} env steps; `swa_half`: their mean after env step {result['steps'] // 2:,}; "
        f"`swa_last_fifth`: after {result['steps'] * 4 // 5:,}; `ema`: {EMA_RATE:g} per copy; `target`: the "
        "target network at the end. `best` is best.keras (the best greedy evaluation's weights).",
        "",
        "| seed | " + " | ".join(names) + " |",
        "| --- |" + " --- |" * len(names),
    ]
    per = [scores(r) for r in runs]
    for run, s in zip(runs, per):
        lines.append(f"| {run['seed']} | " + " | ".join(f"{s[n]:.0f}" for n in names) + " |")
    lines += [
        "",
        f"| network | >= {threshold:g} [95% Wilson] | median [95% bootstrap] | better than final, seed for seed |",
        "| --- | --- | --- | --- |",
    ]
    for name in names:
        values = [s[name] for s in per]
        k = sum(v >= threshold for v in values)
        lo, hi = wilson_ci(k, len(values))
        better = "" if name == "final" else f"{sum(s[name] > s['final'] for s in per)} of {len(per)}"
        lines.append(
            f"| {name} | {k}/{len(values)} [{lo:.2f}, {hi:.2f}] | {statistics.median(values):.0f} "
            f"{fmt_interval(bootstrap_ci(values), ',.0f')} | {better} |"
        )
    return "\n".join(lines) + "\n"


def write(result: dict[str, Any], out: Path) -> None:
    """averages.json and averages.md in `out`."""
    write_json(out / "averages.json", result)
    atomic_write_text(out / "averages.md", render(result))


def main(argv: list[str] | None = None) -> int:
    """Run the seeds (each a worker process of this module) and write the report after each; or --rerender."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    if args.worker is not None:
        worker(args.worker, args.steps, args.env, args.preset, args.worker_out)
        return 0
    if args.rerender is not None:
        result = json.loads(args.rerender.read_text(encoding="utf-8"))
        write(result, args.rerender.parent)
        return 0
    config_for_env(args.env, args.preset)  # an unknown preset, or one for another env: one line, status 2
    steps = args.steps or TASKS[args.env]["budget"]
    check_steps(steps)
    preset = resolve_preset(args.env, args.preset) or "none"
    result = {
        "command": command_line("averages", argv),
        "env_id": args.env,
        "preset": preset,
        "steps": steps,
        "runs": [],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    seeds = range(args.first_seed, args.first_seed + args.seeds)

    def one(seed: int) -> dict[str, Any]:
        out = args.out / f"run_{seed}.json"
        t0 = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.averages",
                "--worker",
                str(seed),
                "--worker-out",
                str(out),
                "--steps",
                str(steps),
                "--env",
                args.env,
                "--preset",
                preset,
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=thread_env(),
        )
        if proc.returncode != 0:
            raise RuntimeError(f"seed {seed} failed:\n{proc.stderr[-3000:]}")
        run = json.loads(out.read_text(encoding="utf-8"))
        out.unlink()
        run["wall_seconds"] = time.perf_counter() - t0
        return run

    with ThreadPoolExecutor(args.jobs) as pool:
        for run in pool.map(one, seeds):  # in seed order; the report is rewritten after each
            result["runs"].append(run)
            s = scores(run)
            print(f"seed {run['seed']}: " + ", ".join(f"{k} {v:.0f}" for k, v in s.items()), flush=True)
            write(result, args.out)
    return 0


if __name__ == "__main__":
    run_main(main)
