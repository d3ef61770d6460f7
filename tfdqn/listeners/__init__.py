"""Listeners: objects the training loop calls at each event (see `Listener` for the hooks)."""

from tfdqn.listeners.base import HOOKS, Listener, ListenerList
from tfdqn.listeners.checkpoint import ModelCheckpoint
from tfdqn.listeners.evaluation import PeriodicEvaluation, StopOnReward
from tfdqn.listeners.metrics import MetricsLogger
from tfdqn.listeners.plotting import LivePlot
from tfdqn.listeners.progress import ProgressLogger

__all__ = ["HOOKS", "Listener", "ListenerList", "LivePlot", "MetricsLogger", "ModelCheckpoint",
           "PeriodicEvaluation", "ProgressLogger", "StopOnReward"]
