"""The formats `tfdqn export` writes (TensorFlow SavedModel, ONNX, LiteRT), the extra each needs, and the checks
on where an export goes. Imports nothing heavy, so the command refuses bad input before TensorFlow loads; the
conversion itself is `tfdqn.networks.exporter`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tfdqn.errors import TfdqnError
from tfdqn.extras import require_extra
from tfdqn.fileio import check_out_dir, check_out_file


class ExportError(TfdqnError, ValueError):
    """An export cannot be made: an unknown format, a model that is not a Q-network, an output path that
    cannot be written, or a converter that failed; the message names the problem."""


@dataclass(frozen=True)
class Format:
    """One export format: Keras's name for it, the suffix of its default path, the optional extra of tfdqn its
    export needs (`tfdqn.extras.EXTRAS`), if any."""

    keras_name: str
    suffix: str
    extra: str | None = None

    @property
    def is_directory(self) -> bool:
        """A SavedModel is a folder; the others are one file."""
        return not self.suffix.startswith(".")


FORMATS = {
    "saved_model": Format("tf_saved_model", "_saved_model"),
    "onnx": Format("onnx", ".onnx", "export"),
    "litert": Format("litert", ".tflite"),
}
"""The formats `export` writes, by the name `tfdqn export --format` takes."""


def export_format(name: str) -> Format:
    """The `Format` called `name`, or `ExportError` listing the known ones."""
    try:
        return FORMATS[name]
    except (KeyError, TypeError):
        raise ExportError(f"unknown export format {name!r}: choose one of {', '.join(FORMATS)}") from None


def default_out(model_path: str | os.PathLike, format: str) -> Path:
    """Where `export` writes when no path is given: beside the model, e.g. best.keras -> best.onnx."""
    path = Path(model_path)
    return path.with_name(path.stem + export_format(format).suffix)


def require_tools(format: str) -> None:
    """`ExtraNotInstalled` naming what to install unless the extra `format`'s export needs is installed; imports
    nothing."""
    extra = export_format(format).extra
    if extra is not None:
        require_extra(extra, f"--format {format}")


def check_export_out(out: Path, format: str, model: str | os.PathLike | None = None) -> None:
    """Refuse an output path the export could not fill, before anything is loaded or converted: the `model` file
    itself (or a SavedModel folder holding it), a folder where a file goes, a file (or a folder holding anything
    but a SavedModel) where a SavedModel goes, or a folder that cannot be written."""
    spec = export_format(format)
    if model is not None and out.exists() and _same_file(out, Path(model)):
        raise ExportError(f"--out {out} is the model being exported: choose another path")
    if not spec.is_directory:
        check_out_file(out, "--out")
        return
    if out.is_file():
        raise ExportError(f"--out {out} is an existing file; a SavedModel is a folder")
    if out.is_dir() and any(out.iterdir()):
        if not (out / "saved_model.pb").is_file():
            raise ExportError(f"--out {out} is a folder holding other files; a SavedModel would replace it")
        if model is not None and Path(model).resolve().is_relative_to(out.resolve()):
            raise ExportError(f"--out {out} holds the model being exported; a SavedModel would replace it")
    check_out_dir(out.parent, flag=f"--out {out}: its folder")


def _same_file(a: Path, b: Path) -> bool:
    """Whether `a` and `b` are one file (symbolic and hard links included)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # `b` does not exist (the load will say so) or cannot be looked at
        return False
