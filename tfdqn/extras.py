"""Optional extras: one check that a package of an extra is importable, failing with one line that names what to
install. It imports nothing itself, so a command checks its extras before anything expensive is built."""

from __future__ import annotations

import importlib.util

from tfdqn.errors import TfdqnError

EXTRAS = {"video": "moviepy", "tracking": "mlflow"}
"""Each optional extra of pyproject.toml checked here, and the module that shows it is installed."""


class ExtraNotInstalled(TfdqnError, ImportError):
    """A feature needs an optional extra of tfdqn that is not installed; the message says what to install."""


def require_extra(extra: str, what: str) -> None:
    """Raise `ExtraNotInstalled` ("`what` needs ...: pip install "tfdqn[extra]"") unless the extra's module can be
    imported. Imports nothing (the module is only looked up)."""
    module = EXTRAS[extra]
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken or half-removed install, or a module set to None in sys.modules
        found = False
    if not found:
        raise ExtraNotInstalled(f'{what} needs {module}, which is not installed: pip install "tfdqn[{extra}]"')
