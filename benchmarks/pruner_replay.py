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
import heapq
import itertools
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from benchmarks.common import command_line, publish
from tfdqn.cli import ArgumentParser, positive_int, run_main
from tfdqn.errors import ConfigError
from tfdqn.experiments.milestones import AT_MILESTONES, Milestones, check_milestones
from tfdqn.experiments.search import objective
from tfdqn.experiments.study import STUDY_NAME, import_optuna, make_pruner

PRUNERS = ("none", "halving", "hyperband", "wilcoxon")
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


def timeline(run: dict[str, Any], start: float) -> tuple[list[tuple[float, dict[str, Any]]], float, float]:
    """When each evaluation of `run`, started at `start`, comes; when it ends; its seconds per env step."""
    steps = max(int(run.get("env_steps") or 0), 1)
    train = float(run.get("train_seconds") or 0.0)
    setup = max(float(run.get("wall_seconds") or train) - train, 0.0)
    per_step = train / steps
    points = [(start + setup + per_step * int(p["step"]), p) for p in run.get("progress", [])]
    return points, start + setup + train, per_step


def simulate(
    plan: dict[str, Any],
    trials: dict[int, list[dict[str, Any]]],
    repeated: dict[int, int],
    pruner: str,
    slots: int,
) -> dict[str, Any]:
    """The search again under `pruner`: per trial its fate, value and cost, the simulated wall time and winner."""
    optuna = import_optuna()
    protocol = plan["protocol"]
    budget, threshold = int(protocol["steps"]), float(protocol["threshold"])
    milestones = [int(m) for m in plan["milestones"]]
    if pruner in ("halving", "hyperband"):
        milestones = check_milestones(milestones, budget, plan["eta"], pruner)
    study = optuna.create_study(
        study_name=STUDY_NAME, direction="minimize", pruner=make_pruner(optuna, pruner, milestones, budget, plan["eta"])
    )  # the search's study name: Hyperband assigns a trial's bracket from it and the trial's number
    sim = _Search(study, optuna, trials, repeated, budget, slots, pruner == "wilcoxon")
    at = milestones if pruner in AT_MILESTONES else []  # as the search: Wilcoxon and none see no milestone values
    sim.board = Milestones(at, threshold, len(plan["seeds"]))
    sim.run()
    rows = [
        {"trial": f"t{n:02d}", "value": sim.values.get(n), "pruned_at": sim.pruned.get(n),
         "best": _median_best(runs), "env_steps": sum(s for s, _ in sim.spent[n]),
         "seconds": sum(t for _, t in sim.spent[n])}
        for n, runs in trials.items()
    ]  # fmt: skip
    return {"pruner": pruner, "wall_seconds": sim.now, "trials": rows, **found(rows)}


class _Search:
    """The sweep engine and the search's driver as a discrete-event simulation over the runs' records."""

    def __init__(self, study: Any, optuna: Any, trials: dict, repeated: dict, budget: int, slots: int, per_seed: bool):
        self.study, self.optuna, self.trials, self.repeated = study, optuna, trials, repeated
        self.budget, self.slots, self.per_seed = budget, slots, per_seed
        self.board: Milestones
        self.order = iter(range(max(trials) + 1))
        self.live: dict[int, Any] = {}
        self.queue: list[tuple[int, int]] = []  # (trial, run index), in the order the engine starts them
        self.events: list[tuple[float, int, str, int, int, Any]] = []
        self.tick = itertools.count()
        self.running: set[tuple[int, int]] = set()
        self.left: dict[int, int] = {}  # runs of a trial not ended (queued or running)
        self.stop: set[tuple[int, int]] = set()  # running runs of pruned trials: they end at their next evaluation
        self.pruned: dict[int, int] = {}
        self.values: dict[int, float | None] = {}
        self.spent: dict[int, list[tuple[int, float]]] = {n: [] for n in trials}
        self.reported: set[tuple[int, int]] = set()
        self.now = 0.0

    def run(self) -> None:
        self._start()
        while self.events:
            self.now, _, kind, n, i, point = heapq.heappop(self.events)
            if (n, i) not in self.running:
                continue
            if kind == "eval" and (n, i) in self.stop:
                self._end(n, i, int(point["step"]))
            elif kind == "eval":
                self.board.report(str(n), self.trials[n][i]["key"], point)
                self._drain()
            else:
                self._end(n, i, None)

    def _ask(self) -> bool:
        """Ask the next trial (as the engine does when its queue is empty and a slot is free)."""
        for n in self.order:
            trial = self.study.ask()
            if n in self.trials:
                self.live[n], self.left[n] = trial, len(self.trials[n])
                self.queue.extend((n, i) for i in range(len(self.trials[n])))
                return True
            twin = self.values.get(self.repeated.get(n, -1))
            if twin is None:  # a number the search spent on a trial it did not run, or whose twin was pruned here
                self.study.tell(trial, state=self.optuna.trial.TrialState.FAIL)
            else:
                self.study.tell(trial, twin)
        return False

    def _start(self) -> None:
        while len(self.running) < self.slots and (self.queue or self._ask()):
            n, i = self.queue.pop(0)
            points, end, _ = timeline(self.trials[n][i], self.now)
            self.running.add((n, i))
            for when, point in points:
                heapq.heappush(self.events, (when, next(self.tick), "eval", n, i, point))
            heapq.heappush(self.events, (end, next(self.tick), "end", n, i, None))

    def _end(self, n: int, i: int, stopped_at: int | None) -> None:
        """Run i of trial n ends: at its own end, or (`stopped_at`) at its first evaluation after a pruning."""
        run = self.trials[n][i]
        self.running.discard((n, i))
        _, end, per_step = timeline(run, 0.0)
        steps = int(run.get("env_steps") or 0) if stopped_at is None else stopped_at
        setup = end - per_step * max(int(run.get("env_steps") or 0), 1)
        self.spent[n].append((steps, setup + per_step * steps))
        self.board.finished(str(n), run["key"])
        if stopped_at is None and self.per_seed and run["status"] == "ok":
            solved = run.get("solved_step")
            self._report(n, float(self.budget if solved is None else solved), int(run["seed"]))
        self._drain()
        self._done(n)
        self._start()

    def _done(self, n: int) -> None:
        """Tell the study about trial n once none of its runs is left."""
        self.left[n] -= 1
        if self.left[n]:
            return
        trial = self.live.pop(n)
        if n in self.pruned:
            self.study.tell(trial, state=self.optuna.trial.TrialState.PRUNED)
        else:
            self.values[n] = objective(self.trials[n], self.budget)
            self.study.tell(trial, self.values[n])

    def _drain(self) -> None:
        for name, step, value in self.board.drain():
            self._report(int(name), value, step)

    def _report(self, n: int, value: float, step: int) -> None:
        """As the search's driver: report once per step, then ask the pruner; a pruned trial's runs stop."""
        if n in self.pruned or n not in self.live:
            return
        trial = self.live[n]
        if (n, step) not in self.reported:
            trial.report(value, step)
            self.reported.add((n, step))
        if trial.should_prune():
            self.pruned[n] = step
            dropped = [(m, i) for m, i in self.queue if m == n]
            self.queue = [(m, i) for m, i in self.queue if m != n]  # its queued seeds never start
            self.stop |= {(m, i) for m, i in self.running if m == n}
            for _ in dropped:
                self._done(n)


def _median_best(runs: list[dict[str, Any]]) -> float | None:
    """The median over a trial's runs of their best evaluation (the search report's tie-break)."""
    best = [float(r["best_score"]) for r in runs if r.get("best_score") is not None]
    return statistics.median(best) if best else None


def found(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """What a search with these fates reports: its best unpruned trial, ranked as the search's report ranks
    (fewest env steps, ties to the higher median best score)."""
    kept = [r for r in rows if r["pruned_at"] is None and r["value"] is not None]
    best = min(kept, key=_rank, default=None)
    return {
        "pruned": sum(r["pruned_at"] is not None for r in rows),
        "env_steps": sum(r["env_steps"] for r in rows),
        "seconds": sum(r["seconds"] for r in rows),
        "winner": None if best is None else best["trial"],
        "winner_value": None if best is None else best["value"],
    }


def _rank(row: dict[str, Any]) -> tuple[float, float]:
    return (row["value"], -(row["best"] if row["best"] is not None else -float("inf")))


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
    order = sorted((r for r in arms[0]["trials"] if r["value"] is not None), key=_rank)
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
