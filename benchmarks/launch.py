"""Starting a benchmark worker (`python -m benchmarks.systems SYSTEM ...`) in a fresh one-thread process, from
the parent that collects the runs: its command line (also a Ray task's, `tfdqn.experiments.sweep`), its
environment, and one run to completion."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT
from tfdqn.experiments.cluster import worker_env

WORKER_MODULE = "benchmarks.systems"
"""The module a worker process runs (`python -m`), with ROOT as its directory or on its PYTHONPATH."""


def thread_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker process: one thread for OpenMP/MKL, quiet TensorFlow, this checkout importable."""
    return worker_env(base)


def worker_argv(system: str, seed: int, steps: int, env_id: str, out: str, *extra: str) -> tuple[str, ...]:
    """The worker's command line ("{python}": the interpreter; a sweep's task fills it in on its node); `extra`
    are more worker flags (`--config JSON`, `--preset NAME`)."""
    return (
        "{python}",
        "-m",
        WORKER_MODULE,
        system,
        "--seed",
        str(seed),
        "--steps",
        str(steps),
        "--env",
        env_id,
        "--out",
        out,
        *extra,
    )


def run_worker(system: str, seed: int, steps: int, env_id: str, out: Path, *extra: str) -> dict[str, Any]:
    """Run one worker in a fresh one-thread process and return its record, with `wall_seconds` (the process's,
    import included) added. A failed worker raises with the end of its stderr."""
    t0 = time.perf_counter()
    argv = [a.replace("{python}", sys.executable) for a in worker_argv(system, seed, steps, env_id, str(out), *extra)]
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=thread_env())
    if proc.returncode != 0:
        raise RuntimeError(f"{system} {env_id} seed {seed} failed:\n{proc.stderr[-3000:]}")
    record = json.loads(Path(out).read_text(encoding="utf-8"))
    record["wall_seconds"] = time.perf_counter() - t0
    return record
