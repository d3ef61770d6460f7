"""`tfdqn sweep --mlflow --tensorboard` end to end, on a local Ray: one MLflow run per (config, seed) under one
experiment, each with the run's own evaluations, and one TensorBoard run folder per (config, seed) with hparams
(slow: a Ray start and four worker processes; the fast tests run the workers in-process)."""

from __future__ import annotations

import csv

import pytest
from helpers import tfdqn_cli


@pytest.mark.slow
def test_a_tracked_sweep_logs_every_run_once_under_one_experiment(tmp_path):
    pytest.importorskip("ray")
    pytest.importorskip("mlflow", reason='the tracking extra is not installed (pip install "tfdqn[tracking]")')
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    proc = tfdqn_cli(
        "sweep", "--set", "learning_rate=1e-3,3e-3", "--seeds", "0", "1", "--steps", 400, "--eval-every", 200,
        "--eval-episodes", 2, "--confirm-episodes", 0, "--final-episodes", 2, "--no-stop", "--num-cpus", 2,
        "--out", tmp_path / "lr", "--mlflow", uri, "--tensorboard", tmp_path / "tb",
        cwd=tmp_path, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("lr").experiment_id])
    keys = sorted(r.info.run_name for r in runs)
    assert keys == sorted(p.name for p in (tmp_path / "lr" / "runs").iterdir()) and len(keys) == 4
    for run in runs:
        assert run.info.status == "FINISHED"
        with open(tmp_path / "lr" / "runs" / run.info.run_name / "evaluations.csv", newline="") as f:
            expected = [(int(r["step"]), r["mean_return"]) for r in csv.DictReader(f)]
        points = client.get_metric_history(run.info.run_id, "evaluation/periodic_mean_return")
        assert sorted((m.step, f"{m.value:.6g}") for m in points) == expected
    assert sorted(p.name for p in (tmp_path / "tb").iterdir()) == keys
