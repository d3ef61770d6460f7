"""`python -m benchmarks.frozenlake` under the old name the reports in results/ give; run from the repository root."""

import os
import sys

if __name__ == "__main__":
    env = {**os.environ, "BENCHMARKS_SCRIPT": "frozenlake:scripts/frozenlake_dqn.py"}  # the command its reports record
    os.execve(sys.executable, [sys.executable, "-m", "benchmarks.frozenlake", *sys.argv[1:]], env)
