"""`ExtendedReplay`: a replay buffer (plain or pixel) plus what n-step returns and prioritized replay need:
a discount per transition (gamma**k for the k rewards it sums) and, when prioritized, a `SumTree` of
priorities, with importance-sampling weights in each sample."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tfdqn.config import DQNConfig
from tfdqn.replay.buffer import ReplayBuffer, ring_slots
from tfdqn.replay.sumtree import SumTree


class Sample(NamedTuple):
    """A `Batch` with each transition's bootstrap discount, its importance weight (1 when uniform) and
    its slot in the buffer (to update its priority after the update)."""

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray
    discounts: np.ndarray
    weights: np.ndarray
    indices: np.ndarray


def importance_weights(probabilities: np.ndarray, size: int, beta: float) -> np.ndarray:
    """w_i = (size * P(i)) ** -beta, divided by the largest w of its batch (the last axis), so weights only
    ever scale updates down (Schaul et al. 2016, section 3.4)."""
    w = (size * np.asarray(probabilities, dtype=np.float64)) ** -beta
    return (w / w.max(axis=-1, keepdims=True)).astype(np.float32)


class ExtendedReplay:
    """Wraps `base` (a `ReplayBuffer` or `PixelReplayBuffer`) slot for slot: the base stores the transitions
    as always; this object keeps the per-slot discounts and priorities beside them.

    Prioritized (proportional): a new transition gets the largest priority seen so far; after an update,
    `update_priorities` sets (|error| + eps) ** alpha. Sampling draws slots with probability priority/total
    and weights them by `importance_weights` at the current `beta` (`anneal_beta` takes it to 1).
    """

    def __init__(
        self,
        base: ReplayBuffer,
        gamma: float,
        prioritized: bool = False,
        alpha: float = 0.6,
        eps: float = 1e-6,
        beta: float = 0.4,
        beta_steps: int | None = None,
    ):
        self.base = base
        self.capacity = base.capacity
        self.gamma = float(gamma)
        self.discounts = np.full(self.capacity, self.gamma, dtype=np.float32)
        self.tree = SumTree(self.capacity) if prioritized else None
        self.alpha, self.eps, self.beta = float(alpha), float(eps), float(beta)
        self.beta_start, self.beta_steps = self.beta, beta_steps
        self.max_priority = 1.0

    @classmethod
    def for_config(cls, base: ReplayBuffer, config: DQNConfig) -> ReplayBuffer | ExtendedReplay:
        """`base` itself when neither n-step returns nor prioritized replay is on, else wrapped."""
        if config.n_step == 1 and not config.prioritized:
            return base
        return cls(
            base,
            config.gamma,
            config.prioritized,
            config.priority_alpha,
            config.priority_eps,
            config.priority_beta,
            config.priority_beta_steps,
        )

    def __len__(self) -> int:
        return len(self.base)

    @property
    def size(self) -> int:
        return self.base.size

    @property
    def nbytes(self) -> int:
        return self.base.nbytes + self.discounts.nbytes + (0 if self.tree is None else self.tree.tree.nbytes)

    def add(self, obs, action, reward, next_obs, terminated, discount: float | None = None) -> None:
        """Store one transition."""
        self.add_batch(
            np.asarray(obs)[None],
            np.array([action]),
            np.array([reward], dtype=np.float32),
            np.asarray(next_obs)[None],
            np.array([terminated]),
            None if discount is None else np.array([discount]),
        )

    def add_batch(self, obs, actions, rewards, next_obs, terminated, discounts: np.ndarray | None = None) -> None:
        """Store n transitions; `discounts` defaults to gamma (one-step transitions)."""
        n = len(actions)
        if n == 0:
            return
        keep = min(n, self.capacity)
        pos = self.base.pos
        slots = ring_slots(pos, keep, self.capacity)
        self.base.add_batch(obs, actions, rewards, next_obs, terminated)
        self.discounts[slots] = self.gamma if discounts is None else np.asarray(discounts)[-keep:]
        if self.tree is not None:
            self.tree.set(np.arange(pos, pos + keep) % self.capacity, np.full(keep, self.max_priority))

    def newest_rewards(self, count: int) -> tuple[np.ndarray, np.ndarray | None]:
        """(rewards, discounts) of the newest `count` transitions: an n-step return and its bootstrap discount
        gamma ** k, k the steps it sums (`ReplayBuffer.newest_rewards`)."""
        slots = self.base.newest_slots(count)
        return self.base.rewards[slots], self.discounts[slots]

    def anneal_beta(self, step: int, budget: int) -> None:
        """The importance-weight exponent at env step `step`: linear from its start to 1 over `beta_steps`
        (default: the run's `budget`), then 1."""
        span = self.beta_steps or max(budget, 1)
        self.beta = min(1.0, self.beta_start + (1.0 - self.beta_start) * step / span)

    def sample(self, batch_size: int, rng: np.random.Generator, gradient_steps: int | None = None) -> Sample:
        """Shape (batch,) or (gradient_steps, batch): proportional to priority (stratified within each batch)
        when prioritized, else uniform with weights 1."""
        size = len(self.base)
        if size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        shape = (batch_size,) if gradient_steps is None else (gradient_steps, batch_size)
        if self.tree is None:
            idx = rng.integers(0, size, size=shape)
            weights = np.ones(shape, dtype=np.float32)
        else:
            idx = self.tree.sample(shape, rng, size)
            weights = importance_weights(self.tree.get(idx) / self.tree.total, size, self.beta)
        return Sample(*self.base.gather(idx), self.discounts.take(idx), weights, idx)

    def update_priorities(self, indices: np.ndarray, errors: np.ndarray) -> None:
        """Set the priorities of `indices` to (|errors| + eps) ** alpha (for repeated slots, the last wins)."""
        if self.tree is None:
            return
        p = (np.abs(np.asarray(errors, dtype=np.float64)) + self.eps) ** self.alpha
        self.tree.set(indices, p)
        self.max_priority = max(self.max_priority, float(p.max()))

    def state_dict(self) -> dict[str, np.ndarray]:
        """The base buffer's arrays plus the discounts and priorities of its filled slots."""
        n = len(self.base)
        state = dict(self.base.state_dict())
        state["x_discounts"] = self.discounts[:n].copy()
        if self.tree is not None:
            state["x_priorities"] = self.tree.state_dict(n)["priorities"]
            state["x_max_priority"] = np.array(self.max_priority)
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore `state_dict()` output (a plain buffer's state too: discounts gamma, priorities the max)."""
        base_state = {k: v for k, v in state.items() if not k.startswith("x_")}
        self.base.load_state_dict(base_state)
        n = len(self.base)
        self.discounts[:] = self.gamma
        if "x_discounts" in state:
            self.discounts[:n] = state["x_discounts"]
        if self.tree is not None:
            self.max_priority = float(state.get("x_max_priority", 1.0))
            priorities = state.get("x_priorities", np.full(n, self.max_priority))
            self.tree.load_state_dict({"priorities": priorities})
