"""The plain-Keras Q-network of a training network, and `.keras` files: written atomically, loaded back with
clear errors and `safe_mode`.

Every saved model holds built-in Keras layers only: `export_q_network` replaces `NoisyDense` by a `Dense`
holding its mean weights and turns a C51 output into Q-values (softmax, then a fixed `Dense` holding the
support), so a saved `.keras` loads with plain Keras, `safe_mode=True`, and outputs one Q-value per action.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import keras

from tfdqn.config import DQNConfig
from tfdqn.errors import ModelFileError
from tfdqn.fileio import atomic_write
from tfdqn.networks.distributional import support
from tfdqn.networks.noisy import NoisyDense


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


def export_q_network(model: keras.Model, config: DQNConfig) -> keras.Model:
    """The deterministic Q-network of `model` from built-in layers only: `NoisyDense` -> `Dense` with the
    mean weights, C51 logits -> Q-values (Softmax over atoms, a fixed `Dense` holding the support, Reshape).
    Returns `model` itself when it already is one (no noisy layers, no distribution)."""
    if not (config.noisy or config.distributional):
        return model
    layers: list = [keras.Input(shape=model.inputs[0].shape[1:], dtype=model.inputs[0].dtype)]
    weights: list = []
    for layer in model.layers:
        if isinstance(layer, NoisyDense):
            layers.append(
                keras.layers.Dense(
                    layer.units, activation=keras.activations.serialize(layer.activation), name=layer.name
                )
            )
            weights.append([layer.kernel.numpy(), layer.bias.numpy()])
        else:
            config_ = layer.get_config()
            layers.append(type(layer).from_config(config_))
            weights.append(layer.get_weights())
    n_actions = int(model.outputs[0].shape[1])
    if config.distributional:
        layers += [
            keras.layers.Softmax(axis=-1, name="atom_probabilities"),
            keras.layers.Dense(1, use_bias=False, trainable=False, name="expectation"),
            keras.layers.Reshape((n_actions,), name="q_values_out"),
        ]
        weights += [[], [support(config.v_min, config.v_max, config.num_atoms)[:, None]], []]
    exported = keras.Sequential(layers, name=model.name)
    for layer, w in zip(exported.layers, weights):
        if w:
            layer.set_weights(w)
    return exported
