"""Shared test set-up: quiet, single-threaded TensorFlow and small helper environments."""

import os
import sys
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
# The scripts import tfdqn as an installed package; the tests' subprocesses get this checkout's copy instead.
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
# A subprocess that crashes (SIGSEGV and the like) prints its Python stacks, so a rare crash in CI says where.
os.environ.setdefault("PYTHONFAULTHANDLER", "1")

from tfdqn.cli import prepare_process  # noqa: E402

prepare_process()

from tfdqn.runtime import configure_threads  # noqa: E402

configure_threads(1)
