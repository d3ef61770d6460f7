"""Run a benchmark module as a user would: `python -m benchmarks.<module> ARGS` from the repository root."""

import subprocess
import sys

from benchmarks.common import ROOT
from benchmarks.launch import thread_env


def run_benchmark(module: str, *args, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m benchmarks.<module> ARGS` in a fresh process with one thread per library, output captured."""
    return subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=thread_env(),
        cwd=ROOT,
    )
