"""A stand-in for an ALE game, so the Atari protocol's wrappers are tested without ale-py."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

REWARDS = (0.0, 4.0, -2.5, 0.5)
"""Step t (from 1) pays REWARDS[t % 4]: rewards of several sizes and both signs."""
FIRE_GAME = ("NOOP", "FIRE", "RIGHT", "LEFT")
NO_FIRE_GAME = ("NOOP", "UP", "DOWN")


class LivesGame(gym.Env):
    """`lives` lives, one lost every `life_steps` steps, the game over with the last; `info["lives"]` as the ALE
    reports it, `get_action_meanings` as ALE envs have it. Records the actions it gets and how often it is reset."""

    metadata = {"render_modes": []}

    def __init__(self, meanings: tuple[str, ...] = FIRE_GAME, lives: int = 3, life_steps: int = 4):
        self.meanings, self.start_lives, self.life_steps = meanings, lives, life_steps
        self.observation_space = gym.spaces.Box(0.0, 100.0, (2,), np.float32)
        self.action_space = gym.spaces.Discrete(len(meanings))
        self.actions: list[int] = []
        self.resets = 0
        self.lives = self.t = 0

    def get_action_meanings(self) -> list[str]:
        return list(self.meanings)

    def _obs(self) -> np.ndarray:
        return np.array([self.t, self.lives], np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.lives, self.t, self.actions = self.start_lives, 0, []
        self.resets += 1
        return self._obs(), {"lives": self.lives}

    def step(self, action):
        self.actions.append(int(action))
        self.t += 1
        if self.t % self.life_steps == 0:
            self.lives -= 1
        return self._obs(), REWARDS[self.t % 4], self.lives == 0, False, {"lives": self.lives}


def game_score(lives: int = 3, life_steps: int = 4) -> float:
    """The raw score of one whole `LivesGame`, whatever the actions."""
    return float(sum(REWARDS[t % 4] for t in range(1, lives * life_steps + 1)))
