"""NumPy random generators to and from JSON-ready states (no pickle), for exact resumption."""

from __future__ import annotations

from typing import Any

import numpy as np


def generator_state(generator: np.random.Generator) -> dict[str, Any]:
    """The bit generator's state, a JSON-ready dict."""
    return dict(generator.bit_generator.state)


def generator_from_state(state: dict[str, Any]) -> np.random.Generator:
    """A new Generator continuing exactly from `state` (any NumPy bit generator: PCG64, Philox, ...)."""
    bit_generator = getattr(np.random, state["bit_generator"])()
    bit_generator.state = state
    return np.random.Generator(bit_generator)
