"""`python -m benchmarks.rainbow` under the old name the reports in results/ give; run from the repository root."""

import os
import sys

if __name__ == "__main__":
    env = {**os.environ, "BENCHMARKS_SCRIPT": "rainbow:scripts/benchmark_rainbow.py"}  # the command its reports record
    os.execve(sys.executable, [sys.executable, "-m", "benchmarks.rainbow", *sys.argv[1:]], env)
