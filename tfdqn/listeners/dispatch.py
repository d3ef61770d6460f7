"""`ListenerList`: delivers each training event to the listeners that override its hook, in order, and
`as_listeners`, which turns what a user passes as `listeners=` into listeners (Keras callbacks wrapped)."""

from __future__ import annotations

import collections
import copy
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from tfdqn.errors import ArgumentError, ListenerError, TrainingError
from tfdqn.listeners.base import HOOKS, Listener, overrides, raise_first


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
            from tfdqn.listeners.keras_callbacks import KerasCallbacks  # loads Keras: only for a Keras callback

            result.append(KerasCallbacks([item]))
        elif isinstance(item, type) and (issubclass(item, Listener) or _is_keras_callback(item, cls=True)):
            raise ArgumentError(f"{item.__name__} is a class, not a listener: did you mean {item.__name__}()?")
        else:
            raise ArgumentError(
                f"{item!r} is not a tfdqn.Listener (subclass tfdqn.Listener, or wrap a Keras "
                "callback in tfdqn.KerasCallbacks([...]))"
            )
    return result


_CONTAINERS = (dict, list, set)


def _own_copy(logs: dict[str, Any]) -> dict[str, Any]:
    """A copy of `logs` a listener may change freely: the dict, and any dict, list or set in it (arrays in
    logs are read-only views, shared)."""
    return {k: copy.deepcopy(v) if type(v) in _CONTAINERS else v for k, v in logs.items()}


def _is_keras_callback(obj: Any, cls: bool = False) -> bool:
    """Whether `obj` is a Keras callback (with `cls`, a Keras callback class), without importing Keras."""
    keras = sys.modules.get("keras")  # not loaded: then nothing can be a Keras callback
    if keras is None:
        return False
    base = keras.callbacks.Callback
    return issubclass(obj, base) if cls else isinstance(obj, base)


class ListenerList:
    """Dispatches each event to the listeners that override its hook, in registration order.

    An exception in a listener becomes a `ListenerError` naming the listener and the hook. Each listener gets
    its own copy of the `logs` dict (lists, dicts and sets in it copied too), so none can change what the
    others see. The events that open or close something are paired per listener (see `Listener`).
    """

    def __init__(self, listeners: Iterable[Listener] | Listener = ()):
        self.listeners: list[Listener] = []
        self._by_hook: dict[str, list[Listener]] = {h: [] for h in HOOKS}
        self._wanting: dict[str, set[int]] = {h: set() for h in HOOKS}  # id()s of the listeners overriding a hook
        self._queue: collections.deque[tuple[str, tuple]] = collections.deque()
        self._dispatching = False
        self._training: set[int] = set()  # listeners that received on_train_begin and not yet on_train_end
        self._episodes: dict[int, set[int]] = {}  # episode -> the listeners that received its begin, not its end
        self.deferred: list[Callable[[], Any]] = []  # work for the next quiet point (`at_quiet_point`)
        for listener in as_listeners(listeners):
            self.append(listener)

    def append(self, listener: Listener) -> None:
        """Add `listener` last; the same instance given twice is an `ArgumentError` (it would get every event
        twice)."""
        if not isinstance(listener, Listener):
            [listener] = as_listeners([listener])
        if any(listener is other for other in self.listeners):
            raise _given_twice("listener", listener)
        # Keras callbacks wrapped by `KerasCallbacks` (`_tfdqn_wrapped`): one callback in two wrappers is a twin too
        wrapped = [cb for other in self.listeners for cb in getattr(other, "_tfdqn_wrapped", ())]
        for cb in getattr(listener, "_tfdqn_wrapped", ()):
            if any(cb is other for other in wrapped):
                raise _given_twice("Keras callback", cb)
        self.listeners.append(listener)
        for hook in HOOKS:
            if overrides(listener, hook):
                self._by_hook[hook].append(listener)
                self._wanting[hook].add(id(listener))

    def __iter__(self) -> Iterator[Listener]:
        """The listeners, in registration order."""
        return iter(self.listeners)

    def __len__(self) -> int:
        return len(self.listeners)

    def wants(self, hook: str) -> bool:
        """Whether any listener overrides `hook` (lets the loop skip building logs nobody reads)."""
        return bool(self._by_hook[hook])

    def set_trainer(self, trainer: Any) -> None:
        """Hand every listener what it sees of the run: the DQN Trainer's `RunView` (tabular: a `TabularView`)."""
        for listener in self.listeners:
            listener.set_trainer(trainer)

    def set_model(self, model: Any) -> None:
        """Hand every listener the online Q-network."""
        for listener in self.listeners:
            listener.set_model(model)

    def set_params(self, params: dict[str, Any]) -> None:
        """Hand every listener its own deep copy of `params` (its `config` dict included), so none can change
        what the others see."""
        for listener in self.listeners:
            listener.set_params(copy.deepcopy(params))

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

    def at_quiet_point(self, work: Callable[[], Any]) -> None:
        """Run `work` (once) at the next quiet point of the run: when every event emitted so far has reached every
        listener and the loop is between steps. A checkpoint taken there holds a state every listener agrees
        with (one taken inside `on_step` would miss the evaluation that step queued for later listeners)."""
        self.deferred.append(work)

    def run_quiet_point(self) -> list[BaseException]:
        """Run the work deferred to this quiet point (called by the loop between steps and after
        `on_train_end`), each even if an earlier one fails; returns the failures as `call_all` does."""
        errors: list[BaseException] = []
        while self.deferred:
            work = self.deferred.pop(0)
            try:
                _guarded(work, ())
            except BaseException as exc:  # noqa: BLE001 -- Ctrl-C too: the other work still runs, then it is raised
                errors.append(exc)
        return errors

    def call_all(self, hook: str, *args: Any) -> list[BaseException]:
        """Call `hook(*args)` on every listener due to receive it, whatever any of them raises (any
        `BaseException`: `KeyboardInterrupt` and `SystemExit` too); returns the failures, a listener's
        `Exception` as a `ListenerError`, others as they were. For the paired events the recipients follow the
        pairing rule of `Listener`. Events the hooks emit are dispatched afterwards, as in `call`."""
        errors: list[BaseException] = []
        outer = self._dispatching
        self._dispatching = True
        wanting = self._wanting[hook]
        try:
            for listener in self._recipients(hook, args):
                if id(listener) not in wanting:
                    continue
                try:
                    self._invoke(listener, hook, args)
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

    def _recipients(self, hook: str, args: tuple) -> Iterator[Listener]:
        """The listeners due to receive `hook`, in order, each recorded as it is reached (so a dispatch cut
        short leaves exact books): a begin opens a pair for every listener, an end closes only open ones."""
        if hook == "on_train_begin":
            for listener in self.listeners:
                self._training.add(id(listener))
                yield listener
        elif hook == "on_train_end":
            for listener in self.listeners:
                if id(listener) in self._training:
                    self._training.discard(id(listener))
                    yield listener
        elif hook == "on_episode_begin":
            opened = self._episodes.setdefault(args[0], set())
            for listener in self.listeners:
                opened.add(id(listener))
                yield listener
        elif hook == "on_episode_end":
            opened = self._episodes.get(args[0], set())
            for listener in self.listeners:
                if id(listener) in opened:
                    opened.discard(id(listener))
                    yield listener
            if not opened:
                self._episodes.pop(args[0], None)
        else:
            yield from self._by_hook[hook]

    def deliver(self, hook: str, *args: Any) -> None:
        """Call `hook(*args)` on every listener even if some fail, then raise the first failure (later ones
        attached). Used for the events that open or close something: train and episode begin/end."""
        raise_first(self.call_all(hook, *args))

    @staticmethod
    def _invoke(listener: Listener, hook: str, args: tuple) -> None:
        """Call `listener.hook(*args)` with its own copy of the logs; see `_guarded` for what it raises."""
        if args and type(args[-1]) is dict:  # the logs: this listener's own copy
            args = (*args[:-1], _own_copy(args[-1]))
        _guarded(getattr(listener, hook), args, listener, hook)

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


def _guarded(work: Callable[..., Any], args: tuple, listener: Listener | None = None, hook: str = "") -> None:
    """Call `work(*args)`; an `Exception` becomes a `ListenerError` naming the listener and hook (or `work`),
    so the run says who failed. A `TrainingError`, `KeyboardInterrupt` or `SystemExit` stays as it is."""
    try:
        work(*args)
    except TrainingError:
        raise
    except Exception as exc:
        name = getattr(work, "__qualname__", repr(work)) if listener is None else f"{type(listener).__name__}.{hook}"
        raise ListenerError(f"listener {name} raised {type(exc).__name__}: {exc}") from exc


def _given_twice(what: str, obj: Any) -> ArgumentError:
    """The refusal of a listener (or Keras callback) given twice: it would receive every event twice."""
    return ArgumentError(
        f"{what} {type(obj).__name__} ({obj!r}) is given twice: pass each {what} instance once (it would "
        "receive every event twice)"
    )


def read_only(array: np.ndarray) -> np.ndarray:
    """A read-only view of `array` (no copy): what listeners get of the loop's arrays, so none can change
    what the others, or training, see."""
    view = np.asarray(array).view()
    view.setflags(write=False)  # half the cost of `view.flags.writeable = False`
    return view
