"""Saving Q-networks to `.keras` atomically and loading them back with clear errors and `safe_mode`."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import keras

from tfdqn.errors import ModelFileError
from tfdqn.fileio import atomic_write


def save_model(model: keras.Model, path: str | os.PathLike) -> Path:
    """Write `model` to a `.keras` file; a crash mid-write leaves any previous file untouched."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ModelFileError(f"model path {str(path)!r} must end in .keras")
    return atomic_write(path, lambda tmp: model.save(tmp))


def load_q_network(path: str | os.PathLike, n_actions: int | None = None) -> keras.Model:
    """Load a `.keras` Q-network (never unpickling: `safe_mode=True`), checking the action count if given."""
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"model file {str(path)!r} does not exist")
    if not path.is_file():
        raise ModelFileError(f"model path {str(path)!r} is not a file")
    if path.stat().st_size == 0:
        raise ModelFileError(f"model file {str(path)!r} is empty")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"model file {str(path)!r} is not a .keras archive (not a zip file)")
    try:
        model = keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises many types for a damaged archive
        raise ModelFileError(
            f"model file {str(path)!r} could not be loaded: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}"
        ) from None
    outputs = model.outputs[0].shape[-1] if model.outputs else None
    if n_actions is not None and outputs != n_actions:
        raise ModelFileError(
            f"model file {str(path)!r} outputs {outputs} Q-values but the environment has {n_actions} actions"
        )
    return model
