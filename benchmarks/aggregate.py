"""Scores across tasks, as Agarwal et al. (2021, "Deep RL at the edge of the statistical precipice") aggregate
them: each run's score normalised per task (random play 0, the task's threshold 1), the interquartile mean
(IQM) of all runs of all tasks with a stratified bootstrap interval (runs resampled within each task), and the
probability of improvement P(X > Y): per task the chance that a run of X beats a run of Y (ties count half),
averaged over tasks, with the same stratified bootstrap over both systems' runs.

`rliable` (the paper's library) did not install cleanly beside this project's pinned stack (its `arch`
dependency fails to import with pandas 3), so these are written from the paper; tests check them on hand-worked
examples.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from tfdqn.experiments.stats import CONFIDENCE, RESAMPLES, iqm

Scores = Mapping[str, Sequence[float]]
"""Per task, one score per run (seed)."""


def normalise(score: float, random: float, threshold: float) -> float:
    """`score` on the scale where random play is 0 and the task's threshold is 1."""
    return (score - random) / (threshold - random)


def aggregate_iqm(scores: Scores) -> float:
    """The IQM of every run of every task, pooled."""
    return iqm(np.concatenate([np.asarray(v, dtype=float) for v in scores.values()]))


def probability_of_improvement(x: Scores, y: Scores) -> float:
    """P(X > Y): per task, the share of (run of X, run of Y) pairs X wins (a tie counts half); mean over tasks."""
    per_task = []
    for task in x:
        a = np.asarray(x[task], dtype=float)[:, None]
        b = np.asarray(y[task], dtype=float)[None, :]
        per_task.append(float(np.mean((a > b) + 0.5 * (a == b))))
    return float(np.mean(per_task))


def stratified_bootstrap_ci(
    statistic: Callable[..., float],
    *systems: Scores,
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile interval of `statistic(*systems)` when each system's runs are resampled with replacement
    within each task (the task mix stays fixed; only the runs vary)."""
    rng = np.random.default_rng(seed)
    arrays = [{t: np.asarray(v, dtype=float) for t, v in s.items()} for s in systems]
    values = np.empty(resamples)
    for i in range(resamples):
        drawn = [{t: v[rng.integers(len(v), size=len(v))] for t, v in s.items()} for s in arrays]
        values[i] = statistic(*drawn)
    alpha = (1 - confidence) / 2
    return (float(np.quantile(values, alpha)), float(np.quantile(values, 1 - alpha)))
