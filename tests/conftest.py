"""Shared test set-up: quiet, single-threaded TensorFlow and small helper environments."""

import os
import sys
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tfdqn.cli import prepare_process  # noqa: E402

prepare_process()

from tfdqn.runtime import configure_threads  # noqa: E402

configure_threads(1)
