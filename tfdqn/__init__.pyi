"""The public names of `tfdqn`, for readers, editors and type checkers: the one list of them.

`tfdqn/__init__.py` reads this file to load each name lazily, from the module named here, on first use.
"""

__version__: str

from tfdqn.config import DQNConfig as DQNConfig
from tfdqn.dqn.agent import DQNAgent as DQNAgent
from tfdqn.dqn.evaluation import (
    EvaluationResult as EvaluationResult,
    evaluate as evaluate,
    evaluate_model as evaluate_model,
    greedy_policy as greedy_policy,
    record_gif as record_gif,
    render_episode as render_episode,
)
from tfdqn.dqn.policy import Policy as Policy, load_policy as load_policy
from tfdqn.dqn.schedules import (
    ExponentialSchedule as ExponentialSchedule,
    LinearSchedule as LinearSchedule,
    MultiplicativeSchedule as MultiplicativeSchedule,
    make_schedule as make_schedule,
)
from tfdqn.dqn.targets import td_targets as td_targets
from tfdqn.dqn.video import record_video as record_video
from tfdqn.envs.atari import atari_env_id as atari_env_id
from tfdqn.envs.make import make_env as make_env, make_vec_env as make_vec_env
from tfdqn.envs.pixels import PIXEL_CARTPOLE_ID as PIXEL_CARTPOLE_ID
from tfdqn.envs.spaces import flatten_observation as flatten_observation
from tfdqn.errors import (
    ArgumentError as ArgumentError,
    ConfigError as ConfigError,
    EnvError as EnvError,
    ListenerError as ListenerError,
    ModelFileError as ModelFileError,
    NonFiniteError as NonFiniteError,
    TfdqnError as TfdqnError,
    TrainingError as TrainingError,
    TrainingInterrupted as TrainingInterrupted,
)
from tfdqn.extras import ExtraNotInstalled as ExtraNotInstalled
from tfdqn.listeners.base import Listener as Listener, ListenerWarning as ListenerWarning
from tfdqn.listeners.checkpoint import ModelCheckpoint as ModelCheckpoint
from tfdqn.listeners.dispatch import ListenerList as ListenerList
from tfdqn.listeners.divergence import DivergenceAlarm as DivergenceAlarm, DivergenceWarning as DivergenceWarning
from tfdqn.listeners.evaluation import PeriodicEvaluation as PeriodicEvaluation, StopOnReward as StopOnReward
from tfdqn.listeners.keras_callbacks import KerasCallbacks as KerasCallbacks
from tfdqn.listeners.metrics import MetricsLogger as MetricsLogger
from tfdqn.listeners.mlflow import MLflowLogger as MLflowLogger
from tfdqn.listeners.plotting import LivePlot as LivePlot
from tfdqn.listeners.progress import ProgressLogger as ProgressLogger
from tfdqn.listeners.tensorboard import TensorBoard as TensorBoard
from tfdqn.listeners.video import VideoRecorder as VideoRecorder
from tfdqn.networks.build import (
    build_conv_q_network as build_conv_q_network,
    build_mlp_q_network as build_mlp_q_network,
    build_q_network as build_q_network,
    clone_network as clone_network,
)
from tfdqn.networks.export import load_q_network as load_q_network, save_model as save_model
from tfdqn.networks.export_formats import ExportError as ExportError
from tfdqn.networks.exporter import export as export
from tfdqn.presets import (
    BUDGETS as BUDGETS,
    PRESETS as PRESETS,
    budget_for_env as budget_for_env,
    config_for_env as config_for_env,
    preset_for_env as preset_for_env,
)
from tfdqn.replay.buffer import Batch as Batch, ReplayBuffer as ReplayBuffer
from tfdqn.replay.pixel import PixelReplayBuffer as PixelReplayBuffer
from tfdqn.runtime import configure_threads as configure_threads, enable_determinism as enable_determinism
from tfdqn.tabular.config import TabularConfig as TabularConfig
from tfdqn.tabular.dp import (
    compare_with_optimum as compare_with_optimum,
    max_success_probability as max_success_probability,
    success_probability as success_probability,
    value_iteration as value_iteration,
)
from tfdqn.tabular.frozenlake import plot_policy as plot_policy, record_episode_gif as record_episode_gif
from tfdqn.tabular.mdp import TabularMDP as TabularMDP, make_frozenlake as make_frozenlake
from tfdqn.tabular.qlearning import QLearner as QLearner, train_q_table as train_q_table
from tfdqn.training.api import train as train
from tfdqn.training.resume import load_training_state as load_training_state, save_training_state as save_training_state
from tfdqn.training.trainer import Trainer as Trainer
