"""`python -m benchmarks.averages` under the old name the reports in results/ give; run from the repository root."""

import os
import sys

if __name__ == "__main__":
    env = {**os.environ, "BENCHMARKS_SCRIPT": "averages:scripts/screen_averages.py"}  # the command its reports record
    os.execve(sys.executable, [sys.executable, "-m", "benchmarks.averages", *sys.argv[1:]], env)
