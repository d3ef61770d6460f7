"""Greedy evaluation of an agent or a saved `.keras` model, and recording an episode as a GIF."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import keras
import numpy as np

from tfdqn.dqn.policy import Policy as QPolicy
from tfdqn.envs.make import has_display, make_env
from tfdqn.envs.spaces import check_model_fits
from tfdqn.errors import EnvError
from tfdqn.fileio import atomic_write
from tfdqn.networks.export import load_q_network

Policy = Callable[[np.ndarray], np.ndarray]
"""Maps a batch of observations (batch, *obs_shape) to a batch of actions."""

UNLIMITED_EPISODE_CAP = 10_000
"""Steps after which a greedy episode of an environment without a time limit of its own (CliffWalking-v1,
a user's env registered without `max_episode_steps`) is cut, so that a policy that never reaches a terminal
state cannot hang an evaluation or a GIF."""


def episode_step_cap(env: gym.Env) -> int | None:
    """`UNLIMITED_EPISODE_CAP` when `env` has no time limit of its own (its spec's `max_episode_steps`), else None."""
    spec = getattr(env, "spec", None)
    return UNLIMITED_EPISODE_CAP if spec is None or spec.max_episode_steps is None else None


def _warn_cut(env: gym.Env, cap: int) -> None:
    spec = getattr(env, "spec", None)
    name = spec.id if spec is not None else type(env.unwrapped).__name__
    warnings.warn(
        f"{name} has no time limit and a greedy episode ran {cap:,} steps without terminating: cut "
        "there (register the environment with max_episode_steps to choose the limit)",
        stacklevel=3,
    )


@dataclass(frozen=True)
class EvaluationResult:
    """Returns of greedy episodes, with their mean and standard deviation."""

    returns: np.ndarray

    @property
    def mean(self) -> float:
        return float(np.mean(self.returns))

    @property
    def std(self) -> float:
        return float(np.std(self.returns))

    def __str__(self) -> str:
        return f"{self.mean:.1f} ± {self.std:.1f} over {len(self.returns)} episodes"


def greedy_policy(model: keras.Model) -> Policy:
    """Greedy policy of a Q-network (`tfdqn.dqn.policy.Policy`): a NumPy forward pass where the network allows
    (MLPs, dueling, noisy, layer norm, C51), a compiled call otherwise."""
    return QPolicy(model)


def evaluate(policy: Policy, env: gym.Env, episodes: int, seed: int | None = None) -> EvaluationResult:
    """Run `episodes` greedy episodes. `seed` seeds the first reset only, so later calls on the same
    env with `seed=None` continue its random stream and see fresh episodes."""
    if episodes < 1:
        raise ValueError(f"episodes={episodes} is invalid: must be positive")
    returns = np.zeros(episodes)
    cap, cut = episode_step_cap(env), False
    for k in range(episodes):
        obs, _ = env.reset(seed=seed if k == 0 else None)
        done, t = False, 0
        while not done:
            action = int(policy(obs[None])[0])
            obs, reward, terminated, truncated, _ = env.step(action)
            returns[k] += float(reward)
            t += 1
            done = terminated or truncated
            if cap is not None and t >= cap and not done:
                done = cut = True
    if cut:
        assert cap is not None  # only a capped episode is cut
        _warn_cut(env, cap)
    return EvaluationResult(returns)


def evaluate_model(path: str | os.PathLike, env_id: str, episodes: int = 100, seed: int = 0) -> EvaluationResult:
    """Load a `.keras` Q-network and evaluate it greedily on fresh episodes of `env_id`."""
    env = make_env(env_id)
    try:
        if not isinstance(env.action_space, gym.spaces.Discrete):
            raise EnvError(f"{env_id} has action space {env.action_space}; DQN needs a Discrete action space")
        model = load_q_network(path, n_actions=int(env.action_space.n))
        _check_obs_shape(model, env, path)
        return evaluate(QPolicy(model), env, episodes, seed)
    finally:
        env.close()


def _check_obs_shape(model: keras.Model, env: gym.Env, path: str | os.PathLike) -> None:
    check_model_fits(model, env.observation_space, f"model file {str(path)!r}")


def render_episode(policy: Policy, env_id: str, seed: int = 0) -> float:
    """Show one greedy episode in a window (`render_mode="human"`); returns its return."""
    if not has_display():
        raise EnvError("no display to render to (DISPLAY is not set); record a GIF with --gif instead")
    env = make_env(env_id, render_mode="human")
    try:
        return float(evaluate(policy, env, 1, seed).returns[0])
    finally:
        env.close()


def record_gif(
    policy: Policy,
    env_id: str,
    path: str | os.PathLike,
    seed: int = 0,
    frame_skip: int = 2,
    scale: float = 0.5,
    fps: int = 25,
) -> float:
    """Render one greedy episode from `rgb_array` frames into a GIF; returns the episode's return.

    Every `frame_skip`-th frame is kept and scaled by `scale` to keep the file small.
    """
    from PIL import Image

    if not has_display():  # rgb_array needs no window; stop SDL complaining that it has none
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    env = make_env(env_id, render_mode="rgb_array")
    frames: list[Image.Image] = []
    total = 0.0
    try:
        obs, _ = env.reset(seed=seed)
        done, t, cap = False, 0, episode_step_cap(env)
        while True:
            if t % frame_skip == 0 or done:
                frame = Image.fromarray(np.asarray(env.render()))
                if scale != 1.0:
                    frame = frame.resize((max(1, int(frame.width * scale)), max(1, int(frame.height * scale))))
                frames.append(frame)
            if done:
                break
            obs, reward, terminated, truncated, _ = env.step(int(policy(obs[None])[0]))
            total += float(reward)
            done = terminated or truncated
            t += 1
            if cap is not None and t >= cap and not done:
                done = True
                _warn_cut(env, cap)
    finally:
        env.close()
    duration = int(1000 * frame_skip / fps)
    atomic_write(
        Path(path),
        lambda tmp: frames[0].save(
            tmp, format="GIF", save_all=True, append_images=frames[1:], duration=duration, loop=0
        ),
    )
    return total
