"""The dueling head's aggregation Q_a = V + A_a - mean_b A_b computed directly for the compiled update.

A dueling network keeps the aggregation as a fixed Dense layer (`dueling_aggregation`, kernel `dueling_matrix`), so
its saved model loads with plain Keras. That layer is a (1 + n) K x n K matrix product: with C51 (K = 51 atoms) and
MinAtar's 6 actions, 357 x 306 multiply-adds per sample and pass, more than the rest of the head, run four times by
a Double-DQN C51 update (target, online at s', online at s and its gradient). `training_forward` gives the update a
forward pass that stops at `value_advantage` and aggregates by reshape and mean instead: the same values up to
float rounding, the same layers (so the same weights and noise draws), about 15% of a MinAtar Rainbow update saved
(benchmarks/update.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfdqn.networks.build import dueling_matrix

AGGREGATION = "dueling_aggregation"
HEAD = "value_advantage"


def aggregate(value_advantage: tf.Tensor, n_actions: int) -> tf.Tensor:
    """[V, A_0 .. A_{n-1}] (batch, (1 + n) * K) to V + A_a - mean_b A_b (batch, n * K): `dueling_matrix`'s map."""
    atoms = value_advantage.shape[-1] // (n_actions + 1)
    va = tf.reshape(value_advantage, (-1, n_actions + 1, atoms))
    v, a = va[:, :1], va[:, 1:]
    return tf.reshape(v + (a - tf.reduce_mean(a, axis=1, keepdims=True)), (-1, n_actions * atoms))


def training_forward(model: keras.Model) -> Callable[..., Any]:
    """`model`'s forward pass (called as `f(x, training=...)`), with a dueling aggregation done by `aggregate`;
    `model` itself when it has none, or when it is not a `keras.Sequential` ending in that layer (and C51's
    reshape) whose kernel is `dueling_matrix` and bias zero (an observation encoder's model, say)."""
    if not isinstance(model, keras.Sequential) or AGGREGATION not in [layer.name for layer in model.layers]:
        return model
    layers = model.layers
    i = [layer.name for layer in layers].index(AGGREGATION)
    tail = layers[i + 1 :]
    if i == 0 or layers[i - 1].name != HEAD or any(not isinstance(t, keras.layers.Reshape) for t in tail):
        return model
    kernel, bias = (np.asarray(w) for w in layers[i].get_weights())
    atoms = kernel.shape[0] - kernel.shape[1]  # ((1 + n) * K, n * K)
    n_actions = kernel.shape[1] // atoms
    if not (np.array_equal(kernel, dueling_matrix(n_actions, atoms)) and not bias.any()):
        return model
    body = keras.Model(model.inputs, layers[i - 1].output, name=f"{model.name}_value_advantage")

    def forward(x: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        out = aggregate(body(x, training=training), n_actions)
        for layer in tail:
            out = layer(out)
        return out

    return forward
