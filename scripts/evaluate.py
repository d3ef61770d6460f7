"""Evaluate a saved `.keras` Q-network greedily: mean ± std over fresh episodes, optionally a GIF or a window."""

from tfdqn.commands import run_command

if __name__ == "__main__":
    run_command("evaluate", prog="evaluate.py")
