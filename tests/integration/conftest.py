"""Fixtures of the integration tests that run sweeps and searches."""

from __future__ import annotations

import os

import pytest

from tfdqn.experiments.cluster import worker_env


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray on 2 CPUs for one test module (its workers import this checkout's tfdqn), shut down after."""
    ray = pytest.importorskip("ray")
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = worker_env()["PYTHONPATH"]  # the workers import tfdqn
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    os.environ.pop("PYTHONPATH") if saved is None else os.environ.update(PYTHONPATH=saved)
    yield ray
    ray.shutdown()
