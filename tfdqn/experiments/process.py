"""A run's worker process and everything it starts, as one unit that can be stopped.

The worker is started in its own session, so it leads a process group holding its whole tree (a trainer, the
subprocesses a benchmark's worker launches, ...). Stopping it signals that group: SIGTERM first (a trainer
saves and exits), SIGKILL to whatever is left after a short grace, and then waits for the worker, so when
`stop_tree` returns nothing of the run is running. If the Ray worker holding the process dies instead, the
kernel sends the worker process SIGTERM (Linux `PR_SET_PDEATHSIG`).
"""

from __future__ import annotations

import ctypes
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import IO, Any

STOP_GRACE_S = 5.0
"""Seconds a stopped run's processes get to exit on SIGTERM before SIGKILL."""
KILL_WAIT_S = 2.0
"""Seconds `stop_tree` waits after SIGKILL for the group to be gone (an unreaped zombie keeps it listed)."""
TICK_S = 0.2
"""How often the task's main thread wakes while it waits for output or an exit (a cancellation gets in then)."""


def spawn(argv: list[str], *, stderr: IO[str], env: dict[str, str], cwd: str) -> subprocess.Popen[str]:
    """Start `argv` with a text stdout pipe, as the leader of a new session and process group."""
    return subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env=env,
        cwd=cwd,
        start_new_session=True,
        preexec_fn=_death_signal(),
    )


def _death_signal() -> Callable[[], Any] | None:
    """For the run's process (Linux): a `preexec_fn` asking for SIGTERM when the task's worker dies, so a killed
    worker leaves no orphan. Resolved here, in the parent: the child only makes the call."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def signal_group(pgid: int, sig: int) -> bool:
    """Send `sig` to every process of group `pgid`; False when the group is gone."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def group_alive(pgid: int) -> bool:
    """Whether any process of group `pgid` is left (zombies not yet reaped included)."""
    return signal_group(pgid, 0)


def stop_tree(proc: subprocess.Popen[str], grace: float = STOP_GRACE_S) -> int:
    """SIGTERM to the worker's whole group, SIGKILL to what is left after `grace` seconds; returns once the
    worker is reaped and its group empty (a last SIGKILL takes anything that outlived its leader)."""
    pgid = proc.pid  # its own session: the group id is the leader's pid
    signal_group(pgid, signal.SIGTERM)
    _wait_gone(proc, grace)
    signal_group(pgid, signal.SIGKILL)
    code = proc.wait()
    _wait_gone(proc, KILL_WAIT_S)  # the rest of the group dies and is reaped by whoever adopted it
    return code


def _wait_gone(proc: subprocess.Popen[str], timeout: float) -> None:
    """Until the worker has exited (and is reaped) and its group is empty, or `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None and not group_alive(proc.pid):
            return
        time.sleep(0.02)


def kill_group(pgid: int, timeout: float = KILL_WAIT_S) -> bool:
    """SIGKILL every process of group `pgid` and wait, up to `timeout` s, until it is gone; False if none was left."""
    if not signal_group(pgid, signal.SIGKILL):
        return False
    deadline = time.monotonic() + timeout
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return True


def reap_group(proc: subprocess.Popen[str]) -> None:
    """After the worker exited by itself: SIGKILL anything it left behind in its group."""
    signal_group(proc.pid, signal.SIGKILL)


def read_lines(proc: subprocess.Popen[str]) -> Iterator[str | None]:
    """The process's stdout lines, read by a helper thread, with None every `TICK_S` without output: the task's
    main thread never blocks in a read, so it can look for a cancellation, and Ray's (an exception raised in
    the main thread between bytecodes) reaches it at once."""
    lines: queue.Queue[str | None] = queue.Queue()
    stdout = proc.stdout
    assert stdout is not None  # spawn() asks for a pipe

    def pump() -> None:
        for line in stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=TICK_S)
        except queue.Empty:
            yield None
            continue
        if line is None:
            return
        yield line


def wait_interruptibly(proc: subprocess.Popen[str], check: Callable[[], None] | None = None) -> int:
    """`proc.wait()` in short slices, calling `check` (which may raise to stop waiting) between them."""
    while proc.poll() is None:
        if check is not None:
            check()
        time.sleep(TICK_S)
    return proc.returncode
