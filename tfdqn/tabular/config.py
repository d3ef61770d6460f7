"""`TabularConfig`: the hyperparameters of tabular Q-learning on FrozenLake, validated on construction, and
the epsilon and alpha schedules they describe (counted in episodes, built from `tfdqn.dqn.schedules`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tfdqn.dqn.schedules import ExponentialSchedule, LinearSchedule, MultiplicativeSchedule
from tfdqn.errors import ConfigError
from tfdqn.tabular.mdp import MAPS
from tfdqn.validation import CheckedFields, check_exploration, invalid, is_int, is_real

DEFAULT_EPISODES = {"4x4": 20_000, "8x8": 50_000}
"""Episode budget per map when `TabularConfig.episodes` is None (measured in the README's FrozenLake section)."""


@dataclass(frozen=True)
class TabularConfig(CheckedFields):
    """Hyperparameters of a tabular Q-learning run on FrozenLake. Validated on construction.

    The defaults meet the acceptance figures in the README's FrozenLake section on every seed measured.

    Attributes:
        map_name: "4x4" (`FrozenLake-v1`, 100-step limit) or "8x8" (`FrozenLake8x8-v1`, 200 steps).
        is_slippery: whether the ice is slippery (the intended move happens with probability 1/3).
        episodes: training episodes; None picks `DEFAULT_EPISODES[map_name]`.
        seed: seeds the environment (first reset) and the learner's random numbers.
        gamma: discount factor, in (0, 1].
        alpha: learning rate at the start, in (0, 1].
        alpha_end: learning rate after `decay_fraction` of the episodes (linear decay), in (0, alpha].
            Set it equal to `alpha` for a constant rate.
        exploration: epsilon schedule over episodes: "linear" (start -> end over `decay_fraction` of the
            episodes), "exponential" (`end + (start - end) * exp(-epsilon_decay_rate * episode)`) or
            "multiplicative" (`start * epsilon_multiplier ** episode`, floored at end).
        epsilon_start, epsilon_end: exploration rate at the start and at the end, in [0, 1].
        decay_fraction: share of the episodes over which epsilon ("linear") and alpha decay, in (0, 1].
        epsilon_decay_rate: per-episode rate of the "exponential" schedule, > 0.
        epsilon_multiplier: per-episode factor of the "multiplicative" schedule, in (0, 1].
    """

    map_name: str = "4x4"
    is_slippery: bool = True
    episodes: int | None = None
    seed: int = 0
    gamma: float = 0.99
    alpha: float = 0.1
    alpha_end: float = 0.01
    exploration: str = "linear"
    epsilon_start: float = 1.0
    epsilon_end: float = 0.01
    decay_fraction: float = 0.5
    epsilon_decay_rate: float = 1e-3
    epsilon_multiplier: float = 0.999

    def __post_init__(self) -> None:
        if self.episodes is None and self.map_name in MAPS:
            object.__setattr__(self, "episodes", DEFAULT_EPISODES[self.map_name])
        self.validate()

    def validate(self) -> None:
        """Raise `ConfigError` naming the first field whose value is invalid."""

        def bad(name: str, why: str) -> ConfigError:
            return invalid(self, name, why)

        if self.map_name not in MAPS:
            raise bad("map_name", f"unknown FrozenLake map; choose from {', '.join(MAPS)}")
        if not isinstance(self.is_slippery, bool):
            raise bad("is_slippery", "must be True or False")
        if self.episodes is None or not is_int(self.episodes) or self.episodes < 1:
            raise bad("episodes", "must be a positive integer")
        if not is_int(self.seed) or self.seed < 0:
            raise bad("seed", "must be a non-negative integer")
        if not is_real(self.gamma) or not 0 < self.gamma <= 1:
            raise bad("gamma", "must lie in (0, 1]")
        if not is_real(self.alpha) or not 0 < self.alpha <= 1:
            raise bad("alpha", "must lie in (0, 1]")
        if not is_real(self.alpha_end) or not 0 < self.alpha_end <= 1:
            raise bad("alpha_end", "must lie in (0, 1]")
        if self.alpha_end > self.alpha:
            raise bad("alpha_end", f"must not exceed alpha={self.alpha}")
        check_exploration(self)
        if not is_real(self.decay_fraction) or not 0 < self.decay_fraction <= 1:
            raise bad("decay_fraction", "must lie in (0, 1]")

    @property
    def env_id(self) -> str:
        """The Gymnasium id of `map_name` (what listeners read as `trainer.config.env_id`)."""
        return MAPS[self.map_name]

    @property
    def episode_budget(self) -> int:
        """`episodes` as resolved on construction (`DEFAULT_EPISODES[map_name]` when given as None)."""
        return DEFAULT_EPISODES[self.map_name] if self.episodes is None else self.episodes

    @property
    def decay_episodes(self) -> int:
        """Episodes over which the linear schedules (epsilon, alpha) run from start to end."""
        return max(1, round(self.decay_fraction * self.episode_budget))

    def replace(self, **changes: Any) -> TabularConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of every field, plus the derived `env_id`."""
        return {**dataclasses.asdict(self), "env_id": self.env_id}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TabularConfig:
        """Build from `to_dict()` output; unknown keys are an error rather than silently ignored."""
        data = dict(data)
        env_id = data.pop("env_id", None)
        unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ConfigError(f"unknown TabularConfig field(s): {', '.join(unknown)}")
        config = cls(**data)
        if env_id is not None and env_id != config.env_id:
            raise ConfigError(
                f"env_id={env_id!r} does not match map_name={config.map_name!r} (which is {config.env_id!r})"
            )
        return config


def epsilon_schedule(config: TabularConfig) -> Callable[[int], float]:
    """Epsilon as a function of the number of finished episodes, built from `tfdqn.dqn.schedules`."""
    if config.exploration == "linear":
        # LinearSchedule counts whatever it is given; here that is episodes, not env steps.
        linear = LinearSchedule(config.epsilon_start, config.epsilon_end, config.decay_episodes)
        return lambda episode: linear(episode)
    if config.exploration == "exponential":
        exponential = ExponentialSchedule(config.epsilon_start, config.epsilon_end, config.epsilon_decay_rate)
        return lambda episode: exponential(episode)
    multiplicative = MultiplicativeSchedule(config.epsilon_start, config.epsilon_end, config.epsilon_multiplier)
    return lambda episode: multiplicative(0, episode)


def alpha_schedule(config: TabularConfig) -> Callable[[int], float]:
    """The learning rate as a function of the number of finished episodes: alpha -> alpha_end, linearly."""
    linear = LinearSchedule(config.alpha, config.alpha_end, config.decay_episodes)
    return lambda episode: linear(episode)
