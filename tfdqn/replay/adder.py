"""Adders: what stands between the environment and the replay buffer (Acme's word). Each takes one vector
step and stores the transitions it completes: `OneStepAdder` the step itself, `NStepAdder` (in `nstep`)
n-step returns. Both drop the sub-envs whose step was Gymnasium's autoreset (`real` False): not a transition.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tfdqn.config import DQNConfig
from tfdqn.replay.buffer import ReplayBuffer
from tfdqn.replay.nstep import NStepAdder
from tfdqn.replay.pixel import replay_for_observations
from tfdqn.replay.prioritized import ExtendedReplay


class OneStepAdder:
    """Stores each real transition of a vector step as it is."""

    def __init__(self, replay: Any):
        self.replay = replay

    def add(
        self,
        obs: np.ndarray,
        actions: np.ndarray,
        rewards: np.ndarray,
        next_obs: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
        real: np.ndarray,
        n_real: int,
    ) -> None:
        """Store the `n_real` transitions of the sub-envs in `real` (truncation needs nothing here: the
        transition keeps terminated=False and so bootstraps)."""
        if n_real == len(actions):
            self.replay.add_batch(obs, actions, rewards, next_obs, terminated)
        else:
            self.replay.add_batch(obs[real], actions[real], rewards[real], next_obs[real], terminated[real])

    def clear(self) -> None:
        """Nothing is held between steps."""

    def state_dict(self) -> dict[str, np.ndarray]:
        """Nothing to save."""
        return {}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Nothing to restore."""


def make_adder(
    replay: Any, config: DQNConfig, num_envs: int, obs_shape: tuple[int, ...], obs_dtype: Any
) -> OneStepAdder | NStepAdder:
    """The adder `config` asks for: n-step returns when `n_step` > 1, else one-step transitions."""
    if config.n_step == 1:
        return OneStepAdder(replay)
    return NStepAdder(replay, config.n_step, config.gamma, num_envs, obs_shape, obs_dtype)


def make_replay(
    config: DQNConfig, obs_shape: tuple[int, ...], obs_dtype: Any, num_envs: int
) -> tuple[ReplayBuffer | ExtendedReplay, OneStepAdder | NStepAdder]:
    """The replay `config` asks for (a pixel buffer for uint8 images; per-transition discounts and priorities
    beside it for n-step returns or prioritized replay) and the adder in front of it."""
    replay = ExtendedReplay.for_config(replay_for_observations(config.buffer_size, obs_shape, obs_dtype), config)
    return replay, make_adder(replay, config, num_envs, obs_shape, obs_dtype)
