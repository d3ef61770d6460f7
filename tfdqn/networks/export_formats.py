"""The formats `tfdqn export` writes (TensorFlow SavedModel, ONNX, LiteRT), what each needs, and the checks on
where an export goes. Imports nothing heavy, so the command refuses bad input before TensorFlow loads; the
conversion itself is `tfdqn.networks.exporter`."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from tfdqn.errors import TfdqnError
from tfdqn.fileio import check_out_dir

INSTALL_HINT = "pip install 'tfdqn[export]'"
"""How to get the export tools (and the runtimes that run the exports: ONNX Runtime, LiteRT)."""


class ExportError(TfdqnError, ValueError):
    """An export cannot be made: an unknown format, a model that is not a Q-network, an output path that
    cannot be written, or a converter that failed; the message names the problem."""


class ExtraNotInstalled(ExportError, ImportError):
    """The format needs the optional `export` extra; the message names what to install."""


@dataclass(frozen=True)
class Format:
    """One export format: Keras's name for it, the suffix of its default path, the modules its export needs."""

    keras_name: str
    suffix: str
    needs: tuple[str, ...] = ()

    @property
    def is_directory(self) -> bool:
        """A SavedModel is a folder; the others are one file."""
        return not self.suffix.startswith(".")


FORMATS = {
    "saved_model": Format("tf_saved_model", "_saved_model"),
    "onnx": Format("onnx", ".onnx", ("tf2onnx", "onnx")),
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
    """`ExtraNotInstalled` naming what to install unless the modules `format`'s export needs can be imported;
    imports nothing."""
    missing = [name for name in export_format(format).needs if not _importable(name)]
    if missing:
        raise ExtraNotInstalled(
            f"--format {format} needs {' and '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} "
            f"not installed: {INSTALL_HINT}"
        )


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a broken or half-removed install
        return False


def check_export_out(out: Path, format: str) -> None:
    """Refuse an output path the export could not fill, before anything is loaded or converted: a folder where
    a file goes, a file (or a folder holding anything but a SavedModel) where a SavedModel goes, or a folder that
    cannot be written."""
    spec = export_format(format)
    if spec.is_directory and out.is_file():
        raise ExportError(f"--out {out} is an existing file; a SavedModel is a folder")
    if spec.is_directory and out.is_dir() and any(out.iterdir()) and not (out / "saved_model.pb").is_file():
        raise ExportError(f"--out {out} is a folder holding other files; a SavedModel would replace it")
    if not spec.is_directory and out.is_dir():
        raise ExportError(f"--out {out} is a directory; --format {format} writes one file")
    check_out_dir(out.parent, flag=f"--out {out}: its folder")
