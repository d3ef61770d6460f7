"""Helpers for the command-line scripts: one-line errors with exit status 2, and fast `--help`.

This module imports nothing heavy, so a script can parse its flags before TensorFlow loads.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Callable
from typing import NoReturn

EXIT_BAD_INPUT = 2


class ArgumentParser(argparse.ArgumentParser):
    """`argparse.ArgumentParser` whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"error: {message} (see --help)\n")


def _int_at_least(text: str, minimum: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"{value} is not {what}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _int_at_least(text, 1, "a positive integer")


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    return _int_at_least(text, 0, "a non-negative integer")


def probability(text: str) -> float:
    """argparse type: a number in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{value:g} is not a probability in [0, 1]")
    return value


def prepare_process() -> None:
    """Settings that must precede importing NumPy and TensorFlow; a user's own environment wins.

    - BLAS on one thread: NumPy's OpenBLAS starts threads from about 16 rows up, and the acting forward
      pass (16 environments x 256 units) then measured 40x slower on a busy 2-core machine.
    - Hide TensorFlow's C++ start-up chatter. Setting TF_ENABLE_ONEDNN_OPTS explicitly silences its oneDNN
      notice; with the compiled (XLA) update both values measured the same speed here.
    """
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


DISK_ERRNOS = frozenset(
    getattr(errno, name)
    for name in ("ENOSPC", "EDQUOT", "EROFS", "EACCES", "EPERM", "EFBIG", "EIO")
    if hasattr(errno, name)
)
"""The errors of a file system that cannot take a file (full, read-only, forbidden): the user's to fix, so one
line naming the path, not a traceback."""


def disk_error(exc: BaseException | None) -> OSError | None:
    """The file-system error (`DISK_ERRNOS`) behind `exc`: `exc` itself or one along its `__cause__` and
    `__context__` chain (a listener's failed write arrives as a `ListenerError` caused by it); None if none."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in DISK_ERRNOS:
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def disk_error_line(exc: OSError, folder: object = None) -> str:
    """`cannot write PATH: REASON` for a file-system error: the file it names, else `folder`."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename is not None:
        return f"cannot write {exc.filename}: {reason}"
    return f"cannot write the files in {folder}: {reason}" if folder is not None else f"cannot write a file: {reason}"


def run_main(main: Callable[[], int | None]) -> NoReturn:
    """Run `main`; a `TfdqnError` becomes one line on stderr and its `exit_code` (2 for bad input,
    1 for a failed run, 130/143 after SIGINT/SIGTERM), never a traceback; so does, with status 2, a file
    system that cannot take a file (`DISK_ERRNOS`: full, read-only...)."""
    from tfdqn.errors import TfdqnError

    try:
        code = main()
    except TfdqnError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(getattr(exc, "exit_code", EXIT_BAD_INPUT))
    except OSError as exc:
        if exc.errno not in DISK_ERRNOS:
            raise
        print(f"error: {disk_error_line(exc)}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    sys.exit(code or 0)
