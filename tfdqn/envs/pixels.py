"""Environments whose observations are pixels, built from Gymnasium's own wrappers.

Importing this module registers `tfdqn/PixelCartPole-v0` (`tfdqn.envs.make` imports it, so `make_env` and
`make_vec_env` know the id): CartPole-v1 seen only through its rendered frames, cropped to the band where the
cart and pole move, downscaled, greyscale, with the last 4 frames stacked on the channel axis so that
velocities can be read, each action repeated for 2 CartPole steps. Atari games are `tfdqn.envs.atari`'s.

Every observation is uint8 (height, width, stack), channels-last, as `build_conv_q_network` expects.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import (
    AddRenderObservation,
    FrameStackObservation,
    GrayscaleObservation,
    MaxAndSkipObservation,
    ResizeObservation,
    TransformObservation,
)

from tfdqn.errors import EnvError

PIXEL_CARTPOLE_ID = "tfdqn/PixelCartPole-v0"

# CartPole's 600x400 frame: the cart's centre is drawn on row 300 and the upright pole reaches row ~170;
# rows 160..320 hold everything that moves (the pole tip only drops as it falls).
CARTPOLE_CROP_ROWS = (160, 320)


class ChannelsLast(gym.ObservationWrapper):
    """Move the leading axis last: `FrameStackObservation`'s (stack, height, width) becomes
    (height, width, stack), the channels-last layout of Keras' `Conv2D`."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, gym.spaces.Box) or len(space.shape) != 3:
            raise EnvError(f"ChannelsLast needs a Box of shape (stack, height, width), got {space}")
        self.observation_space = gym.spaces.Box(
            np.moveaxis(space.low, 0, -1), np.moveaxis(space.high, 0, -1), dtype=space.dtype
        )

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.moveaxis(np.asarray(observation), 0, -1))


def crop_rows(env: gym.Env, top: int, bottom: int) -> gym.Env:
    """Keep image rows `top:bottom` of an image observation (a `TransformObservation`)."""
    space = env.observation_space
    if not isinstance(space, gym.spaces.Box):
        raise EnvError(f"crop_rows needs a Box image observation, got {space}")
    if not 0 <= top < bottom <= space.shape[0]:
        raise EnvError(f"cannot crop rows {top}:{bottom} of an image of height {space.shape[0]}")
    cropped = gym.spaces.Box(space.low[top:bottom], space.high[top:bottom], dtype=space.dtype)
    return TransformObservation(env, lambda obs: obs[top:bottom], cropped)


def use_dummy_video_driver() -> None:
    """Let pygame draw `rgb_array` frames on a Linux machine without a display."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


def make_pixel_cartpole(
    render_mode: str | None = None,
    height: int = 40,
    width: int = 120,
    stack: int = 4,
    crop: tuple[int, int] | None = CARTPOLE_CROP_ROWS,
    frame_skip: int = 2,
    **kwargs: Any,
) -> gym.Env:
    """CartPole-v1 observed through its rendered frames: (height, width, stack) uint8.

    The frame is drawn by CartPole's own `rgb_array` renderer (`AddRenderObservation`), cropped to rows
    `crop` (None keeps the whole 400 rows), downscaled (`ResizeObservation`, OpenCV's area filter: cheaper
    before the greyscale conversion than after), made greyscale (`GrayscaleObservation`) and the last `stack`
    frames stacked (`FrameStackObservation`, padded with the first frame after a reset). `env.render()`
    still returns the full-size colour frame. `render_mode` is accepted for `gym.make`, which adds a window
    for "human"; the frames are always rendered off-screen.

    Each action is repeated for `frame_skip` CartPole steps, their rewards summed, as Atari agents do
    (`MaxAndSkipObservation`, on the state before rendering, so one frame is drawn per action): the stacked
    frames span twice the time, so velocities show better, for the same rendering cost. Returns still count
    CartPole steps (at most 500; an action that ends the episode on its first step earns 1).
    """
    if render_mode not in (None, "rgb_array"):
        raise EnvError(f"{PIXEL_CARTPOLE_ID} renders rgb_array frames only, not {render_mode!r}")
    use_dummy_video_driver()
    env = gym.make("CartPole-v1", render_mode="rgb_array", **kwargs)
    if frame_skip > 1:
        env = MaxAndSkipObservation(env, skip=frame_skip)
    env = AddRenderObservation(env, render_only=True)
    if crop is not None:
        env = crop_rows(env, *crop)
    env = ResizeObservation(env, (height, width))
    env = GrayscaleObservation(env, keep_dim=False)
    env = FrameStackObservation(env, stack)
    return ChannelsLast(env)


# gym.make reads the entry point's `metadata`; setattr because mypy does not let a function take attributes
setattr(make_pixel_cartpole, "metadata", {"render_modes": ["rgb_array"], "render_fps": 25})  # noqa: B010


if PIXEL_CARTPOLE_ID not in gym.registry:
    # max_episode_steps states the limit CartPole-v1's own TimeLimit inside keeps (500 CartPole steps); it never
    # cuts first, as each action is at least one CartPole step. Greedy evaluations read it from the spec.
    gym.register(PIXEL_CARTPOLE_ID, entry_point=make_pixel_cartpole, reward_threshold=475.0, max_episode_steps=500)
