"""The Rainbow ablation: each of Rainbow's parts alone on top of an environment's config with none of them on
(`RAINBOW_OFF`), all of them together (the "rainbow" preset), and that base config ("defaults"), side by side;
plus what each part costs per act.

`python -m benchmarks.rainbow` (or `python -m benchmarks.suite --suite rainbow`) runs
  act       the cost of one greedy action (batch of 1, CartPole-sized observation) for each part's network,
            against the plain network's NumPy forward pass, medians of --repeats timings in one process;
  ablation  every (seed, environment, config) as a fresh one-thread process of `python -m benchmarks.systems
            tfdqn_default --config <part's fields>` (the benchmark suites' protocol: greedy evaluations
            every 1k/2k steps, steps to the first evaluation at the threshold, best and final policy on 100
            fresh episodes, train-only env steps/s), interleaved so every config sees the same machine load;
            --jobs at a time. Results are written after every run, so a partial run leaves a valid report.
Writes `<out>/rainbow.json` (raw runs) and `<out>/rainbow.md` (medians and rates with 95% intervals).
The full ablation (2 environments x 7 configs x 5 seeds) takes hours on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import screen
from benchmarks.candidates import run_candidates
from benchmarks.common import ROOT, atomic_write_text, command_line
from benchmarks.summary import complete_config
from benchmarks.tasks import TASKS
from tfdqn.cli import ArgumentParser, positive_int, run_main
from tfdqn.fileio import write_json
from tfdqn.presets import RAINBOW_FIELDS, RAINBOW_OFF, config_for_env, rainbow_fields

ENVS = ("CartPole-v1", "LunarLander-v3")
PARTS = ("defaults", "dueling", "n_step", "prioritized", "noisy", "distributional", "rainbow")
OLD_ACT_COMMAND = "python scripts/benchmark_rainbow.py --what act"
"""What act costs recorded before they stored their command were produced by."""


def part_fields(part: str, env_id: str) -> dict:
    """DQNConfig fields that switch one part on over `env_id`'s config without Rainbow's parts ("defaults": that
    base itself; "rainbow": all of them, i.e. `config_for_env(env_id, "rainbow")`). The base is `env_id`'s config
    (its preset included) with none of Rainbow's parts on (the `cartpole` preset has 3-step returns and C51)."""
    all_parts = rainbow_fields(env_id)
    support: dict[str, Any] = {k: all_parts[k] for k in ("v_min", "v_max") if k in all_parts}
    parts: dict[str, dict[str, Any]] = {
        "defaults": {},
        "dueling": {"dueling": True},
        "n_step": {"n_step": RAINBOW_FIELDS["n_step"]},
        "prioritized": {k: RAINBOW_FIELDS[k] for k in ("prioritized", "priority_alpha", "priority_beta")},
        "noisy": {k: RAINBOW_FIELDS[k] for k in ("noisy", "noisy_sigma")},
        "distributional": {"distributional": True, "num_atoms": RAINBOW_FIELDS["num_atoms"], **support},
        "rainbow": all_parts,
    }
    return {**RAINBOW_OFF, **parts[part]}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The ablation command's flags."""
    p = ArgumentParser(description="Rainbow ablation: each part alone, all together and the defaults, side by side.")
    p.add_argument(
        "--what",
        choices=("act", "ablation", "both", "report"),
        default="both",
        help="act costs, the ablation runs, both, or only rewrite rainbow.md from the JSON files (default both)",
    )
    p.add_argument("--envs", nargs="+", default=list(ENVS), choices=ENVS)
    p.add_argument("--parts", nargs="+", default=list(PARTS), choices=PARTS)
    p.add_argument("--seeds", type=positive_int, default=5)
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument(
        "--steps",
        type=positive_int,
        default=None,
        help="env steps per run (default: each task's budget, 50k CartPole, 100k LunarLander)",
    )
    p.add_argument(
        "--jobs",
        type=positive_int,
        default=2,
        help="runs at once, as Ray tasks (tfdqn.experiments.sweep; default 2: this machine's cores)",
    )
    p.add_argument(
        "--append",
        action="store_true",
        help="add these runs to the existing rainbow.json's (e.g. more seeds; default: a new table)",
    )
    p.add_argument("--repeats", type=positive_int, default=2000, help="timed actions per part in the act suite")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "benchmark")
    return p.parse_args(argv)


def bench_act(repeats: int) -> dict[str, Any]:
    """Median microseconds, for each part's network (CartPole preset's 64x64 MLP, batch of 1), of the forward
    pass that acting uses (with a fresh noise sample for noisy nets) and of `agent.act` (what the Trainer
    calls each step: epsilon-greedy draws included, epsilon 0)."""
    # TensorFlow and the agent load here, not at the top: the ablation's parent process does without them
    import keras
    import numpy as np

    import tfdqn
    from tfdqn.networks.build import build_network

    tfdqn.configure_threads(1)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(1, 4)).astype(np.float32)
    rows = {}
    for part in PARTS:
        if part == "n_step" or part == "prioritized":
            continue  # replay-side parts: the network, and so acting, is the plain one
        config = tfdqn.config_for_env("CartPole-v1").replace(**part_fields(part, "CartPole-v1"))
        rows[part] = _act_costs(tfdqn.DQNAgent(build_network((4,), 2, config), 2, config), obs, rng, repeats)
    return {"repeats": repeats, "rows": rows}


def _act_costs(agent: Any, obs: Any, rng: Any, repeats: int) -> dict[str, Any]:
    """One part's row: `agent.act` and the forward pass it uses (noisy: with a fresh noise sample), in µs."""
    noisy = agent.config.noisy
    return {
        "act_us": _median_us(lambda: agent.act(obs, 0.0, rng), repeats),
        "forward_us": _median_us(
            (lambda: agent.noisy_q_values(obs, rng)) if noisy else (lambda: agent.q_values(obs)), repeats
        ),
        "numpy": agent._numpy is not None,
    }


def _median_us(fn: Callable[[], Any], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def bench_ablation(args: argparse.Namespace, argv: list[str], act: dict | None = None) -> dict[str, Any]:
    """Run every (seed, environment, part) as a worker process (interleaved, --jobs at once), rewriting
    rainbow.json and rainbow.md after every run; with --append, after the earlier runs of rainbow.json."""
    jobs = [
        (seed, env_id, part)
        for seed in range(args.first_seed, args.first_seed + args.seeds)
        for env_id in args.envs
        for part in args.parts
    ]
    result: dict[str, Any] = {
        "command": command_line("rainbow", argv),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "candidates": {p: {e: part_fields(p, e) for e in args.envs} for p in args.parts},
        "planned_runs": len(jobs),
        "runs": [],
        "duration_seconds": 0.0,
        "act": act,
    }
    if args.append and (args.out / "rainbow.json").is_file():  # more seeds for an earlier run's table
        earlier = json.loads((args.out / "rainbow.json").read_text(encoding="utf-8"))
        result["runs"] = earlier.get("runs", [])
        for part, envs in earlier.get("candidates", {}).items():  # the earlier runs' candidates stay listed
            result["candidates"][part] = {**envs, **result["candidates"].get(part, {})}
        result["planned_runs"] += len(result["runs"])  # the earlier runs that finished, and these
        result["command"] = f"{earlier.get('command')}; then {result['command']}"
    run_candidates(
        result,
        [
            (
                part,
                seed,
                env_id,
                args.steps or TASKS[env_id]["budget"],
                ["--config", json.dumps(part_fields(part, env_id))],
            )
            for seed, env_id, part in jobs
        ],
        args.jobs,
        args.out / "rainbow.json",
        args.out / "rainbow.md",
        render,
    )
    return result


def render(result: dict[str, Any]) -> str:
    """The report: the act costs, then the screen's table of the ablation runs."""
    lines = ["# Rainbow ablation", ""]
    act = result.get("act")
    if act:
        base = act["rows"].get("defaults", {}).get("act_us")
        lines += [
            f"Cost of one action (`agent.act`, batch 1, CartPole's 64x64 network), median of {act['repeats']} "
            f"timings in one process (`{act.get('command', OLD_ACT_COMMAND)}`). Forward: the Q-values acting "
            "uses (noisy: with a fresh noise sample); act: `agent.act`, the forward plus the epsilon-greedy "
            "draws.",
            "",
            "| part | forward µs | act µs | act vs plain | NumPy path |",
            "| --- | --- | --- | --- | --- |",
        ]
        for part, row in act["rows"].items():
            ratio = f"{row['act_us'] / base:.2f}x" if base else "-"
            lines.append(
                f"| {part} | {row.get('forward_us', float('nan')):.1f} | {row['act_us']:.1f} | {ratio} | "
                f"{'yes' if row['numpy'] else 'no'} |"
            )
        lines += ["", "n-step and prioritized replay change only the replay side: they act with the plain network.", ""]
    if result.get("runs"):
        lines += [
            f"Ablation: {len(result['runs'])} of {result.get('planned_runs', len(result['runs']))} planned runs "
            "finished.",
            "",
        ]
        table = screen.render(result).splitlines()
        lines += table[2:]  # without the screen report's own title
        lines += changed_since(result["runs"])
    return "\n".join(lines) + "\n"


INERT = {
    "distributional": ("num_atoms", "v_min", "v_max"),
    "noisy": ("noisy_sigma",),
    "prioritized": ("priority_alpha", "priority_beta", "priority_beta_steps", "priority_eps"),
}
"""Fields that do nothing while their part is off."""


def changed_since(runs: list[dict]) -> list[str]:
    """Report lines naming, per environment, the fields in which the ablation's base config today differs from
    the one its "defaults" runs recorded (fields of a part that is off in both ignored): the rows were measured
    on top of the config as it was then."""
    lines = []
    for env_id in sorted({r["env_id"] for r in runs}):
        then = next((r.get("config") for r in runs if r["env_id"] == env_id and r["candidate"] == "defaults"), None)
        if not then:
            continue
        then = complete_config({"system": "tfdqn_default", "config": then})  # a field added since had its default
        now = config_for_env(env_id, **part_fields("defaults", env_id)).to_dict()
        inert = {f for part, fields in INERT.items() if not then.get(part) and not now[part] for f in fields}
        diff = [
            f"{k} {then[k]!r} -> {now[k]!r}"
            for k in sorted(now)
            if k in then
            and k not in inert | {"seed"}
            and (list(then[k]) if isinstance(then[k], (list, tuple)) else then[k])
            != (list(now[k]) if isinstance(now[k], (list, tuple)) else now[k])
        ]
        if diff:
            lines += [
                "",
                f"{env_id}'s rows were measured on top of its config as it was then; today's "
                f"`config_for_env({env_id!r})` differs in: {', '.join(diff)}.",
            ]
    return lines


def main(argv: list[str] | None = None) -> int:
    """Measure the act costs and/or run the ablation (--what), then rewrite rainbow.md and print it."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    act = None
    if args.what in ("act", "both"):
        act = {**bench_act(args.repeats), "command": command_line("rainbow", argv)}
        write_json(args.out / "rainbow_act.json", act)
    if act is None and (args.out / "rainbow_act.json").is_file():
        act = json.loads((args.out / "rainbow_act.json").read_text(encoding="utf-8"))
    if args.what in ("ablation", "both"):
        result = bench_ablation(args, argv, act)
    else:
        path = args.out / "rainbow.json"
        result = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {"runs": []}
    result["act"] = act
    atomic_write_text(args.out / "rainbow.md", render(result))
    print((args.out / "rainbow.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    run_main(main)
