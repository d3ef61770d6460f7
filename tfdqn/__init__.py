"""tfdqn: Deep Q-Networks on Keras 3 (TensorFlow backend) and Gymnasium, extensible through listeners.

Names are imported lazily, so `import tfdqn` (and the scripts' `--help`) is instant; TensorFlow loads
on first use of a name that needs it.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "tfdqn.dqn.agent": ["DQNAgent", "td_targets"],
    "tfdqn.config": ["DQNConfig"],
    "tfdqn.envs.make": ["make_env", "make_vec_env"],
    "tfdqn.errors": [
        "ArgumentError",
        "ConfigError",
        "EnvError",
        "ListenerError",
        "ModelFileError",
        "NonFiniteError",
        "TfdqnError",
        "TrainingError",
        "TrainingInterrupted",
    ],
    "tfdqn.dqn.evaluation": [
        "EvaluationResult",
        "evaluate",
        "evaluate_model",
        "greedy_policy",
        "record_gif",
        "render_episode",
    ],
    "tfdqn.listeners": [
        "DivergenceAlarm",
        "DivergenceWarning",
        "Listener",
        "ListenerList",
        "LivePlot",
        "MetricsLogger",
        "ModelCheckpoint",
        "PeriodicEvaluation",
        "ProgressLogger",
        "StopOnReward",
        "KerasCallbacks",
        "ListenerWarning",
        "TensorBoard",
    ],
    "tfdqn.networks.export": ["load_q_network", "save_model"],
    "tfdqn.networks.build": ["build_conv_q_network", "build_mlp_q_network", "build_q_network", "clone_network"],
    "tfdqn.presets": ["BUDGETS", "PRESETS", "budget_for_env", "config_for_env", "preset_for_env"],
    "tfdqn.envs.pixels": ["PIXEL_CARTPOLE_ID", "atari_env_id"],
    "tfdqn.replay.buffer": ["Batch", "ReplayBuffer"],
    "tfdqn.replay.pixel": ["PixelReplayBuffer"],
    "tfdqn.runtime": ["configure_threads"],
    "tfdqn.training.resume": ["load_training_state", "save_training_state"],
    "tfdqn.envs.spaces": ["flatten_observation"],
    "tfdqn.dqn.schedules": ["ExponentialSchedule", "LinearSchedule", "MultiplicativeSchedule", "make_schedule"],
    "tfdqn.training.trainer": ["Trainer"],
    "tfdqn.training.api": ["train"],
    "tfdqn.tabular.config": ["TabularConfig"],
    "tfdqn.tabular.dp": ["compare_with_optimum", "max_success_probability", "success_probability", "value_iteration"],
    "tfdqn.tabular.mdp": ["TabularMDP", "make_frozenlake"],
    "tfdqn.tabular.qlearning": ["QLearner", "train_q_table"],
    "tfdqn.tabular.frozenlake": ["plot_policy", "record_episode_gif"],
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'tfdqn' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
