"""`train()`: one call from a config to a trained agent, for notebooks and scripts."""

from __future__ import annotations

from collections.abc import Iterable

from tfdqn.config import DQNConfig, check_config
from tfdqn.listeners.base import Listener
from tfdqn.listeners.dispatch import ListenerList
from tfdqn.presets import config_for_env
from tfdqn.runtime import enable_determinism
from tfdqn.training.run import assemble
from tfdqn.training.trainer import Trainer
from tfdqn.validation import check_budget


def train(
    config: DQNConfig | None = None,
    total_steps: int = 50_000,
    listeners: Iterable[Listener] | Listener = (),
    *,
    deterministic: bool = False,
) -> Trainer:
    """Build the environment(s), the agent and a `Trainer` from `config` (default: what the training command
    uses for CartPole-v1, `config_for_env("CartPole-v1")`), train, and return the trainer.

    The arguments are checked before anything is built: a bad one is an `ArgumentError` saying what to pass.
    `listeners` may be one listener or a list; Keras callbacks in it are wrapped in `tfdqn.KerasCallbacks`.
    `deterministic=True` turns on TensorFlow op determinism (`tfdqn.enable_determinism`, as `--deterministic`)
    for the rest of the process: a seed then gives identical metrics and weights on this machine.

    The returned trainer's environment stays open, so `trainer.train(more_steps)` continues the run (the budget
    counts from the run's first step, and the listeners go on where they stopped: see `Trainer.train`);
    `trainer.env.close()` releases it.
    """
    config = check_config(config_for_env("CartPole-v1") if config is None else config)
    total_steps = check_budget(total_steps)
    if deterministic:
        enable_determinism()
    run = assemble(config, listeners=ListenerList(listeners))
    run.train(total_steps)
    return run.trainer
