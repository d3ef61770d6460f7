"""`Listener`, the base class of everything that watches training, and `ListenerList`, which calls them.

Like Keras callbacks: every hook is a documented no-op taking a `logs` dict; a subclass overrides the
ones it needs. `ListenerList` only calls per-step hooks on listeners that override them, so an unused
hook costs nothing in the environment loop.
"""

from __future__ import annotations

import collections
import difflib
import sys
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from tfdqn.errors import ArgumentError, ListenerError, TrainingError

if TYPE_CHECKING:
    from tfdqn.training.trainer import Trainer

HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_episode_begin",
    "on_episode_end",
    "on_step",
    "on_replay_start",
    "on_replay_end",
    "on_replay_fail",
    "on_target_update",
    "on_evaluation",
)
# Keras callback hooks a Keras user may write by habit, and the tfdqn hook that plays their part.
KERAS_HOOKS = {
    "on_epoch_begin": "on_episode_begin",
    "on_epoch_end": "on_episode_end",
    "on_batch_begin": "on_replay_start",
    "on_batch_end": "on_replay_end",
    "on_train_batch_begin": "on_replay_start",
    "on_train_batch_end": "on_replay_end",
    "on_test_begin": "on_evaluation",
    "on_test_end": "on_evaluation",
}


class ListenerWarning(UserWarning):
    """A listener that will not do what its author meant: a method named like a hook that is not one."""


def _default(method):
    method._tfdqn_default = True
    return method


def closest_hook(name: str) -> str | None:
    """The hook a misspelt or Keras-style `on_*` name most likely means, or None."""
    if name in KERAS_HOOKS:
        return KERAS_HOOKS[name]
    match = difflib.get_close_matches(name, HOOKS, n=1, cutoff=0.6)
    return match[0] if match else None


class Listener:
    """Base class for training listeners: what a Keras callback is to `model.fit`.

    Hooks (each a no-op here; override the ones you need, with the signatures below) are called in this
    order, and the trainer guarantees it, whatever ends training:

    1. `on_train_begin` reaches every listener once per `Trainer.train` call, before anything else.
    2. Each episode gets `on_episode_begin(episode)` before its first step and exactly one
       `on_episode_end(episode)`. Episode numbers increase in the order episodes begin (with N parallel
       environments they may *end* out of order). No episode begins after training was asked to stop.
       Episodes still running when training ends get `on_episode_end` with `logs["completed"] = False`
       (their partial return and length); those that ended get `completed = True`. A later `train` call,
       or a resumed run, begins them again under the same number with `logs["continued"] = True`.
    3. `on_train_end` reaches every listener exactly once however training ends: budget reached, a
       listener stopping it, SIGINT/SIGTERM, a `TfdqnError`, any other exception (from the environment,
       a listener, `SystemExit`, a second Ctrl-C...), a listener failing in any hook, `on_train_end` itself
       included. (Only Ctrl-C pressed *while* the listeners run their `on_train_end` cuts that short.)
       `on_train_begin` too is delivered to every listener even if one of them fails in it.
    4. A listener that raises ends training: the exception becomes a `ListenerError` naming the listener
       and the hook. After `on_train_end` has run everywhere, the *first* error is re-raised; later ones
       are attached to it (`error.later_errors`, and as notes in its traceback).

    Like a Keras callback, a listener sees `self.model` (the online Q-network, set through `set_model`),
    `self.params` (`total_steps`, `start_step`, `num_envs`, `config`; set through `set_params`) and, beyond
    Keras, `self.trainer` (counters, agent, replay buffer). Stop training from any hook with
    `self.model.stop_training = True`, as in Keras, or `self.trainer.stop_training = True`: the current
    environment step finishes (its events included) and no further step or episode begins.

    Defining a method named `on_*` that is not a hook (a typo, or a Keras name like `on_epoch_end`) warns
    with the hook it most likely means (`ListenerWarning`); a hook assigned on an instance is called.
    """

    trainer: Trainer | None = None
    params: dict[str, Any] = {}
    _model: Any = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, value in vars(cls).items():
            if name.startswith("on_") and callable(value) and name not in HOOKS:
                hint = closest_hook(name)
                what = "a Keras callback hook" if name in KERAS_HOOKS else "not a tfdqn hook"
                warnings.warn(
                    f"{cls.__name__}.{name} is {what} and will never be called"
                    + (f"; did you mean {hint}?" if hint else f"; the hooks are {', '.join(HOOKS)}"),
                    ListenerWarning,
                    stacklevel=2,
                )

    @property
    def model(self) -> Any:
        """The online Q-network (a `keras.Model`), as `self.model` in a Keras callback."""
        return self._model

    def set_model(self, model: Any) -> None:
        """Called by the trainer before training begins, with the online Q-network."""
        self._model = model

    def set_params(self, params: dict[str, Any]) -> None:
        """Called by the trainer before training begins: `total_steps`, `start_step`, `num_envs`, `config`."""
        self.params = params

    def set_trainer(self, trainer: Trainer) -> None:
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
        """Training ended, whatever ended it (see the class docstring). logs: `step`, `episodes`, `updates`,
        `wall_seconds`, `stopped` (by a listener), `interrupted` (signal name or None), `error` (message or
        None), `healthy` (False when the weights may hold NaN: do not save them)."""

    @_default
    def on_episode_begin(self, episode: int, logs: dict[str, Any] | None = None) -> None:
        """An episode starts. logs: `step`, `env_index` (which parallel environment), `continued` (True when
        an episode left running by an earlier `train` call, or a resumed run, goes on)."""

    @_default
    def on_episode_end(self, episode: int, logs: dict[str, Any] | None = None) -> None:
        """An episode ended. logs: `return`, `length`, `step`, `epsilon`, `mean_return_100`, `loss`,
        `mean_q` (latest update, NaN before the first), `terminated`, `truncated`, `env_index`,
        `wall_seconds`, `completed` (False for an episode still running when training ended: its return and
        length so far; `mean_return_100` and the episode count do not include it)."""

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
    """True if `listener` implements `hook` itself (in its class, or assigned on the instance) rather than
    inheriting the no-op. A listener may list hooks it does not need this run in `_tfdqn_skip_hooks`."""
    if hook in getattr(listener, "_tfdqn_skip_hooks", ()):
        return False
    if hook in getattr(listener, "__dict__", {}):
        return True
    return not getattr(getattr(type(listener), hook), "_tfdqn_default", False)


def as_listeners(listeners: Any) -> list[Listener]:
    """The listeners of `train(listeners=...)` as a list: one listener or an iterable of them; a Keras
    callback is wrapped in `tfdqn.KerasCallbacks`. Anything else is an `ArgumentError` saying what to pass."""
    if listeners is None:
        return []
    if isinstance(listeners, (Listener, type)) or _is_keras_callback(listeners):
        listeners = [listeners]
    try:
        items = list(listeners)
    except TypeError:
        raise ArgumentError(f"listeners={listeners!r} is invalid: pass a tfdqn.Listener or a list of them") from None
    result = []
    for item in items:
        if isinstance(item, Listener):
            result.append(item)
        elif _is_keras_callback(item):
            from tfdqn.listeners.keras_callbacks import KerasCallbacks

            result.append(KerasCallbacks([item]))
        elif isinstance(item, type) and (issubclass(item, Listener) or _is_keras_callback(item, cls=True)):
            raise ArgumentError(f"{item.__name__} is a class, not a listener: did you mean {item.__name__}()?")
        else:
            raise ArgumentError(
                f"{item!r} is not a tfdqn.Listener (subclass tfdqn.Listener, or wrap a Keras "
                "callback in tfdqn.KerasCallbacks([...]))"
            )
    return result


def _is_keras_callback(obj: Any, cls: bool = False) -> bool:
    keras = sys.modules.get("keras")  # not loaded: then nothing can be a Keras callback
    if keras is None:
        return False
    base = keras.callbacks.Callback
    return issubclass(obj, base) if cls else isinstance(obj, base)


def attach_errors(first: BaseException, later: list[BaseException]) -> BaseException:
    """`first`, carrying `later` errors as `first.later_errors` and as notes in its traceback."""
    if later:
        previous = getattr(first, "later_errors", [])
        try:
            first.later_errors = [*previous, *later]
        except AttributeError:
            pass
        for exc in later:
            first.add_note(f"also raised while training ended: {type(exc).__name__}: {exc}")
    return first


class ListenerList:
    """Dispatches each event to the listeners that override its hook, in registration order.

    An exception in a listener becomes a `ListenerError` naming the listener and the hook.
    """

    def __init__(self, listeners: Iterable[Listener] | Listener = ()):
        self.listeners: list[Listener] = []
        self._by_hook: dict[str, list[Listener]] = {h: [] for h in HOOKS}
        self._queue: collections.deque[tuple[str, tuple]] = collections.deque()
        self._dispatching = False
        for listener in as_listeners(listeners):
            self.append(listener)

    def append(self, listener: Listener) -> None:
        if not isinstance(listener, Listener):
            [listener] = as_listeners([listener])
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

    def set_trainer(self, trainer: Trainer) -> None:
        for listener in self.listeners:
            listener.set_trainer(trainer)

    def set_model(self, model: Any) -> None:
        for listener in self.listeners:
            listener.set_model(model)

    def set_params(self, params: dict[str, Any]) -> None:
        for listener in self.listeners:
            listener.set_params(params)

    def call(self, hook: str, *args: Any) -> None:
        """Call `hook(*args)` on every listener that overrides it; the first failure stops the dispatch.

        An event emitted from inside a hook (e.g. an evaluation emitting `on_evaluation`) is queued and
        dispatched after the current event has reached every listener, so all see events in one order.
        """
        self._queue.append((hook, args))
        if not self._dispatching:
            self._drain()

    def _drain(self) -> None:
        self._dispatching = True
        try:
            while self._queue:
                name, event_args = self._queue.popleft()
                for listener in self._by_hook[name]:
                    self._invoke(listener, name, event_args)
        finally:
            self._dispatching = False
            self._queue.clear()

    def call_all(self, hook: str, *args: Any) -> list[BaseException]:
        """Call `hook(*args)` on every listener that overrides it, even if some fail; returns the failures
        (a listener's exception as a `ListenerError`, `SystemExit` as it was). A `KeyboardInterrupt` is not
        held back: Ctrl-C pressed while listeners close cuts the dispatch short.
        Events the hooks emit are dispatched afterwards, as in `call`."""
        errors: list[BaseException] = []
        outer = self._dispatching
        self._dispatching = True
        try:
            for listener in self._by_hook[hook]:
                try:
                    self._invoke(listener, hook, args)
                except KeyboardInterrupt:
                    raise  # Ctrl-C while the listeners are closing: the user insists, stop now
                except BaseException as exc:  # noqa: BLE001 -- the contract: every listener gets the event
                    errors.append(exc)
        finally:
            self._dispatching = outer
        if not outer and self._queue:
            try:
                self._drain()
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
        return errors

    def deliver(self, hook: str, *args: Any) -> None:
        """Call `hook(*args)` on every listener even if some fail, then raise the first failure (later ones
        attached). Used for the events that open or close something: train and episode begin/end."""
        errors = self.call_all(hook, *args)
        if errors:
            raise attach_errors(errors[0], errors[1:])

    @staticmethod
    def _invoke(listener: Listener, hook: str, args: tuple) -> None:
        try:
            getattr(listener, hook)(*args)
        except TrainingError:
            raise
        except Exception as exc:
            raise ListenerError(
                f"listener {type(listener).__name__}.{hook} raised {type(exc).__name__}: {exc}"
            ) from exc

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        """Delivered to every listener even if one fails; the first failure is raised afterwards."""
        self.deliver("on_train_begin", logs)

    def on_train_end(self, logs: dict[str, Any]) -> None:
        """Delivered to every listener even if one fails; the first failure is raised afterwards."""
        self.deliver("on_train_end", logs)

    def on_episode_begin(self, episode: int, logs: dict[str, Any]) -> None:
        """Delivered to every listener even if one fails, so each one's begins and ends pair up."""
        self.deliver("on_episode_begin", episode, logs)

    def on_episode_end(self, episode: int, logs: dict[str, Any]) -> None:
        """Delivered to every listener even if one fails, so each one's begins and ends pair up."""
        self.deliver("on_episode_end", episode, logs)

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
