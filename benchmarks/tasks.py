"""The side-by-side benchmarks' tasks and systems: each task's evaluation protocol and budget, RL-Zoo's tuned
Stable-Baselines3 settings for it, those settings in tfdqn's terms, and the optional extras SB3 needs."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

from tfdqn.presets import RAINBOW_OFF

ENV_ID = "CartPole-v1"
THRESHOLD = 475.0
EVAL_EVERY = 1_000
EVAL_EPISODES = 20
FINAL_EPISODES = 100
CONFIRM_EPISODES = 100
BUDGET = 50_000

# RL-Zoo's tuned DQN hyperparameters for CartPole-v1 (rl-baselines3-zoo, hyperparams/dqn.yml).
RL_ZOO_CARTPOLE = {
    "learning_rate": 2.3e-3,
    "batch_size": 64,
    "buffer_size": 100_000,
    "learning_starts": 1_000,
    "gamma": 0.99,
    "target_update_interval": 10,
    "train_freq": 256,
    "gradient_steps": 128,
    "exploration_fraction": 0.16,
    "exploration_final_eps": 0.04,
    "policy_kwargs": {"net_arch": [256, 256]},
}
# RL-Zoo's tuned DQN hyperparameters for LunarLander (hyperparams/dqn.yml; gradient_steps -1 there means one
# gradient step per env step collected, here 4 every 4).
RL_ZOO_LUNARLANDER = {
    "learning_rate": 6.3e-4,
    "batch_size": 128,
    "buffer_size": 50_000,
    "learning_starts": 0,
    "gamma": 0.99,
    "target_update_interval": 250,
    "train_freq": 4,
    "gradient_steps": 4,
    "exploration_fraction": 0.12,
    "exploration_final_eps": 0.1,
    "policy_kwargs": {"net_arch": [256, 256]},
}

TASKS: dict[str, dict[str, Any]] = {
    "CartPole-v1": {
        "threshold": 475.0,
        "budget": 50_000,
        "eval_every": 1_000,
        "eval_episodes": 20,
        "zoo": RL_ZOO_CARTPOLE,
    },
    "LunarLander-v3": {
        "threshold": 200.0,
        "budget": 100_000,
        "eval_every": 2_000,
        "eval_episodes": 20,
        "zoo": RL_ZOO_LUNARLANDER,
    },
}
"""Each task's evaluation protocol (threshold, step budget, greedy evaluation schedule) and SB3 settings."""

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
    """The DQNConfig fields that reproduce RL-Zoo's settings for `env_id` (and SB3's fixed choices) in tfdqn."""
    z = TASKS[env_id]["zoo"]
    return {
        "learning_rate": z["learning_rate"],
        "batch_size": z["batch_size"],
        "buffer_size": z["buffer_size"],
        "learning_starts": z["learning_starts"],
        "gamma": z["gamma"],
        "target_update_interval": z["target_update_interval"],
        "train_freq": z["train_freq"],
        "gradient_steps": z["gradient_steps"],
        "exploration": "linear",
        "epsilon_start": 1.0,
        "epsilon_end": z["exploration_final_eps"],
        "epsilon_decay_steps": int(z["exploration_fraction"] * budget),
        "hidden_sizes": tuple(z["policy_kwargs"]["net_arch"]),
        # SB3 DQN's fixed choices: global grad-norm clip 10, smooth L1 (= Huber, delta 1), plain DQN
        # target, hard target copy, constant learning rate, PyTorch's initialisation, one environment,
        # none of Rainbow's parts (one-step returns, uniform replay, a plain head, epsilon-greedy).
        "max_grad_norm": 10.0,
        "loss": "huber",
        "double_dqn": False,
        "tau": 1.0,
        "num_envs": 1,
        "learning_rate_final": None,
        "initializer": "fan_in_uniform",
        **RAINBOW_OFF,
    }


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
