"""Hyperparameter search on Optuna and Ray (TPE, random or grid over named DQNConfig fields, pruned trials).

A thin front end of `tfdqn search` (tfdqn/commands/search.py); `--help` for the flags.
"""

from tfdqn.commands import run_command

if __name__ == "__main__":
    run_command("search", prog="search.py")
