"""Many runs at once on Ray: a grid of DQNConfig overrides x seeds, one table with medians and 95% intervals.

A thin front end of `tfdqn sweep` (tfdqn/commands/sweep.py); `--help` for the flags.
"""

from tfdqn.commands import run_command

if __name__ == "__main__":
    run_command("sweep", prog="sweep.py")
