"""`NoisyDense`: a factorised-Gaussian noisy linear layer (Fortunato et al. 2018) that replaces epsilon-greedy.

Used only in the training networks: the `.keras` file written for evaluation holds the deterministic
network (each `NoisyDense` exported as a plain `Dense` with the mean weights; see `tfdqn.networks.export`), so plain
Keras loads it with `safe_mode=True`.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops


def scaled_noise(x):
    """f(x) = sign(x) * sqrt(|x|), the factorised-noise transform of Fortunato et al."""
    return ops.sign(x) * ops.sqrt(ops.abs(x))


@keras.saving.register_keras_serializable(package="tfdqn")
class NoisyDense(keras.layers.Layer):
    """y = x W + b with W = mu_W + sigma_W * (f(e_in) f(e_out)^T) and b = mu_b + sigma_b * f(e_out),
    e_in ~ N(0, I) of the input size and e_out ~ N(0, I) of the output size, drawn afresh at every call
    with `training=True` (one draw per forward pass, shared by the batch). With `training=False` the layer
    is its mean: `x mu_W + mu_b`.

    Initialisation as in the paper's factorised case: mu ~ U(+-1/sqrt(fan_in)), sigma = sigma0/sqrt(fan_in).
    The noise comes from the layer's own `keras.random.SeedGenerator` (so a cloned target network draws
    its own noise); its state is saved with the training state.
    """

    def __init__(self, units: int, activation: str | None = None, sigma0: float = 0.5, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.activation = keras.activations.get(activation)
        self.sigma0 = float(sigma0)
        self.seed_generator = keras.random.SeedGenerator()

    def build(self, input_shape) -> None:
        fan_in = int(input_shape[-1])
        bound = 1.0 / math.sqrt(fan_in)
        uniform = keras.initializers.RandomUniform(-bound, bound)
        sigma = keras.initializers.Constant(self.sigma0 / math.sqrt(fan_in))
        self.kernel = self.add_weight(name="kernel", shape=(fan_in, self.units), initializer=uniform)
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer=uniform)
        self.kernel_sigma = self.add_weight(name="kernel_sigma", shape=(fan_in, self.units), initializer=sigma)
        self.bias_sigma = self.add_weight(name="bias_sigma", shape=(self.units,), initializer=sigma)

    def call(self, inputs, training=False):
        y = ops.matmul(inputs, self.kernel) + self.bias
        if training:
            e_in = scaled_noise(keras.random.normal((self.kernel.shape[0],), seed=self.seed_generator))
            e_out = scaled_noise(keras.random.normal((self.units,), seed=self.seed_generator))
            # x (sigma_W * e_in e_out^T) = ((x * e_in) sigma_W) * e_out: no (in, out) noise matrix is formed
            y = y + ops.matmul(inputs * e_in, self.kernel_sigma) * e_out + self.bias_sigma * e_out
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {"units": self.units, "activation": keras.activations.serialize(self.activation), "sigma0": self.sigma0}
        )
        return config


def numpy_noisy_forward(
    x: np.ndarray,
    kernel: np.ndarray,
    bias: np.ndarray,
    kernel_sigma: np.ndarray,
    bias_sigma: np.ndarray,
    noise: np.ndarray,
) -> np.ndarray:
    """One noisy forward pass of a `NoisyDense` (before its activation) in NumPy; `noise` holds the
    layer's fan_in + units standard normal draws (e_in then e_out)."""
    f = np.sign(noise) * np.sqrt(np.abs(noise))
    e_in, e_out = f[: kernel.shape[0]], f[kernel.shape[0] :]
    return x @ kernel + bias + ((x * e_in) @ kernel_sigma) * e_out + bias_sigma * e_out
