"""`tfdqn benchmark`: the benchmark suites (`--suite loop|solve|memory|vector|cartpole|lunarlander|all`).

The suites time and compare the repository's own scripts and write `results/benchmark/`, so they live in
the source checkout's `scripts/benchmark.py`; this command runs that script with the same flags
(`tfdqn benchmark --help` prints them, with their defaults). It needs a checkout: an editable install
(`pip install -e .`) or the repository as the current directory.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from tfdqn.errors import TfdqnError

HELP = "run the benchmark suites of a source checkout's scripts/benchmark.py (flags: tfdqn benchmark --help)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("flags", nargs=argparse.REMAINDER, help="the flags of scripts/benchmark.py")


def script() -> Path:
    """scripts/benchmark.py of the checkout this package was installed from (editable) or of the current
    directory; a `TfdqnError` when there is none."""
    import tfdqn

    for root in (Path(tfdqn.__file__).resolve().parents[1], Path.cwd()):
        path = root / "scripts" / "benchmark.py"
        if path.is_file():
            return path
    raise TfdqnError(
        "tfdqn benchmark runs scripts/benchmark.py of a source checkout, and this installation "
        "has none: install with `pip install -e .` from the repository, or run from its root"
    )


def forward(argv: list[str]) -> int:
    """Run the checkout's benchmark script with `argv` unchanged (its own --help included)."""
    return subprocess.call([sys.executable, str(script()), *argv])


def run(args: argparse.Namespace) -> int:
    return forward(args.flags)
