"""tfdqn: Deep Q-Networks on Keras 3 (TensorFlow backend) and Gymnasium, extensible through listeners."""

from tfdqn.agent import DQNAgent, td_targets
from tfdqn.config import DQNConfig
from tfdqn.envs import make_env, make_vec_env
from tfdqn.errors import ConfigError, EnvError, ModelFileError, TfdqnError, TrainingError
from tfdqn.evaluation import EvaluationResult, evaluate, evaluate_model, greedy_policy, record_gif
from tfdqn.listeners import (Listener, ListenerList, LivePlot, MetricsLogger, ModelCheckpoint,
                             PeriodicEvaluation, ProgressLogger, StopOnReward)
from tfdqn.model_io import load_q_network, save_model
from tfdqn.networks import build_q_network, clone_network
from tfdqn.replay import Batch, ReplayBuffer
from tfdqn.schedules import ExponentialSchedule, LinearSchedule, MultiplicativeSchedule, make_schedule
from tfdqn.training import Trainer, train

__version__ = "0.1.0"

__all__ = ["Batch", "ConfigError", "DQNAgent", "DQNConfig", "EnvError", "EvaluationResult",
           "ExponentialSchedule", "LinearSchedule", "Listener", "ListenerList", "LivePlot", "MetricsLogger",
           "ModelCheckpoint", "ModelFileError", "MultiplicativeSchedule", "PeriodicEvaluation",
           "ProgressLogger", "ReplayBuffer", "StopOnReward", "TfdqnError", "Trainer", "TrainingError",
           "build_q_network", "clone_network", "evaluate", "evaluate_model", "greedy_policy",
           "load_q_network", "make_env", "make_schedule", "make_vec_env", "record_gif", "save_model",
           "td_targets", "train"]
