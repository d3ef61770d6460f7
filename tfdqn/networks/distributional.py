"""Distributional RL, C51 (Bellemare et al. 2017): the fixed support of atoms and Q-values as the
distribution's expectation (the target's projection onto the support is `tfdqn.dqn.targets`)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def support(v_min: float, v_max: float, num_atoms: int) -> np.ndarray:
    """The `num_atoms` equally spaced return values z_0 = v_min .. z_{K-1} = v_max (float32)."""
    return np.linspace(v_min, v_max, num_atoms, dtype=np.float32)


def expected_q(logits: tf.Tensor, atoms: tf.Tensor) -> tf.Tensor:
    """Q(s, a) = sum_k softmax(logits)[a, k] * z_k, for logits of shape (..., n_actions, num_atoms)."""
    return tf.reduce_sum(tf.nn.softmax(logits, axis=-1) * atoms, axis=-1)
