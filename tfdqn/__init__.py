"""tfdqn: Deep Q-Networks on Keras 3 (TensorFlow backend) and Gymnasium, extensible through listeners.

The public names are listed, with the module each comes from, in `__init__.pyi` (which editors and type checkers
read). They load lazily, on first use: `import tfdqn` and `tfdqn --help` stay instant, and TensorFlow loads with
the first name that needs it. This is the package's one lazy import; every module imports at its top.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import Any

from tfdqn.version import __version__ as __version__


def _public_names() -> dict[str, str]:
    """name -> module, from the `from MODULE import NAME as NAME` lines of `__init__.pyi`."""
    tree = ast.parse(Path(__file__).with_suffix(".pyi").read_text(encoding="utf-8"))
    return {
        alias.asname or alias.name: node.module
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }


_WHERE = _public_names()
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'tfdqn' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
