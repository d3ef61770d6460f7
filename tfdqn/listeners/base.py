"""`Listener`, the base class of everything that watches training, and `ListenerList`, which calls them.

Like Keras callbacks: every hook is a documented no-op taking a `logs` dict; a subclass overrides the
ones it needs. `ListenerList` only calls per-step hooks on listeners that override them, so an unused
hook costs nothing in the environment loop.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tfdqn.listeners.view import RunView

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
       included. `on_train_begin` too is delivered to every listener even if one of them fails in it.
    4. Pairs are kept per listener, whatever a hook raises (any `Exception`, `KeyboardInterrupt`,
       `SystemExit`): every listener that received `on_train_begin` receives exactly one `on_train_end`, and
       none gets `on_train_end` without it; every `on_episode_begin(episode)` a listener received gets
       exactly one `on_episode_end(episode)`, and none gets an end without its begin. So the events that open
       or close something (train and episode begin/end) reach every listener due to receive them even when
       one raises, Ctrl-C in a hook included; the exception is raised once they have.
    5. A listener that raises ends training: its `Exception` becomes a `ListenerError` naming the listener
       and the hook (`KeyboardInterrupt`, `SystemExit` and a `TrainingError` stay as they are). After
       `on_train_end` has run everywhere, the *first* error is re-raised; later ones are attached to it
       (`error.later_errors`, and as notes in its traceback).

    Each listener gets its own copy of `logs` (and of the dicts and lists in it), and the arrays of
    `on_step` are read-only: a listener cannot change what other listeners or the trainer see. The same
    listener instance given twice is refused (`ArgumentError`).

    Like a Keras callback, a listener sees `self.model` (the online Q-network, set through `set_model`),
    `self.params` (`total_steps`, `start_step`, `num_envs`, `config`; set through `set_params`) and, beyond
    Keras, `self.trainer`: a narrow view of the run (`tfdqn.listeners.view.RunView`), not the Trainer itself.
    It shows the counters (`step`, `updates`, `episodes`, `num_envs`), the `agent`, the `config` and the
    `replay` buffer, read-only, and offers `at_quiet_point(work)`, `emit_evaluation(logs)` and
    `save_state(directory)` (tabular Q-learning shows its own narrow view, `tfdqn.tabular.view.TabularView`).
    Stop training from any hook with `self.model.stop_training = True`, as in Keras, or
    `self.trainer.stop_training = True`: the current environment step finishes (its events included) and no
    further step or episode begins.

    Defining a method named `on_*` that is not a hook (a typo, or a Keras name like `on_epoch_end`) warns
    with the hook it most likely means (`ListenerWarning`); a hook assigned on an instance is called.
    """

    # the run's `RunView` (set by `set_trainer`); tabular Q-learning hands a `TabularView`, hence `Any`
    trainer: RunView | Any = None
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
    def params(self) -> dict[str, Any]:
        """The training parameters (see `set_params`); this listener's own dict, empty until set (created on
        first use, so subclasses need not call `super().__init__()`)."""
        return self.__dict__.setdefault("_params", {})

    @params.setter
    def params(self, value: dict[str, Any]) -> None:
        self.__dict__["_params"] = value

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

    def set_trainer(self, trainer: RunView | Any) -> None:
        """Called by the trainer before training begins, with the view of the run this listener sees."""
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


def attach_errors(first: BaseException, later: Sequence[BaseException]) -> BaseException:
    """`first`, carrying `later` errors as `first.later_errors` and as notes in its traceback."""
    if later:
        previous = getattr(first, "later_errors", [])
        try:
            # setattr: BaseException declares no `later_errors`, so a plain assignment does not type-check
            setattr(first, "later_errors", [*previous, *later])  # noqa: B010
        except AttributeError:
            pass
        for exc in later:
            first.add_note(f"also raised while training ended: {type(exc).__name__}: {exc}")
    return first


def raise_first(errors: Sequence[BaseException]) -> None:
    """Raise the first of `errors` with the later ones attached (`attach_errors`); nothing when there are none."""
    if errors:
        raise attach_errors(errors[0], errors[1:])
