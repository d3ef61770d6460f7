"""A search simulated from an unpruned search's run records, under any pruner: the sweep engine's CPU slots and
queue, the driver's Optuna study and pruner, and the board's milestone values (`benchmarks.pruner_replay` reports
it; the module doc there says what the simulation leaves out)."""

from __future__ import annotations

import heapq
import itertools
import statistics
from typing import Any

from tfdqn.experiments.milestones import AT_MILESTONES, Milestones, check_milestones
from tfdqn.experiments.search import objective
from tfdqn.experiments.search_report import rank_key
from tfdqn.experiments.study import STUDY_NAME, import_optuna, make_pruner


def pace(run: dict[str, Any]) -> tuple[float, float]:
    """A run's start-up seconds (its wall time beyond training) and training seconds per env step."""
    train = float(run.get("train_seconds") or 0.0)
    setup = max(float(run.get("wall_seconds") or train) - train, 0.0)
    return setup, train / max(int(run.get("env_steps") or 0), 1)


def timeline(run: dict[str, Any], start: float) -> tuple[list[tuple[float, dict[str, Any]]], float]:
    """When each evaluation of `run`, started at `start`, comes, and when the run ends."""
    setup, per_step = pace(run)
    points = [(start + setup + per_step * int(p["step"]), p) for p in run.get("progress", [])]
    return points, start + setup + per_step * int(run.get("env_steps") or 0)


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
    if pruner in AT_MILESTONES:
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
         "best": median_best(runs), "env_steps": sum(s for s, _ in sim.spent[n]),
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
            when, _, kind, n, i, point = heapq.heappop(self.events)
            if (n, i) not in self.running:  # a leftover event of a run a pruning ended: no time passes for it
                continue
            self.now = when
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
            points, end = timeline(self.trials[n][i], self.now)
            self.running.add((n, i))
            for when, point in points:
                heapq.heappush(self.events, (when, next(self.tick), "eval", n, i, point))
            heapq.heappush(self.events, (end, next(self.tick), "end", n, i, None))

    def _end(self, n: int, i: int, stopped_at: int | None) -> None:
        """Run i of trial n ends: at its own end, or (`stopped_at`) at its first evaluation after a pruning."""
        run = self.trials[n][i]
        self.running.discard((n, i))
        setup, per_step = pace(run)
        steps = int(run.get("env_steps") or 0) if stopped_at is None else stopped_at
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


def median_best(runs: list[dict[str, Any]]) -> float | None:
    """The median over a trial's runs of their best evaluation (the search report's tie-break)."""
    best = [float(r["best_score"]) for r in runs if r.get("best_score") is not None]
    return statistics.median(best) if best else None


def found(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """What a search with these fates reports: its best unpruned trial, ranked as the search's report ranks
    (fewest env steps, ties to the higher median best score)."""
    kept = [r for r in rows if r["pruned_at"] is None and r["value"] is not None]
    best = min(kept, key=rank, default=None)
    return {
        "pruned": sum(r["pruned_at"] is not None for r in rows),
        "env_steps": sum(r["env_steps"] for r in rows),
        "seconds": sum(r["seconds"] for r in rows),
        "winner": None if best is None else best["trial"],
        "winner_value": None if best is None else best["value"],
    }


def rank(row: dict[str, Any]) -> tuple[float, float]:
    """A trial row's place in the search report's ranking (`rank_key`)."""
    return rank_key(row["value"], row["best"])
