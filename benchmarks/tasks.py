"""The side-by-side benchmarks' tasks and systems: each task's evaluation protocol and budget, RL-Zoo's tuned
Stable-Baselines3 settings for it, those settings in tfdqn's terms, and the optional extras SB3 needs."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

from tfdqn.presets import RL_ZOO, zoo_fields

ENV_ID = "CartPole-v1"
THRESHOLD = 475.0
EVAL_EVERY = 1_000
EVAL_EPISODES = 20
FINAL_EPISODES = 100
CONFIRM_EPISODES = 100
BUDGET = 50_000

TASKS: dict[str, dict[str, Any]] = {
    "CartPole-v1": {
        "threshold": 475.0,
        "budget": 50_000,
        "eval_every": 1_000,
        "eval_episodes": 20,
        "zoo": RL_ZOO["CartPole-v1"],
    },
    "LunarLander-v3": {
        "threshold": 200.0,
        "budget": 100_000,
        "eval_every": 2_000,
        "eval_episodes": 20,
        "zoo": RL_ZOO["LunarLander-v3"],
    },
    "Acrobot-v1": {
        "threshold": -100.0,
        "budget": 100_000,
        "eval_every": 2_000,
        "eval_episodes": 20,
        "zoo": RL_ZOO["Acrobot-v1"],
    },
    "MountainCar-v0": {
        "threshold": -110.0,
        "budget": 120_000,
        "eval_every": 2_000,
        "eval_episodes": 20,
        "zoo": RL_ZOO["MountainCar-v0"],
    },
}
"""Each task's evaluation protocol (threshold: Gymnasium's reward_threshold; step budget: RL-Zoo's n_timesteps;
greedy evaluation schedule) and SB3 settings."""

SYSTEMS: dict[str, str] = {
    "tfdqn_default": "tfdqn, default config",
    "sb3_zoo": "SB3 DQN, RL-Zoo tuned",
    "tfdqn_zoo": "tfdqn, RL-Zoo settings",
    "tutorial": "tutorial-style Keras loop",
}
"""The systems a side-by-side suite runs, and their labels in the report."""
LEARNERS = ("tfdqn_default", "sb3_zoo", "tfdqn_zoo")
"""The systems that learn under the shared protocol (the tutorial loop is timed only)."""

EXTRAS_MESSAGE = "error: the cartpole suite needs torch and stable-baselines3: pip install -r requirements-bench.txt"


def tfdqn_sb3_settings(budget: int = BUDGET, env_id: str = ENV_ID) -> dict[str, Any]:
    """The DQNConfig fields that reproduce RL-Zoo's settings for `env_id` (and SB3's fixed choices) in tfdqn:
    `tfdqn.presets.zoo_fields`, with this suite's defaults."""
    return zoo_fields(env_id, budget)


def system_labels(preset: str | None = None) -> dict[str, str]:
    """`SYSTEMS`, with tfdqn's label naming the preset a suite ran it with (`--preset`)."""
    return {**SYSTEMS, "tfdqn_default": f"tfdqn, --preset {preset}"} if preset else dict(SYSTEMS)


def missing_extras(find_spec: Callable[[str], Any] = importlib.util.find_spec) -> list[str]:
    """The optional packages the side-by-side suites need that are not installed (without importing them)."""
    missing = []
    for module, package in (("torch", "torch"), ("stable_baselines3", "stable-baselines3")):
        try:
            found = find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(package)
    return missing
