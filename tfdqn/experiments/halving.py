"""Asynchronous successive halving (Li et al. 2020, as Ray Tune's ASHA) over env-step milestones: the rule a
search's board applies at every reported evaluation to stop hopeless trials early.

At each milestone, once every seed of a trial has reached it (or ended), the trial's rung value is the median
over seeds of the best evaluation mean so far; the trial goes on only if that value is in the top 1/eta of the
values recorded at that milestone so far (the first `eta` trials at a milestone always go on: too few to
rank). Stopped runs end at their next evaluation.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any


def milestones_for(steps: int, eta: float, eval_every: int) -> list[int]:
    """budget/eta^k for k = 2, 1 rounded up to evaluation steps, below the budget and distinct."""
    out: list[int] = []
    for k in (2, 1):
        m = math.ceil(steps / eta**k / eval_every) * eval_every
        if 0 < m < steps and m not in out:
            out.append(m)
    return out


class Halving:
    """Asynchronous successive halving over env-step milestones, per trial (a group of seed runs)."""

    def __init__(self, milestones: Sequence[int], eta: float, runs_per_trial: int) -> None:
        self.milestones, self.eta, self.runs_per_trial = sorted(milestones), eta, runs_per_trial
        self.points: dict[str, dict[str, list[tuple[int, float]]]] = {}
        self.ended: dict[str, set[str]] = {}
        self.rungs: dict[int, dict[str, float]] = {m: {} for m in self.milestones}
        self.stopped: dict[str, int] = {}

    def alive(self, trial: str | None) -> bool:
        """Whether `trial` may go on (not stopped at a milestone)."""
        return trial not in self.stopped

    def report(self, trial: str, run: str, point: dict[str, Any]) -> bool:
        """Record one evaluation `{"step", "mean"}` of a run of `trial`; whether the trial goes on."""
        self.points.setdefault(trial, {}).setdefault(run, []).append((int(point["step"]), float(point["mean"])))
        self._decide(trial)
        return self.alive(trial)

    def finished(self, trial: str, run: str) -> None:
        """A run of `trial` ended: its milestones are decided without waiting for it."""
        self.ended.setdefault(trial, set()).add(run)
        self.points.setdefault(trial, {}).setdefault(run, [])
        self._decide(trial)

    def _decide(self, trial: str) -> None:
        """Rank `trial` at every milestone all its runs have reached; stop it below the top 1/eta."""
        runs = self.points.get(trial, {})
        ended = self.ended.get(trial, set())
        for m in self.milestones:
            if trial in self.rungs[m] or trial in self.stopped:
                continue
            if len(runs) < self.runs_per_trial or not all(
                r in ended or (pts and pts[-1][0] >= m) for r, pts in runs.items()
            ):
                return  # not every seed has reached m yet
            value = statistics.median(max((v for s, v in pts if s <= m), default=-math.inf) for pts in runs.values())
            recorded = list(self.rungs[m].values())
            self.rungs[m][trial] = value
            if len(recorded) >= self.eta:
                ranked = sorted(recorded + [value], reverse=True)
                cutoff = ranked[max(1, int(len(ranked) / self.eta)) - 1]
                if value < cutoff:
                    self.stopped[trial] = m
                    return

    def summary(self) -> str:
        """One line for the sweep's progress: trials stopped, rung values recorded per milestone."""
        rungs = ", ".join(f"{len(v)} at {m:,}" for m, v in self.rungs.items())
        return f"halving: {len(self.stopped)} trial(s) stopped; rung values recorded: {rungs}"

    def state(self) -> dict[str, Any]:
        """JSON-ready state for search.json: milestones, eta, stopped trials, rung values."""
        return {
            "milestones": self.milestones,
            "eta": self.eta,
            "stopped": self.stopped,
            "rungs": {str(m): v for m, v in self.rungs.items()},
        }
