"""`Policy`: a trained Q-network as a policy for serving, one raw observation or a batch at a time.

`policy = tfdqn.load_policy("best.keras")`, then `policy(obs)` is the greedy action for one observation as the
environment gives it (a `Discrete` state, a `Tuple` or `Dict` observation, an image), `policy(batch)` the
actions of a batch, `policy.q_values(obs)` the Q-values and `policy.epsilon_greedy(obs, epsilon, rng)` an
exploring action. It acts in NumPy where the network allows (MLPs, dueling, noisy nets' exported mean weights,
layer norm, C51's expected Q-values, small convolutional bodies such as MinAtar's: `NumpyQ`, microseconds a
call); what the mirror cannot compute (larger convolutions, encoders of non-Box observations) goes through one
compiled TensorFlow call. `tfdqn evaluate` acts through it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import gymnasium as gym
import keras
import numpy as np
import tensorflow as tf

from tfdqn.dqn.schedules import epsilon_greedy_actions
from tfdqn.envs.make import make_env
from tfdqn.envs.spaces import check_model_fits, flat_space, flatten_observation, original_space
from tfdqn.errors import ArgumentError, TfdqnError
from tfdqn.networks.export import load_q_network
from tfdqn.networks.numpy_mirror import NumpyQ

_C51_HEAD = ("atom_probabilities", "expectation", "q_values_out")
"""The names of the layers `export_q_network` puts after C51's atom logits (softmax, support, reshape)."""


def numpy_q(model: keras.Model) -> NumpyQ | None:
    """The NumPy mirror of a saved Q-network, or None when it needs TensorFlow (large convolutions, encoders): the
    model itself, or for a C51 export its atom-logits part with the support its `expectation` layer holds."""
    mirror = NumpyQ.from_model(model)
    if mirror is not None or not isinstance(model, keras.Sequential):
        return mirror
    if tuple(layer.name for layer in model.layers[-3:]) != _C51_HEAD:
        return None
    atoms = model.get_layer("expectation").get_weights()[0][:, 0]
    logits = keras.Sequential([keras.Input(model.inputs[0].shape[1:]), *model.layers[:-3]], name=model.name)
    return NumpyQ.from_model(logits, atoms)


class Policy:
    """The greedy policy of a plain-Keras Q-network (a saved `.keras` model, `agent.export_model()`).

    `observation_space`, when given, is the environment's own space: observations of a `Tuple` or `Dict` space
    are then taken as the environment gives them and flattened as `tfdqn.make_env` does. Without it, and always
    for other spaces, the policy takes what the model takes (a `Tuple`/`Dict` observation already flattened).
    A batch is an array with one more axis than an observation, a list of observations, or a `Tuple`/`Dict`
    batch as a Gymnasium vector environment gives it.
    """

    def __init__(self, model: keras.Model, observation_space: gym.Space | None = None):
        self.model = model
        self.n_actions = int(model.outputs[0].shape[-1])
        self.observation_space = None if observation_space is None else original_space(observation_space)
        if self.observation_space is not None:
            check_model_fits(model, flat_space(self.observation_space), f"model {model.name!r}")
        self._shape = tuple(model.inputs[0].shape[1:])
        self._rank = len(self._shape)
        self._dtype = np.dtype(model.inputs[0].dtype)
        space = self.observation_space
        self._structured = space if isinstance(space, gym.spaces.Tuple | gym.spaces.Dict) else None
        self.numpy = numpy_q(model)
        """The NumPy mirror the policy acts through, or None when it calls TensorFlow."""
        self._q_fn = None
        if self.numpy is None:
            self._q_fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

    def __call__(self, obs: Any) -> Any:
        """The greedy action (an int) for one observation, or an array of them for a batch."""
        x, single = self.batch(obs)
        q = self._q(x)
        return int(q[0].argmax()) if single else q.argmax(axis=-1)

    def q_values(self, obs: Any) -> np.ndarray:
        """Q-values, shape (n_actions,) for one observation or (batch, n_actions) for a batch."""
        x, single = self.batch(obs)
        q = self._q(x)
        return q[0] if single else q

    def epsilon_greedy(self, obs: Any, epsilon: float, rng: np.random.Generator) -> Any:
        """With probability `epsilon` a uniformly random action (drawn from `rng`), else the greedy one; for a
        batch, each row on its own."""
        if not 0.0 <= epsilon <= 1.0:
            raise ArgumentError(f"epsilon={epsilon} is invalid: must lie in [0, 1]")
        x, single = self.batch(obs)
        actions = epsilon_greedy_actions(lambda: np.argmax(self._q(x), axis=-1), len(x), self.n_actions, epsilon, rng)
        return int(actions[0]) if single else actions

    def _q(self, x: np.ndarray) -> np.ndarray:
        if self.numpy is not None:
            return self.numpy(x)
        assert self._q_fn is not None  # built whenever there is no mirror
        return self._q_fn(tf.convert_to_tensor(x)).numpy()

    def batch(self, obs: Any) -> tuple[np.ndarray, bool]:
        """`obs` as the model's input batch, and whether it was one observation; `ArgumentError` naming the
        shape when it is neither an observation nor a batch of them."""
        if self._structured is not None and not isinstance(obs, np.ndarray):
            obs = _flatten(self._structured, obs)
        x = np.asarray(obs, dtype=self._dtype)
        single = x.ndim == self._rank
        if single:
            x = x[None]
        if x.shape[1:] != self._shape:
            raise ArgumentError(
                f"observations of shape {np.shape(obs)} do not fit the model, which takes one of shape "
                f"{self._shape} or a batch of them"
            )
        return x, single


def _flatten(space: gym.spaces.Tuple | gym.spaces.Dict, obs: Any) -> np.ndarray:
    """A structured observation flattened (width,), or a batch of them (n, width): a list of observations, or a
    vector env's batch (every leaf with a leading batch axis)."""
    if isinstance(obs, list):
        return np.stack([flatten_observation(space, o) for o in obs])
    leaf_space: gym.Space = space
    leaf = obs
    while isinstance(leaf_space, gym.spaces.Tuple | gym.spaces.Dict):  # the first leaf says which it is
        key: Any = next(iter(leaf_space.spaces)) if isinstance(leaf_space, gym.spaces.Dict) else 0
        leaf_space, leaf = leaf_space[key], leaf[key]
    assert leaf_space.shape is not None  # every leaf space tfdqn encodes has one
    if np.ndim(leaf) == len(leaf_space.shape):
        return flatten_observation(space, obs)
    items = gym.vector.utils.iterate(gym.vector.utils.batch_space(space, len(leaf)), obs)
    return np.stack([flatten_observation(space, o) for o in items])


def load_policy(path: str | os.PathLike, observation_space: gym.Space | None = None) -> Policy:
    """The greedy `Policy` of a saved `.keras` Q-network. Without `observation_space`, the space of the env_id in
    the `config.json` beside the model is used when that environment can be made (so `Tuple`/`Dict`
    observations are taken raw); `ModelFileError` when the file is not a Q-network or does not fit the space."""
    model = load_q_network(path)
    if observation_space is None:
        observation_space = _space_beside(Path(path))
    return Policy(model, observation_space)


def _space_beside(path: Path) -> gym.Space | None:
    """The observation space of the env_id in config.json beside `path`, or None (no file, no env_id, or an
    environment that cannot be made here)."""
    try:
        env_id = str(json.loads((path.parent / "config.json").read_text(encoding="utf-8"))["env_id"])
        env = make_env(env_id)
    except (OSError, ValueError, KeyError, TypeError, TfdqnError, gym.error.Error):
        return None
    try:
        return original_space(env.observation_space)
    finally:
        env.close()
