"""The targets DQN learns towards, and its losses: the one-step/n-step TD target (DQN and Double DQN), C51's
categorical projection, and the elementwise Huber/MSE loss. Pure TensorFlow functions, traced into the agent's
compiled update."""

from __future__ import annotations

import tensorflow as tf


def td_targets(
    rewards: tf.Tensor,
    terminated: tf.Tensor,
    next_q_target: tf.Tensor,
    gamma: float | tf.Tensor,
    next_q_online: tf.Tensor | None = None,
) -> tf.Tensor:
    """Bellman targets `r + gamma * (1 - terminated) * Q_target(s', a')`.

    `a'` is argmax of the target network (DQN) or, when `next_q_online` is given, of the online network
    (Double DQN). Truncated transitions have terminated=0 and so still bootstrap. `gamma` may be one
    discount per sample (n-step transitions: gamma**k for the k rewards summed).
    """
    if next_q_online is None:
        next_v = tf.reduce_max(next_q_target, axis=-1)
    else:
        best = tf.argmax(next_q_online, axis=-1, output_type=tf.int32)
        next_v = tf.gather(next_q_target, best, axis=-1, batch_dims=1)
    return rewards + gamma * (1.0 - terminated) * next_v


def elementwise_loss(td_error: tf.Tensor, kind: str) -> tf.Tensor:
    if kind == "mse":
        return tf.square(td_error)
    abs_err = tf.abs(td_error)  # Huber with delta 1: quadratic near zero, linear beyond
    return tf.where(abs_err <= 1.0, 0.5 * tf.square(td_error), abs_err - 0.5)


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
