"""`tfdqn train` with a SIGKILL injected before its N-th file operation: the fault-injection tests' subprocess.

Every call of `os.replace`, `os.fsync`, `shutil.rmtree` and `numpy.savez` (each step of an atomic write or of a
checkpoint's write) is numbered from the process start. `TFDQN_WRITE_LOG=FILE` appends one line per call
(`number<TAB>operation<TAB>path`); `TFDQN_KILL_AT=N` kills the process (SIGKILL, as `kill -9` does: no handler,
no cleanup) just before call N runs, and `TFDQN_KILL_ON=TEXT` before the first call whose log line holds TEXT.
The command line is `tfdqn train`'s.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

KILL_AT = int(os.environ.get("TFDQN_KILL_AT", "0"))
KILL_ON = os.environ.get("TFDQN_KILL_ON")
LOG = os.environ.get("TFDQN_WRITE_LOG")
calls = 0


def _path_of(args: tuple) -> str:
    if not args:
        return ""
    first = args[0]
    if isinstance(first, int):  # a file descriptor (os.fsync)
        try:
            return os.readlink(f"/proc/self/fd/{first}")
        except OSError:
            return f"fd {first}"
    return os.fspath(first) if isinstance(first, (str, os.PathLike)) else repr(first)


def _counted(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        global calls
        calls += 1
        line = f"{calls}\t{name}\t{_path_of(args)}"
        if LOG:
            with open(LOG, "a", encoding="utf-8") as log:
                log.write(line + "\n")
        if calls == KILL_AT or (KILL_ON and KILL_ON in line):
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)

    return call


os.replace = _counted("replace", os.replace)
os.fsync = _counted("fsync", os.fsync)
shutil.rmtree = _counted("rmtree", shutil.rmtree)
np.savez = _counted("savez", np.savez)

if __name__ == "__main__":
    from tfdqn.commands import run_command

    sys.argv[0] = "tfdqn train"
    run_command("train", prog="tfdqn train")
