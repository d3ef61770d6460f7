"""The Q-network a config asks for (dueling head, noisy layers, C51 output), its plain-Keras export for
evaluation, and a NumPy forward pass of it for fast acting.

Every part is built from built-in Keras layers except `NoisyDense`, which exists only in the training
network: `export_q_network` replaces it by a `Dense` holding its mean weights, and turns a C51 output into
Q-values (softmax, then a fixed `Dense` holding the support), so a saved `.keras` loads with plain Keras,
`safe_mode=True`, and outputs one Q-value per action whatever the parts.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from tfdqn.config import DQNConfig
from tfdqn.networks.build import (
    build_q_network,
    initializers,
    layer_kind,
    mirror_values,
    mirrorable_norm,
    mirrored_variables,
    numpy_layer_norm,
)
from tfdqn.networks.distributional import support
from tfdqn.networks.noisy import NoisyDense, numpy_noisy_forward


def uses_heads(config: DQNConfig) -> bool:
    """Whether `config` asks for a network other than the plain `build_q_network` one."""
    return config.dueling or config.noisy or config.distributional


def dueling_matrix(n_actions: int, num_atoms: int = 1) -> np.ndarray:
    """The fixed kernel mapping [V, A_0 .. A_{n-1}] (each `num_atoms` wide) to Q_a = V + A_a - mean_b A_b.

    Shape ((1 + n) * K, n * K): `kron(M, I_K)` with M[0, a] = 1 and M[1 + b, a] = [a == b] - 1/n, so with
    C51 the aggregation applies atom by atom to the logits.
    """
    m = np.vstack([np.ones((1, n_actions)), np.eye(n_actions) - 1.0 / n_actions])
    return np.kron(m, np.eye(num_atoms)).astype(np.float32)


def build_network(obs_shape: Sequence[int], n_actions: int, config: DQNConfig = DQNConfig()) -> keras.Sequential:
    """The training Q-network for `config`: `build_q_network`'s body, then the head the parts ask for.

    Output: Q-values (batch, n_actions), or with `distributional` the logits (batch, n_actions, num_atoms).
    Dueling: a linear layer to [V, A] then the fixed, non-trainable `dueling_aggregation` layer
    (`dueling_matrix`); the V and A streams share the hidden layers. Noisy: every Dense layer of the body and
    the head becomes a `NoisyDense` (the convolutions stay deterministic, as in the paper).
    """
    base = build_q_network(
        obs_shape,
        n_actions,
        config.hidden_sizes,
        conv_layers=config.conv_layers,
        initializer=config.initializer,
        layer_norm=config.layer_norm,
    )
    if not uses_heads(config):
        return base
    atoms = config.num_atoms if config.distributional else 1
    layers: list = [keras.Input(shape=base.inputs[0].shape[1:], dtype=base.inputs[0].dtype)]
    for layer in base.layers[:-1]:
        if config.noisy and isinstance(layer, keras.layers.Dense):
            layers.append(
                NoisyDense(
                    layer.units, activation=layer.get_config()["activation"], sigma0=config.noisy_sigma, name=layer.name
                )
            )
        else:
            layers.append(type(layer).from_config(layer.get_config()))
    fan_in = int(base.layers[-1].kernel.shape[0])
    units = (n_actions + 1) * atoms if config.dueling else n_actions * atoms
    name = "value_advantage" if config.dueling else ("logits" if config.distributional else "q_values")
    if config.noisy:
        layers.append(NoisyDense(units, sigma0=config.noisy_sigma, name=name))
    else:
        layers.append(keras.layers.Dense(units, name=name, **initializers(config.initializer, fan_in, output=True)))
    if config.dueling:
        layers.append(keras.layers.Dense(n_actions * atoms, name="dueling_aggregation", trainable=False))
    if config.distributional:
        layers.append(keras.layers.Reshape((n_actions, atoms), name="atom_logits"))
    model = keras.Sequential(layers, name=base.name)
    if config.dueling:
        model.get_layer("dueling_aggregation").set_weights(
            [dueling_matrix(n_actions, atoms), np.zeros(n_actions * atoms, np.float32)]
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


class NumpyQ:
    """Q-values of a `build_network` model of Dense/NoisyDense layers (with `layer_norm` its LayerNormalization
    and ReLU Activation layers; plus its fixed dueling map and C51 reshape) in NumPy: the fast acting path when
    the parts are on. `noisy=True` in a call draws one noise sample per noisy layer from `rng` (acting with noisy
    nets); otherwise the mean weights are used. `from_model` returns None for other models (convolutions:
    TensorFlow acts)."""

    def __init__(self, model: keras.Model, config: DQNConfig):
        self.model = model
        self.atoms = support(config.v_min, config.v_max, config.num_atoms) if config.distributional else None
        self.n_actions = int(model.outputs[0].shape[1])
        self.params: list = []
        self.sync()

    @classmethod
    def from_model(cls, model: keras.Model, config: DQNConfig) -> NumpyQ | None:
        layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.Reshape)]
        if not layers or not isinstance(layers[0], (keras.layers.Dense, NoisyDense)):
            return None  # the first layer makes a new array: the in-place ReLU never writes into observations
        for layer in layers:
            if not isinstance(layer, (keras.layers.Dense, NoisyDense, keras.layers.Activation)) and not mirrorable_norm(
                layer
            ):
                return None
            if getattr(getattr(layer, "activation", None), "__name__", "linear") not in ("relu", "linear") or getattr(
                layer, "lora_enabled", False
            ):
                return None
        return cls(model, config)

    def _layers(self) -> list:
        return [layer for layer in self.model.layers if not isinstance(layer, keras.layers.Reshape)]

    @staticmethod
    def _variables_of(layer: keras.Layer) -> tuple:
        if isinstance(layer, NoisyDense):
            return layer.kernel, layer.bias, layer.kernel_sigma, layer.bias_sigma
        return mirrored_variables(layer)

    def variables(self) -> list:
        """The Keras variables this mirror copies, in the order `sync(values)` takes them."""
        return [w for layer in self._layers() for w in self._variables_of(layer)]

    def sync(self, values: list[np.ndarray] | None = None) -> None:
        """Copy the current Keras weights (or `values`, read from `variables()` by the caller)."""
        values = iter(mirror_values(self.variables(), values))
        self.params = []
        for layer in self._layers():
            arrays = [next(values) for _ in self._variables_of(layer)]
            relu = getattr(getattr(layer, "activation", None), "__name__", "linear") == "relu"
            self.params.append((arrays, relu, layer_kind(layer), np.float32(getattr(layer, "epsilon", 0.0))))
        self.noise_size = sum(sum(a[0].shape) for a, *_ in self.params if len(a) == 4)

    def __call__(self, obs: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """Q-values (batch, n_actions); with `rng`, noisy layers draw their noise from it."""
        x = np.asarray(obs, dtype=np.float32)
        noise = None if rng is None or not self.noise_size else rng.standard_normal(self.noise_size, np.float32)
        start = 0
        for arrays, relu, kind, epsilon in self.params:
            if kind == "norm":
                x = numpy_layer_norm(x, arrays[0], arrays[1], epsilon)
            elif kind == "dense" and len(arrays) == 4 and noise is not None:  # one draw for every e_in and e_out
                end = start + sum(arrays[0].shape)
                x = numpy_noisy_forward(x, *arrays, noise[start:end])
                start = end
            elif kind == "dense":
                x = x @ arrays[0] + arrays[1]
            if relu:
                np.maximum(x, 0.0, out=x)
        if self.atoms is None:
            return x
        logits = x.reshape(len(x), self.n_actions, -1)
        logits = logits - logits.max(axis=-1, keepdims=True)
        p = np.exp(logits)
        return (p @ self.atoms) / p.sum(axis=-1)
