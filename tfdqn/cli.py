"""Helpers for the command-line scripts: one-line errors with exit status 2, and fast `--help`.

This module imports nothing heavy, so a script can parse its flags before TensorFlow loads.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, NoReturn

EXIT_BAD_INPUT = 2


class ArgumentParser(argparse.ArgumentParser):
    """`argparse.ArgumentParser` whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"error: {message} (see --help)\n")


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive integer")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def quiet_tensorflow() -> None:
    """Hide TensorFlow's C++ start-up chatter (must run before TensorFlow is imported).

    Setting TF_ENABLE_ONEDNN_OPTS explicitly silences TensorFlow's oneDNN notice; with the compiled (XLA)
    update the two settings measured the same speed here. Both are defaults a user's environment overrides.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def run_main(main: Callable[[], int | None]) -> NoReturn:
    """Run `main`; a `TfdqnError` becomes one line on stderr and its `exit_code` (2 for bad input,
    1 for a failed run, 130/143 after SIGINT/SIGTERM), never a traceback."""
    from tfdqn.errors import TfdqnError

    try:
        code = main()
    except TfdqnError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(getattr(exc, "exit_code", EXIT_BAD_INPUT))
    sys.exit(code or 0)
