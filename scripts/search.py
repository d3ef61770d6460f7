"""Hyperparameter search on Ray (random or grid over named DQNConfig fields, ASHA-style halving).

A thin front end over `tfdqn.sweep_cli.search_main` (the logic lives in the package); `--help` for the flags.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tfdqn.cli import run_main  # noqa: E402
from tfdqn.sweep_cli import search_main  # noqa: E402

if __name__ == "__main__":
    run_main(lambda: search_main(sys.argv[1:]))
