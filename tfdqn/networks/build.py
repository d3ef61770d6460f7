"""Q-network builders (`keras.Sequential`), the target clone, and a NumPy forward pass for fast acting."""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import numpy as np

from tfdqn.config import INITIALIZERS, NATURE_CONV_LAYERS
from tfdqn.errors import ConfigError, EnvError


def build_q_network(
    obs_shape: Sequence[int],
    n_actions: int,
    hidden_sizes: Sequence[int] = (256, 256),
    name: str = "q_network",
    conv_layers: Sequence[Sequence[int]] = NATURE_CONV_LAYERS,
    initializer: str = "fan_in_uniform",
    layer_norm: bool = False,
) -> keras.Sequential:
    """The Q-network for observations of `obs_shape`: `build_mlp_q_network` for a flat vector (n,), or
    for an image (height, width, channels) `build_conv_q_network` (`conv_layers`, then `hidden_sizes` as
    its dense part); `layer_norm` normalises every hidden layer before its ReLU (`hidden_layers`)."""
    obs_shape = tuple(int(d) for d in obs_shape)
    if len(obs_shape) == 3:
        return build_conv_q_network(obs_shape, n_actions, conv_layers, hidden_sizes, name, initializer, layer_norm)
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
) -> keras.Sequential:
    """A convolutional Q-network for uint8 images (height, width, channels), channels-last.

    The model takes raw pixels 0..255 (uint8; float input holding the same values works too) and scales
    them inside itself with a `Rescaling(1/255)` layer, so the replay buffer keeps one byte per pixel and
    the saved `.keras` file is used exactly like the network was during training. Then one `Conv2D`
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
    layers: list[keras.Layer] = [
        keras.Input(shape=obs_shape, dtype="uint8"),
        keras.layers.Rescaling(1.0 / 255.0, name="scale_pixels"),
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


def mirror_values(variables: list, values: list[np.ndarray] | None) -> list[np.ndarray]:
    """The arrays a NumPy mirror copies: `values` (the update's outputs, one per variable, checked) or a read."""
    if values is None:
        return [v.numpy() for v in variables]
    if len(values) != len(variables):
        raise ValueError(f"sync got {len(values)} arrays for {len(variables)} variables")
    return values


def mirrorable_norm(layer: keras.Layer) -> bool:
    """Whether `numpy_layer_norm` computes `layer`: a LayerNormalization over the last axis with both its scale
    and its offset (what `hidden_layers` builds)."""
    return (
        isinstance(layer, keras.layers.LayerNormalization)
        and layer.center
        and layer.scale
        and not getattr(layer, "rms_scaling", False)
        and list(np.atleast_1d(layer.axis)) in ([-1], [len(layer.input.shape) - 1])
    )


def numpy_layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, epsilon: float) -> np.ndarray:
    """Keras's LayerNormalization over the last axis in NumPy (epsilon inside the root), into a new array."""
    inv_n = np.float32(1.0 / x.shape[-1])
    x = x - np.add.reduce(x, axis=-1, keepdims=True) * inv_n
    scale = np.add.reduce(x * x, axis=-1, keepdims=True) * inv_n
    scale += np.float32(epsilon)
    np.sqrt(scale, out=scale)
    x /= scale
    x *= gamma
    x += beta
    return x


class NumpyMLP:
    """The same function as a `Sequential` of Dense (ReLU/linear), LayerNormalization and ReLU/linear
    Activation layers, computed in NumPy: ~6 µs per greedy action without the norms.

    Call `sync()` after the Keras weights change; `from_model` returns None for models it cannot mirror.
    """

    _ACTIVATIONS = {"relu": lambda x: np.maximum(x, 0.0, out=x), "linear": lambda x: x}

    def __init__(self, model: keras.Model, activations: list[str]):
        self.model = model
        # per layer: its `layer_kind`, its epsilon (norms), and the activation applied after it
        self._ops = [
            (layer_kind(layer), np.float32(getattr(layer, "epsilon", 0.0)), self._ACTIVATIONS[a])
            for layer, a in zip(model.layers, activations)
        ]
        self.params: list[tuple[np.ndarray, ...]] = []
        self.sync()

    @classmethod
    def from_model(cls, model: keras.Model) -> NumpyMLP | None:
        """Mirror `model` if it starts with a Dense and every layer is a Dense with a bias, a `mirrorable_norm`
        or an Activation, each with a ReLU/linear activation. (The first Dense makes a new array, so the
        in-place ReLU never writes into the caller's observations.)"""
        if not isinstance(model, keras.Sequential) or not model.layers:
            return None
        if not isinstance(model.layers[0], keras.layers.Dense):
            return None
        activations = []
        for layer in model.layers:
            if isinstance(layer, keras.layers.Dense):
                if not layer.use_bias or getattr(layer, "lora_enabled", False):
                    return None
            elif not (mirrorable_norm(layer) or isinstance(layer, keras.layers.Activation)):
                return None
            name = getattr(layer.activation, "__name__", "") if hasattr(layer, "activation") else "linear"
            if name not in cls._ACTIVATIONS:
                return None
            activations.append(name)
        return cls(model, activations)

    def variables(self) -> list:
        """The Keras variables this mirror copies, in the order `sync(values)` takes them."""
        return [v for layer in self.model.layers for v in mirrored_variables(layer)]

    def sync(self, values: list[np.ndarray] | None = None) -> None:
        """Copy the current Keras weights (or `values`, read from `variables()` by the caller)."""
        values = iter(mirror_values(self.variables(), values))
        self.params = [tuple(next(values) for _ in mirrored_variables(layer)) for layer in self.model.layers]

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        """Q-values for a batch of observations, shape (batch, n_actions)."""
        x = np.asarray(obs, dtype=np.float32)
        for params, (kind, epsilon, act) in zip(self.params, self._ops):
            if kind == "dense":
                x = x @ params[0] + params[1]
            elif kind == "norm":
                x = numpy_layer_norm(x, params[0], params[1], epsilon)
            x = act(x)
        return x


def layer_kind(layer: keras.Layer) -> str:
    """How a NumPy mirror computes `layer`: "norm" (LayerNormalization), "activation" (its activation only) or
    "dense" (a matrix product: Dense, NoisyDense)."""
    if isinstance(layer, keras.layers.LayerNormalization):
        return "norm"
    return "activation" if isinstance(layer, keras.layers.Activation) else "dense"


def mirrored_variables(layer: keras.Layer) -> tuple:
    """The variables of `layer` a NumPy mirror copies: a Dense's kernel and bias, a LayerNormalization's
    scale and offset, nothing for an Activation."""
    if isinstance(layer, keras.layers.Dense):
        return layer.kernel, layer.bias
    if isinstance(layer, keras.layers.LayerNormalization):
        return layer.gamma, layer.beta
    return ()
