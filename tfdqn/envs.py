"""Creating Gymnasium environments with the checks a DQN needs (known id, discrete actions)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from tfdqn import pixels  # registers tfdqn/PixelCartPole-v0
from tfdqn.errors import EnvError

VECTOR_MODES = ("auto", "sync", "async", "native")


def make_env(env_id: str, render_mode: str | None = None, **kwargs: Any) -> gym.Env:
    """`gym.make` with a clear `EnvError` for an unknown id or a non-discrete action space."""
    pixels.ensure_registered(env_id)  # tfdqn/ALE-<Game>-v<N> ids are registered on first use
    try:
        if render_mode is not None:
            kwargs["render_mode"] = render_mode
        env = gym.make(env_id, **kwargs)
    except gym.error.DependencyNotInstalled as exc:
        raise EnvError(missing_dependency_message(env_id, exc)) from None
    except gym.error.Error as exc:
        raise EnvError(f"cannot make environment {env_id!r}: {exc}") from None
    try:
        check_spaces(env.observation_space, env.action_space, env_id)
    except EnvError:
        env.close()
        raise
    return env


_PACKAGES = {"box2d": "box2d==2.3.10 (listed in requirements.txt)", "pygame": "pygame-ce (gymnasium[classic-control])",
             "mujoco": "mujoco (gymnasium[mujoco])", "ale_py": "ale-py (requirements-atari.txt)"}


def missing_dependency_message(env_id: str, exc: Exception) -> str:
    """One line naming the package an environment needs, e.g. Box2D for LunarLander."""
    text = str(exc)
    lowered = text.lower()
    for key, package in _PACKAGES.items():
        if key in lowered:
            return f"{env_id} needs a package that is not installed: pip install {package}"
    return f"{env_id} needs a package that is not installed: {text.splitlines()[0] if text else type(exc).__name__}"


def reward_threshold(env_id: str) -> float | None:
    """The environment's own `reward_threshold` from its Gymnasium spec (None if it has none)."""
    try:
        value = gym.spec(env_id).reward_threshold
    except gym.error.Error:
        return None
    return None if value is None else float(value)


def make_vec_env(env_id: str, num_envs: int = 1, mode: str = "auto") -> gym.vector.VectorEnv:
    """N copies of `env_id` stepped together, with Gymnasium's next-step autoreset.

    `mode`: "sync" (one process), "async" (one process per env, for expensive environments),
    "native" (the environment's own vectorised implementation, e.g. CartPole), or "auto":
    native where one exists and num_envs > 1, else sync.
    """
    if mode not in VECTOR_MODES:
        raise EnvError(f"unknown vectorisation mode {mode!r}; choose from {VECTOR_MODES}")
    make_env(env_id).close()  # validate the id and the spaces once, with tfdqn's messages
    if mode == "auto":
        spec = gym.spec(env_id)
        mode = "native" if num_envs > 1 and spec.vector_entry_point is not None else "sync"
    gym_mode = {"native": "vector_entry_point"}.get(mode, mode)
    try:
        venv = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode=gym_mode)
    except gym.error.Error as exc:
        raise EnvError(f"cannot vectorise {env_id!r} with mode {mode!r}: {exc}") from None
    autoreset = venv.metadata.get("autoreset_mode")
    if autoreset is not None and autoreset != gym.vector.AutoresetMode.NEXT_STEP:
        venv.close()
        raise EnvError(f"{env_id!r} vector env uses autoreset mode {autoreset}; tfdqn needs NEXT_STEP")
    return venv


def check_spaces(observation_space: gym.Space, action_space: gym.Space, env_id: str = "environment") -> None:
    """Raise `EnvError` unless actions are `Discrete` and observations a `Box` (vector or image)."""
    if not isinstance(action_space, gym.spaces.Discrete):
        raise EnvError(f"{env_id} has action space {action_space}; DQN needs a Discrete action space")
    if not isinstance(observation_space, gym.spaces.Box):
        raise EnvError(f"{env_id} has observation space {observation_space}; tfdqn needs a Box "
                       "(use a one-hot or FlattenObservation wrapper for Discrete observations)")


def observation_dtype(space: gym.spaces.Box) -> np.dtype:
    """Replay dtype for observations: uint8 pixels stay uint8, everything else becomes float32."""
    return np.dtype(np.uint8) if space.dtype == np.uint8 else np.dtype(np.float32)
