"""What the learner sees when it differs from the game: training-only wrappers that leave the episode alone.

Atari agents learn from rewards clipped to their sign and from a terminal at every life lost, but their scores are
the games' raw scores over whole games. A wrapper that changed the reward or ended the episode would change the
score too, and a life-loss "episode end" would make the vector env reset the game. So these wrappers change none
of `step`'s outputs: they add the learner's reward and termination to `info` (`TRAINING_REWARD`,
`TRAINING_TERMINATED`), and the trainer stores those (`training_signal`) while it counts the episode, its return
and its end from the game's own. Where no wrapper added them, the learner sees the game's own.
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

TRAINING_REWARD = "training_reward"
"""`info` key: the reward the learner stores for this step, when it is not the game's (e.g. clipped)."""
TRAINING_TERMINATED = "training_terminated"
"""`info` key: whether the learner stores this step as terminal (no bootstrap), when not the game's own."""


class ClipRewardSignal(gym.Wrapper):
    """The learner's reward is the sign of the step's reward (-1, 0 or +1), as in the Nature DQN, so one learning
    rate fits games whose scores differ by orders of magnitude; the reward `step` returns stays the game's."""

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        info[TRAINING_REWARD] = float(np.sign(info.get(TRAINING_REWARD, reward)))
        return obs, reward, terminated, truncated, info


class LifeLossSignal(gym.Wrapper):
    """The learner sees a terminal at every life lost (`info["lives"]` going down, as the ALE reports it), as in
    the Nature DQN; the game goes on: `step` returns the game's own `terminated`, so no reset follows."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.lives = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        self.lives = int(info.get("lives", 0))
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        lives = int(info.get("lives", 0))
        info[TRAINING_TERMINATED] = bool(info.get(TRAINING_TERMINATED, terminated)) or lives < self.lives
        self.lives = lives
        return obs, reward, terminated, truncated, info


def training_signal(
    rewards: np.ndarray, terminated: np.ndarray, infos: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """The (rewards, terminated) of one vector step as the learner stores them: the sub-envs' `TRAINING_REWARD`
    and `TRAINING_TERMINATED` where they gave them (Gymnasium's vector infos mark which with `_<key>`), the
    game's own elsewhere (an autoreset step's info comes from `reset` and has neither)."""
    if TRAINING_REWARD in infos:
        rewards = np.where(infos[f"_{TRAINING_REWARD}"], infos[TRAINING_REWARD], rewards)
    if TRAINING_TERMINATED in infos:
        terminated = np.where(infos[f"_{TRAINING_TERMINATED}"], infos[TRAINING_TERMINATED], terminated)
    return rewards, terminated
