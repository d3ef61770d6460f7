"""Many runs at once on Ray: a grid of DQNConfig overrides x seeds, one table with medians and 95% intervals.

A thin front end over `tfdqn.sweep_cli.sweep_main` (the logic lives in the package); `--help` for the flags.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tfdqn.cli import run_main  # noqa: E402
from tfdqn.sweep_cli import sweep_main  # noqa: E402

if __name__ == "__main__":
    run_main(lambda: sweep_main(sys.argv[1:]))
