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


def project_distribution(
    next_probs: tf.Tensor, rewards: tf.Tensor, discounts: tf.Tensor, terminated: tf.Tensor, atoms: tf.Tensor
) -> tf.Tensor:
    """The categorical projection Phi T z: the target distribution on `atoms` for each sample.

    `next_probs` (batch, K) is the distribution at the bootstrap state; each atom z_j moves to
    Tz_j = r + discount * (1 - terminated) * z_j, clipped to [v_min, v_max], and its probability p_j is
    shared between the two neighbouring atoms in proportion to closeness: with b_j = (Tz_j - v_min) / dz,
    atom floor(b_j) receives p_j * (1 - (b_j - floor(b_j))) and the next atom p_j * (b_j - floor(b_j)).
    A terminal transition puts all mass at r (clipped). O(batch * K) work: a segment sum, no K x K matrix.
    """
    k = tf.shape(atoms)[0]
    last = tf.cast(k - 1, tf.float32)
    v_min, v_max = atoms[0], atoms[-1]
    bootstrap = discounts * (1.0 - terminated)
    tz = tf.clip_by_value(rewards[:, None] + bootstrap[:, None] * atoms[None, :], v_min, v_max)  # (B, K)
    b = (tz - v_min) / ((v_max - v_min) / last)  # position on the support, in [0, K - 1]
    lower = tf.floor(b)
    upper_share = b - lower  # 0 when Tz_j falls on an atom: all of p_j goes to `lower`
    upper = tf.minimum(lower + 1.0, last)
    rows = tf.range(tf.shape(b)[0])[:, None] * k  # flat index of (sample, atom) = sample * K + atom
    n = tf.shape(b)[0] * k
    m = tf.math.unsorted_segment_sum(
        tf.reshape(next_probs * (1.0 - upper_share), [-1]), tf.reshape(rows + tf.cast(lower, tf.int32), [-1]), n
    ) + tf.math.unsorted_segment_sum(
        tf.reshape(next_probs * upper_share, [-1]), tf.reshape(rows + tf.cast(upper, tf.int32), [-1]), n
    )
    return tf.reshape(m, tf.shape(next_probs))
