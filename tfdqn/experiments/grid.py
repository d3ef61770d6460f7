"""A sweep's configs from the command line and from files: `--set field=v1,v2` flags and grid files, each
expanded into every combination of DQNConfig overrides, named after its fields."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tfdqn.config import read_object_file
from tfdqn.experiments.errors import SweepError


def expand_grid(grid: Mapping[str, Sequence[Any]]) -> dict[str, dict[str, Any]]:
    """{field: [values]} -> every combination, named "field=value,..." ({} -> one config, the defaults)."""
    for field, values in grid.items():
        if not isinstance(values, (list, tuple)) or not values:
            raise SweepError(f"grid field {field!r} needs a non-empty list of values, not {values!r}")
    fields = list(grid)
    configs = {}
    for combo in itertools.product(*(grid[f] for f in fields)):
        overrides = dict(zip(fields, combo))
        configs[",".join(f"{f}={json.dumps(v)}" for f, v in overrides.items()) or "defaults"] = overrides
    return configs


def read_configs(path: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """Configs from a JSON file: {"grid": {field: [values]}} (every combination), {"configs": {name:
    {field: value}}}, or {name: {field: value}} (the screens' candidate files)."""
    data = read_object_file(path)
    if "grid" in data or "configs" in data:
        unknown = sorted(set(data) - {"grid", "configs"})
        if unknown:
            raise SweepError(f"sweep file {str(path)!r}: unknown key(s) {unknown} (expected 'grid' and/or 'configs')")
        configs = dict(data.get("configs", {}))
        configs.update(expand_grid(data.get("grid", {})) if data.get("grid") else {})
        return configs
    return data


def parse_set(items: Iterable[str]) -> dict[str, list[Any]]:
    """`--set field=v1,v2` flags -> a grid {field: [v1, v2]}; each value is JSON (strings may be bare)."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        field, sep, values = item.partition("=")
        if not sep or not field or not values:
            raise SweepError(f"--set {item!r} is not FIELD=VALUE[,VALUE...]")
        grid[field.strip()] = [_json_value(v) for v in _split_values(values)]
    return grid


def combine(file_configs: dict[str, dict[str, Any]], set_flags: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Every `--set` combination on top of each file config (or alone); no configs at all -> the defaults."""
    configs = dict(file_configs)
    if set_flags:
        combos = expand_grid(parse_set(set_flags))
        configs = {
            (f"{base},{name}" if base else name): {**fields, **more}
            for base, fields in (configs or {"": {}}).items()
            for name, more in combos.items()
        }
    return configs or {"defaults": {}}


def _split_values(text: str) -> list[str]:
    """Split on commas outside brackets: "[64,64],[256,256]" -> two values."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch in "[{" and 1 or (-1 if ch in "]}" else 0)
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return parts + [cur]


def _json_value(text: str) -> Any:
    """A flag value as JSON, or the bare string when it is not JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return text.strip()
