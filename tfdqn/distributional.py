"""Distributional RL, C51 (Bellemare et al. 2017): the fixed support of atoms, the categorical projection
of the Bellman target onto it, and Q-values as the distribution's expectation."""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def support(v_min: float, v_max: float, num_atoms: int) -> np.ndarray:
    """The `num_atoms` equally spaced return values z_0 = v_min .. z_{K-1} = v_max (float32)."""
    return np.linspace(v_min, v_max, num_atoms, dtype=np.float32)


def expected_q(logits: tf.Tensor, atoms: tf.Tensor) -> tf.Tensor:
    """Q(s, a) = sum_k softmax(logits)[a, k] * z_k, for logits of shape (..., n_actions, num_atoms)."""
    return tf.reduce_sum(tf.nn.softmax(logits, axis=-1) * atoms, axis=-1)


def project_distribution(next_probs: tf.Tensor, rewards: tf.Tensor, discounts: tf.Tensor,
                         terminated: tf.Tensor, atoms: tf.Tensor) -> tf.Tensor:
    """The categorical projection Phi T z: the target distribution on `atoms` for each sample.

    `next_probs` (batch, K) is the distribution at the bootstrap state; each atom z_j moves to
    Tz_j = r + discount * (1 - terminated) * z_j, clipped to [v_min, v_max], and its probability is shared
    between the two nearest atoms in proportion to closeness: atom i receives
    sum_j p_j * max(0, 1 - |Tz_j - z_i| / dz). A terminal transition puts all mass at r (clipped).
    """
    v_min, v_max = atoms[0], atoms[-1]
    delta = (v_max - v_min) / tf.cast(tf.shape(atoms)[0] - 1, tf.float32)
    bootstrap = discounts * (1.0 - terminated)
    tz = tf.clip_by_value(rewards[:, None] + bootstrap[:, None] * atoms[None, :], v_min, v_max)  # (B, K)
    # weight of each moved atom j (axis 1) on each support atom i (axis 2): the triangular kernel
    closeness = tf.maximum(0.0, 1.0 - tf.abs(tz[:, :, None] - atoms[None, None, :]) / delta)
    return tf.reduce_sum(next_probs[:, :, None] * closeness, axis=1)
