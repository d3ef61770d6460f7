"""DQN (not a Q-table) on FrozenLake-v1 4x4 slippery, checked exactly: for each seed, `tfdqn train` with
scripts/configs/frozenlake.toml, then the exact probability that the greedy policy of last.keras (the final
network) and of best.keras (the best periodic evaluation) reaches the goal within the 100-step limit, by
dynamic programming on FrozenLake's transition model, against value iteration's optimum at the same gamma.

Writes results/frozenlake_dqn/seed_<s>/ (what `tfdqn train` writes, without its state/ folder) and
results/frozenlake_dqn/summary.json and summary.md (the table the README quotes). Rerun from the repository root:
    python -m benchmarks.frozenlake --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from benchmarks.common import ROOT, atomic_write_text, command_line
from tfdqn.cli import ArgumentParser, non_negative_int, positive_int, prepare_process, run_main
from tfdqn.fileio import write_json
from tfdqn.tabular.frozenlake import check_q_network

CONFIG = ROOT / "scripts" / "configs" / "frozenlake.toml"
TOLERANCE = 0.02


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command's flags."""
    p = ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=non_negative_int, nargs="+", default=[0, 1, 2], help="seeds (default 0 1 2)")
    p.add_argument("--steps", type=positive_int, default=60_000, help="env steps per run (default 60000)")
    p.add_argument("--config", type=Path, default=CONFIG, help=f"DQNConfig file (default {CONFIG.relative_to(ROOT)})")
    p.add_argument(
        "--out",
        type=Path,
        default=ROOT / "results" / "frozenlake_dqn",
        help="output directory (default results/frozenlake_dqn)",
    )
    p.add_argument(
        "--check-only",
        action="store_true",
        help="do not train: check the models already in --out/seed_<s>/ and rewrite the summary "
        "(e.g. after running seeds in separate processes) (default off)",
    )
    return p.parse_args(argv)


def train(seed: int, args: argparse.Namespace) -> None:
    """One `tfdqn train` run in its own process."""
    out = args.out / f"seed_{seed}"
    command = [
        sys.executable,
        "-m",
        "tfdqn",
        "train",
        "--env",
        "FrozenLake-v1",
        "--config",
        str(args.config),
        "--steps",
        str(args.steps),
        "--seed",
        str(seed),
        "--out",
        str(out),
        "--no-stop",
        "--no-live-plot",
        "--eval-every",
        "5000",
        "--eval-episodes",
        "100",
        "--final-episodes",
        "1000",
        "--state-every",
        str(10 * args.steps),
    ]
    proc = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"error: seed {seed} failed: {proc.stderr.strip().splitlines()[-1]}")
    shutil.rmtree(out / "state", ignore_errors=True)  # the replay buffer: not evidence, and large


def main(argv: list[str] | None = None) -> int:
    """Train each seed (unless --check-only), check last.keras and best.keras exactly, write the summary."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    prepare_process()

    rows = []
    for seed in args.seeds:
        if not args.check_only:
            train(seed, args)
        out = args.out / f"seed_{seed}"
        summary = json.loads((out / "summary.json").read_text())
        row = {"seed": seed, "wall_seconds": summary["wall_seconds"], "env_steps": summary["env_steps"]}
        for name in ("last", "best"):
            report = check_q_network(out / f"{name}.keras", "4x4", True, gamma=0.99)
            row[name] = {
                k: report[k]
                for k in ("learned_success_probability", "success_gap", "max_abs_q_error", "policy_disagreements")
            }
            optimal = report["optimal_success_probability"]
            row["optimal_success_probability"] = optimal
            row["best_success_probability_any_policy"] = report["best_success_probability_any_policy"]
        row["best_keras_1000_episodes"] = summary["best_keras_evaluation"]["mean_return"]
        rows.append(row)
        print(
            f"seed {seed}: last.keras {row['last']['learned_success_probability']:.4f}, best.keras "
            f"{row['best']['learned_success_probability']:.4f}, optimum {optimal:.4f}",
            flush=True,
        )
    within = [r["last"]["success_gap"] <= TOLERANCE for r in rows]  # negative: better within the time limit
    result = {
        "command": command_line("frozenlake", argv),
        "env_id": "FrozenLake-v1",
        "config": json.loads((args.out / f"seed_{args.seeds[0]}" / "config.json").read_text()),
        "checked_by": "tfdqn.tabular.frozenlake.check_q_network (exact DP on the transition model)",
        "tolerance": TOLERANCE,
        "last_within_tolerance": sum(within),
        "seeds": len(rows),
        "runs": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "summary.json", result)
    lines = [
        "| seed | last.keras success | gap | best.keras success | gap | optimum (gamma 0.99) | "
        "max \\|Q - Q*\\| (last) | wall s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['seed']} | {r['last']['learned_success_probability']:.4f} | "
            f"{r['last']['success_gap']:+.4f} | {r['best']['learned_success_probability']:.4f} | "
            f"{r['best']['success_gap']:+.4f} | {r['optimal_success_probability']:.4f} | "
            f"{r['last']['max_abs_q_error']:.3f} | {r['wall_seconds']} |"
        )
    lines.append(
        f"\nlast.keras within {TOLERANCE} of the optimum: {sum(within)} of {len(rows)} seeds. "
        f"Command: `{result['command']}`."
    )
    atomic_write_text(args.out / "summary.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    run_main(main)
