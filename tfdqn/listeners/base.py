"""`Listener`, the base class of everything that watches training, and `ListenerList`, which calls them.

Like Keras callbacks: every hook is a documented no-op taking a `logs` dict; a subclass overrides the
ones it needs. `ListenerList` only calls per-step hooks on listeners that override them, so an unused
hook costs nothing in the environment loop.
"""

from __future__ import annotations

import collections
from typing import TYPE_CHECKING, Any, Iterable

from tfdqn.errors import ListenerError, TrainingError

if TYPE_CHECKING:
    from tfdqn.training import Trainer

HOOKS = ("on_train_begin", "on_train_end", "on_episode_begin", "on_episode_end", "on_step",
         "on_replay_start", "on_replay_end", "on_replay_fail", "on_target_update", "on_evaluation")


def _default(method):
    method._tfdqn_default = True
    return method


class Listener:
    """Base class for training listeners. `self.trainer` is set before `on_train_begin`.

    Stop training from any hook with `self.trainer.stop_training = True`.
    """

    trainer: "Trainer | None" = None

    def set_trainer(self, trainer: "Trainer") -> None:
        """Called by the trainer before training begins."""
        self.trainer = trainer

    def get_state(self) -> dict[str, Any]:
        """JSON-ready state saved with a full training checkpoint (override to resume exactly)."""
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what `get_state` returned, before `on_train_begin` of a resumed run."""

    @_default
    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Training starts. logs: `total_steps`, `step` (0, or the step training resumes from),
        `resumed` (bool), `config` (dict)."""

    @_default
    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Training ended, also on an error or a signal. logs: `step`, `episodes`, `updates`,
        `wall_seconds`, `stopped` (by a listener), `interrupted` (signal name or None), `error` (message or
        None), `healthy` (False when the weights may hold NaN: do not save them)."""

    @_default
    def on_episode_begin(self, episode: int, logs: dict[str, Any] | None = None) -> None:
        """An episode starts. logs: `step`, `env_index` (which parallel environment)."""

    @_default
    def on_episode_end(self, episode: int, logs: dict[str, Any] | None = None) -> None:
        """An episode ended. logs: `return`, `length`, `step`, `epsilon`, `mean_return_100`, `loss`,
        `mean_q` (latest update, NaN before the first), `terminated`, `truncated`, `env_index`,
        `wall_seconds`."""

    @_default
    def on_step(self, step: int, logs: dict[str, Any] | None = None) -> None:
        """After each environment step (step counts all parallel envs). logs: `epsilon`, `reward`
        (array over envs), `terminated`, `truncated`. Only called if some listener overrides it."""

    @_default
    def on_replay_start(self, logs: dict[str, Any] | None = None) -> None:
        """A training call is about to run. logs: `step`, `gradient_steps`."""

    @_default
    def on_replay_end(self, logs: dict[str, Any] | None = None) -> None:
        """A training call finished. logs: `step`, `loss`, `mean_q` (mean Q of the actions trained on),
        `max_abs_q` (the largest of those |Q|), `gradient_steps`, `updates`."""

    @_default
    def on_replay_fail(self, logs: dict[str, Any] | None = None) -> None:
        """A training call was due but skipped: not enough transitions. logs: `step`, `buffer_size`,
        `learning_starts`."""

    @_default
    def on_target_update(self, logs: dict[str, Any] | None = None) -> None:
        """The target network was updated. logs: `step`, `tau`."""

    @_default
    def on_evaluation(self, logs: dict[str, Any] | None = None) -> None:
        """A greedy evaluation finished. logs: `step`, `mean_return`, `std_return`, `episodes`, `kind`
        ("periodic" or "confirmation"), `returns` (list)."""


def overrides(listener: Listener, hook: str) -> bool:
    """True if `listener` implements `hook` itself rather than inheriting the no-op."""
    return not getattr(getattr(type(listener), hook), "_tfdqn_default", False)


class ListenerList:
    """Dispatches each event to the listeners that override its hook, in registration order.

    An exception in a listener becomes a `TrainingError` naming the listener and the hook.
    """

    def __init__(self, listeners: Iterable[Listener] = ()):
        self.listeners: list[Listener] = []
        self._by_hook: dict[str, list[Listener]] = {h: [] for h in HOOKS}
        self._queue: collections.deque[tuple[str, tuple]] = collections.deque()
        self._dispatching = False
        for listener in listeners:
            self.append(listener)

    def append(self, listener: Listener) -> None:
        if not isinstance(listener, Listener):
            raise TypeError(f"{listener!r} is not a tfdqn.Listener")
        self.listeners.append(listener)
        for hook in HOOKS:
            if overrides(listener, hook):
                self._by_hook[hook].append(listener)

    def __iter__(self):
        return iter(self.listeners)

    def __len__(self) -> int:
        return len(self.listeners)

    def wants(self, hook: str) -> bool:
        """Whether any listener overrides `hook` (lets the loop skip building logs nobody reads)."""
        return bool(self._by_hook[hook])

    def set_trainer(self, trainer: "Trainer") -> None:
        for listener in self.listeners:
            listener.set_trainer(trainer)

    def call(self, hook: str, *args: Any) -> None:
        """Call `hook(*args)` on every listener that overrides it.

        An event emitted from inside a hook (e.g. an evaluation emitting `on_evaluation`) is queued and
        dispatched after the current event has reached every listener, so all see events in one order.
        """
        self._queue.append((hook, args))
        if self._dispatching:
            return
        self._dispatching = True
        try:
            while self._queue:
                name, event_args = self._queue.popleft()
                for listener in self._by_hook[name]:
                    self._invoke(listener, name, event_args)
        finally:
            self._dispatching = False
            self._queue.clear()

    @staticmethod
    def _invoke(listener: Listener, hook: str, args: tuple) -> None:
        try:
            getattr(listener, hook)(*args)
        except TrainingError:
            raise
        except Exception as exc:
            raise ListenerError(f"listener {type(listener).__name__}.{hook} raised "
                                f"{type(exc).__name__}: {exc}") from exc

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self.call("on_train_begin", logs)

    def on_train_end(self, logs: dict[str, Any]) -> None:
        self.call("on_train_end", logs)

    def on_episode_begin(self, episode: int, logs: dict[str, Any]) -> None:
        self.call("on_episode_begin", episode, logs)

    def on_episode_end(self, episode: int, logs: dict[str, Any]) -> None:
        self.call("on_episode_end", episode, logs)

    def on_step(self, step: int, logs: dict[str, Any]) -> None:
        self.call("on_step", step, logs)

    def on_replay_start(self, logs: dict[str, Any]) -> None:
        self.call("on_replay_start", logs)

    def on_replay_end(self, logs: dict[str, Any]) -> None:
        self.call("on_replay_end", logs)

    def on_replay_fail(self, logs: dict[str, Any]) -> None:
        self.call("on_replay_fail", logs)

    def on_target_update(self, logs: dict[str, Any]) -> None:
        self.call("on_target_update", logs)

    def on_evaluation(self, logs: dict[str, Any]) -> None:
        self.call("on_evaluation", logs)
