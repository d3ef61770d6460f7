"""What goes wrong in a sweep or search: bad input, a missing Ray, Ctrl-C. Each prints as one line (status 2,
or 130 for Ctrl-C) through `tfdqn.cli.run_main`."""

from __future__ import annotations

from tfdqn.errors import TfdqnError

INSTALL_HINT = 'pip install "tfdqn[experiments]"'
"""How to get Ray, the one optional dependency of this subpackage."""


class SweepError(TfdqnError):
    """Bad input to a sweep (grid, seeds, folder, Ray address); the message names the problem."""


class RayNotInstalled(SweepError):
    """Sweeps and searches need Ray, which is an optional extra of tfdqn; the message says how to install it."""

    def __init__(self, what: str = "sweeps and searches") -> None:
        super().__init__(f"{what} need Ray, which is not installed: {INSTALL_HINT}")


class SweepInterrupted(TfdqnError):
    """Ctrl-C stopped the sweep: outstanding runs were cancelled, finished ones and the partial table kept."""

    exit_code = 130
