"""Scores across tasks, as Agarwal et al. (2021, "Deep RL at the edge of the statistical precipice") aggregate
them: each run's score normalised per task (random play 0, the task's threshold 1), the interquartile mean
(IQM) of all runs of all tasks with a stratified bootstrap interval (runs resampled within each task), and the
probability of improvement P(X > Y): per task the chance that a run of X beats a run of Y (ties count half),
averaged over tasks, with the same stratified bootstrap over both systems' runs
(`tfdqn.experiments.stats.stratified_bootstrap_ci`). Random play, the scale's zero, is measured here.

`rliable` (the paper's library) did not install cleanly beside this project's pinned stack (its `arch`
dependency fails to import with pandas 3), so these are written from the paper; tests check them on hand-worked
examples.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from tfdqn.experiments.stats import iqm

Scores = Mapping[str, Sequence[float]]
"""Per task, one score per run (seed)."""


def normalise(score: float, random: float, threshold: float) -> float:
    """`score` on the scale where random play is 0 and `threshold` (the task's, or another reference) is 1."""
    return (score - random) / (threshold - random)


def random_score(env_id: str, episodes: int, seed: int = 0) -> float:
    """The mean return of `episodes` episodes of uniformly random actions on `env_id`: normalisation's zero."""
    return float(np.mean(random_returns(env_id, episodes, seed)))


def random_returns(env_id: str, episodes: int, seed: int = 0) -> list[float]:
    """The returns of `episodes` episodes of uniformly random actions on `env_id`. Seeding: episode i starts from
    `reset(seed=seed + i)`, and the actions come from the action space seeded once with `seed`, so a score is
    reproducible and its first episodes do not depend on how many are asked."""
    from tfdqn.envs.make import make_env

    with warnings.catch_warnings():  # Gymnasium calls MinAtar's -v0 "out of date": it is the paper's version
        warnings.simplefilter("ignore", DeprecationWarning)
        env = make_env(env_id)
    env.action_space.seed(seed)
    returns = []
    for i in range(episodes):
        env.reset(seed=seed + i)
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            total, done = total + float(reward), terminated or truncated
        returns.append(total)
    env.close()
    return returns


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
