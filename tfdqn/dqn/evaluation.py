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

from tfdqn.dqn.policy import Policy
from tfdqn.envs import minatar
from tfdqn.envs.make import has_display, make_env, registered_id, time_limit
from tfdqn.envs.spaces import check_model_fits
from tfdqn.errors import EnvError
from tfdqn.fileio import atomic_write
from tfdqn.networks.export import load_q_network
from tfdqn.validation import check_budget

ActionFn = Callable[[np.ndarray], np.ndarray]
"""Maps a batch of observations (batch, *obs_shape) to a batch of actions."""

UNLIMITED_EPISODE_CAP = 1_000
"""Steps after which a greedy episode of an environment without a time limit of its own (CliffWalking-v1, a
user's env registered without `max_episode_steps`) is cut unless the caller gives its own cap (`max_steps`,
`--eval-max-steps`), so that a policy that never reaches a terminal state cannot hang an evaluation or a GIF.
1,000 is the longest time limit among Gymnasium's discrete-action built-ins (LunarLander-v3), and 75 times
CliffWalking's shortest path (13 steps): only a policy going round in circles is cut. At 10,000, a 2,000-step
CliffWalking-v1 run spent 7 minutes evaluating policies that circled."""


def limitless_cap(env_id: str | None) -> int:
    """Where a greedy episode of `env_id`, an environment without a time limit, is cut by default: MinAtar's
    games end on their own but can outlast 1,000 steps (`tfdqn.envs.minatar.EPISODE_CAP`); any other at
    `UNLIMITED_EPISODE_CAP`."""
    return minatar.EPISODE_CAP if env_id is not None and minatar.is_minatar_id(env_id) else UNLIMITED_EPISODE_CAP


def episode_step_cap(env: gym.Env, max_steps: int | None = None) -> int | None:
    """Where a greedy episode of `env` is cut: `max_steps` when given; else `limitless_cap` when `env` has no
    time limit of its own (its spec's `max_episode_steps`), else None (its own limit ends it)."""
    if max_steps is not None:
        return check_budget(max_steps, "max_steps")
    spec = getattr(env, "spec", None)
    if spec is not None and spec.max_episode_steps is not None:
        return None
    return limitless_cap(None if spec is None else spec.id)


def evaluation_step_cap(env_id: str, max_steps: int | None = None) -> int | None:
    """`episode_step_cap` for `env_id`, read from its spec before any environment is made."""
    if max_steps is not None:
        return check_budget(max_steps, "max_steps")
    return limitless_cap(registered_id(env_id)) if time_limit(env_id) is None else None


def step_cap_line(env_id: str, max_steps: int | None = None, flag: str = "--eval-max-steps") -> str | None:
    """One line saying where greedy episodes of `env_id` are cut (given `max_steps`, or the default for an
    environment without a time limit), naming `flag`; None when the environment's own time limit ends them,
    or when Gymnasium does not know `env_id` (making the environment says so, in one line of its own)."""
    try:
        name = registered_id(env_id)
        minatar.ensure_registered(name)  # tfdqn registers its MinAtar ids on first use, as making one would
        gym.spec(name)
    except (gym.error.Error, EnvError):
        return None
    own = time_limit(env_id)
    cap = evaluation_step_cap(env_id, max_steps)
    if cap is None:
        return None
    why = f"{env_id} has no time limit: " if own is None else ""
    than = f"; {env_id}'s own limit is {own:,}" if own is not None else ""
    return f"{why}evaluation episodes are cut at {cap:,} steps ({flag}{than})"


def _warn_cut(env: gym.Env, cap: int) -> None:
    spec = getattr(env, "spec", None)
    name = spec.id if spec is not None else type(env.unwrapped).__name__
    warnings.warn(
        f"{name} has no time limit and a greedy episode ran {cap:,} steps without terminating: cut "
        "there (max_steps, or --eval-max-steps in a command, sets the cap; or register the environment "
        "with max_episode_steps)",
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


def greedy_policy(model: keras.Model) -> ActionFn:
    """Greedy policy of a Q-network (`tfdqn.dqn.policy.Policy`): a NumPy forward pass where the network allows
    (MLPs, dueling, noisy, layer norm, C51, small convolutional bodies: `NumpyQ`), a compiled TensorFlow call for
    what the mirror cannot compute (larger convolutions, encoders of non-Box observations)."""
    return Policy(model)


def evaluate(
    policy: ActionFn, env: gym.Env, episodes: int, seed: int | None = None, max_steps: int | None = None
) -> EvaluationResult:
    """Run `episodes` greedy episodes. `seed` seeds the first reset only, so later calls on the same
    env with `seed=None` continue its random stream and see fresh episodes. Each episode is cut after
    `max_steps` steps (default: `episode_step_cap`, with a warning when one is cut there)."""
    if episodes < 1:
        raise ValueError(f"episodes={episodes} is invalid: must be positive")
    returns = np.zeros(episodes)
    cap, cut = episode_step_cap(env, max_steps), False
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
    if cut and max_steps is None:  # a cap the caller chose is no surprise
        assert cap is not None  # only a capped episode is cut
        _warn_cut(env, cap)
    return EvaluationResult(returns)


def evaluate_model(
    path: str | os.PathLike, env_id: str, episodes: int = 100, seed: int = 0, max_steps: int | None = None
) -> EvaluationResult:
    """Load a `.keras` Q-network and evaluate it greedily on fresh episodes of `env_id` (each cut after
    `max_steps` steps; default: `episode_step_cap`)."""
    env = make_env(env_id)
    try:
        if not isinstance(env.action_space, gym.spaces.Discrete):
            raise EnvError(f"{env_id} has action space {env.action_space}; DQN needs a Discrete action space")
        model = load_q_network(path, n_actions=int(env.action_space.n))
        _check_obs_shape(model, env, path)
        return evaluate(Policy(model), env, episodes, seed, max_steps)
    finally:
        env.close()


def _check_obs_shape(model: keras.Model, env: gym.Env, path: str | os.PathLike) -> None:
    check_model_fits(model, env.observation_space, f"model file {str(path)!r}")


def render_episode(policy: ActionFn, env_id: str, seed: int = 0, max_steps: int | None = None) -> float:
    """Show one greedy episode in a window (`render_mode="human"`), cut after `max_steps` steps as in
    `evaluate`; returns its return."""
    if not has_display():
        raise EnvError("no display to render to (DISPLAY is not set); record a GIF with --gif instead")
    env = make_env(env_id, render_mode="human")
    try:
        return float(evaluate(policy, env, 1, seed, max_steps).returns[0])
    finally:
        env.close()


def record_gif(
    policy: ActionFn,
    env_id: str,
    path: str | os.PathLike,
    seed: int = 0,
    frame_skip: int = 2,
    scale: float = 0.5,
    fps: int = 25,
    max_steps: int | None = None,
) -> float:
    """Render one greedy episode from `rgb_array` frames into a GIF; returns the episode's return.

    Every `frame_skip`-th frame is kept and scaled by `scale` to keep the file small. The episode is cut after
    `max_steps` steps (default: `episode_step_cap`, with a warning when it is cut there).
    """
    from PIL import Image

    if not has_display():  # rgb_array needs no window; stop SDL complaining that it has none
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    env = make_env(env_id, render_mode="rgb_array")
    frames: list[Image.Image] = []
    total = 0.0
    try:
        obs, _ = env.reset(seed=seed)
        done, t, cap = False, 0, episode_step_cap(env, max_steps)
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
                if max_steps is None:
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
