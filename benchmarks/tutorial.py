"""The tutorial-style Keras DQN loop the side-by-side benchmarks time beside tfdqn: `predict` to act, and
`predict`/`predict`/`fit` per replayed minibatch, as notebooks teach it (throughput only)."""

from __future__ import annotations

import collections
import random
import time
from typing import Any

from benchmarks.tasks import ENV_ID
from tfdqn.cli import prepare_process


def run_tutorial(seed: int, steps: int, started: float) -> dict[str, Any]:
    """What learners copy from notebooks: `predict` to act on every step, then per step a replay of a
    minibatch of 32 through `predict` (states), `predict` (next states, target net) and `fit`, verbose=0.
    Throughput only: `steps` env steps, no evaluation; `import_seconds` counts from `started` (the worker's start)."""
    prepare_process()  # before TensorFlow loads (quiet logs)
    import gymnasium as gym  # heavy: inside the runner, see the module's docstring
    import keras
    import numpy as np
    import tensorflow as tf

    import tfdqn

    tfdqn.configure_threads(1)
    t_imported = time.perf_counter()
    random.seed(seed)
    keras.utils.set_random_seed(seed)
    env = gym.make(ENV_ID)
    assert env.observation_space.shape is not None and isinstance(env.action_space, gym.spaces.Discrete)  # CartPole
    n_obs, n_actions = env.observation_space.shape[0], int(env.action_space.n)

    def build():
        model = keras.Sequential(
            [
                keras.Input((n_obs,)),
                keras.layers.Dense(256, activation="relu"),
                keras.layers.Dense(256, activation="relu"),
                keras.layers.Dense(n_actions, activation="linear"),
            ]
        )
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="mse")
        return model

    q_network, target_network = build(), build()
    target_network.set_weights(q_network.get_weights())
    memory: collections.deque = collections.deque(maxlen=100_000)
    batch_len, gamma, epsilon = 32, 0.99, 1.0
    state, _ = env.reset(seed=seed)
    state = np.reshape(state, [1, n_obs])
    t0 = time.perf_counter()
    for step in range(1, steps + 1):
        if epsilon > random.random():
            action = env.action_space.sample()
        else:
            action = int(np.argmax(q_network.predict(state, verbose=0)))
        next_state, reward, terminated, truncated, _ = env.step(action)
        next_state = np.reshape(next_state, [1, n_obs])
        memory.append((state, action, reward, terminated, next_state))
        state = next_state
        if terminated or truncated:
            state, _ = env.reset()
            state = np.reshape(state, [1, n_obs])
        epsilon = max(0.05, epsilon * 0.99)
        if len(memory) >= batch_len:
            state_rows, actions, rewards, dones, next_state_rows = zip(*random.sample(memory, batch_len))
            states, next_states = np.concatenate(state_rows), np.concatenate(next_state_rows)
            q_values = q_network.predict(states, verbose=0, batch_size=batch_len)
            next_q = target_network.predict(next_states, verbose=0, batch_size=batch_len)
            for i in range(batch_len):
                q_values[i, actions[i]] = rewards[i] + (0.0 if dones[i] else gamma * np.max(next_q[i]))
            q_network.fit(states, q_values, batch_size=batch_len, epochs=1, verbose=0)
        if step % 100 == 0:
            target_network.set_weights(q_network.get_weights())
    seconds = time.perf_counter() - t0
    env.close()
    return {
        "env_steps": steps,
        "train_seconds": seconds,
        "train_steps_per_s": steps / seconds,
        "import_seconds": t_imported - started,
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__},
    }
