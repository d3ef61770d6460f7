"""Creating Gymnasium environments with the checks a DQN needs (known id, discrete actions, an observation
space tfdqn can encode; non-Box observations come as arrays through `tfdqn.envs.spaces.RawObservation`)."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from tfdqn.envs import (
    atari,
    minatar,
    pixels,  # noqa: F401 (registers tfdqn/PixelCartPole-v0)
    spaces,
)
from tfdqn.errors import EnvError

VECTOR_MODES = ("auto", "sync", "async", "native")


def make_env(env_id: str, render_mode: str | None = None, **kwargs: Any) -> gym.Env:
    """`gym.make` with a clear `EnvError` for an unknown id, a non-discrete action space or an observation
    space tfdqn cannot encode; non-Box observations are given as arrays (`tfdqn.envs.spaces.RawObservation`).
    A `module:Env-v0` id imports `module` first (it registers the environment), as `gym.make` does."""
    env_id = registered_id(env_id)
    atari.ensure_registered(env_id)  # tfdqn/ALE-<Game>-v<N> ids are registered on first use
    minatar.ensure_registered(env_id)  # so are MinAtar/<Game>-v<N> ids (the minatar package's own)
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
    if spaces.needs_wrapper(env.observation_space):
        env = spaces.RawObservation(env)
    return env


_PACKAGES = {
    "box2d": "box2d==2.3.10 (listed in requirements.txt)",
    "pygame": "pygame-ce (gymnasium[classic-control])",
    "mujoco": "mujoco (gymnasium[mujoco])",
    "ale_py": "ale-py (requirements-atari.txt)",
}


def registered_id(env_id: str) -> str:
    """The registry id of `env_id`: for `module:Env-v0` (the form `gym.make` accepts), import `module` (which
    registers the environment) and return `Env-v0`; `EnvError` naming the module when it cannot be imported.
    Other ids are returned unchanged. `gym.spec` does not accept the module form, so every lookup goes here."""
    if ":" not in env_id:
        return env_id
    module, _, name = env_id.partition(":")
    if not module or not name:
        raise EnvError(f"environment id {env_id!r}: expected 'module:Env-v0' with both parts")
    try:
        importlib.import_module(module)
    except ImportError as exc:
        raise EnvError(f"environment {env_id!r}: cannot import module {module!r} ({exc})") from None
    return name


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
        value = gym.spec(registered_id(env_id)).reward_threshold
    except gym.error.Error:
        return None
    return None if value is None else float(value)


def time_limit(env_id: str) -> int | None:
    """The environment's own time limit, `max_episode_steps` from its Gymnasium spec (None if it has none:
    CliffWalking-v1, or an id Gymnasium does not know)."""
    try:
        value = gym.spec(registered_id(env_id)).max_episode_steps
    except gym.error.Error:
        return None
    return None if value is None else int(value)


def make_vec_env(env_id: str, num_envs: int = 1, mode: str = "auto") -> gym.vector.VectorEnv:
    """N copies of `env_id` stepped together, with Gymnasium's next-step autoreset: the training env, so each copy
    gets the id's training-only wrappers (Atari's: `tfdqn.envs.atari.training_wrappers`; they add the learner's
    reward and termination to `info` and change nothing else). Evaluations make their own, with `make_env`.

    `mode`: "sync" (one process), "async" (one process per env, for expensive environments),
    "native" (the environment's own vectorised implementation, e.g. CartPole), or "auto":
    native where one exists and num_envs > 1, else sync.
    """
    if mode not in VECTOR_MODES:
        raise EnvError(f"unknown vectorisation mode {mode!r}; choose from {VECTOR_MODES}")
    probe = make_env(env_id)  # validate the id and the spaces once, with tfdqn's messages
    env_id = registered_id(env_id)  # the module (of a module:Env-v0 id) is imported by now
    wrappers: list[Callable[[gym.Env], gym.Wrapper]] = atari.training_wrappers(env_id)
    if isinstance(probe, spaces.RawObservation):
        wrappers.insert(0, spaces.RawObservation)
    probe.close()
    if mode == "auto":
        spec = gym.spec(env_id)
        mode = "native" if num_envs > 1 and spec.vector_entry_point is not None and not wrappers else "sync"
    gym_mode = {"native": "vector_entry_point"}.get(mode, mode)
    try:
        venv = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode=gym_mode, wrappers=wrappers or None)
    except gym.error.Error as exc:
        raise EnvError(f"cannot vectorise {env_id!r} with mode {mode!r}: {exc}") from None
    autoreset = venv.metadata.get("autoreset_mode")
    if autoreset is not None and autoreset != gym.vector.AutoresetMode.NEXT_STEP:
        venv.close()
        raise EnvError(f"{env_id!r} vector env uses autoreset mode {autoreset}; tfdqn needs NEXT_STEP")
    return venv


def check_spaces(observation_space: gym.Space, action_space: gym.Space, env_id: str = "environment") -> None:
    """Raise `EnvError` unless actions are `Discrete` and observations a space `tfdqn.envs.spaces` can encode
    (Box, Discrete, MultiDiscrete, MultiBinary, and Tuple/Dict of these)."""
    if not isinstance(action_space, gym.spaces.Discrete):
        raise EnvError(f"{env_id} has action space {action_space}; DQN needs a Discrete action space")
    try:
        spaces.check_observation_space(observation_space)
    except EnvError as exc:
        raise EnvError(f"{env_id}: {exc}") from None


def observation_dtype(space: gym.Space) -> np.dtype:
    """Replay dtype for observations: uint8 pixels stay uint8, booleans (MinAtar) bool (a byte per cell),
    integer spaces (Discrete...) keep their integer dtype, everything else becomes float32
    (`tfdqn.envs.spaces.replay_dtype`)."""
    return spaces.replay_dtype(space)


def has_display() -> bool:
    """Whether a GUI window can be opened (a display on Linux; assumed on macOS and Windows)."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def can_render(env_id: str) -> bool:
    """True when `env_id` renders rgb_array frames (so GIFs and videos of it can be recorded)."""
    env = make_env(env_id)
    try:
        return "rgb_array" in env.metadata.get("render_modes", ())
    finally:
        env.close()
