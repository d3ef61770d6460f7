"""`python -m benchmarks.suite` under the old name the reports in results/ give; run from the repository root."""

import os
import sys

if __name__ == "__main__":
    env = {**os.environ, "BENCHMARKS_SCRIPT": "suite:scripts/benchmark.py"}  # the command its reports record
    os.execve(sys.executable, [sys.executable, "-m", "benchmarks.suite", *sys.argv[1:]], env)
