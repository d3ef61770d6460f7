"""Field checks shared by `DQNConfig` and `TabularConfig`: each failure is a `ConfigError` that names the
class, the field and the value, so a bad hyperparameter is found without reading a traceback."""

from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
from collections.abc import Iterable
from typing import Any, SupportsInt, cast

from tfdqn.errors import ArgumentError, ConfigError

SCHEDULES = ("linear", "exponential", "multiplicative")


def is_int(x: Any) -> bool:
    """An integer (Python or NumPy) that is not a bool."""
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def is_real(x: Any) -> bool:
    """A finite real number (Python or NumPy) that is not a bool."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)


def plain_scalars(config: Any) -> None:
    """Replace NumPy scalars in a frozen dataclass's fields by Python ones, so that it serialises to JSON."""
    for name, value in vars(config).items():
        if isinstance(value, numbers.Number) and hasattr(value, "item"):
            object.__setattr__(config, name, value.item())


def invalid(config: Any, name: str, why: str) -> ConfigError:
    """The error for field `name` of `config`: `DQNConfig.gamma=1.5 is invalid: must lie in (0, 1]`."""
    return ConfigError(f"{type(config).__name__}.{name}={getattr(config, name)!r} is invalid: {why}")


def check_exploration(config: Any) -> None:
    """The epsilon-schedule fields both configs share: `exploration`, `epsilon_start`, `epsilon_end`,
    `epsilon_decay_rate`, `epsilon_multiplier`."""
    if config.exploration not in SCHEDULES:
        raise invalid(config, "exploration", f"must be one of {SCHEDULES}")
    for name in ("epsilon_start", "epsilon_end"):
        if not is_real(getattr(config, name)) or not 0 <= getattr(config, name) <= 1:
            raise invalid(config, name, "must lie in [0, 1]")
    if config.epsilon_end > config.epsilon_start:
        raise invalid(config, "epsilon_end", f"must not exceed epsilon_start={config.epsilon_start}")
    if not is_real(config.epsilon_decay_rate) or not config.epsilon_decay_rate > 0:
        raise invalid(config, "epsilon_decay_rate", "must be a positive number")
    if not is_real(config.epsilon_multiplier) or not 0 < config.epsilon_multiplier <= 1:
        raise invalid(config, "epsilon_multiplier", "must lie in (0, 1]")


def check_field_names(cls: type, names: Iterable[str], where: str = "") -> None:
    """A `ConfigError` for keyword arguments of dataclass `cls` that are not fields, naming the closest
    valid field of each (`unknown DQNConfig field 'batchsize' (did you mean 'batch_size'?)`); `where`
    prefixes the message (e.g. "config file 'x.json' has")."""
    fields = [f.name for f in dataclasses.fields(cls)]
    unknown = [name for name in names if name not in fields]
    if not unknown:
        return
    parts, all_close = [], True
    for name in unknown:
        close = difflib.get_close_matches(str(name), fields, n=1, cutoff=0.6)
        all_close = all_close and bool(close)
        parts.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    listing = "" if all_close else f"; the fields are {', '.join(fields)}"
    prefix = f"{where} " if where else ""
    raise ConfigError(f"{prefix}unknown {cls.__name__} field {', '.join(parts)}{listing}")


class CheckedFields:
    """Mixin for a config dataclass: an unknown keyword argument is a `ConfigError` naming the closest field
    (not a bare `TypeError` from the generated `__init__`)."""

    def __new__(cls, *args: Any, **kwargs: Any):
        check_field_names(cls, kwargs)
        return super().__new__(cls)


def check_budget(total_steps: Any, name: str = "total_steps") -> int:
    """`total_steps` as a Python int, or an `ArgumentError`: it must be a positive whole number (a NumPy
    integer, or a float such as 5e4 with no fractional part, is accepted)."""
    if isinstance(total_steps, numbers.Real) and not isinstance(total_steps, bool) and math.isfinite(total_steps):
        whole = int(cast(SupportsInt, total_steps))  # every real number has __int__; numbers.Real does not say so
        if whole == total_steps and whole >= 1:
            return whole
    raise ArgumentError(f"{name}={total_steps!r} is invalid: must be a positive integer number of env steps")
