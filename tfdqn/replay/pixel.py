"""`PixelReplayBuffer`: a `ReplayBuffer` for uint8 images that stores each observation once (a transition's
next observation is the next one's observation), and `replay_for_observations`, which picks the buffer."""

from __future__ import annotations

import zlib

import numpy as np

from tfdqn.replay.buffer import Batch, ReplayBuffer

# Where a PixelReplayBuffer finds a transition's next observation (`next_kind`); `next_ref` says which one.
_NEXT_IN_OBS = 0  # obs[next_ref]: the observation of a transition added later (the usual case)
_NEXT_IN_EXTRA = 1  # the extra ring, id next_ref: no stored transition starts there (an episode ended)
_NEXT_PENDING = 2  # _pending[next_ref]: added by the last call, matched against the next call's observations


def replay_for_observations(
    capacity: int, obs_shape: tuple[int, ...], obs_dtype: np.dtype | type = np.float32
) -> ReplayBuffer:
    """The buffer suited to these observations: `PixelReplayBuffer` (each observation stored once) for uint8
    images or boolean grids (height, width, channels), else a plain `ReplayBuffer`."""
    if np.dtype(obs_dtype) in (np.uint8, np.bool_) and len(obs_shape) == 3:
        return PixelReplayBuffer(capacity, obs_shape, obs_dtype)
    return ReplayBuffer(capacity, obs_shape, obs_dtype)


def _fingerprint(frame: np.ndarray) -> int:
    # NumPy's stubs give ndarray the buffer protocol (`__buffer__`) only for Python >= 3.12
    return zlib.crc32(np.ascontiguousarray(frame))  # type: ignore[arg-type]


class PixelReplayBuffer(ReplayBuffer):
    """A `ReplayBuffer` for image observations that stores each observation once, not twice.

    In a stream of transitions, the next observation of one transition is, byte for byte, the observation
    of the next transition of the same environment, unless the episode ended there. So instead of a second
    `next_obs` array, each transition keeps a link to the slot that holds its next observation. `add_batch`
    finds that slot by content (a CRC32 fingerprint, confirmed by comparing the bytes) among the
    observations added by the same call or by the next one, which is where the next step of a Gymnasium
    vector environment puts it, whatever the number of sub-environments and however many of them were
    filtered out of a call (autoreset steps). Next observations that no later transition starts from
    (episode ends) are copied into a small extra ring; those of the newest call wait in a pending area
    until the next call.

    Correct for any sequence of transitions, not only environment streams: a link only ever points to an
    identical observation in a slot written later, and slots are overwritten oldest first, so a linked slot
    outlives every transition linking to it. For the same slots, `gather` (and so `sample`, given the same
    random generator) returns exactly what a `ReplayBuffer` fed the same transitions returns.

    Memory: `capacity` observations (100k transitions of 84x84x4 uint8 frames: 2.82 GB, not 5.64 GB),
    21 bytes per slot for the action, reward, flag and link, plus one observation per episode end still in
    the buffer (the extra ring grows by doubling as needed, never beyond `capacity`).
    """

    def __init__(self, capacity: int, obs_shape: tuple[int, ...], obs_dtype: np.dtype | type = np.uint8):
        if capacity < 1:
            raise ValueError(f"PixelReplayBuffer capacity={capacity} is invalid: must be positive")
        self.capacity = int(capacity)
        self.obs_shape = tuple(obs_shape)
        self.obs = np.zeros((self.capacity, *self.obs_shape), dtype=obs_dtype)
        self.actions = np.zeros(self.capacity, dtype=np.int32)
        self.rewards = np.zeros(self.capacity, dtype=np.float32)
        self.terminated = np.zeros(self.capacity, dtype=np.float32)
        self.next_kind = np.zeros(self.capacity, dtype=np.int8)
        self.next_ref = np.zeros(self.capacity, dtype=np.int64)
        self._clear_links()
        self.pos = 0  # next slot to write
        self.size = 0

    def _clear_links(self) -> None:
        self._extra = np.zeros((min(self.capacity, 16), *self.obs_shape), dtype=self.obs.dtype)
        self._extra_start = 0  # id of the oldest extra observation still linked to
        self._extra_end = 0  # id the next extra observation gets
        self._pending = np.zeros((0, *self.obs_shape), dtype=self.obs.dtype)
        self._pending_slots = np.zeros(0, dtype=np.int64)  # -1: that transition was overwritten
        self._pending_keys: list[int] = []

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays: observations once, the extra ring and pending area, the per-slot data."""
        return sum(
            a.nbytes
            for a in (
                self.obs,
                self.actions,
                self.rewards,
                self.terminated,
                self.next_kind,
                self.next_ref,
                self._extra,
                self._pending,
                self._pending_slots,
            )
        )

    @property
    def extra_count(self) -> int:
        """Next observations held apart from `obs` (episode ends, and the newest call's)."""
        return self._extra_end - self._extra_start + int(np.count_nonzero(self._pending_slots >= 0))

    def add(self, obs: np.ndarray, action: int, reward: float, next_obs: np.ndarray, terminated: bool) -> None:
        """Store one transition."""
        self.add_batch(
            np.asarray(obs)[None],
            np.array([action]),
            np.array([reward], dtype=np.float32),
            np.asarray(next_obs)[None],
            np.array([terminated]),
        )

    def add_batch(
        self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray, next_obs: np.ndarray, terminated: np.ndarray
    ) -> None:
        """Store n transitions (leading axis n) at once, wrapping around the end."""
        n = len(actions)
        if n == 0:
            return
        dtype = self.obs.dtype
        obs, next_obs = np.asarray(obs, dtype=dtype), np.asarray(next_obs, dtype=dtype)
        actions, rewards, terminated = np.asarray(actions), np.asarray(rewards), np.asarray(terminated)
        if n > self.capacity:  # only the newest `capacity` survive anyway
            obs, actions, rewards, next_obs, terminated = (
                a[-self.capacity :] for a in (obs, actions, rewards, next_obs, terminated)
            )
            n = self.capacity
        slots = (self.pos + np.arange(n)) % self.capacity
        # the slots written first are empty until the buffer is full; after that, they hold the oldest
        self._retire(slots[np.arange(n) >= self.capacity - self.size])

        keys = [_fingerprint(o) for o in obs]
        newest_row = {key: row for row, key in enumerate(keys)}  # fingerprint -> last row holding it
        # the last call's next observations: most of them are observations of this call
        for p, slot in enumerate(self._pending_slots):
            if slot < 0:
                continue
            row = newest_row.get(self._pending_keys[p])
            if row is not None and np.array_equal(obs[row], self._pending[p]):
                self.next_kind[slot], self.next_ref[slot] = _NEXT_IN_OBS, slots[row]
            else:
                self.next_kind[slot], self.next_ref[slot] = _NEXT_IN_EXTRA, self._push_extra(self._pending[p])

        self.obs[slots] = obs
        self.actions[slots] = actions
        self.rewards[slots] = rewards
        self.terminated[slots] = terminated
        pending_rows, pending_keys = [], []
        for row in range(n):  # a later row of this call may start where this one ends
            key = _fingerprint(next_obs[row])
            later = newest_row.get(key)
            if later is not None and later > row and np.array_equal(obs[later], next_obs[row]):
                self.next_kind[slots[row]], self.next_ref[slots[row]] = _NEXT_IN_OBS, slots[later]
            else:
                pending_rows.append(row)
                pending_keys.append(key)
        self._pending = next_obs[pending_rows]  # a copy (fancy indexing)
        self._pending_slots = slots[pending_rows].astype(np.int64)
        self._pending_keys = pending_keys
        self.next_kind[self._pending_slots] = _NEXT_PENDING
        self.next_ref[self._pending_slots] = np.arange(len(pending_rows))
        self.pos = int((self.pos + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)

    def _retire(self, slots: np.ndarray) -> None:
        """Forget the links of the (oldest) transitions in `slots`, which are about to be overwritten."""
        if len(slots) == 0:
            return
        kinds = self.next_kind[slots]
        # extra observations are added and retired in the order of their transitions: the oldest go first
        self._extra_start += int(np.count_nonzero(kinds == _NEXT_IN_EXTRA))
        pending = kinds == _NEXT_PENDING
        if pending.any():
            self._pending_slots[self.next_ref[slots[pending]]] = -1

    def _push_extra(self, frame: np.ndarray) -> int:
        if self._extra_end - self._extra_start == len(self._extra):  # full: double it, keeping the ids
            old = self._extra
            self._extra = np.zeros((min(2 * len(old), self.capacity), *self.obs_shape), dtype=old.dtype)
            ids = np.arange(self._extra_start, self._extra_end)
            self._extra[ids % len(self._extra)] = old[ids % len(old)]
        self._extra[self._extra_end % len(self._extra)] = frame
        self._extra_end += 1
        return self._extra_end - 1

    def gather(self, idx: np.ndarray) -> Batch:
        """The stored transitions at slots `idx` (any shape of indices below `len(self)`)."""
        obs = self.obs.take(idx, axis=0)
        kind, ref = self.next_kind.take(idx), self.next_ref.take(idx)
        in_obs = kind == _NEXT_IN_OBS
        if in_obs.all():
            next_obs = self.obs.take(ref, axis=0)
        else:
            next_obs = np.empty_like(obs)
            next_obs[in_obs] = self.obs[ref[in_obs]]
            extra = kind == _NEXT_IN_EXTRA
            next_obs[extra] = self._extra[ref[extra] % len(self._extra)]
            pending = kind == _NEXT_PENDING
            next_obs[pending] = self._pending[ref[pending]]
        return Batch(obs, self.actions.take(idx), self.rewards.take(idx), next_obs, self.terminated.take(idx))

    def state_dict(self) -> dict[str, np.ndarray]:
        """Arrays that restore this buffer exactly, links included (for `np.savez`, no pickle needed)."""
        n = self.size
        ids = np.arange(self._extra_start, self._extra_end)
        return {
            "obs": self.obs[:n],
            "actions": self.actions[:n],
            "rewards": self.rewards[:n],
            "terminated": self.terminated[:n],
            "next_kind": self.next_kind[:n],
            "next_ref": self.next_ref[:n],
            "extra_obs": self._extra[ids % len(self._extra)],
            "extra_start": np.array(self._extra_start),
            "pending_obs": self._pending,
            "pending_slots": self._pending_slots,
            "pos": np.array(self.pos),
            "capacity": np.array(self.capacity),
        }

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore from `state_dict()` output, this class's or a plain `ReplayBuffer`'s (whose transitions are
        then added again, oldest first, into the same slots); the capacity and observation shape must match."""
        if int(state["capacity"]) != self.capacity or tuple(state["obs"].shape[1:]) != self.obs_shape:
            raise ValueError("replay state does not match this buffer's capacity or observation shape")
        n, pos = len(state["actions"]), int(state["pos"])
        self._clear_links()
        if "next_obs" in state:  # a plain ReplayBuffer's state
            self.pos, self.size = (pos if n == self.capacity else 0), 0
            order = (self.pos + np.arange(n)) % self.capacity
            for chunk in np.array_split(order, max(1, -(-n // 4096))):
                self.add_batch(*(state[k][chunk] for k in ("obs", "actions", "rewards", "next_obs", "terminated")))
            return
        for name in ("obs", "actions", "rewards", "terminated", "next_kind", "next_ref"):
            getattr(self, name)[:n] = state[name]
        extra, start = state["extra_obs"], int(state["extra_start"])
        self._extra = np.zeros((max(len(self._extra), len(extra)), *self.obs_shape), dtype=self.obs.dtype)
        self._extra[np.arange(start, start + len(extra)) % len(self._extra)] = extra
        self._extra_start, self._extra_end = start, start + len(extra)
        self._pending = np.array(state["pending_obs"], dtype=self.obs.dtype)
        self._pending_slots = np.array(state["pending_slots"], dtype=np.int64)
        self._pending_keys = [_fingerprint(o) for o in self._pending]
        self.size, self.pos = n, pos
