"""`DQNAgent`: online and target Q-networks, the compiled update, epsilon-greedy acting, target sync."""

from __future__ import annotations

import os
from pathlib import Path

import gymnasium as gym
import keras
import numpy as np
import tensorflow as tf

from tfdqn.config import DQNConfig
from tfdqn.envs import check_spaces
from tfdqn.model_io import save_model
from tfdqn.networks import NumpyMLP, build_q_network, clone_network
from tfdqn.replay import Batch
from tfdqn.spaces import attach_encoder, network_input_shape


def td_targets(rewards: tf.Tensor, terminated: tf.Tensor, next_q_target: tf.Tensor, gamma: float | tf.Tensor,
               next_q_online: tf.Tensor | None = None) -> tf.Tensor:
    """Bellman targets `r + gamma * (1 - terminated) * Q_target(s', a')`.

    `a'` is argmax of the target network (DQN) or, when `next_q_online` is given, of the online network
    (Double DQN). Truncated transitions have terminated=0 and so still bootstrap.
    """
    if next_q_online is None:
        next_v = tf.reduce_max(next_q_target, axis=-1)
    else:
        best = tf.argmax(next_q_online, axis=-1, output_type=tf.int32)
        next_v = tf.gather(next_q_target, best, axis=-1, batch_dims=1)
    return rewards + gamma * (1.0 - terminated) * next_v


def learning_rate_schedule(config: DQNConfig) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """Adam's learning rate: constant, or linear from `learning_rate` to `learning_rate_final` over
    `learning_rate_decay_steps` env steps of updates, counted in gradient steps at the config's update
    ratio (the optimizer's own step counter drives it, inside the compiled update)."""
    if config.learning_rate_final is None:
        return config.learning_rate
    decay = max(1, round(config.learning_rate_decay_steps * config.gradient_steps / config.train_freq))
    return keras.optimizers.schedules.PolynomialDecay(config.learning_rate, decay, config.learning_rate_final,
                                                      power=1.0)


class DQNAgent:
    """The learner: owns the networks and the optimizer; knows nothing of environments' loops or files.

    `learn(batch)` runs `batch.actions.shape[0]` gradient steps in one compiled call when the batch has
    a leading gradient-steps axis, which is what keeps the update fast on a CPU.
    """

    def __init__(self, q_network: keras.Model, n_actions: int, config: DQNConfig = DQNConfig()):
        self.config = config
        self.n_actions = int(n_actions)
        self.q_network = q_network
        self.target_network = clone_network(q_network)
        self.optimizer = keras.optimizers.Adam(learning_rate=learning_rate_schedule(config),
                                               global_clipnorm=config.max_grad_norm)
        self.optimizer.build(self.q_network.trainable_variables)
        self._gamma = tf.constant(config.gamma, tf.float32)
        self._numpy = NumpyMLP.from_model(q_network)
        self._learn_fn = tf.function(self._learn_many, jit_compile=config.jit_compile, reduce_retracing=True)
        self._sync_fn = tf.function(self._sync_target)
        self._q_fn = tf.function(lambda x: self.q_network(x, training=False), reduce_retracing=True)

    @classmethod
    def from_spaces(cls, observation_space: gym.Space, action_space: gym.Space,
                    config: DQNConfig = DQNConfig()) -> "DQNAgent":
        """Build the default Q-network for these spaces (checked: Discrete actions; observations of any space
        `tfdqn.spaces` encodes, the encoding inside the network, which takes raw observations)."""
        check_spaces(observation_space, action_space, config.env_id)
        net = build_q_network(network_input_shape(observation_space), int(action_space.n), config.hidden_sizes,
                              conv_layers=config.conv_layers, initializer=config.initializer)
        return cls(attach_encoder(observation_space, net), int(action_space.n), config)

    # ----- acting -------------------------------------------------------------------------------------
    def q_values(self, obs: np.ndarray) -> np.ndarray:
        """Q-values of the online network for a batch of observations, as NumPy."""
        if self._numpy is not None:
            return self._numpy(obs)
        return self._q_fn(tf.convert_to_tensor(obs)).numpy()

    def greedy(self, obs: np.ndarray) -> np.ndarray:
        """Greedy actions for a batch of observations."""
        return np.argmax(self.q_values(obs), axis=-1)

    def act(self, obs: np.ndarray, epsilon: float, rng: np.random.Generator) -> np.ndarray:
        """Epsilon-greedy actions for a batch: each row explores with probability `epsilon`."""
        n = len(obs)
        explore = rng.random(n) < epsilon
        random_actions = rng.integers(0, self.n_actions, size=n)
        if explore.all():
            return random_actions
        return np.where(explore, random_actions, self.greedy(obs))

    # ----- learning -----------------------------------------------------------------------------------
    def learn(self, batch: Batch) -> dict[str, float]:
        """Gradient steps on `batch` (shape (batch,) or (steps, batch)); returns the mean loss, the mean
        Q-value of the actions taken and the largest |Q| of those over all the steps (`max_abs_q`)."""
        if batch.actions.ndim == 1:
            batch = Batch(*(a[None] for a in batch))
        loss, mean_q, max_abs_q = self._learn_fn(batch.obs, batch.actions, batch.rewards, batch.next_obs,
                                                 batch.terminated)
        if self._numpy is not None:
            self._numpy.sync()
        return {"loss": float(loss), "mean_q": float(mean_q), "max_abs_q": float(max_abs_q)}

    def _learn_many(self, obs, actions, rewards, next_obs, terminated):
        steps = tf.shape(actions)[0]
        loss_sum = tf.constant(0.0)
        q_sum = tf.constant(0.0)
        q_max = tf.constant(0.0)
        for i in tf.range(steps):
            loss, mean_q, max_abs_q = self._gradient_step(obs[i], actions[i], rewards[i], next_obs[i], terminated[i])
            loss_sum += loss
            q_sum += mean_q
            q_max = tf.maximum(q_max, max_abs_q)
        n = tf.cast(steps, tf.float32)
        return loss_sum / n, q_sum / n, q_max

    def _gradient_step(self, obs, actions, rewards, next_obs, terminated):
        obs = tf.cast(obs, tf.float32)
        next_obs = tf.cast(next_obs, tf.float32)
        next_q_target = self.target_network(next_obs, training=False)
        next_q_online = self.q_network(next_obs, training=False) if self.config.double_dqn else None
        y = tf.stop_gradient(td_targets(rewards, terminated, next_q_target, self._gamma, next_q_online))
        variables = self.q_network.trainable_variables
        with tf.GradientTape() as tape:
            q = self.q_network(obs, training=True)
            q_taken = tf.gather(q, actions, axis=1, batch_dims=1)
            loss = _loss(y - q_taken, self.config.loss)
        grads = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        return loss, tf.reduce_mean(q_taken), tf.reduce_max(tf.abs(q_taken))

    def update_target(self) -> None:
        """Hard copy (tau=1) or Polyak step `target <- tau*online + (1-tau)*target`."""
        self._sync_fn()

    def _sync_target(self):
        tau = self.config.tau
        for t, o in zip(self.target_network.weights, self.q_network.weights):
            t.assign(o if tau == 1.0 else tau * o + (1.0 - tau) * t)

    def get_state(self) -> dict[str, np.ndarray]:
        """Every array needed to continue training exactly: online and target weights, optimizer slots."""
        state = {}
        for prefix, variables in (("online", self.q_network.weights), ("target", self.target_network.weights),
                                  ("optimizer", self.optimizer.variables)):
            for i, v in enumerate(variables):
                state[f"{prefix}/{i:03d}"] = np.asarray(v.numpy())
        return state

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore `get_state()` output; raises ValueError if the arrays do not fit these networks."""
        for prefix, variables in (("online", self.q_network.weights), ("target", self.target_network.weights),
                                  ("optimizer", self.optimizer.variables)):
            names = sorted(k for k in state if k.startswith(prefix + "/"))
            if len(names) != len(variables):
                raise ValueError(f"saved {prefix} state has {len(names)} arrays, this agent has {len(variables)}")
            for name, v in zip(names, variables):
                if tuple(state[name].shape) != tuple(v.shape):
                    raise ValueError(f"saved {name} has shape {state[name].shape}, this agent's is {tuple(v.shape)}")
                v.assign(state[name])
        if self._numpy is not None:
            self._numpy.sync()

    def save(self, path: str | os.PathLike) -> Path:
        """Write the online Q-network to a `.keras` file, atomically."""
        return save_model(self.q_network, path)


def _loss(td_error: tf.Tensor, kind: str) -> tf.Tensor:
    if kind == "mse":
        return tf.reduce_mean(tf.square(td_error))
    abs_err = tf.abs(td_error)  # Huber with delta 1: quadratic near zero, linear beyond
    return tf.reduce_mean(tf.where(abs_err <= 1.0, 0.5 * tf.square(td_error), abs_err - 0.5))
