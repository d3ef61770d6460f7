"""The convolutional layers of `tfdqn.networks.numpy_mirror`: Keras's `Rescaling`, `Conv2D` (valid padding,
channels-last) and `Flatten` in NumPy, for small convolutional Q-networks (MinAtar's 10x10 grids), where a
forward pass in NumPy costs a fraction of a compiled TensorFlow call.

A convolution is one matrix product: `sliding_window_view` gives every (kernel x kernel) window of the input
without copying, and the kernel is reordered once per weight sync to match the windows' axis order.
"""

from __future__ import annotations

import keras
import numpy as np

MAX_CONV_MULTIPLY_ADDS = 200_000
"""Largest convolutional work per observation (multiply-adds over all Conv2D layers) the mirror takes on:
MinAtar's paper network (16 3x3 filters on 10x10x10) is 92k, where `benchmarks/numpy_conv.py` measures NumPy
5-6x faster than the compiled TensorFlow call. Larger networks (the "pixels" preset's on 40x120x4 frames, 1.4M;
the Nature network on 84x84x4 frames, 7.7M) act through TensorFlow until a measurement shows NumPy wins there."""


def mirrorable_conv(layer: keras.Layer) -> bool:
    """Whether `conv_forward` computes `layer`: a Conv2D with valid padding, channels-last, no dilation or
    groups, a bias, and a ReLU or linear activation."""
    if not isinstance(layer, keras.layers.Conv2D) or type(layer) is not keras.layers.Conv2D:
        return False
    activation = getattr(layer.activation, "__name__", "")
    return (
        layer.padding == "valid"
        and layer.data_format == "channels_last"
        and tuple(layer.dilation_rate) == (1, 1)
        and layer.groups == 1
        and layer.use_bias
        and not getattr(layer, "lora_enabled", False)
        and activation in ("relu", "linear")
    )


def mirrorable_scaling(layer: keras.Layer) -> bool:
    """Whether `layer` is a `Rescaling` (x * scale + offset; what turns pixels or booleans into floats)."""
    return isinstance(layer, keras.layers.Rescaling)


def scaling_of(layer: keras.Layer) -> tuple[np.ndarray, np.ndarray]:
    """A `Rescaling` layer's (scale, offset) as float32 arrays that broadcast over a batch."""
    return np.asarray(layer.scale, dtype=np.float32), np.asarray(layer.offset, dtype=np.float32)


def conv_kernel_matrix(kernel: np.ndarray) -> np.ndarray:
    """A Keras Conv2D kernel (kh, kw, in, out) as the (in * kh * kw, out) matrix `conv_forward` multiplies by:
    `sliding_window_view` puts the input channel before the window's rows and columns."""
    kh, kw, cin, cout = kernel.shape
    return np.ascontiguousarray(np.transpose(kernel, (2, 0, 1, 3)).reshape(cin * kh * kw, cout))


def conv_forward(
    x: np.ndarray, matrix: np.ndarray, bias: np.ndarray, kernel_size: tuple[int, int], strides: tuple[int, int]
) -> np.ndarray:
    """Keras's `Conv2D` (valid padding, channels-last) of a batch x (batch, h, w, in), `matrix` from
    `conv_kernel_matrix`; a new (batch, h', w', out) array, before the activation."""
    kh, kw = kernel_size
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))  # (b, h-kh+1, w-kw+1, in, kh, kw)
    if strides != (1, 1):
        windows = windows[:, :: strides[0], :: strides[1]]
    batch, rows, cols = windows.shape[:3]
    out = windows.reshape(batch * rows * cols, -1) @ matrix
    out += bias
    return out.reshape(batch, rows, cols, -1)


def conv_multiply_adds(model: keras.Model) -> int:
    """Multiply-adds per observation over every Conv2D layer of `model` (0 when it has none)."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, rows, cols, out = layer.output.shape
            kh, kw, cin, _ = layer.kernel.shape
            total += int(rows) * int(cols) * int(out) * int(kh) * int(kw) * int(cin)
    return total
