"""`RunView`: what a listener sees of the run it watches, as `self.trainer`, and nothing more.

The DQN `Trainer` hands its listeners a `RunView` of itself, not itself: the counters, the agent, the config and
the replay buffer (read-only), `stop_training`, and the services a listener may call (work deferred to a quiet
point, an evaluation announced to every listener, the training state saved). The loop's RNG, environment, adder
and listener list stay the Trainer's, so a listener cannot change how training runs but through those. `View`
is what every run's view shares; tabular Q-learning's (`tfdqn.tabular.view.TabularView`) builds on it too.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    import gymnasium as gym

    from tfdqn.config import DQNConfig
    from tfdqn.dqn.agent import DQNAgent
    from tfdqn.listeners.dispatch import ListenerList
    from tfdqn.replay.buffer import ReplayBuffer
    from tfdqn.replay.prioritized import ExtendedReplay


class Counted(Protocol):
    """What every view reads of the run it shows: its counters and its stop flag."""

    @property
    def step(self) -> int: ...
    @property
    def updates(self) -> int: ...
    @property
    def episodes(self) -> int: ...

    stop_training: bool


RunT = TypeVar("RunT", bound=Counted)


class View(Generic[RunT]):
    """What every listener's view of a run shares (`RunView` for DQN, `tfdqn.tabular.view.TabularView` for tabular
    Q-learning): the counters, `stop_training`, and for any name it does not show an `AttributeError` naming those
    it does, so a listener reaches the run only through what its view shows."""

    __slots__ = ("__run",)
    _shown: ClassVar[tuple[str, ...]] = ("step", "updates", "episodes", "stop_training")
    """Every name the view shows (a subclass lists its own: what its docs promise)."""
    _hints: ClassVar[dict[str, str]] = {}
    """A name the view does not show -> a hint on what to use instead."""

    def __init__(self, run: RunT) -> None:
        self.__run = run

    @property
    def _run(self) -> RunT:
        """The run shown: for the view's own properties, not for listeners."""
        return self.__run

    @property
    def step(self) -> int:
        """Environment steps (transitions) so far, summed over the parallel environments."""
        return self.__run.step

    @property
    def updates(self) -> int:
        """Updates so far: gradient steps (DQN), table updates (tabular: one per step)."""
        return self.__run.updates

    @property
    def episodes(self) -> int:
        """Episodes finished so far (not those still running)."""
        return self.__run.episodes

    @property
    def stop_training(self) -> bool:
        """Whether training was asked to stop; set it True to stop (DQN: after the current environment step)."""
        return self.__run.stop_training

    @stop_training.setter
    def stop_training(self, value: bool) -> None:
        self.__run.stop_training = bool(value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(step={self.step}, episodes={self.episodes}, updates={self.updates})"

    if not TYPE_CHECKING:  # for mypy a name the view does not show stays an error, not `Any`

        def __getattr__(self, name: str) -> Any:
            """A name the view does not show: an `AttributeError` that lists the ones it does."""
            if name.startswith("__"):  # copy, pickle and friends probing for optional protocols
                raise AttributeError(name)
            hint = self._hints.get(name, "")
            raise AttributeError(
                f"a listener's view of the run has no {name!r}{hint} (it shows {', '.join(self._shown)})"
            )


class Watched(Counted, Protocol):
    """What a `RunView` reads of the run it shows (the DQN `Trainer` has all of it)."""

    agent: DQNAgent
    config: DQNConfig
    replay: ReplayBuffer | ExtendedReplay
    env: gym.vector.VectorEnv
    listeners: ListenerList

    def save_state(self, directory: str | os.PathLike) -> Path: ...


class RunView(View[Watched]):
    """A listener's narrow view of the DQN run it watches (`self.trainer` in a listener).

    Read-only: `step` (environment transitions, summed over the parallel environments), `updates` (gradient
    steps), `episodes` (finished), `num_envs`, `agent` (the `DQNAgent`: its networks and `greedy` policy), `config`
    (the `DQNConfig`) and `replay` (the replay buffer). Read and write: `stop_training` (set it True to stop, as
    `self.model.stop_training`). Services: `at_quiet_point(work)`, `emit_evaluation(logs)` and `save_state(dir)`.
    Any other name raises `AttributeError`, and so does assigning one, so the loop's RNG, environment, adder and
    listener list are not part of what a listener is given. Read-only means not reassignable: `agent` and `replay`
    are the live objects (change them and training changes), and Python keeps nothing truly private.
    """

    __slots__ = ()
    _shown = (
        *View._shown[:3],
        "num_envs",
        "agent",
        "config",
        "replay",
        "stop_training",
        "at_quiet_point",
        "emit_evaluation",
        "save_state",
    )
    _hints = {"listeners": ": call at_quiet_point and emit_evaluation on the view itself"}

    @property
    def num_envs(self) -> int:
        """How many environments run in parallel."""
        return self._run.env.num_envs

    @property
    def agent(self) -> DQNAgent:
        """The agent being trained: its online and target networks, optimizer and `greedy` policy."""
        return self._run.agent

    @property
    def config(self) -> DQNConfig:
        """The run's configuration."""
        return self._run.config

    @property
    def replay(self) -> ReplayBuffer | ExtendedReplay:
        """The replay buffer training samples from."""
        return self._run.replay

    def at_quiet_point(self, work: Callable[[], Any]) -> None:
        """Run `work` once at the next quiet point: between steps, once every event so far has reached every
        listener (and after `on_train_end`), so a checkpoint written there holds what every listener saw."""
        self._run.listeners.at_quiet_point(work)

    def emit_evaluation(self, logs: dict[str, Any]) -> None:
        """Announce a finished evaluation: `on_evaluation(logs)` reaches every listener (after the current event
        has, when called from a hook). logs: `kind`, `step`, `episodes`, `mean_return`, `std_return`, `returns`."""
        self._run.listeners.on_evaluation(logs)

    def save_state(self, directory: str | os.PathLike) -> Path:
        """Write the run's full training state under `directory` (`tfdqn.training.resume`); returns its folder.
        Call it at a quiet point (`at_quiet_point`), as `ModelCheckpoint` does."""
        return self._run.save_state(directory)
