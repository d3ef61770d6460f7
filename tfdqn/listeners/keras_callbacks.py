"""`KerasCallbacks`: run ordinary `keras.callbacks.Callback`s (CSVLogger, EarlyStopping, TerminateOnNaN,
TensorBoard, LambdaCallback, your own) inside DQN training, with an epoch mapped to an episode or to a
window of env steps."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import keras
import numpy as np

from tfdqn.errors import ArgumentError
from tfdqn.listeners.base import Listener, raise_first

EPISODE_KEYS = ("return", "length", "step", "epsilon", "mean_return_100", "loss", "mean_q", "terminated", "truncated")


class KerasCallbacks(Listener):
    """Drive Keras callbacks from tfdqn's events, the way `model.fit` would.

    - `set_model` gets the online Q-network (seen with the agent's optimizer as `model.optimizer`, as after
      `compile`, so e.g. Keras's TensorBoard logs the learning rate) and `set_params` `{"epochs", "steps",
      "verbose"}` plus the run's `total_steps` and `config`; then `on_train_begin`. `verbose` ("auto" by
      default, as in `fit`, which `ProgbarLogger` takes as 1; or 0, 1, 2) is what e.g. `ProgbarLogger` prints
      by; none is added for you. `epochs` is the number of step windows, or for episode epochs a bound (at
      most one episode per remaining step).
    - `on_train_end` follows `fit`'s rule: it reaches the callbacks only when training ends normally (budget
      reached or `stop_training`). After an exception, KeyboardInterrupt or a SIGINT/SIGTERM stop (where
      `fit` would have been interrupted) the callbacks get no `on_train_end`, so e.g. `BackupAndRestore`
      keeps its backup. When it is due it reaches every callback even if one raises (`KeyboardInterrupt`
      included), the target sync below runs whatever happens, then the first error is raised (later ones
      attached).
    - If a callback changes the online weights in `on_train_begin` (`BackupAndRestore` restoring) or
      `on_train_end` (`EarlyStopping(restore_best_weights=True)`), the target network is set to them too.
    - An epoch is, with `epoch="episode"` (the default), one completed episode: `on_epoch_begin(k)` and
      `on_epoch_end(k, logs)` fire together when it ends (with several environments episodes overlap, so an
      epoch cannot start when its episode does); episodes cut short by the end of training are not epochs.
      logs: the episode's `return`, `length`, `step`, `epsilon`, `mean_return_100`, `loss`, `mean_q`,
      `terminated`, `truncated` (0/1).
    - With `epoch=N` (an int), an epoch is a window of N env steps: `on_epoch_begin` fires with its first
      step and `on_epoch_end` once it is full, or when training ends normally inside it. logs: `step`, `episodes`
      (ended in the window), `return` and `length` (their means, NaN if none), `epsilon`, `mean_return_100`,
      and the window's mean `loss` and `mean_q` (NaN if no update ran).
    - Evaluations are presented as `fit` presents validation: a periodic evaluation's mean return is
      `val_return` in the logs of the first epoch to end after it (the latest, if several), and in no other
      epoch's, so `EarlyStopping(monitor="val_return", mode="max", patience=3)` counts evaluations.
    - Each training call is a batch: `on_train_batch_begin` / `on_train_batch_end(batch, {"loss", "mean_q"})`
      (only if some callback implements batch hooks), so `TerminateOnNaN` sees the loss.
    - `self.model.stop_training = True` in a callback stops training as in Keras.

    A callback given twice (here, or in two `KerasCallbacks` of one run) is refused (`ArgumentError`): it
    would receive every event twice. The callbacks' own state (EarlyStopping's patience counter...) is not
    part of a training checkpoint.
    """

    _last: dict[str, Any] | None  # the last completed episode's logs (step epochs)

    def __init__(
        self,
        callbacks: Iterable[keras.callbacks.Callback] | keras.callbacks.Callback,
        epoch: str | int = "episode",
        verbose: int | str = "auto",
    ):
        if isinstance(callbacks, keras.callbacks.Callback):
            callbacks = [callbacks]
        callbacks = list(callbacks)
        for cb in callbacks:
            if isinstance(cb, type):
                raise ArgumentError(f"{cb.__name__} is a class, not a callback: did you mean {cb.__name__}()?")
            if not isinstance(cb, keras.callbacks.Callback):
                raise ArgumentError(
                    f"{cb!r} is not a keras.callbacks.Callback"
                    + (" (tfdqn listeners go in the listener list directly)" if isinstance(cb, Listener) else "")
                )
            if sum(cb is other for other in callbacks) > 1:
                raise ArgumentError(
                    f"Keras callback {type(cb).__name__} ({cb!r}) is given twice: pass each callback once (it "
                    "would receive every event twice)"
                )
        if epoch != "episode" and not (
            isinstance(epoch, numbers.Integral) and not isinstance(epoch, bool) and epoch >= 1
        ):
            raise ArgumentError(f"epoch={epoch!r} is invalid: 'episode' or a positive number of env steps")
        if isinstance(verbose, bool) or verbose not in (0, 1, 2, "auto"):
            raise ArgumentError(f"verbose={verbose!r} is invalid: 0, 1, 2 or 'auto', as in Keras's fit")
        self.verbose = verbose
        self.callbacks = callbacks
        self.epoch_steps = None if epoch == "episode" else int(epoch)
        self.epoch = 0  # epochs completed so far (across train calls and resumes)
        self._batch_hooks = any(_implements_batch_hooks(cb) for cb in callbacks)
        skip = set() if self._batch_hooks else {"on_replay_start"}
        if self.epoch_steps is None:  # episode epochs: no per-step cost
            skip.add("on_step")
            if not self._batch_hooks:
                skip.add("on_replay_end")
        self._tfdqn_skip_hooks = frozenset(skip)
        self._val: float | None = None
        self._open = False
        self._reset_window(0)

    @property
    def _tfdqn_wrapped(self) -> tuple[keras.callbacks.Callback, ...]:
        """The Keras callbacks this listener drives: `ListenerList` refuses one found in two wrappers."""
        return tuple(self.callbacks)

    def get_state(self) -> dict[str, Any]:
        return {"epoch": self.epoch}

    def set_state(self, state: dict[str, Any]) -> None:
        self.epoch = int(state.get("epoch", 0))

    # ----- mapping --------------------------------------------------------------------------------------
    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        total = self.params.get("total_steps")
        if total is None:
            epochs = None
        elif self.epoch_steps is None:  # episodes: at most one per remaining step (fit's epochs is a bound too)
            epochs = self.epoch + max(total - self.params.get("start_step", 0), 0)
        else:
            epochs = math.ceil(total / self.epoch_steps)
        params = {"epochs": epochs, "steps": self.epoch_steps, "verbose": self.verbose, **self.params}
        optimizer = getattr(getattr(self.trainer, "agent", None), "optimizer", None)
        model = self.model if optimizer is None else ModelView(self.model, optimizer)
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)
        self._batch = 0
        self._open = False
        self._val = None
        self._reset_window(logs.get("step", 0) if logs else 0)
        before = self._online_weights()
        for cb in self.callbacks:
            cb.on_train_begin(_numeric(logs))
        self._sync_target_if_changed(before)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        if logs.get("error") is not None or logs.get("interrupted") is not None:
            # `fit` calls on_train_end only when training ends normally: not after an exception (nor after a
            # KeyboardInterrupt, which a SIGINT would have been in `fit`), so e.g. BackupAndRestore keeps its backup
            self._open = False
            return
        if self._open:  # a step window cut short: Keras too ends an epoch that training stopped inside
            self._end_epoch(self._window_logs(logs.get("step", self._window_start)))
        before = self._online_weights()
        errors: list[BaseException] = []
        for cb in self.callbacks:
            try:
                cb.on_train_end(_numeric(logs))
            except BaseException as exc:  # noqa: BLE001 -- Ctrl-C too: every callback gets on_train_end
                errors.append(exc)
        try:
            self._sync_target_if_changed(before)  # e.g. EarlyStopping(restore_best_weights=True)
        except BaseException as exc:  # noqa: BLE001 -- the callbacks' errors still come first
            errors.append(exc)
        raise_first(errors)

    def on_episode_end(self, episode: int, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        if not logs.get("completed", True):
            return
        if self.epoch_steps is None:
            self._begin_epoch()
            epoch_logs = {k: logs[k] for k in EPISODE_KEYS if k in logs}
            self._end_epoch(epoch_logs)
        else:
            self._returns.append(logs["return"])
            self._lengths.append(logs["length"])
            self._last = logs

    def on_step(self, step: int, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        if not self._open:
            self._begin_epoch()
        self._epsilon = logs["epsilon"]
        assert self.epoch_steps is not None  # on_step is skipped for episode epochs
        if step >= self._window_start + self.epoch_steps:
            self._end_epoch(self._window_logs(step))
            self._reset_window(step)

    def on_replay_start(self, logs: dict[str, Any] | None = None) -> None:
        for cb in self.callbacks:
            cb.on_train_batch_begin(self._batch, {})

    def on_replay_end(self, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        batch_logs = {"loss": logs["loss"], "mean_q": logs["mean_q"]}
        if self.epoch_steps is not None:
            self._losses.append(logs["loss"])
            self._mean_qs.append(logs["mean_q"])
        if not self._batch_hooks:
            return
        for cb in self.callbacks:
            cb.on_train_batch_end(self._batch, batch_logs)
        self._batch += 1

    def on_evaluation(self, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        if logs.get("kind", "periodic") == "periodic":  # validation; a confirmation re-measures the same policy
            self._val = float(logs["mean_return"])

    # ----- helpers --------------------------------------------------------------------------------------
    def _online_weights(self) -> list[np.ndarray] | None:
        """A copy of the online weights, if there is an agent whose target could need syncing."""
        if getattr(self.trainer, "agent", None) is None:
            return None
        return [np.array(w) for w in self.trainer.agent.q_network.get_weights()]

    def _sync_target_if_changed(self, before: list[np.ndarray] | None) -> None:
        """Set the target network to the online weights if a callback replaced those (restored best or backed-up
        weights): through the agent's state, so its acting mirror and `weights_version` follow too."""
        if before is None:
            return
        agent = self.trainer.agent
        after = agent.q_network.get_weights()
        if all(np.array_equal(a, b) for a, b in zip(before, after)):
            return
        state = agent.get_state()
        for key in [k for k in state if k.startswith("online/")]:
            state["target/" + key.removeprefix("online/")] = state[key]
        agent.set_state(state)

    def _begin_epoch(self) -> None:
        self._open = True
        self._batch = 0
        for cb in self.callbacks:
            cb.on_epoch_begin(self.epoch, {})

    def _end_epoch(self, logs: dict[str, Any]) -> None:
        logs = _numeric(logs)
        if self._val is not None:  # an evaluation since the last epoch ended: this epoch's validation
            logs["val_return"], self._val = self._val, None
        self._open = False
        epoch, self.epoch = self.epoch, self.epoch + 1
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def _reset_window(self, step: int) -> None:
        self._window_start = step
        self._returns: list[float] = []
        self._lengths: list[int] = []
        self._losses: list[float] = []
        self._mean_qs: list[float] = []
        self._epsilon = math.nan
        self._last = getattr(self, "_last", None)

    def _window_logs(self, step: int) -> dict[str, Any]:
        def mean(values: list) -> float:
            return float(sum(values) / len(values)) if values else math.nan

        return {
            "step": step,
            "episodes": len(self._returns),
            "return": mean(self._returns),
            "length": mean(self._lengths),
            "epsilon": self._epsilon,
            "mean_return_100": self._last["mean_return_100"] if self._last else math.nan,
            "loss": mean(self._losses),
            "mean_q": mean(self._mean_qs),
        }


class ModelView:
    """The online Q-network as a Keras callback expects a model in `fit`: every attribute is the network's
    (set ones included, e.g. `stop_training`), and `optimizer` is the agent's. The network itself stays
    uncompiled, so saved `.keras` files hold no optimizer."""

    def __init__(self, model: keras.Model, optimizer: keras.optimizers.Optimizer):
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "optimizer", optimizer)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._model, name, value)


def _implements_batch_hooks(cb: keras.callbacks.Callback) -> bool:
    """Whether `cb` does anything per training batch (its class or the instance overrides a batch hook)."""
    base = keras.callbacks.Callback
    return any(
        name in vars(cb) or getattr(type(cb), name) is not getattr(base, name)
        for name in ("on_batch_begin", "on_batch_end", "on_train_batch_begin", "on_train_batch_end")
    )


def _numeric(logs: dict[str, Any] | None) -> dict[str, float]:
    """The numeric entries of `logs` as Python floats (bools as 0/1): what Keras callbacks can log."""
    out: dict[str, float] = {}
    for key, value in (logs or {}).items():
        if isinstance(value, (numbers.Real, bool)) and not isinstance(value, str):
            out[key] = float(value)
    return out
