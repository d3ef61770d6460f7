"""Exporting a saved Q-network to the formats other runtimes read: a TensorFlow SavedModel
(`tf.saved_model.load`, TF Serving), ONNX (ONNX Runtime, from C++, C#, Java, JavaScript) and LiteRT
(`.tflite`: phones, microcontrollers, a robot's onboard computer), through Keras 3's own `Model.export`.

A saved `.keras` model already is the plain-Keras network of its run (noisy layers at their mean weights, C51 as
its expected Q-values, the observation encoding inside), so every kind tfdqn trains exports the same way. The
exported model takes a batch of observations as the `.keras` one does, under the input name "observation",
and returns one Q-value per action. ONNX needs the optional `export` extra (tf2onnx and onnx); SavedModel and
LiteRT export with TensorFlow alone. The artifact is written beside its target and moved into place, so a
failed export leaves nothing half-written; an output path that is the model itself is refused.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path

import keras
import tensorflow as tf

from tfdqn.fileio import atomic_write
from tfdqn.networks.export import load_q_network
from tfdqn.networks.export_formats import (
    ExportError,
    Format,
    check_export_out,
    default_out,
    export_format,
    require_tools,
)


def export(
    model: keras.Model | str | os.PathLike,
    format: str = "onnx",
    out: str | os.PathLike | None = None,
) -> Path:
    """Export a Q-network (a `.keras` path, or a plain Keras model such as `agent.export_model()`) to
    `format` ("saved_model", "onnx" or "litert") at `out` (default: beside the model file, `default_out`);
    returns the path written. Bad input raises an `ExportError` before anything is converted."""
    spec = export_format(format)
    if out is None:
        if isinstance(model, keras.Model):
            raise ExportError("out is needed when exporting a model object (there is no file to put it beside)")
        out = default_out(model, format)
    out = Path(out)
    check_export_out(out, format, None if isinstance(model, keras.Model) else model)
    require_tools(format)
    network = model if isinstance(model, keras.Model) else load_q_network(model)
    signature = input_signature(network)
    if spec.is_directory:
        _replace_folder(out, lambda tmp: _keras_export(network, tmp, spec, signature))
    else:
        atomic_write(out, lambda tmp: _export_file(network, tmp, spec, signature))
    return out


def input_signature(model: keras.Model) -> list[tf.TensorSpec]:
    """A batch of the model's observations under the name "observation", the input of every exported format."""
    if len(model.inputs) != 1 or len(model.outputs) != 1 or len(model.outputs[0].shape) != 2:
        outputs = [tuple(o.shape) for o in model.outputs]
        raise ExportError(
            f"model {model.name!r} is not a Q-network of one observation input to (batch, n_actions) Q-values "
            f"(it has {len(model.inputs)} inputs and outputs {outputs}); export a saved .keras model or "
            "agent.export_model()"
        )
    observation = model.inputs[0]
    return [tf.TensorSpec((None, *observation.shape[1:]), observation.dtype, name="observation")]


def _keras_export(model: keras.Model, path: str, spec: Format, signature: list[tf.TensorSpec]) -> None:
    with warnings.catch_warnings():  # Keras's tf2onnx patch for NumPy 2 touches the deprecated np.object
        warnings.simplefilter("ignore", FutureWarning)
        try:
            model.export(path, format=spec.keras_name, verbose=False, input_signature=signature)
        except Exception as exc:  # the converters raise many types; the first line says what went wrong
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            what = f"{spec.keras_name} export of {model.name!r}"
            raise ExportError(f"{what} failed: {type(exc).__name__}: {first}") from None


def _export_file(model: keras.Model, tmp: str, spec: Format, signature: list[tf.TensorSpec]) -> None:
    """Export into a fresh folder beside `tmp` under the suffix Keras asks for, then move the file to `tmp`."""
    folder = tempfile.mkdtemp(prefix=".tfdqn-export-", dir=Path(tmp).parent)
    try:
        artifact = os.path.join(folder, "model" + spec.suffix)
        _keras_export(model, artifact, spec, signature)
        os.replace(artifact, tmp)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _replace_folder(out: Path, write) -> None:
    """Call `write(tmp)` on a new folder beside `out`, then put it at `out` (replacing an older SavedModel);
    a failure leaves `out` as it was and no temporary folder behind."""
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        fresh = work / "new"
        write(str(fresh))
        if not out.exists():
            os.replace(fresh, out)
            return
        os.replace(out, work / "old")
        try:
            os.replace(fresh, out)
        except BaseException:
            os.replace(work / "old", out)
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
