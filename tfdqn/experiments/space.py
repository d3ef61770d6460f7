"""A search space: each named DQNConfig field takes a list of choices or a range `{kind: [low, high]}`;
`sample` turns it into the trials' configs (every combination, or random draws with a fixed seed)."""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Any

import numpy as np

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


def sample(space: dict[str, Any], method: str = "random", trials: int = 12, seed: int = 0) -> dict[str, dict[str, Any]]:
    """The trials' configs, named t00, t01, ...: every combination (grid) or `trials` random draws."""
    if method == "grid":
        fields = list(space)
        combos = [dict(zip(fields, values)) for values in itertools.product(*(space[f] for f in fields))]
    elif method == "random":
        rng = np.random.default_rng(seed)
        combos = [{field: _draw(spec, rng) for field, spec in space.items()} for _ in range(trials)]
    else:
        raise SweepError(f"search method {method!r} must be 'random' or 'grid'")
    width = len(str(len(combos) - 1))
    return {f"t{i:0{max(2, width)}d}": c for i, c in enumerate(combos)}


def _draw(spec: Any, rng: np.random.Generator) -> Any:
    """One value of a field: a choice from its list, or a draw from its range."""
    if isinstance(spec, list):
        return spec[int(rng.integers(len(spec)))]
    kind, (lo, hi) = next(iter(spec.items()))
    if kind == "uniform":
        return float(rng.uniform(lo, hi))
    if kind == "log_uniform":
        return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
    if kind == "int":
        return int(rng.integers(lo, hi + 1))
    return int(min(hi, max(lo, round(math.exp(rng.uniform(math.log(lo), math.log(hi)))))))  # log_int
