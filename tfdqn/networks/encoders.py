"""Encoders of non-Box observations inside the Q-network: the Keras layers that turn a Discrete, MultiDiscrete,
MultiBinary, Tuple or Dict observation, as the environment gives it (`tfdqn.envs.spaces`), into one float
feature vector, so a saved model takes raw observations. Built-in layers only (loads with safe_mode on)."""

from __future__ import annotations

import gymnasium as gym
import keras
import numpy as np

from tfdqn.envs.spaces import is_plain, leaves, original_space


def encoder_layers(space: gym.Space):
    """(input tensor, encoded tensor) of the Keras layers that turn `space`'s raw observations, as the model
    takes them (see the module docstring), into one float feature vector of width `encoded_size(space)`."""
    assert space.shape is not None  # every space tfdqn encodes has one (make_env flattens Tuple and Dict)
    raw_shape = tuple(space.shape)
    inputs = keras.Input(shape=raw_shape, dtype="float32", name="observation")
    parts = leaves(original_space(space))
    x = inputs
    if len(raw_shape) != 1:
        x = keras.layers.Reshape((sum(p.size for p in parts),), name="flatten_observation")(x)
    numeric = np.concatenate([np.full(p.size, not p.categorical) for p in parts])
    cat_parts = [p for p in parts if p.categorical]
    if not cat_parts:
        return inputs, x
    categories = np.array([n for p in cat_parts for n in p.categories])
    starts = np.array([s for p in cat_parts for s in p.starts])
    offsets = np.concatenate([[0], np.cumsum(categories)[:-1]]) - starts  # value -> its column in the one-hot
    categorical = x
    if numeric.any():
        categorical = _select(x, ~numeric, "select_categorical")
    shifted = keras.layers.Rescaling(1.0, offset=offsets.astype("float32"), name="category_columns")(categorical)
    one_hot = _multi_hot(shifted, int(categories.sum()), len(categories))
    if not numeric.any():
        return inputs, one_hot
    values = _select(x, numeric, "select_numeric")
    return inputs, keras.layers.Concatenate(name="features")([values, one_hot])


def _multi_hot(columns, width: int, count: int):
    """Ones at the `count` integer column indices in `columns` (batch, count), as (batch, width) floats.

    A frozen identity `Embedding` looks up each index's one-hot row (a gather, which XLA compiles, unlike
    `CategoryEncoding`'s bincount); averaging the `count` rows and scaling by `count` adds them up.
    """
    lookup = keras.layers.Embedding(width, width, trainable=False, name="one_hot_rows")
    rows = lookup(columns)
    lookup.set_weights([np.eye(width, dtype="float32")])
    summed = keras.layers.GlobalAveragePooling1D(name="one_hot_mean")(rows)
    return summed if count == 1 else keras.layers.Rescaling(float(count), name="one_hot")(summed)


def _select(x, mask: np.ndarray, name: str):
    """The entries of `x` where `mask` is set, by a frozen 0/1 `Dense` (exact: one 1 per output column)."""
    kernel = np.zeros((mask.size, int(mask.sum())), dtype="float32")
    kernel[np.flatnonzero(mask), np.arange(int(mask.sum()))] = 1.0
    layer = keras.layers.Dense(kernel.shape[1], use_bias=False, trainable=False, name=name)
    out = layer(x)
    layer.set_weights([kernel])
    return out


def attach_encoder(space: gym.Space, network):
    """`network` (built for `encoded_size(space)` features) behind `space`'s encoder, as one Keras model that
    takes raw observations; `network` itself when `space` needs no encoding (`is_plain`)."""
    if is_plain(space):
        return network
    inputs, x = encoder_layers(space)
    if isinstance(network, keras.Sequential):  # one flat model: the encoder's layers, then the network's
        for layer in network.layers:
            x = layer(x)
    else:
        x = network(x)
    return keras.Model(inputs, x, name=network.name)
