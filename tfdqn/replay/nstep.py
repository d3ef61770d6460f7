"""`NStepWindows`: turns one-step transitions from a vector environment into n-step transitions.

A window holds the last n steps of each sub-environment. A full window leaves as the transition
(s_t, a_t, sum_{j<n} gamma^j r_{t+j}, s_{t+n}, terminated=0, discount=gamma^n). When an episode ends,
every window still open leaves at once with the rewards up to the end: a termination sets terminated=1
(no bootstrap); a truncation keeps terminated=0 and bootstraps from the state where the episode was cut,
with discount gamma^k for the k steps summed. The windows are then emptied, so none spans Gymnasium's
autoreset step (which the trainer never passes here). The windows in progress are part of the training
state (`state_dict`).
"""

from __future__ import annotations

from typing import Any

import numpy as np


class NStepWindows:
    """One window of up to `n` steps per sub-environment, in preallocated arrays."""

    def __init__(self, n: int, gamma: float, num_envs: int, obs_shape: tuple[int, ...], obs_dtype=np.float32):
        if n < 1:
            raise ValueError(f"n={n} is invalid: must be a positive integer")
        self.n, self.gamma, self.num_envs = int(n), float(gamma), int(num_envs)
        self.obs = np.zeros((num_envs, n, *obs_shape), dtype=obs_dtype)
        self.actions = np.zeros((num_envs, n), dtype=np.int32)
        self.rewards = np.zeros((num_envs, n), dtype=np.float64)
        self.length = np.zeros(num_envs, dtype=np.int64)
        self.powers = self.gamma ** np.arange(n + 1)
        self._every = np.arange(num_envs)

    def push(
        self,
        obs: np.ndarray,
        actions: np.ndarray,
        rewards: np.ndarray,
        next_obs: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
        real: np.ndarray | None = None,
    ):
        """Add one vector step (`real`: the sub-envs whose step is a transition, not an autoreset) and return
        the n-step transitions it completes: (obs, actions, returns, next_obs, terminated, discounts)."""
        if self.num_envs == 1 and (real is None or real[0]) and not (terminated[0] or truncated[0]):
            return self._push_one(obs, actions, rewards, next_obs)
        return self._push(obs, actions, rewards, next_obs, terminated, truncated, real)

    def _push_one(self, obs, actions, rewards, next_obs):
        """`push` for the usual step of a single environment (a transition, the episode going on), in scalar
        operations: what the loop does at every env step, so kept cheap."""
        k = int(self.length[0])
        self.obs[0, k] = obs[0]
        self.actions[0, k] = actions[0]
        self.rewards[0, k] = rewards[0]
        if k + 1 < self.n:
            self.length[0] = k + 1
            return None
        out = (
            self.obs[:, 0].copy(),
            self.actions[:, 0].copy(),
            self.rewards @ self.powers[:-1],
            np.array(next_obs[:1]),
            np.zeros(1, np.float32),
            np.full(1, self.powers[-1]),
        )
        self.obs[0, :-1] = self.obs[0, 1:]
        self.actions[0, :-1] = self.actions[0, 1:]
        self.rewards[0, :-1] = self.rewards[0, 1:]
        return out  # the window stays full (length n - 1 + the next step)

    def _push(self, obs, actions, rewards, next_obs, terminated, truncated, real):
        real = None if real is None else np.asarray(real, bool)
        envs = self._every if real is None or real.all() else np.flatnonzero(real)
        if not len(envs):
            return None
        pos = self.length[envs]
        self.obs[envs, pos] = obs[envs]
        self.actions[envs, pos] = actions[envs]
        self.rewards[envs, pos] = rewards[envs]
        self.length[envs] = pos + 1
        ended = np.logical_or(terminated, truncated)[envs]
        out: list[tuple] = []
        f = envs[(pos + 1 == self.n) & ~ended]
        if len(f):  # the oldest step of each full window leaves as an n-step transition
            out.append(
                (
                    self.obs[f, 0].copy(),
                    self.actions[f, 0].copy(),
                    self.rewards[f] @ self.powers[:-1],
                    next_obs[f],
                    np.zeros(len(f), np.float32),
                    np.full(len(f), self.powers[-1]),
                )
            )
            self.obs[f, :-1] = self.obs[f, 1:]
            self.actions[f, :-1] = self.actions[f, 1:]
            self.rewards[f, :-1] = self.rewards[f, 1:]
            self.length[f] -= 1
        for i in envs[ended]:  # an episode ended: every open window leaves, then the window is empty
            k = int(self.length[i])
            returns = np.array([self.rewards[i, s:k] @ self.powers[: k - s] for s in range(k)])
            out.append(
                (
                    self.obs[i, :k].copy(),
                    self.actions[i, :k].copy(),
                    returns,
                    np.repeat(next_obs[i][None], k, axis=0),
                    np.full(k, float(terminated[i]), np.float32),
                    self.powers[k - np.arange(k)],
                )
            )
            self.length[i] = 0
        if len(out) < 2:  # the usual step: one part (or none), nothing to join
            return out[0] if out else None
        return tuple(np.concatenate(p) for p in zip(*out))

    def clear(self) -> None:
        """Empty every window (the episodes they belonged to will not continue)."""
        self.length[:] = 0

    def state_dict(self) -> dict[str, np.ndarray]:
        """The windows in progress, for an exact resume."""
        return {"obs": self.obs, "actions": self.actions, "rewards": self.rewards, "length": self.length}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        if state["obs"].shape != self.obs.shape:
            raise ValueError(f"saved n-step windows have shape {state['obs'].shape}, these {self.obs.shape}")
        for name in ("obs", "actions", "rewards", "length"):
            getattr(self, name)[...] = state[name]


class NStepAdder:
    """Stores the n-step transitions each vector step completes (`NStepWindows`), with their discounts."""

    def __init__(
        self, replay: Any, n: int, gamma: float, num_envs: int, obs_shape: tuple[int, ...], obs_dtype: Any
    ) -> None:
        self.replay = replay
        self.windows = NStepWindows(n, gamma, num_envs, obs_shape, obs_dtype)

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
        """Push one vector step into the windows; store what leaves them."""
        completed = self.windows.push(obs, actions, rewards, next_obs, terminated, truncated, real)
        if completed is not None:
            self.replay.add_batch(*completed)

    def clear(self) -> None:
        """Empty the windows (fresh episodes: none may carry over)."""
        self.windows.clear()

    def state_dict(self) -> dict[str, np.ndarray]:
        """The windows in progress."""
        return self.windows.state_dict()

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore `state_dict()` output."""
        self.windows.load_state_dict(state)
