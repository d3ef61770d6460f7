"""The benchmarks' test set-up, as tests/conftest.py's: quiet single-threaded TensorFlow, this checkout for
subprocesses, dummy video."""

import os

from benchmarks.common import ROOT
from tfdqn.cli import prepare_process
from tfdqn.runtime import configure_threads

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
# Subprocesses (workers, the old entry points) import this checkout's tfdqn and benchmarks.
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
# A subprocess that crashes (SIGSEGV and the like) prints its Python stacks, so a rare crash in CI says where.
os.environ.setdefault("PYTHONFAULTHANDLER", "1")
prepare_process()
configure_threads(1)
