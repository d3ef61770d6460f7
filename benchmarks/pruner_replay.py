"""Which pruner should a search use? Replay a finished unpruned search under each pruner (issue 30: "measure which").

`python -m benchmarks.pruner_replay SEARCH_DIR` reads a search run with `--pruner none` (every trial's seeds ran
to their end, so each run's evaluation curve is whole) and replays its trials, in the order the study asked them,
through a fresh in-memory Optuna study per pruner (successive halving, Hyperband, Wilcoxon; `tfdqn search`'s own
pruner settings, milestones and shortfall values). Per pruner it reports the trials pruned and where, the env steps
and training seconds the runs would have taken, and what the search would have found: the best unpruned trial and
whether the unpruned search's winner (and its runners-up) survive. Written to SEARCH_DIR/pruners.

What a replay cannot show: TPE's later trials depend on the earlier results, so a pruned search would have asked
other trials after its first pruning; the replay judges every pruner on the same trials. It runs trials one at a
time: a pruned trial's runs are charged up to the milestone where it was pruned (halving, Hyperband) and the
seeds after the one whose result pruned it (Wilcoxon) are not charged, as if no seed of the trial were running
yet; the real search runs seeds side by side, so its savings are somewhat smaller.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path
from typing import Any

from benchmarks.common import command_line, publish
from tfdqn.cli import ArgumentParser, run_main
from tfdqn.errors import ConfigError
from tfdqn.experiments.milestones import Milestones
from tfdqn.experiments.search import objective
from tfdqn.experiments.study import STUDY_NAME, import_optuna, make_pruner

PRUNERS = ("halving", "hyperband", "wilcoxon")
TOP = 5
"""Runners-up whose fate the report follows: the unpruned search's best trials."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command's flags."""
    p = ArgumentParser(prog="python -m benchmarks.pruner_replay", description=__doc__.split("\n\n")[0])
    p.add_argument("search", type=Path, help="the folder of a finished `tfdqn search --pruner none`")
    return p.parse_args(argv)


def read_search(folder: Path) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """The search's plan and its runs per trial (in trial order); one line for a folder that cannot be replayed."""
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
    trials: dict[str, list[dict[str, Any]]] = {}
    for run in result["runs"]:
        trials.setdefault(str(run["config"]), []).append(run)
    seeds = len(plan["seeds"])
    done = {name: runs for name, runs in sorted(trials.items()) if len(runs) == seeds}
    if not done:
        raise ConfigError(f"{folder} has no trial whose {seeds} seeds all ran: finish the search first")
    return plan, done


def cost(run: dict[str, Any], upto: int | None) -> tuple[int, float]:
    """Env steps and training seconds of `run` cut at env step `upto` (None: whole; seconds pro rata)."""
    steps = int(run.get("env_steps") or 0)
    seconds = float(run.get("train_seconds") or 0.0)
    if upto is None or upto >= steps:
        return steps, seconds
    return upto, seconds * upto / steps if steps else 0.0


def replay(plan: dict[str, Any], trials: dict[str, list[dict[str, Any]]], pruner: str) -> dict[str, Any]:
    """One pruner over the search's trials: per trial its fate, value and cost, and what the search would find."""
    optuna = import_optuna()
    protocol = plan["protocol"]
    budget, threshold = int(protocol["steps"]), float(protocol["threshold"])
    milestones = [int(m) for m in plan["milestones"]]
    study = optuna.create_study(
        study_name=STUDY_NAME, direction="minimize", pruner=make_pruner(optuna, pruner, milestones, budget, plan["eta"])
    )  # the search's study name: Hyperband assigns a trial's bracket from it
    rows = []
    for name, runs in trials.items():
        trial = study.ask()
        pruned_at, charged = None, None  # charged: how many seeds' runs the trial took (Wilcoxon)
        if pruner == "wilcoxon":
            for i, run in enumerate(sorted(runs, key=lambda r: int(r["seed"]))):
                solved = run.get("solved_step")
                trial.report(float(budget if solved is None else solved), int(run["seed"]))
                if trial.should_prune():
                    pruned_at, charged = int(run["seed"]), i + 1
                    break
        else:
            board = Milestones(milestones, threshold, len(runs))
            for run in runs:
                for point in run.get("progress", []):
                    board.report(name, run["key"], point)
                board.finished(name, run["key"])
            for _, step, shortfall in board.drain():
                trial.report(shortfall, step)
                if trial.should_prune():
                    pruned_at = step
                    break
        spent = [
            cost(r, pruned_at if pruner != "wilcoxon" else None)
            for r in (runs if charged is None else sorted(runs, key=lambda r: int(r["seed"]))[:charged])
        ]
        value = objective(runs, budget)
        if pruned_at is None:
            study.tell(trial, value)
        else:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        rows.append({
            "trial": name, "value": value, "pruned_at": pruned_at,
            "env_steps": sum(s for s, _ in spent), "train_seconds": sum(t for _, t in spent),
        })  # fmt: skip
    return {"pruner": pruner, "trials": rows, **found(rows)}


def found(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """What a search with these fates reports: its best unpruned trial and its value (ties: the earlier trial)."""
    kept = [r for r in rows if r["pruned_at"] is None and r["value"] is not None]
    best = min(kept, key=lambda r: r["value"], default=None)
    return {
        "pruned": sum(r["pruned_at"] is not None for r in rows),
        "env_steps": sum(r["env_steps"] for r in rows),
        "train_seconds": sum(r["train_seconds"] for r in rows),
        "winner": None if best is None else best["trial"],
        "winner_value": None if best is None else best["value"],
    }


def unpruned(trials: dict[str, list[dict[str, Any]]], budget: int) -> dict[str, Any]:
    """The search as it ran: no trial pruned."""
    rows = [
        {"trial": name, "value": objective(runs, budget), "pruned_at": None,
         "env_steps": sum(cost(r, None)[0] for r in runs), "train_seconds": sum(cost(r, None)[1] for r in runs)}
        for name, runs in trials.items()
    ]  # fmt: skip
    return {"pruner": "none", "trials": rows, **found(rows)}


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
        f"eta {result['eta']:g}). Each trial is replayed in the study's order through a fresh study with the "
        "pruner; a pruned trial's runs are charged up to where it was pruned (Wilcoxon: the seeds up to the one "
        "that pruned it). TPE would have asked other trials after a pruning: every pruner is judged here on the "
        "same trials, one at a time.",
        "",
        "| pruner | trials pruned | env steps run | vs none | training seconds | vs none | best trial kept "
        "(objective) | unpruned winner kept | top 5 kept |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for arm in arms:
        fates = {r["trial"]: r["pruned_at"] for r in arm["trials"]}
        kept = sum(fates[t] is None for t in top)
        lines.append(
            f"| {arm['pruner']} | {arm['pruned']} | {arm['env_steps']:,} | {arm['env_steps'] / base['env_steps']:.2f}x "
            f"| {arm['train_seconds']:,.0f} | {arm['train_seconds'] / base['train_seconds']:.2f}x | "
            f"{arm['winner']} ({_steps(arm['winner_value'])}) | {'yes' if fates[top[0]] is None else 'no'} | "
            f"{kept}/{len(top)} |"
        )
    lines += [
        "",
        f"The unpruned search's best {len(top)} trials, and where each pruner stopped them (- = kept; Wilcoxon: "
        "at the seed whose result pruned it):",
        "",
        "| trial | objective | " + " | ".join(a["pruner"] for a in arms[1:]) + " |",
        "| --- | --- | " + " | ".join("---" for _ in arms[1:]) + " |",
    ]
    values = {r["trial"]: r["value"] for r in base["trials"]}
    for t in top:
        cells = []
        for arm in arms[1:]:
            at = next(r["pruned_at"] for r in arm["trials"] if r["trial"] == t)
            cells.append("-" if at is None else (f"seed {at}" if arm["pruner"] == "wilcoxon" else f"{at:,}"))
        lines.append(f"| {t} | {_steps(values[t])} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _steps(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def main(argv: list[str] | None = None) -> int:
    """Replay the search under each pruner and report what each would have cost and found."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    plan, trials = read_search(args.search)
    protocol = plan["protocol"]
    budget = int(protocol["steps"])
    arms = [unpruned(trials, budget)] + [replay(plan, trials, p) for p in PRUNERS]
    order = sorted(arms[0]["trials"], key=lambda r: (r["value"] is None, r["value"] or 0, r["trial"]))
    result = {
        "command": command_line("pruner_replay", argv),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "search": str(args.search),
        "env_id": protocol["env_id"],
        "budget": budget,
        "threshold": float(protocol["threshold"]),
        "milestones": [int(m) for m in plan["milestones"]],
        "eta": float(plan["eta"]),
        "trials": len(trials),
        "seeds": len(plan["seeds"]),
        "top": [r["trial"] for r in order[:TOP]],
        "arms": arms,
    }
    publish("pruners", result, render(result), args.search / "pruners")
    return 0


if __name__ == "__main__":
    run_main(main)
