"""`ReplayBuffer`: a preallocated NumPy ring buffer of transitions with vectorised sampling (images:
`tfdqn.replay.pixel`)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Batch(NamedTuple):
    """Transitions as arrays with a shared leading shape: (batch,) or (gradient_steps, batch)."""

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray


def ring_slots(pos: int, n: int, capacity: int) -> slice | np.ndarray:
    """The `n` ring slots from `pos` on: a slice where they do not wrap (every step of one environment but the
    ring's last), cheaper to store into than the index array needed where they do."""
    return slice(pos, pos + n) if pos + n <= capacity else (pos + np.arange(n)) % capacity


class ReplayBuffer:
    """Fixed-capacity store of (obs, action, reward, next_obs, terminated); oldest entries are overwritten.

    Memory is allocated once, proportional to `capacity`. `terminated` is stored, never `truncated`:
    a time-limit cut still bootstraps, so it is an ordinary transition here.
    """

    def __init__(self, capacity: int, obs_shape: tuple[int, ...], obs_dtype: np.dtype | type = np.float32):
        if capacity < 1:
            raise ValueError(f"ReplayBuffer capacity={capacity} is invalid: must be positive")
        self.capacity = int(capacity)
        self.obs_shape = tuple(obs_shape)
        self.obs = np.zeros((self.capacity, *self.obs_shape), dtype=obs_dtype)
        self.next_obs = np.zeros_like(self.obs)
        self.actions = np.zeros(self.capacity, dtype=np.int32)
        self.rewards = np.zeros(self.capacity, dtype=np.float32)
        self.terminated = np.zeros(self.capacity, dtype=np.float32)
        self.pos = 0  # next slot to write
        self.size = 0

    def __len__(self) -> int:
        return self.size

    @property
    def nbytes(self) -> int:
        """Bytes held by the preallocated arrays."""
        return sum(a.nbytes for a in (self.obs, self.next_obs, self.actions, self.rewards, self.terminated))

    def add(self, obs: np.ndarray, action: int, reward: float, next_obs: np.ndarray, terminated: bool) -> None:
        """Store one transition."""
        i = self.pos
        self.obs[i] = obs
        self.next_obs[i] = next_obs
        self.actions[i] = action
        self.rewards[i] = reward
        self.terminated[i] = terminated
        self.pos = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def add_batch(
        self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray, next_obs: np.ndarray, terminated: np.ndarray
    ) -> None:
        """Store n transitions (leading axis n) at once, wrapping around the end."""
        n = len(actions)
        if n == 0:
            return
        if n > self.capacity:  # only the newest `capacity` survive anyway
            obs, actions, rewards, next_obs, terminated = (
                a[-self.capacity :] for a in (obs, actions, rewards, next_obs, terminated)
            )
            n = self.capacity
        idx = ring_slots(self.pos, n, self.capacity)
        self.obs[idx] = obs
        self.next_obs[idx] = next_obs
        self.actions[idx] = actions
        self.rewards[idx] = rewards
        self.terminated[idx] = terminated
        self.pos = int((self.pos + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)

    def newest_slots(self, count: int) -> np.ndarray:
        """The slots of the newest `count` transitions stored (all of them when fewer), newest first."""
        return (self.pos - 1 - np.arange(min(max(count, 0), self.size))) % self.capacity

    def newest_rewards(self, count: int) -> tuple[np.ndarray, np.ndarray | None]:
        """(rewards, None) of the newest `count` transitions: the rewards the learner trains on, as stored, for a
        listener to watch (`DivergenceAlarm`); None: every transition is one step (discount gamma)."""
        return self.rewards[self.newest_slots(count)], None

    def sample(self, batch_size: int, rng: np.random.Generator, gradient_steps: int | None = None) -> Batch:
        """Uniform sample with replacement; shape (batch,) or, with `gradient_steps`, (steps, batch)."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty ReplayBuffer")
        shape = (batch_size,) if gradient_steps is None else (gradient_steps, batch_size)
        idx = rng.integers(0, self.size, size=shape)
        return self.gather(idx)

    def gather(self, idx: np.ndarray) -> Batch:
        """The stored transitions at slots `idx` (any shape of indices below `len(self)`). `take` rather than
        fancy indexing: the same arrays, several times faster for a training call's 128 x 128 indices."""
        return Batch(
            self.obs.take(idx, axis=0),
            self.actions.take(idx),
            self.rewards.take(idx),
            self.next_obs.take(idx, axis=0),
            self.terminated.take(idx),
        )

    def state_dict(self) -> dict[str, np.ndarray]:
        """Arrays that restore this buffer exactly (for `np.savez`, no pickle needed)."""
        n = self.size
        return {
            "obs": self.obs[:n],
            "next_obs": self.next_obs[:n],
            "actions": self.actions[:n],
            "rewards": self.rewards[:n],
            "terminated": self.terminated[:n],
            "pos": np.array(self.pos),
            "capacity": np.array(self.capacity),
        }

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore from `state_dict()` output; the capacity and observation shape must match."""
        if int(state["capacity"]) != self.capacity or tuple(state["obs"].shape[1:]) != self.obs_shape:
            raise ValueError("replay state does not match this buffer's capacity or observation shape")
        n = len(state["actions"])
        for name in ("obs", "next_obs", "actions", "rewards", "terminated"):
            getattr(self, name)[:n] = state[name]
        self.size = n
        self.pos = int(state["pos"])
