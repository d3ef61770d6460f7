"""Optional extras: one check that the packages of an extra are importable, failing with one line that names what
to install. It imports nothing itself, so a command checks its extras before anything expensive is built."""

from __future__ import annotations

import importlib.util

from tfdqn.errors import TfdqnError

EXTRAS = {"video": ("moviepy",), "tracking": ("mlflow",), "export": ("tf2onnx", "onnx")}
"""Each optional extra of pyproject.toml checked here, and the modules a feature of it needs (the `export`
extra's converters: ONNX export needs them, its runtimes are only for running the exports)."""


class ExtraNotInstalled(TfdqnError, ImportError):
    """A feature needs an optional extra of tfdqn that is not installed; the message says what to install."""


def require_extra(extra: str, what: str) -> None:
    """Raise `ExtraNotInstalled` ("`what` needs moviepy, which is not installed: pip install 'tfdqn[video]'")
    unless every module of the extra can be imported. Imports nothing (the modules are only looked up)."""
    missing = [module for module in EXTRAS[extra] if not _importable(module)]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise ExtraNotInstalled(
            f"{what} needs {' and '.join(missing)}, which {verb} not installed: pip install 'tfdqn[{extra}]'"
        )


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken or half-removed install, or a module set to None in sys.modules
        return False
