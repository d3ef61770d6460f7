"""Listeners: objects the training loop calls at each event (see `Listener` for the hooks).

Built-ins are imported lazily, so code that only needs `Listener` (e.g. tabular Q-learning) does not
load TensorFlow.
"""

from __future__ import annotations

import importlib
from typing import Any

from tfdqn.listeners.base import HOOKS, Listener, ListenerWarning
from tfdqn.listeners.dispatch import ListenerList

_LAZY = {
    "DivergenceAlarm": "divergence",
    "DivergenceWarning": "divergence",
    "ModelCheckpoint": "checkpoint",
    "PeriodicEvaluation": "evaluation",
    "RunView": "view",
    "StopOnReward": "evaluation",
    "EvaluationEnv": "evaluation",
    "MetricsLogger": "metrics",
    "LivePlot": "plotting",
    "ProgressLogger": "progress",
    "KerasCallbacks": "keras_callbacks",
    "TensorBoard": "tensorboard",
    "MLflowLogger": "mlflow",
    "VideoRecorder": "video",
}

__all__ = ["HOOKS", "Listener", "ListenerList", "ListenerWarning", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tfdqn.listeners' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"tfdqn.listeners.{module}"), name)
    globals()[name] = value
    return value
