"""A search trial's value at env-step milestones, gathered on the sweep's board from its seeds' evaluations, for
the driver's Optuna pruner; and the trials the driver has pruned, which the board stops. Halving and Hyperband
compare trials only at their rungs (`rungs`), so their milestones must be those rungs (`check_milestones`).

At a milestone, once every seed of a trial has reached it (or ended), the trial's value there is its
**shortfall**: the threshold minus the median over seeds of the best evaluation mean so far (lower is better,
as the study's objective; a seed that ended without an evaluation counts as -inf). The board runs in a Ray
actor, the study in the driver: the driver `drain`s new values every second, reports them to its trial, and
`stop`s a trial its pruner prunes; that trial's runs then end at their next evaluation.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

from tfdqn.experiments.errors import SweepError

AT_MILESTONES = ("halving", "hyperband")
"""The pruners that compare trials at milestones (`rungs`)."""


def milestones_for(steps: int, eta: float, eval_every: int) -> list[int]:
    """The default milestones: the rungs (`rungs`) from budget/eta^2 rounded up to evaluation steps. With an
    integer eta every rung is then an evaluation step too, and each is a step the pruner compares trials at."""
    return rungs(math.ceil(steps / eta**2 / eval_every) * eval_every, eta, steps)


def rungs(first: int, eta: float, steps: int) -> list[int]:
    """first * eta^k for k = 0, 1, ... below `steps`: the only steps where Optuna's successive halving and
    Hyperband (min_resource=first, reduction_factor=eta) compare trials; a value reported elsewhere waits for
    the next rung, so a milestone off this series would never prune there."""
    out: list[int] = []
    while 0 < first < steps:
        out.append(first)
        first *= int(eta)
    return out


def check_milestones(milestones: Sequence[int], steps: int, eta: float, pruner: str) -> list[int]:
    """`milestones` sorted, each inside the budget; for halving and Hyperband they must also be rungs from
    the first on, with none skipped (the series may stop early): else a `SweepError` naming the series."""
    out = sorted(set(milestones))
    bad = [m for m in out if not 0 < m < steps]
    if bad or (pruner in AT_MILESTONES and not out):
        raise SweepError(f"milestone {bad[0] if bad else 'list'} is not inside the budget (0, {steps})")
    if pruner in AT_MILESTONES and out != rungs(out[0], eta, steps)[: len(out)]:
        raise SweepError(
            f"milestones {' '.join(map(str, out))} do not suit the {pruner} pruner: it compares trials only at "
            f"m, m*eta, m*eta^2, ... (eta {eta:g}), e.g. {' '.join(map(str, rungs(out[0], eta, steps)))}; "
            "or choose --pruner wilcoxon or none"
        )
    return out


class Milestones:
    """Per trial (a group of seed runs): the shortfall at each milestone all its seeds have reached."""

    def __init__(self, milestones: Sequence[int], threshold: float, runs_per_trial: int) -> None:
        self.milestones, self.threshold, self.runs_per_trial = sorted(milestones), threshold, runs_per_trial
        self.points: dict[str, dict[str, list[tuple[int, float]]]] = {}
        self.ended: dict[str, set[str]] = {}
        self.values: dict[str, dict[int, float]] = {}
        self.pending: list[tuple[str, int, float]] = []
        self.stopped: dict[str, int] = {}

    def alive(self, trial: str | None) -> bool:
        """Whether `trial` may go on (not pruned)."""
        return trial not in self.stopped

    def report(self, trial: str, run: str, point: dict[str, Any]) -> bool:
        """Record one evaluation `{"step", "mean"}` of a run of `trial`; whether the trial goes on."""
        self.points.setdefault(trial, {}).setdefault(run, []).append((int(point["step"]), float(point["mean"])))
        self._gather(trial)
        return self.alive(trial)

    def finished(self, trial: str, run: str) -> None:
        """A run of `trial` ended: its milestones are decided without waiting for it."""
        self.ended.setdefault(trial, set()).add(run)
        self.points.setdefault(trial, {}).setdefault(run, [])
        self._gather(trial)

    def stop(self, trial: str, step: int) -> None:
        """The driver's pruner pruned `trial` at `step`: its runs end at their next evaluation."""
        self.stopped.setdefault(trial, step)

    def drain(self) -> list[tuple[str, int, float]]:
        """The (trial, milestone, shortfall) values gathered since the last call, in order."""
        out, self.pending = self.pending, []
        return out

    def _gather(self, trial: str) -> None:
        """Value `trial` at every milestone all its runs have reached, in order."""
        runs = self.points.get(trial, {})
        ended = self.ended.get(trial, set())
        done = self.values.setdefault(trial, {})
        for m in self.milestones:
            if m in done:
                continue
            if len(runs) < self.runs_per_trial or not all(
                r in ended or (pts and pts[-1][0] >= m) for r, pts in runs.items()
            ):
                return  # not every seed has reached m yet
            best = statistics.median(max((v for s, v in pts if s <= m), default=-math.inf) for pts in runs.values())
            done[m] = self.threshold - best
            self.pending.append((trial, m, done[m]))

    def summary(self) -> str:
        """One line for the sweep's progress: trials pruned, values gathered per milestone."""
        counts = ", ".join(f"{sum(m in v for v in self.values.values())} at {m:,}" for m in self.milestones)
        return f"pruned: {len(self.stopped)} trial(s); milestone values: {counts}"
