"""`MLflowLogger`: a run's config as parameters, its episode and evaluation metrics at env steps, and its files as
artifacts, in an MLflow tracking store (the optional `tracking` extra: mlflow-skinny, with SQLAlchemy and Alembic
for a local `sqlite:///` store). MLflow is imported when a logger is made, never at module level."""

from __future__ import annotations

import math
import os
import time
import warnings
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tfdqn.errors import ArgumentError
from tfdqn.listeners.base import Listener
from tfdqn.listeners.mlflow_store import (  # noqa: F401 (TrackingError, open_experiment: this module's API too)
    BATCH,
    TrackingError,
    open_experiment,
    param_value,
    send_params,
)
from tfdqn.version import __version__

EPISODE_METRICS = {
    "return": "episode/return",
    "length": "episode/length",
    "mean_return_100": "episode/mean_return_100",
    "epsilon": "train/epsilon",
    "loss": "train/loss",
    "mean_q": "train/mean_q",
}
"""metrics.csv column -> MLflow metric key (the TensorBoard listener's names), logged per completed episode."""
RUN_FILES = (
    "config.json",
    "best.keras",
    "best.json",
    "last.keras",
    "metrics.csv",
    "evaluations.csv",
    "learning_curve.png",
    "summary.json",
    "untrained.gif",
    "trained.gif",
)
"""The files of a run's folder uploaded as artifacts (those that exist), besides everything under videos/."""
RUN_KEY_TAG = "tfdqn.run_key"
"""The tag holding a run's key (a sweep's `<config>__seed<S>`): what finds the earlier attempts of the same run."""


class MLflowLogger(Listener):
    """Log one training run to MLflow: the config (`on_train_begin`'s `logs["config"]`) as parameters; per
    completed episode `episode/return`, `episode/length`, `episode/mean_return_100`, `train/epsilon`, `train/loss`
    and `train/mean_q` (the values of metrics.csv), per evaluation `evaluation/<kind>_mean_return` and
    `_std_return`, all at `step=` the env step; when training ends, the files of `directory` (a run's folder:
    best.keras, the curves, config.json, videos/...) as artifacts, and the run's status (FINISHED, KILLED after
    an interruption, FAILED after an error).

    `tracking_uri` None uses MLflow's default (MLFLOW_TRACKING_URI); `experiment` None its "Default" one. The
    store is opened here, so a bad URI fails before training. Metrics are sent in batches, every
    `flush_seconds`, at each evaluation and at the end; a store that stops answering warns and is retried at
    the next flush rather than ending training; so does one that does not answer when training begins, and the
    `train` call goes on without MLflow (a later call tries again to make the run). Parameters the store rejects
    for good (`rejected`: another value of one the run holds, a value it calls invalid) are dropped with one warning
    naming them, and the others and the metrics go on. A later `train` call of the same run logs on into the
    same MLflow run. A resumed run (the listener's state) logs into the same MLflow run, its tags as they were,
    the parameters it does not hold (`missing_params`: a crash may have come before they were sent; one held
    with another value warns and is not sent), and does not log again what the run holds already: after a crash,
    a value at a step the MLflow run holds a value of that metric at (as often as it holds one there) is not sent
    (`held_steps`); an exact resume repeats those values, and after an inexact one MLflow keeps the first attempt's
    value at such a step while every other step is logged.

    `run_key` (a sweep's config and seed) tags the MLflow run (`tfdqn.run_key`); a new run first marks KILLED
    the RUNNING runs of the experiment with that key, the attempts a crash, a resumed sweep or a Ray retry left
    behind, so one (config, seed) has at most one RUNNING or FINISHED run. With `end_on_train_end` False, a
    normal end of training leaves the run RUNNING until `end`, for what is logged after it (`log_summary`).
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        experiment: str | None = None,
        run_name: str | None = None,
        tags: dict[str, str] | None = None,
        directory: str | os.PathLike | None = None,
        flush_seconds: float = 5.0,
        run_key: str | None = None,
        end_on_train_end: bool = True,
    ):
        if run_key is not None and ("'" in run_key or "\\" in run_key or not run_key):
            raise ArgumentError(f"run_key={run_key!r} is invalid: must be non-empty, without quotes or backslashes")
        self.client, self.experiment_id = open_experiment(tracking_uri, experiment)
        self.run_name, self.tags = run_name, dict(tags or {})
        self.run_key, self.end_on_train_end = run_key, end_on_train_end
        self.directory = None if directory is None else Path(directory)
        self.flush_seconds = float(flush_seconds)
        self.run_id: str | None = None  # the MLflow run, made at the first on_train_begin
        self._pending: list[Any] = []  # mlflow.entities.Metric waiting for the next flush
        self._unsent_params: list[Any] = []  # mlflow.entities.Param of a new run, waiting likewise
        self._uploaded: dict[str, int] = {}  # artifact path -> mtime_ns when uploaded
        self._held: dict[str, Counter[int]] = {}  # a resumed run's metrics already held: see `held_steps`
        self._resumed = False  # set_state was called: read what the MLflow run holds when training begins
        self._last_flush = time.monotonic()
        self._failing = False

    def get_state(self) -> dict[str, Any]:
        return {"run_id": self.run_id}

    def set_state(self, state: dict[str, Any]) -> None:
        self.run_id, self._resumed = state.get("run_id"), True

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        from mlflow.entities import Param

        config = logs.get("config", {})
        if self.run_id is None:
            tags = {"tfdqn.version": __version__, "env_id": str(config.get("env_id", "")), **self.tags}
            if self.run_key is not None:
                self.end_earlier_attempts()
                tags[RUN_KEY_TAG] = self.run_key
            run = self._call(self.client.create_run, self.experiment_id, run_name=self.run_name, tags=tags)
            if run is None:
                return  # warned: this train call goes on without MLflow
            self.run_id = run.info.run_id
            self._unsent_params = [Param(key, param_value(value)) for key, value in sorted(config.items())]
            self.flush()
        else:  # a later call or a resumed run goes on in its MLflow run; its tags were logged when made
            self._call(self.client.update_run, self.run_id, status="RUNNING")
            if self._resumed:  # after a crash: what the run holds of the steps the resumed run repeats, and params
                self._resumed = False
                self._held = self._call(self.held_steps) or {}
                params = [Param(key, param_value(value)) for key, value in sorted(config.items())]
                missing = self._call(self.missing_params, params)  # None: unread, so all (the same values pass)
                self._unsent_params = params if missing is None else missing
                self.flush()
        self._last_flush = time.monotonic()

    def on_episode_end(self, episode: int, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        if not logs.get("completed", True):
            return  # an episode cut short by the end of training is not a result (nor a row of metrics.csv)
        self._add({key: logs.get(column) for column, key in EPISODE_METRICS.items()}, logs["step"])
        if time.monotonic() - self._last_flush >= self.flush_seconds:
            self.flush()

    def on_evaluation(self, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        kind = logs.get("kind", "periodic")
        metrics = {
            f"evaluation/{kind}_mean_return": logs["mean_return"],
            f"evaluation/{kind}_std_return": logs["std_return"],
        }
        self._add(metrics, logs["step"])
        self.flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        status = "FAILED" if logs.get("error") else "KILLED" if logs.get("interrupted") else "FINISHED"
        if status != "FINISHED" or self.end_on_train_end:
            self.end(status)
        else:  # `end` comes after what is logged once training has ended
            self.flush()
            self.upload()

    def end(self, status: str = "FINISHED") -> None:
        """Send the pending metrics and the changed files, then end the MLflow run with `status` (FINISHED,
        FAILED or KILLED)."""
        self.flush()
        self.upload()
        if self.run_id is not None:
            self._call(self.client.set_terminated, self.run_id, status)

    def end_earlier_attempts(self) -> None:
        """Mark KILLED the experiment's RUNNING runs tagged with this run's key: earlier attempts at this run,
        which a new attempt replaces, starting from scratch."""
        found = f"tags.`{RUN_KEY_TAG}` = '{self.run_key}' and attributes.status = 'RUNNING'"
        for run in self._call(self.client.search_runs, [self.experiment_id], found) or []:
            self._call(self.client.set_terminated, run.info.run_id, "KILLED")

    def held_steps(self) -> dict[str, Counter[int]]:
        """Metric key -> how many values of it the MLflow run holds at each step: what a resumed run must not log
        again (it repeats the steps its crashed attempt logged after the checkpoint). Counted per step, as
        several episodes can end at one step and a crash may fall between two batches of one flush."""
        assert self.run_id is not None
        held = {}
        for key in self.client.get_run(self.run_id).data.metrics:
            steps = Counter(metric.step for metric in self.client.get_metric_history(self.run_id, key))
            if steps:
                held[key] = steps
        return held

    def missing_params(self, params: list[Any]) -> list[Any]:
        """The `params` (mlflow.entities.Param) the MLflow run lacks, to send when resuming it; one it holds with
        another value warns and is left out: MLflow parameters are immutable, and the store would reject it."""
        assert self.run_id is not None
        held = self.client.get_run(self.run_id).data.params
        changed = [
            f"{p.key}={p.value!r} (holds {held[p.key]!r})" for p in params if held.get(p.key, p.value) != p.value
        ]
        if changed:
            warnings.warn(
                f"MLflow: run {self.run_id} holds other values of parameter(s) {', '.join(changed)}; parameters "
                "cannot change, so these are not logged",
                stacklevel=2,
            )
        return [param for param in params if param.key not in held]

    def log_summary(self, summary: dict[str, Any]) -> None:
        """After `Run.finish`: best.keras's score on the final episodes as `final/best_keras_mean_return` and
        `_std_return` at the last env step, and the files written since training ended (summary.json,
        trained.gif, a best.keras saved then)."""
        scores = summary["best_keras_evaluation"]
        self._add(
            {
                "final/best_keras_mean_return": scores["mean_return"],
                "final/best_keras_std_return": scores["std_return"],
            },
            summary["env_steps"],
        )
        self.flush()
        self.upload()

    def flush(self) -> None:
        """Send the parameters not sent yet, then the metrics logged so far (in batches of MLflow's limit); what
        fails is kept for the next flush, except parameters the store rejects for good (`send_params`)."""
        self._last_flush = time.monotonic()
        if self.run_id is None:
            return
        while self._unsent_params:
            batch = self._unsent_params[: BATCH["params"]]
            left = send_params(self.client, self.run_id, batch, self._failed, self._answered)
            self._unsent_params[: len(batch)] = left
            if left:
                return  # kept for the next flush, and the metrics wait behind them
        while self._pending:
            if self._call(self.client.log_batch, self.run_id, metrics=self._pending[: BATCH["metrics"]]) is None:
                return  # kept for the next flush
            del self._pending[: BATCH["metrics"]]

    def upload(self, names: Iterable[str] = RUN_FILES) -> None:
        """Upload the files `names` of `directory` that exist, and its videos/, unless uploaded unchanged before."""
        if self.directory is None or self.run_id is None:
            return
        paths = [self.directory / name for name in names]
        videos = self.directory / "videos"
        paths += sorted(videos.glob("*.mp4")) if videos.is_dir() else []
        for path in paths:
            if not path.is_file():
                continue
            where = str(path.parent.relative_to(self.directory)) if path.parent != self.directory else None
            key, mtime = str(path.relative_to(self.directory)), path.stat().st_mtime_ns
            if self._uploaded.get(key) != mtime and self._call(self.client.log_artifact, self.run_id, str(path), where):
                self._uploaded[key] = mtime

    def _add(self, values: dict[str, Any], step: int) -> None:
        from mlflow.entities import Metric

        if self.run_id is None:
            return  # no MLflow run (the store did not answer when training began): nothing to keep them for
        now = int(time.time() * 1000)
        for key, value in values.items():
            if value is None or isinstance(value, bool) or not math.isfinite(float(value)):
                continue
            if not self._logged_before(key, int(step)):
                self._pending.append(Metric(key, float(value), now, int(step)))

    def _logged_before(self, key: str, step: int) -> bool:
        """Whether the MLflow run holds this value of `key` at `step` already (`held_steps`): then it is not sent."""
        steps = self._held.get(key)
        if not steps or not steps[step]:
            return False
        steps[step] -= 1
        if not steps[step]:
            del steps[step]
        return True

    def _call(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        """`method(*args, **kwargs)`, or None when it raised: a failure warns (once until a call succeeds again)
        instead of raising, so a store that does not answer never ends a training run."""
        try:
            result = method(*args, **kwargs)
        except Exception as exc:  # the store's failure must not end a training run
            self._failed(method, exc)
            return None
        self._answered()
        return True if result is None else result

    def _answered(self) -> None:
        """The store answered a call: a later failure warns again."""
        self._failing = False

    def _failed(self, method: Any, exc: Exception) -> None:
        """Warn that `method` failed with `exc`, unless the store has failed since its last success."""
        if not self._failing:
            then = "later logging is retried" if self.run_id else "without MLflow if its run cannot be made"
            warnings.warn(f"MLflow: {method.__name__} failed ({type(exc).__name__}: {exc}); {then}", stacklevel=3)
        self._failing = True
