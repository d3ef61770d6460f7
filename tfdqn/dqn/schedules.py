"""Epsilon-greedy exploration: the epsilon schedules, pure functions of (env step, finished episodes), so resuming
needs only the counters; and the epsilon-greedy choice of a batch's actions, which the agent and `Policy` share.

No TensorFlow here: tabular Q-learning uses the schedules too."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from tfdqn.config import DQNConfig


class Schedule(Protocol):
    """Anything that maps the global env step and the finished-episode count to an epsilon."""

    def __call__(self, step: int, episode: int) -> float: ...


@dataclass(frozen=True)
class LinearSchedule:
    """`start` for the first `delay` env steps, then to `end` linearly over `duration` env steps, then constant."""

    start: float
    end: float
    duration: int
    delay: int = 0

    def __call__(self, step: int, episode: int = 0) -> float:
        frac = min(max(step - self.delay, 0) / self.duration, 1.0)
        return self.start + frac * (self.end - self.start)


@dataclass(frozen=True)
class ExponentialSchedule:
    """`end + (start - end) * exp(-rate * step)`: fast early decay, approaching `end`."""

    start: float
    end: float
    rate: float

    def __call__(self, step: int, episode: int = 0) -> float:
        return self.end + (self.start - self.end) * math.exp(-self.rate * step)


@dataclass(frozen=True)
class MultiplicativeSchedule:
    """`start * factor ** episode`, floored at `end`: the per-episode decay many tutorials use."""

    start: float
    end: float
    factor: float

    def __call__(self, step: int, episode: int = 0) -> float:
        return max(self.end, self.start * self.factor**episode)


def make_schedule(config: DQNConfig) -> Schedule:
    """The schedule that `config.exploration` names."""
    if config.exploration == "linear":
        return LinearSchedule(
            config.epsilon_start, config.epsilon_end, config.epsilon_decay_steps, config.epsilon_decay_start
        )
    if config.exploration == "exponential":
        return ExponentialSchedule(config.epsilon_start, config.epsilon_end, config.epsilon_decay_rate)
    return MultiplicativeSchedule(config.epsilon_start, config.epsilon_end, config.epsilon_multiplier)


def epsilon_greedy_actions(
    greedy: Callable[[], np.ndarray], n: int, n_actions: int, epsilon: float, rng: np.random.Generator
) -> np.ndarray:
    """`n` actions, each uniformly random with probability `epsilon`, else the greedy one. `rng` draws the n
    explore coins, then the n random actions; `greedy()` (the batch's greedy actions, which may draw from `rng`
    too: noisy nets) is called after them, and not at all when every row explores."""
    explore = rng.random(n) < epsilon
    random_actions = rng.integers(0, n_actions, size=n)
    if explore.all():
        return random_actions
    return np.where(explore, random_actions, greedy())
