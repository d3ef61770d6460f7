"""Where a sweep's runs are logged besides their folders: one MLflow run per (config, seed) under one experiment,
and one TensorBoard run folder per (config, seed) whose hparams are the swept fields and the seed.

Not part of a sweep's plan (sweep.json): logging elsewhere does not change what a run computes, so a resumed sweep
may log to another store. On a cluster, the store and folders must be reachable from every node (an `http://`
tracking server, a shared file system).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from tfdqn.training.tracking import tracking_argv


@dataclasses.dataclass(frozen=True)
class SweepTracking:
    """`mlflow`: a tracking URI ("" = MLflow's default store), None = no MLflow; `experiment`: its experiment
    (default: the sweep folder's name); `tensorboard`: a folder holding one TensorBoard run folder per run."""

    mlflow: str | None = None
    experiment: str | None = None
    tensorboard: str | None = None

    def opened(self, out: Path) -> SweepTracking:
        """This tracking with the defaults filled in (the experiment named after `out`, absolute paths), its MLflow
        experiment created once, before any run starts: a store that cannot be used is one line before Ray
        starts, and the runs do not race to create the experiment."""
        tracking = dataclasses.replace(
            self,
            experiment=self.experiment or out.resolve().name,
            tensorboard=None if self.tensorboard is None else os.path.abspath(self.tensorboard),
        )
        if tracking.mlflow is not None:
            from tfdqn.listeners.mlflow import open_experiment  # MLflow is an optional extra

            open_experiment(tracking.mlflow or None, tracking.experiment)
        return tracking

    def argv(self, key: str, hparams: Iterable[str]) -> tuple[str, ...]:
        """The worker flags of run `key`; `hparams`: the DQNConfig fields the sweep varies."""
        argv: list[str] = ["--name", key, *tracking_argv(self.mlflow, self.experiment)]
        if self.tensorboard is not None:
            argv += ["--tensorboard", str(Path(self.tensorboard) / key), "--hparams", ",".join(sorted(hparams))]
        return tuple(argv)


def swept_fields(configs: dict[str, dict[str, Any]]) -> list[str]:
    """Every DQNConfig field some config of the sweep sets (the hparams of its TensorBoard runs)."""
    return sorted({field for overrides in configs.values() for field in overrides})


Tracked = Callable[[str], tuple[str, ...]]
"""run key -> the tracking flags of its worker's command line."""


def no_tracking(key: str) -> tuple[str, ...]:
    """No tracking flags: the default of a sweep or search without `tracking`."""
    return ()


def worker_tracking(tracking: SweepTracking | None, out: Path, configs: dict[str, dict[str, Any]]) -> Tracked:
    """run key -> its worker's tracking flags (none without `tracking`); opens the MLflow experiment once."""
    if tracking is None:
        return no_tracking
    opened, fields = tracking.opened(out), swept_fields(configs)
    return lambda key: opened.argv(key, fields)
