"""`SumTree`: a binary tree of non-negative priorities in one NumPy array, with batched, vectorised
updates and proportional sampling (the data structure of prioritized replay, Schaul et al. 2016).

The leaves are the priorities of the buffer's slots; every internal node is the sum of its two children,
so the root is the total. Updating a batch and sampling a batch walk the tree one level at a time for
all indices at once: O(batch * log capacity) NumPy work and no Python loop per sample.
"""

from __future__ import annotations

import numpy as np


class SumTree:
    """Priorities of `capacity` slots (float64, so sums stay exact enough for ~1e6 leaves)."""

    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError(f"SumTree capacity={capacity} is invalid: must be positive")
        self.capacity = int(capacity)
        self.leaves = 1 << max(0, (self.capacity - 1).bit_length())  # a power of two >= capacity
        self.depth = self.leaves.bit_length() - 1
        self.tree = np.zeros(2 * self.leaves, dtype=np.float64)  # node 1 is the root; leaves start at `leaves`

    @property
    def total(self) -> float:
        """Sum of all priorities."""
        return float(self.tree[1])

    def get(self, idx: np.ndarray) -> np.ndarray:
        """Priorities of slots `idx`."""
        return self.tree[self.leaves + np.asarray(idx)]

    def set(self, idx: np.ndarray, priorities: np.ndarray) -> None:
        """Set the priorities of slots `idx` (any shape; for a slot repeated, the last value wins), then
        recompute the sums on the paths to the root, level by level."""
        idx = np.asarray(idx, dtype=np.int64).ravel()
        priorities = np.asarray(priorities, dtype=np.float64).ravel()
        if len(idx) == 0:
            return
        if (priorities < 0).any() or not np.isfinite(priorities).all():
            raise ValueError("priorities must be finite and non-negative")
        nodes = self.leaves + idx
        self.tree[nodes] = priorities
        if len(nodes) * self.depth > self.leaves:  # many updates: rebuilding every level is cheaper
            for level in range(self.depth - 1, -1, -1):
                lo = 1 << level
                self.tree[lo : 2 * lo] = self.tree[2 * lo : 4 * lo].reshape(-1, 2).sum(axis=1)
            return
        for _ in range(self.depth):  # a parent repeated in `nodes` is just recomputed to the same sum
            nodes = nodes >> 1
            self.tree[nodes] = self.tree[2 * nodes] + self.tree[2 * nodes + 1]

    def find(self, mass: np.ndarray) -> np.ndarray:
        """For each value in [0, total), the slot whose cumulative-priority interval contains it."""
        mass = np.array(mass, dtype=np.float64)
        nodes = np.ones(mass.shape, dtype=np.int64)
        for _ in range(self.depth):
            left = self.tree[2 * nodes]
            right = mass >= left
            mass -= np.where(right, left, 0.0)
            nodes = 2 * nodes + right
        return nodes - self.leaves

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator, size: int) -> np.ndarray:
        """Slots drawn with probability priority / total: stratified along the last axis (one uniform draw
        in each of `shape[-1]` equal segments of the total, as Schaul et al. do), independent elsewhere.
        `size` is the number of filled slots: a rounding walk past the last is pulled back inside."""
        total = self.total
        if not total > 0:
            raise ValueError("cannot sample from a SumTree whose priorities are all zero")
        k = shape[-1]
        mass = (np.arange(k) + rng.random(shape)) * (total / k)
        slots = self.find(np.minimum(mass, np.nextafter(total, 0.0)))
        # floating-point rounding can walk into an empty (zero-priority) leaf: use the last filled slot
        return np.minimum(slots, size - 1)

    def state_dict(self, size: int) -> dict[str, np.ndarray]:
        return {"priorities": self.tree[self.leaves : self.leaves + size].copy()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        self.tree[:] = 0.0
        p = state["priorities"]
        self.set(np.arange(len(p)), p)
