"""Which pruner should a search use? Replay a finished unpruned search under each pruner (issue 30: "measure which").

`python -m benchmarks.pruner_replay SEARCH_DIR` reads a search run with `--pruner none` (every trial's seeds ran
to their end, so each run's evaluation curve and timing are whole) and simulates the search again under each
pruner (none, successive halving, Hyperband, Wilcoxon; `tfdqn search`'s own pruner settings and milestones):
the sweep engine's CPU slots and queue (a trial is asked when the queue is empty and a slot is free; its seeds
queue in order), each run's evaluations at the times its record implies (its start-up, then its training seconds
spread evenly over its env steps), the shortfall values the search's board gathers (`Milestones`), Wilcoxon's
per-seed results as seeds finish, and a pruned trial's runs ending at their next evaluation while its queued seeds
never start. Per pruner it reports the trials pruned, the env steps and CPU seconds the runs would have taken, the
search's simulated wall time, the best trial kept and whether the unpruned winner and runners-up survive.
Written to SEARCH_DIR/pruners.

What a replay cannot show: TPE's later trials depend on the earlier results, so a pruned search would have asked
other trials after its first pruning; the replay judges every pruner on the same trials. Runs' speeds are taken
as constant over a run, and the driver's one-second polling is left out.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path
from typing import Any

from benchmarks.common import command_line, publish
from benchmarks.pruner_sim import rank, simulate
from tfdqn.cli import ArgumentParser, positive_int, run_main
from tfdqn.errors import ConfigError
from tfdqn.experiments import study

PRUNERS = ("none", *(p for p in study.PRUNERS if p != "none"))
"""The search's pruners, none first: the others are compared with it."""
TOP = 5
"""Runners-up whose fate the report follows: the unpruned search's best trials."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command's flags."""
    p = ArgumentParser(prog="python -m benchmarks.pruner_replay", description=__doc__.split("\n\n")[0])
    p.add_argument("search", type=Path, help="the folder of a finished `tfdqn search --pruner none`")
    p.add_argument("--slots", type=positive_int, default=2, help="runs at once, as the search's --num-cpus (2)")
    return p.parse_args(argv)


def read_search(folder: Path) -> tuple[dict[str, Any], dict[int, list[dict[str, Any]]], dict[int, int]]:
    """The search's plan, its runs per trial number (in order) and its repeated trials (number -> the number whose
    score it took); one line for a folder that cannot be replayed."""
    path = folder / "search.json"
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ConfigError(f"{path} is not a search's result: give the folder of a `tfdqn search`") from None
    plan = result["plan"]
    if plan.get("pruner") != "none":
        raise ConfigError(
            f"{folder} was searched with the {plan.get('pruner')} pruner: its pruned trials' curves are cut short; "
            "replay a search run with --pruner none"
        )
    trials: dict[int, list[dict[str, Any]]] = {}
    for run in result["runs"]:
        trials.setdefault(number(run["config"]), []).append(run)
    seeds = len(plan["seeds"])
    done = {n: sorted(runs, key=lambda r: int(r["seed"])) for n, runs in sorted(trials.items()) if len(runs) == seeds}
    if not done:
        raise ConfigError(f"{folder} has no trial whose {seeds} seeds all ran: finish the search first")
    repeated = {number(k): number(v) for k, v in result.get("repeated", {}).items()}
    return plan, done, repeated


def number(name: str) -> int:
    """A trial's number from its name (`t07` -> 7)."""
    return int(str(name).lstrip("t"))


def render(result: dict[str, Any]) -> str:
    """The Markdown report."""
    arms = result["arms"]
    base = arms[0]
    top = result["top"]
    lines = [
        "# Which pruner? The unpruned search replayed under each",
        "",
        f"Produced by `{result['command']}` on {result['date']}, from {result['search']} "
        f"({result['trials']} trials x {result['seeds']} seeds, {result['env_id']}, budget {result['budget']:,} env "
        f"steps, threshold {result['threshold']:g}; milestones {', '.join(f'{m:,}' for m in result['milestones'])}, "
        f"eta {result['eta']:g}; {result['slots']} runs at once). Each pruner's search is simulated from the "
        "unpruned runs' records: the engine's slots and queue, each run's evaluations at the times its record "
        "implies, a pruned trial's runs ending at their next evaluation and its queued seeds never starting. TPE "
        "would have asked other trials after a pruning: every pruner is judged here on the same trials.",
        "",
        "| pruner | trials pruned | env steps run | vs none | CPU seconds of runs | simulated wall minutes | vs none "
        "| best trial kept (objective) | unpruned winner kept | top 5 kept |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for arm in arms:
        fates = {r["trial"]: r["pruned_at"] for r in arm["trials"]}
        kept = sum(fates[t] is None for t in top)
        lines.append(
            f"| {arm['pruner']} | {arm['pruned']} | {arm['env_steps']:,} | {arm['env_steps'] / base['env_steps']:.2f}x "
            f"| {arm['seconds']:,.0f} | {arm['wall_seconds'] / 60:.1f} | "
            f"{arm['wall_seconds'] / base['wall_seconds']:.2f}x | {arm['winner']} ({_steps(arm['winner_value'])}) | "
            f"{'yes' if fates[top[0]] is None else 'no'} | {kept}/{len(top)} |"
        )
    lines += [
        "",
        f"The unpruned search's best {len(top)} trials, and where each pruner stopped them (- = kept; Wilcoxon: "
        "the seed whose result pruned it):",
        "",
        "| trial | objective | median best | " + " | ".join(a["pruner"] for a in arms[1:]) + " |",
        "| --- | --- | --- | " + " | ".join("---" for _ in arms[1:]) + " |",
    ]
    rows = {r["trial"]: r for r in base["trials"]}
    for t in top:
        cells = []
        for arm in arms[1:]:
            at = next(r["pruned_at"] for r in arm["trials"] if r["trial"] == t)
            cells.append("-" if at is None else (f"seed {at}" if arm["pruner"] == "wilcoxon" else f"{at:,}"))
        best = rows[t]["best"]
        lines.append(
            f"| {t} | {_steps(rows[t]['value'])} | {'-' if best is None else format(best, '.3g')} | "
            + " | ".join(cells)
            + " |"
        )
    if result["seeds"] < 4:
        lines += ["", f"With {result['seeds']} seeds the Wilcoxon pruner cannot prune: its smallest one-sided "
                  "p-value, 1/8, is above its threshold 0.1."]  # fmt: skip
    return "\n".join(lines) + "\n"


def _steps(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def main(argv: list[str] | None = None) -> int:
    """Simulate the search under each pruner and report what each would have cost and found."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    plan, trials, repeated = read_search(args.search)
    protocol = plan["protocol"]
    budget = int(protocol["steps"])
    arms = [simulate(plan, trials, repeated, p, args.slots) for p in PRUNERS]
    order = sorted((r for r in arms[0]["trials"] if r["value"] is not None), key=rank)
    result = {
        "command": command_line("pruner_replay", argv),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "search": str(args.search),
        "env_id": protocol["env_id"],
        "budget": budget,
        "threshold": float(protocol["threshold"]),
        "milestones": [int(m) for m in plan["milestones"]],
        "eta": float(plan["eta"]),
        "slots": args.slots,
        "trials": len(trials),
        "seeds": len(plan["seeds"]),
        "top": [r["trial"] for r in order[:TOP]],
        "arms": arms,
    }
    publish("pruners", result, render(result), args.search / "pruners")
    return 0


if __name__ == "__main__":
    run_main(main)
