"""Ctrl-C and SIGTERM during training: the handler the Trainer installs for the length of a `train` call, so
training stops cleanly at the end of the current step (and saves its state) instead of dying mid-write."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType


def install_stop_handlers(on_signal: Callable[[int], None]) -> Callable[[], None]:
    """Route SIGINT and SIGTERM to `on_signal(signum)` (which may raise `KeyboardInterrupt` to abort at once);
    returns the function that restores the previous handlers. Outside the main thread, signals cannot be
    handled: nothing is installed."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, frame: FrameType | None) -> None:
        on_signal(signum)

    for s in previous:
        signal.signal(s, handler)

    def restore() -> None:
        for s, h in previous.items():
            signal.signal(s, h)

    return restore
