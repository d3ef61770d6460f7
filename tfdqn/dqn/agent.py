"""`DQNAgent`: online and target Q-networks, the compiled update, epsilon-greedy acting, target sync."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import gymnasium as gym
import keras
import numpy as np
import tensorflow as tf

from tfdqn.config import DQNConfig
from tfdqn.dqn.learning_rate import make_optimizer
from tfdqn.dqn.schedules import epsilon_greedy_actions
from tfdqn.dqn.targets import elementwise_loss, project_distribution, td_targets
from tfdqn.envs.make import check_spaces
from tfdqn.envs.spaces import image_input_dtype, is_plain, network_input_shape
from tfdqn.errors import ConfigError
from tfdqn.networks.build import build_network, check_q_output, clone_network, has_convolution
from tfdqn.networks.distributional import expected_q, support
from tfdqn.networks.encoders import attach_encoder
from tfdqn.networks.export import export_q_network, save_model
from tfdqn.networks.numpy_mirror import NumpyQ
from tfdqn.replay.buffer import Batch
from tfdqn.replay.prioritized import Sample


class DQNAgent:
    """The learner: owns the networks and the optimizer; knows nothing of environments' loops or files.

    `learn(batch)` runs `batch.actions.shape[0]` gradient steps in one compiled call when the batch has
    a leading gradient-steps axis, which is what keeps the update fast on a CPU. Rainbow's parts switched on
    in the config (dueling, noisy, C51 in the network; n-step discounts and importance weights in the batch)
    all run inside that same call.
    """

    def __init__(self, q_network: keras.Model, n_actions: int, config: DQNConfig = DQNConfig()):
        self.config = config
        self.n_actions = int(n_actions)
        self.q_network = q_network
        check_q_output(q_network, self.n_actions, config)
        self.target_network = clone_network(q_network)
        self.optimizer = make_optimizer(config)
        self.optimizer.build(self.q_network.trainable_variables)
        self._gamma = tf.constant(config.gamma, tf.float32)
        self._atoms = tf.constant(support(config.v_min, config.v_max, config.num_atoms))
        self._numpy = NumpyQ.from_model(q_network, self._atoms.numpy() if config.distributional else None)
        # the compiled update returns these variables' new values: the NumPy mirror syncs without reading them
        self._mirrored = self._numpy.variables() if self._numpy is not None else []
        # one compiled update per training call: a loop over the gradient steps, or (one step) the step alone,
        # since XLA runs a convolution's update inside a loop 3-10x slower (benchmarks/update.py); so with XLA a
        # convolutional network takes several steps as one compiled call each
        self._learn_fn = tf.function(self._learn_many, jit_compile=config.jit_compile)
        self._learn_one_fn = tf.function(self._learn_one, jit_compile=config.jit_compile)
        self._traced: dict[tuple, Any] = {}
        self._step_alone = config.jit_compile and has_convolution(q_network)
        self._sync_fn = tf.function(self._sync_target)
        self._q_fn = tf.function(lambda x: self._q_of(x, False), reduce_retracing=True)
        self._noisy_q_fn = tf.function(lambda x: self._q_of(x, True), reduce_retracing=True)
        # the noise generators' states (noisy nets): part of the training state, never copied to the target
        self._noise_variables = (
            [v for m in (q_network, self.target_network) for v in m.variables if "seed_generator" in v.path]
            if config.noisy
            else []
        )
        # Counts the changes this class makes to the online weights (`learn`, `set_state`): the Trainer skips a
        # hard target copy when it has not moved since the last one (the copy would change nothing).
        self.weights_version = 0

    @classmethod
    def from_spaces(
        cls, observation_space: gym.Space, action_space: gym.Space, config: DQNConfig = DQNConfig()
    ) -> DQNAgent:
        """Build the default Q-network for these spaces (checked: Discrete actions; observations of any space
        `tfdqn.envs.spaces` encodes, the encoding inside the network, which takes raw observations)."""
        check_spaces(observation_space, action_space, config.env_id)
        assert isinstance(action_space, gym.spaces.Discrete)  # check_spaces raised otherwise
        if (config.noisy or config.distributional) and not is_plain(observation_space):
            raise ConfigError(
                f"noisy and distributional networks take Box observations only for now (their saved "
                f"model is rebuilt from plain layers); {config.env_id} has {observation_space}"
            )
        shape = network_input_shape(observation_space)
        net = build_network(shape, int(action_space.n), config, image_input_dtype(observation_space))
        return cls(attach_encoder(observation_space, net), int(action_space.n), config)

    # ----- acting -------------------------------------------------------------------------------------
    def _q_of(self, x, noise: bool):
        out = self.q_network(x, training=noise)
        return expected_q(out, self._atoms) if self.config.distributional else out

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        """Q-values of the online network for a batch of observations, as NumPy (noisy layers at their mean,
        C51 as the expectation: what the exported model computes)."""
        if self._numpy is not None:
            return self._numpy(obs)
        return self._q_fn(tf.convert_to_tensor(obs)).numpy()

    def noisy_q_values(self, obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Q-values with one fresh noise sample (noisy nets' exploration); plain `q_values` otherwise."""
        if not self.config.noisy:
            return self.q_values(obs)
        if self._numpy is not None:
            return self._numpy(obs, rng)
        return self._noisy_q_fn(tf.convert_to_tensor(obs)).numpy()

    def greedy(self, obs: np.ndarray) -> np.ndarray:
        """Greedy actions for a batch of observations."""
        return np.argmax(self.q_values(obs), axis=-1)

    def act(self, obs: np.ndarray, epsilon: float, rng: np.random.Generator) -> np.ndarray:
        """Epsilon-greedy actions for a batch: each row explores with probability `epsilon`. With noisy nets
        the greedy choice is made under a fresh noise sample (and the trainer passes epsilon 0)."""

        def greedy() -> np.ndarray:  # noisy nets: under a fresh noise sample; otherwise the plain Q-values
            return np.argmax(self.noisy_q_values(obs, rng), axis=-1)

        return epsilon_greedy_actions(greedy, len(obs), self.n_actions, epsilon, rng)

    # ----- learning -----------------------------------------------------------------------------------
    def learn(self, batch: Batch | Sample) -> tuple[dict[str, float], np.ndarray]:
        """Gradient steps on `batch` (shape (batch,) or (steps, batch)); returns the logs (the mean loss, the mean
        Q-value of the actions taken, the largest |Q| of those over all the steps: `max_abs_q`) and each sample's
        priority signal (|TD error|, or its C51 cross-entropy), shaped like `batch.actions`.

        A `Sample` (from `tfdqn.replay.prioritized.ExtendedReplay`) brings each transition's bootstrap discount
        (n-step: gamma**k) and importance weight (prioritized replay); a plain `Batch` means gamma and weight 1."""
        single = batch.actions.ndim == 1
        if single:
            batch = type(batch)(*(a[None] for a in batch))
        if isinstance(batch, Sample):
            discounts, weights = batch.discounts, batch.weights
        else:
            discounts = np.full(batch.actions.shape, self.config.gamma, dtype=np.float32)
            weights = np.ones(batch.actions.shape, dtype=np.float32)
        args = (
            batch.obs,
            batch.actions,
            batch.rewards,
            batch.next_obs,
            batch.terminated,
            np.asarray(discounts, np.float32),
            np.asarray(weights, np.float32),
        )
        if self._step_alone and len(args[1]) > 1:
            outs = [self._call(tuple(a[i : i + 1] for a in args)) for i in range(len(args[1]))]
            loss, mean_q = np.mean([float(o[0]) for o in outs]), np.mean([float(o[1]) for o in outs])
            max_abs_q = max(float(o[2]) for o in outs)
            priorities, mirrored = np.concatenate([o[3].numpy() for o in outs]), outs[-1][4]
        else:
            loss, mean_q, max_abs_q, priorities, mirrored = self._call(args)
            priorities = priorities.numpy()
        self.weights_version += 1
        if self._numpy is not None:
            self._numpy.sync([t.numpy() for t in mirrored])
        logs = {"loss": float(loss), "mean_q": float(mean_q), "max_abs_q": float(max_abs_q)}
        return logs, priorities[0] if single else priorities

    def _call(self, args: tuple[np.ndarray, ...]) -> Any:
        return self._traced_learn(args)(*(tf.convert_to_tensor(a) for a in args))

    def _traced_learn(self, args: tuple[np.ndarray, ...]) -> Any:
        """The compiled update for inputs of these dtypes and per-transition shapes, traced once (any batch size;
        one gradient step or several): calling it skips tf.function's matching of its arguments, about 0.2 ms of
        each call, which is most of a small network's single gradient step."""
        one = args[1].shape[0] == 1
        key = (one, *((a.dtype, a.shape[2:]) for a in args))
        if key not in self._traced:
            fn = self._learn_one_fn if one else self._learn_fn
            steps = 1 if one else None
            specs = [tf.TensorSpec((steps, None, *a.shape[2:]), a.dtype) for a in args]
            self._traced[key] = fn.get_concrete_function(*specs)
        return self._traced[key]

    def _learn_one(self, obs, actions, rewards, next_obs, terminated, discounts, weights):
        loss, mean_q, max_abs_q, priority = self._gradient_step(
            obs[0], actions[0], rewards[0], next_obs[0], terminated[0], discounts[0], weights[0]
        )
        return loss, mean_q, max_abs_q, priority[None], [tf.identity(v.value) for v in self._mirrored]

    def _learn_many(self, obs, actions, rewards, next_obs, terminated, discounts, weights):
        steps = tf.shape(actions)[0]
        loss_sum = tf.constant(0.0)
        q_sum = tf.constant(0.0)
        q_max = tf.constant(0.0)
        priorities = tf.zeros(tf.shape(rewards), tf.float32)
        for i in tf.range(steps):
            loss, mean_q, max_abs_q, priority = self._gradient_step(
                obs[i], actions[i], rewards[i], next_obs[i], terminated[i], discounts[i], weights[i]
            )
            loss_sum += loss
            q_sum += mean_q
            q_max = tf.maximum(q_max, max_abs_q)
            priorities = tf.tensor_scatter_nd_update(priorities, [[i]], priority[None])
        n = tf.cast(steps, tf.float32)
        return loss_sum / n, q_sum / n, q_max, priorities, [tf.identity(v.value) for v in self._mirrored]

    def _gradient_step(self, obs, actions, rewards, next_obs, terminated, discounts, weights):
        obs = tf.cast(obs, tf.float32)
        next_obs = tf.cast(next_obs, tf.float32)
        rewards = tf.cast(rewards, tf.float32)
        terminated = tf.cast(terminated, tf.float32)
        if self.config.distributional:
            return self._distributional_step(obs, actions, rewards, next_obs, terminated, discounts, weights)
        noise = self.config.noisy  # noisy nets: every forward pass of the update draws its own noise
        next_q_target = self.target_network(next_obs, training=noise)
        next_q_online = self.q_network(next_obs, training=noise) if self.config.double_dqn else None
        # y = r + gamma^k * (1 - terminated) * Q_target(s', a'): k = 1, or the rewards an n-step target sums
        y = tf.stop_gradient(td_targets(rewards, terminated, next_q_target, discounts, next_q_online))
        variables = self.q_network.trainable_variables
        with tf.GradientTape() as tape:
            q = self.q_network(obs, training=True)
            q_taken = tf.gather(q, actions, axis=1, batch_dims=1)
            td_error = y - q_taken
            loss = tf.reduce_mean(weights * elementwise_loss(td_error, self.config.loss))
        grads = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        return loss, tf.reduce_mean(q_taken), tf.reduce_max(tf.abs(q_taken)), tf.abs(td_error)

    def _distributional_step(self, obs, actions, rewards, next_obs, terminated, discounts, weights):
        """C51: cross-entropy between the projected target distribution and the predicted one."""
        noise = self.config.noisy
        next_probs = tf.nn.softmax(self.target_network(next_obs, training=noise), axis=-1)  # (B, n, K)
        if self.config.double_dqn:
            best = tf.argmax(
                expected_q(self.q_network(next_obs, training=noise), self._atoms), axis=-1, output_type=tf.int32
            )
        else:
            best = tf.argmax(tf.reduce_sum(next_probs * self._atoms, axis=-1), axis=-1, output_type=tf.int32)
        next_best = tf.gather(next_probs, best, axis=1, batch_dims=1)  # (B, K)
        target = tf.stop_gradient(project_distribution(next_best, rewards, discounts, terminated, self._atoms))
        variables = self.q_network.trainable_variables
        with tf.GradientTape() as tape:
            logits = tf.gather(self.q_network(obs, training=True), actions, axis=1, batch_dims=1)  # (B, K)
            cross_entropy = -tf.reduce_sum(target * tf.nn.log_softmax(logits, axis=-1), axis=-1)
            loss = tf.reduce_mean(weights * cross_entropy)
        grads = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        q_taken = tf.reduce_sum(tf.nn.softmax(logits, axis=-1) * self._atoms, axis=-1)
        return loss, tf.reduce_mean(q_taken), tf.reduce_max(tf.abs(q_taken)), cross_entropy

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
        for prefix, variables in self._state_groups():
            for i, v in enumerate(variables):
                state[f"{prefix}/{i:03d}"] = np.asarray(v.numpy())
        return state

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore `get_state()` output; raises ValueError if the arrays do not fit these networks."""
        for prefix, variables in self._state_groups():
            names = sorted(k for k in state if k.startswith(prefix + "/"))
            if len(names) != len(variables):
                raise ValueError(f"saved {prefix} state has {len(names)} arrays, this agent has {len(variables)}")
            for name, v in zip(names, variables):
                if tuple(state[name].shape) != tuple(v.shape):
                    raise ValueError(f"saved {name} has shape {state[name].shape}, this agent's is {tuple(v.shape)}")
                v.assign(state[name])
        self.weights_version += 1
        if self._numpy is not None:
            self._numpy.sync()

    def _state_groups(self) -> list[tuple[str, list]]:
        groups = [
            ("online", self.q_network.weights),
            ("target", self.target_network.weights),
            ("optimizer", self.optimizer.variables),
        ]
        if self._noise_variables:
            groups.append(("noise", self._noise_variables))
        return groups

    def export_model(self) -> keras.Model:
        """The online network as plain Keras for evaluation: itself, or with noisy layers at their mean and
        a C51 output turned into Q-values (`tfdqn.networks.export.export_q_network`)."""
        return export_q_network(self.q_network, self.config)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the online Q-network (its `export_model()`) to a `.keras` file, atomically."""
        return save_model(self.export_model(), path)
