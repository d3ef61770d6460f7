"""NumPy random generators to and from JSON-ready states (no pickle), for exact resumption."""

from __future__ import annotations

from typing import Any

import numpy as np


def generator_state(generator: np.random.Generator) -> dict[str, Any]:
    """The bit generator's state, a JSON-ready dict (MT19937's key array as a list of ints)."""
    return _plain(dict(generator.bit_generator.state))


def _plain(value: Any) -> Any:
    """`value` with every NumPy array in it (at any depth of dicts) turned into a list."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value.tolist() if isinstance(value, np.ndarray) else value


def generator_from_state(state: dict[str, Any]) -> np.random.Generator:
    """A new Generator continuing exactly from `state` (any NumPy bit generator: PCG64, Philox, ...)."""
    bit_generator = getattr(np.random, state["bit_generator"])()
    bit_generator.state = state
    return np.random.Generator(bit_generator)
