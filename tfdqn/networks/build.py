"""Q-network builders: the MLP and convolutional bodies, the heads a config asks for (dueling, noisy, C51),
and the target clone. Built-in Keras layers only, except `NoisyDense` in training networks (see `export`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import numpy as np

from tfdqn.config import INITIALIZERS, NATURE_CONV_LAYERS, DQNConfig
from tfdqn.errors import ConfigError, EnvError
from tfdqn.networks.noisy import NoisyDense

INPUT_SCALES: dict[str, tuple[float, str]] = {"uint8": (1.0 / 255.0, "scale_pixels"), "bool": (1.0, "cells")}
"""Input dtype of a conv Q-network -> the scale of its first (`Rescaling`) layer and that layer's name."""


def build_q_network(
    obs_shape: Sequence[int],
    n_actions: int,
    hidden_sizes: Sequence[int] = (256, 256),
    name: str = "q_network",
    conv_layers: Sequence[Sequence[int]] = NATURE_CONV_LAYERS,
    initializer: str = "fan_in_uniform",
    layer_norm: bool = False,
    input_dtype: str = "uint8",
) -> keras.Sequential:
    """The Q-network for observations of `obs_shape`: `build_mlp_q_network` for a flat vector (n,), or
    for an image (height, width, channels) `build_conv_q_network` (`conv_layers`, then `hidden_sizes` as
    its dense part, `input_dtype` its input); `layer_norm` normalises every hidden layer before its ReLU
    (`hidden_layers`)."""
    obs_shape = tuple(int(d) for d in obs_shape)
    if len(obs_shape) == 3:
        return build_conv_q_network(
            obs_shape, n_actions, conv_layers, hidden_sizes, name, initializer, layer_norm, input_dtype
        )
    return build_mlp_q_network(obs_shape, n_actions, hidden_sizes, name, initializer, layer_norm)


def hidden_layers(i: int, width: int, fan_in: int, initializer: str, layer_norm: bool) -> list[keras.Layer]:
    """Hidden layer `i`: Dense + ReLU, or with `layer_norm` Dense, `LayerNormalization`, then ReLU (the
    normalisation before the nonlinearity, as in PQN and BRO)."""
    if not layer_norm:
        return [
            keras.layers.Dense(int(width), activation="relu", name=f"hidden_{i}", **initializers(initializer, fan_in))
        ]
    return [
        keras.layers.Dense(int(width), name=f"hidden_{i}", **initializers(initializer, fan_in)),
        keras.layers.LayerNormalization(name=f"norm_{i}"),
        keras.layers.Activation("relu", name=f"relu_{i}"),
    ]


def initializers(scheme: str, fan_in: int, output: bool = False) -> dict[str, keras.initializers.Initializer]:
    """`kernel_initializer`/`bias_initializer` of one layer under `scheme` (see `tfdqn.config.INITIALIZERS`).

    "fan_in_uniform": kernel and bias from U(+-1/sqrt(fan_in)), what PyTorch's layers do by default and what
    hyperparameters copied from PyTorch libraries assume. "he": He-normal kernels (Glorot-uniform for the
    linear output layer) and zero biases. Built-in Keras initialisers only, so saved models load anywhere.
    """
    if scheme == "fan_in_uniform":
        bound = 1.0 / math.sqrt(max(int(fan_in), 1))
        return {
            "kernel_initializer": keras.initializers.RandomUniform(-bound, bound),
            "bias_initializer": keras.initializers.RandomUniform(-bound, bound),
        }
    if scheme == "he":
        return {"kernel_initializer": "glorot_uniform" if output else "he_normal", "bias_initializer": "zeros"}
    raise ConfigError(f"initializer={scheme!r} is invalid: must be one of {INITIALIZERS}")


def build_mlp_q_network(
    obs_shape: Sequence[int],
    n_actions: int,
    hidden_sizes: Sequence[int] = (256, 256),
    name: str = "q_network",
    initializer: str = "fan_in_uniform",
    layer_norm: bool = False,
) -> keras.Sequential:
    """An MLP from a flat observation (n,) to one Q-value per action: ReLU layers (`layer_norm`: each
    normalised before its ReLU, `hidden_layers`), `initializer` scheme."""
    obs_shape = tuple(int(d) for d in obs_shape)
    if n_actions < 1:
        raise EnvError(f"n_actions={n_actions} is invalid: need at least one action")
    if len(obs_shape) != 1:
        kind = "an image" if len(obs_shape) == 3 else "not a flat vector"
        raise EnvError(
            f"observation shape {obs_shape} is {kind}; the MLP Q-network takes a flat vector (n,) "
            "(images need build_conv_q_network, or build_q_network to choose)"
        )
    initializers(initializer, 1)  # an unknown scheme fails before anything is built
    layers: list[keras.Layer] = [keras.Input(shape=obs_shape, dtype="float32")]
    fan_in = obs_shape[0]
    for i, width in enumerate(hidden_sizes):
        layers += hidden_layers(i, width, fan_in, initializer, layer_norm)
        fan_in = int(width)
    layers.append(keras.layers.Dense(n_actions, name="q_values", **initializers(initializer, fan_in, output=True)))
    return keras.Sequential(layers, name=name)


def build_conv_q_network(
    obs_shape: Sequence[int],
    n_actions: int,
    conv_layers: Sequence[Sequence[int]] = NATURE_CONV_LAYERS,
    hidden_sizes: Sequence[int] = (512,),
    name: str = "q_network",
    initializer: str = "fan_in_uniform",
    layer_norm: bool = False,
    input_dtype: str = "uint8",
) -> keras.Sequential:
    """A convolutional Q-network for uint8 images or boolean grids (height, width, channels), channels-last.

    The model takes raw pixels 0..255 (uint8; float input holding the same values works too) and scales
    them inside itself with a `Rescaling(1/255)` layer, so the replay buffer keeps one byte per pixel and
    the saved `.keras` file is used exactly like the network was during training. With `input_dtype`
    "bool" (MinAtar) it takes the booleans and casts them to 0/1 floats (`Rescaling(1)`, "cells"). Then one `Conv2D`
    (valid padding, ReLU) per `(filters, kernel_size, stride)` in `conv_layers`, `Flatten`, one Dense ReLU
    layer per entry of `hidden_sizes` (normalised before its ReLU with `layer_norm`), and a linear output per
    action. The defaults are the Nature-DQN
    network: 32x8x8/4, 64x4x4/2, 64x3x3/1, 512. Weights follow `initializer` (see `initializers`).
    Built-in layers only: loads with `safe_mode=True`.
    """
    obs_shape = tuple(int(d) for d in obs_shape)
    if len(obs_shape) != 3 or min(obs_shape) < 1:
        raise EnvError(f"observation shape {obs_shape} is not an image (height, width, channels)")
    if n_actions < 1:
        raise EnvError(f"n_actions={n_actions} is invalid: need at least one action")
    conv_layers = tuple(tuple(int(v) for v in layer) for layer in conv_layers)
    if any(len(layer) != 3 or min(layer) < 1 for layer in conv_layers):
        raise ConfigError(
            f"conv_layers={conv_layers!r} is invalid: need (filters, kernel_size, stride) triples of positive integers"
        )
    if input_dtype not in INPUT_SCALES:
        raise EnvError(f"input_dtype={input_dtype!r} is invalid: the conv Q-network takes {tuple(INPUT_SCALES)}")
    scale, scale_name = INPUT_SCALES[input_dtype]
    layers: list[keras.Layer] = [
        keras.Input(shape=obs_shape, dtype=input_dtype),
        keras.layers.Rescaling(scale, name=scale_name),
    ]
    initializers(initializer, 1)
    height, width = obs_shape[:2]
    channels = obs_shape[2]
    for i, (filters, kernel, stride) in enumerate(conv_layers):
        height, width = (height - kernel) // stride + 1, (width - kernel) // stride + 1
        if height < 1 or width < 1:
            raise ConfigError(
                f"conv_layers={conv_layers!r} is invalid for images of shape {obs_shape}: "
                f"convolution {i} ({kernel}x{kernel}, stride {stride}) leaves no output"
            )
        layers.append(
            keras.layers.Conv2D(
                filters,
                kernel,
                strides=stride,
                activation="relu",
                name=f"conv_{i}",
                **initializers(initializer, kernel * kernel * channels),
            )
        )
        channels = filters
    layers.append(keras.layers.Flatten(name="flatten"))
    fan_in = height * width * channels
    for i, units in enumerate(hidden_sizes):
        layers += hidden_layers(i, units, fan_in, initializer, layer_norm)
        fan_in = int(units)
    layers.append(keras.layers.Dense(n_actions, name="q_values", **initializers(initializer, fan_in, output=True)))
    return keras.Sequential(layers, name=name)


def clone_network(model: keras.Model, name: str = "target_network") -> keras.Model:
    """A structural copy of `model` holding the same weights (the DQN target network)."""
    target = keras.models.clone_model(model)
    target.name = name
    target.set_weights(model.get_weights())
    return target


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


def build_network(
    obs_shape: Sequence[int], n_actions: int, config: DQNConfig = DQNConfig(), input_dtype: str = "uint8"
) -> keras.Sequential:
    """The training Q-network for `config`: `build_q_network`'s body (`input_dtype`: an image's, see
    `build_conv_q_network`), then the head the parts ask for.

    Output: Q-values (batch, n_actions), or with `distributional` the logits (batch, n_actions, num_atoms).
    Dueling: a linear layer to [V, A] then the fixed, non-trainable `dueling_aggregation` layer
    (`dueling_matrix`); the V and A streams share the hidden layers. Noisy: every Dense layer of the body and
    the head becomes a `NoisyDense` (the convolutions stay deterministic, as in the paper).

    The body's layers are re-created from their configs behind a new head. Building the head network in one
    pass would skip the body's first weight draws (each Keras initializer draws its seed when it is made), so
    every measured run with a head (the cartpole preset's C51 included) would start from other weights.
    """
    base = build_q_network(
        obs_shape,
        n_actions,
        config.hidden_sizes,
        conv_layers=config.conv_layers,
        initializer=config.initializer,
        layer_norm=config.layer_norm,
        input_dtype=input_dtype,
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


def has_convolution(model: keras.Model) -> bool:
    """Whether `model` (or a model nested in it: an observation encoder) has a convolution."""
    return any(
        isinstance(layer, keras.layers.Conv2D) or (isinstance(layer, keras.Model) and has_convolution(layer))
        for layer in model.layers
    )


def check_q_output(model: keras.Model, n_actions: int, config: DQNConfig) -> None:
    """The network's output must be what the config's update reads: Q-values, or C51's atom logits."""
    want = (n_actions, config.num_atoms) if config.distributional else (n_actions,)
    got = tuple(model.outputs[0].shape[1:]) if model.outputs else None
    if got != want:
        what = (
            f"(batch, {n_actions}, {config.num_atoms}) atom logits"
            if config.distributional
            else f"(batch, {n_actions}) Q-values"
        )
        raise ConfigError(
            f"the Q-network outputs shape {got}, but this config needs {what}; "
            "build it with tfdqn.networks.build.build_network(obs_shape, n_actions, config)"
        )
