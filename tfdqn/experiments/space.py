"""A search space: each named DQNConfig field takes a list of choices or a range `{kind: [low, high]}`;
the study's sampler draws each trial's values from it (`tfdqn.experiments.study.suggest`)."""

from __future__ import annotations

import dataclasses
from typing import Any

from tfdqn.config import DQNConfig
from tfdqn.errors import ConfigError
from tfdqn.experiments.errors import SweepError

KINDS = ("uniform", "log_uniform", "int", "log_int")
"""Ranges a field may take: {"uniform": [lo, hi]}, {"log_uniform": [lo, hi]}, {"int": [lo, hi]} (inclusive),
{"log_int": [lo, hi]}; or a list of choices."""


def check_space(space: dict[str, Any], method: str) -> None:
    """Every field is a DQNConfig field with a list of choices or a {kind: [low, high]} range; grid search
    needs lists. A ConfigError names the first bad field."""
    names = {f.name for f in dataclasses.fields(DQNConfig)} - {"seed", "env_id"}
    if not space:
        raise SweepError("the search space is empty: name at least one DQNConfig field")
    for field, spec in space.items():
        if field not in names:
            raise ConfigError(f"search space: {field!r} is not a DQNConfig field (seed and env_id are the sweep's)")
        if isinstance(spec, list):
            if not spec:
                raise SweepError(f"search space: {field!r} has an empty list of choices")
            continue
        if method == "grid":
            raise SweepError(f"search space: grid search needs a list of values for {field!r}, not {spec!r}")
        if not (isinstance(spec, dict) and len(spec) == 1 and next(iter(spec)) in KINDS):
            raise SweepError(
                f"search space: {field!r} must be a list of choices or one of "
                f"{{{', '.join(KINDS)}: [low, high]}}, not {spec!r}"
            )
        kind, bounds = next(iter(spec.items()))
        if (
            not isinstance(bounds, list)
            or len(bounds) != 2
            or not all(isinstance(b, (int, float)) for b in bounds)
            or not bounds[0] <= bounds[1]
            or (kind.startswith("log") and bounds[0] <= 0)
        ):
            raise SweepError(
                f"search space: {field!r}: {kind} needs [low, high] with low <= high"
                + (" and low > 0" if kind.startswith("log") else "")
            )


def extremes(space: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One config per choice and per range bound of every field: each must build a valid DQNConfig."""
    configs = {}
    for field, spec in space.items():
        values = spec if isinstance(spec, list) else next(iter(spec.values()))
        for v in values:
            configs[f"{field}={v}"] = {field: v}
    return configs
