"""`RunView`: what a listener sees of the run it watches, as `self.trainer`, and nothing more.

The DQN `Trainer` hands its listeners a `RunView` of itself, not itself: the counters, the agent, the config and
the replay buffer (read-only), `stop_training`, and the services a listener may call (work deferred to a quiet
point, an evaluation announced to every listener, the training state saved). The loop's RNG, environment, adder
and listener list stay the Trainer's, so a listener cannot change how training runs but through those.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import gymnasium as gym

    from tfdqn.config import DQNConfig
    from tfdqn.dqn.agent import DQNAgent
    from tfdqn.listeners.dispatch import ListenerList
    from tfdqn.replay.buffer import ReplayBuffer
    from tfdqn.replay.prioritized import ExtendedReplay

VIEW_NAMES = (
    "step",
    "updates",
    "episodes",
    "num_envs",
    "agent",
    "config",
    "replay",
    "stop_training",
    "at_quiet_point",
    "emit_evaluation",
    "save_state",
)
"""Every name a `RunView` shows (the Listener docs promise these)."""


class Watched(Protocol):
    """What a `RunView` reads of the run it shows (the DQN `Trainer` has all of it)."""

    step: int
    updates: int
    episodes: int
    stop_training: bool
    agent: DQNAgent
    config: DQNConfig
    replay: ReplayBuffer | ExtendedReplay
    env: gym.vector.VectorEnv
    listeners: ListenerList

    def save_state(self, directory: str | os.PathLike) -> Path: ...


class RunView:
    """A listener's narrow view of the DQN run it watches (`self.trainer` in a listener).

    Read-only: `step` (environment transitions, summed over the parallel environments), `updates` (gradient
    steps), `episodes` (finished), `num_envs`, `agent` (the `DQNAgent`: its networks and `greedy` policy), `config`
    (the `DQNConfig`) and `replay` (the replay buffer). Read and write: `stop_training` (set it True to stop, as
    `self.model.stop_training`). Services: `at_quiet_point(work)`, `emit_evaluation(logs)` and `save_state(dir)`.
    Any other name raises `AttributeError`, and so does assigning one: the Trainer itself stays out of reach.
    """

    __slots__ = ("__run",)

    def __init__(self, run: Watched) -> None:
        self.__run = run

    @property
    def step(self) -> int:
        """Environment transitions collected so far, summed over the parallel environments."""
        return self.__run.step

    @property
    def updates(self) -> int:
        """Gradient steps taken so far."""
        return self.__run.updates

    @property
    def episodes(self) -> int:
        """Episodes finished so far (not those still running)."""
        return self.__run.episodes

    @property
    def num_envs(self) -> int:
        """How many environments run in parallel."""
        return self.__run.env.num_envs

    @property
    def agent(self) -> DQNAgent:
        """The agent being trained: its online and target networks, optimizer and `greedy` policy."""
        return self.__run.agent

    @property
    def config(self) -> DQNConfig:
        """The run's configuration."""
        return self.__run.config

    @property
    def replay(self) -> ReplayBuffer | ExtendedReplay:
        """The replay buffer training samples from."""
        return self.__run.replay

    @property
    def stop_training(self) -> bool:
        """Whether training was asked to stop; set it True to stop after the current environment step."""
        return self.__run.stop_training

    @stop_training.setter
    def stop_training(self, value: bool) -> None:
        self.__run.stop_training = bool(value)

    def at_quiet_point(self, work: Callable[[], Any]) -> None:
        """Run `work` once at the next quiet point: between steps, once every event so far has reached every
        listener (and after `on_train_end`), so a checkpoint written there holds what every listener saw."""
        self.__run.listeners.at_quiet_point(work)

    def emit_evaluation(self, logs: dict[str, Any]) -> None:
        """Announce a finished evaluation: `on_evaluation(logs)` reaches every listener (after the current event
        has, when called from a hook). logs: `kind`, `step`, `episodes`, `mean_return`, `std_return`, `returns`."""
        self.__run.listeners.on_evaluation(logs)

    def save_state(self, directory: str | os.PathLike) -> Path:
        """Write the run's full training state under `directory` (`tfdqn.training.resume`); returns its folder.
        Call it at a quiet point (`at_quiet_point`), as `ModelCheckpoint` does."""
        return self.__run.save_state(directory)

    def __repr__(self) -> str:
        return f"RunView(step={self.step}, episodes={self.episodes}, updates={self.updates})"

    if not TYPE_CHECKING:  # for mypy a name the view does not show stays an error, not `Any`

        def __getattr__(self, name: str) -> Any:
            """A name the view does not show: an `AttributeError` that lists the ones it does."""
            if name.startswith("__"):  # copy, pickle and friends probing for optional protocols
                raise AttributeError(name)
            hint = ": call at_quiet_point and emit_evaluation on the view itself" if name == "listeners" else ""
            raise AttributeError(
                f"a listener's view of the run has no {name!r}{hint} (it shows {', '.join(VIEW_NAMES)})"
            )
