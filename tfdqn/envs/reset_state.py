"""What an environment's next unseeded reset starts from, JSON-ready, so a resumed run rebuilds its episodes and
evaluations exactly: its random stream (`np_random`) and, for an environment that carries something across
episodes, that too.

An environment carries state across a reset (MinAtar keeps its last action, which a sticky action repeats on the
next episode's first step) by offering two methods, found through its wrappers: `carried_state()`, JSON-ready,
and `restore_carried_state(state)`. Others have only their random stream, as Gymnasium's environments.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from tfdqn.rng import generator_from_state, generator_state

CARRIED = "carried_state"
RESTORE_CARRIED = "restore_carried_state"


def reset_state(env: gym.Env) -> dict[str, Any]:
    """`{"rng": ...}` (the state of `env.np_random`), with `"carried"` when `env` carries state across resets."""
    return {"rng": generator_state(env.np_random), **carried_state(env)}


def carried_state(env: gym.Env) -> dict[str, Any]:
    """`{"carried": ...}` when `env` carries state across resets, else {} (its random stream left untouched)."""
    return {"carried": env.get_wrapper_attr(CARRIED)()} if env.has_wrapper_attr(CARRIED) else {}


def restore_reset_state(env: gym.Env, state: dict[str, Any]) -> None:
    """Put `env` back where `reset_state` found it; a part `state` lacks is left as it is (an episode begun by a
    seeded reset has no `"rng"`, a state of an older tfdqn no `"carried"`)."""
    if "rng" in state:
        env.np_random = generator_from_state(state["rng"])
    if "carried" in state and env.has_wrapper_attr(RESTORE_CARRIED):
        env.get_wrapper_attr(RESTORE_CARRIED)(state["carried"])
