"""`tfdqn export`: a saved `.keras` Q-network as a TensorFlow SavedModel, an ONNX file or a LiteRT (`.tflite`)
file, for runtimes without Keras (`tfdqn.networks.exporter`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tfdqn.cli import prepare_process
from tfdqn.networks.export_formats import FORMATS, check_export_out, default_out, require_tools

HELP = "export a saved .keras Q-network as a TensorFlow SavedModel, ONNX or LiteRT model"
DESCRIPTION = (
    "Export a saved .keras Q-network for a runtime without Keras: a TensorFlow SavedModel (tf.saved_model.load, "
    "TF Serving), ONNX (ONNX Runtime) or LiteRT (.tflite, phones and embedded boards). The exported model takes a "
    "batch of observations (input 'observation'), as the .keras model does, and returns one Q-value per action. "
    "ONNX needs the export extra: pip install 'tfdqn[export]'."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", type=Path, help="path to a .keras model (e.g. results/cartpole/best.keras)")
    p.add_argument("--format", required=True, choices=list(FORMATS), help="the format to write (required: no default)")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write it (default: beside the model: best.keras -> best.onnx, best.tflite, best_saved_model/)",
    )


def run(args: argparse.Namespace) -> int:
    prepare_process()
    out = args.out or default_out(args.model, args.format)
    check_export_out(out, args.format, args.model)  # before TensorFlow loads
    require_tools(args.format)
    from tfdqn.networks.exporter import export

    path = export(args.model, args.format, out)
    print(f"exported {args.model} as {args.format} to {path}")
    return 0
