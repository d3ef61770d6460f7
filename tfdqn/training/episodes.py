"""`Episodes`: the episodes in progress in each sub-environment of a vector env, numbered for the listeners,
and what rebuilds them exactly on resume.

Gymnasium's vector envs reset a finished sub-environment on the step AFTER its episode ends (next-step
autoreset): that step is not a transition. `EpisodeState.resetting` marks the sub-envs whose next step is such
an autoreset, so the trainer neither stores nor counts it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import gymnasium as gym
import numpy as np

from tfdqn.envs.reset_state import carried_state, reset_state, restore_reset_state
from tfdqn.listeners.dispatch import ListenerList


@dataclass
class EpisodeState:
    """Per-sub-environment bookkeeping of the episodes in progress (saved with a training state).

    `starts[i]` is how sub-env i's current episode began (its reset seed, or its RNG state just before
    the autoreset; with what the env carries across resets, `tfdqn.envs.reset_state`) and `actions[i]` the
    actions taken since: together they rebuild the environment's state on resume without pickling it.
    """

    obs: np.ndarray
    resetting: np.ndarray  # sub-envs whose next step() is Gymnasium's autoreset, not a transition
    returns: np.ndarray
    lengths: np.ndarray
    ids: np.ndarray  # listeners' episode number per sub-env; -1 until its episode begins (lazily, in order)
    next_id: int
    starts: list[dict[str, Any]]
    actions: list[list[int]]


class Episodes:
    """The episodes running in `env`, announced to `listeners` (`on_episode_begin`) in increasing order."""

    def __init__(self, env: gym.vector.VectorEnv, listeners: ListenerList):
        self.env, self.listeners = env, listeners
        self.state: EpisodeState | None = None  # None until the environment is first reset
        self.begun = np.zeros(env.num_envs, dtype=bool)  # sub-envs whose episode the listeners saw begin
        self.first_id = 0  # the first episode number when episodes are (re)started from a reset
        # Only a SyncVectorEnv lets us rebuild each sub-env's state on resume; others restart episodes.
        self.replayable = isinstance(env, gym.vector.SyncVectorEnv)

    def reset(self, seed: int | None, episodes_done: int) -> None:
        """Reset every sub-env (and seed the action space); their episodes are numbered when they begin."""
        n = self.env.num_envs
        carried = [self._carried(i) for i in range(n)]  # before the reset: what the episodes begin with
        obs, _ = self.env.reset(seed=seed)
        if seed is not None:
            self.env.action_space.seed(seed)
        self.state = EpisodeState(
            obs=obs,
            resetting=np.zeros(n, dtype=bool),
            returns=np.zeros(n),
            lengths=np.zeros(n, dtype=np.int64),
            ids=np.full(n, -1, dtype=np.int64),
            next_id=max(self.first_id, episodes_done),
            starts=[{"seed": None if seed is None else seed + i, **carried[i]} for i in range(n)],
            actions=[[] for _ in range(n)],
        )

    def continue_running(self, step: int) -> None:
        """At the start of a `train` call: episodes left running by an earlier call (or a resumed run)
        begin again for the listeners, under their own numbers, in order."""
        ep = self.state
        assert ep is not None  # reset (or rebuilt) before training steps
        for i in sorted(np.flatnonzero(ep.ids >= 0), key=lambda i: ep.ids[i]):
            self.begun[i] = True
            self.listeners.on_episode_begin(int(ep.ids[i]), {"step": step, "env_index": int(i), "continued": True})

    def announce(self, step: int) -> None:
        """Number the sub-envs' new episodes (in increasing order) and emit their `on_episode_begin`."""
        ep = self.state
        assert ep is not None  # reset (or rebuilt) before training steps
        for i in np.flatnonzero(ep.ids < 0):
            ep.ids[i] = ep.next_id
            ep.next_id += 1
            self.begun[i] = True
            self.listeners.on_episode_begin(int(ep.ids[i]), {"step": step, "env_index": int(i), "continued": False})

    def record(self, actions: np.ndarray, rewards: np.ndarray, real: np.ndarray, n_real: int) -> None:
        """Add one vector step's rewards to the real (not autoresetting) sub-envs' episodes, and remember their
        actions when the episodes can be rebuilt on resume."""
        ep = self.state
        assert ep is not None  # reset (or rebuilt) before training steps
        if n_real == self.env.num_envs:
            ep.returns += rewards
            ep.lengths += 1
        else:
            ep.returns[real] += rewards[real]
            ep.lengths[real] += 1
        if self.replayable:
            for i in np.flatnonzero(real):
                ep.actions[i].append(int(actions[i]))

    def reset_states(self, which: Iterable[int]) -> dict[int, dict[str, Any]] | None:
        """What each of the sub-envs `which` starts its next episode from at its autoreset (`tfdqn.envs.reset_state`:
        its RNG's state and what it carries across episodes), when episodes can be rebuilt."""
        if not self.replayable:
            return None
        # replayable means a SyncVectorEnv (see __init__); mypy cannot follow the flag
        envs = cast(gym.vector.SyncVectorEnv, self.env).envs
        return {int(i): reset_state(envs[i]) for i in which}

    def _carried(self, i: int) -> dict[str, Any]:
        """`{"carried": ...}` when sub-env i carries state across resets and episodes can be rebuilt, else {}."""
        return carried_state(cast(gym.vector.SyncVectorEnv, self.env).envs[i]) if self.replayable else {}

    def restart(self, i: int, reset_states: Mapping[int, dict[str, Any]] | None) -> None:
        """Sub-env i's episode has ended: its next one begins (and gets its number) when training goes on."""
        ep = self.state
        assert ep is not None  # reset (or rebuilt) before training steps
        ep.returns[i] = 0.0
        ep.lengths[i] = 0
        ep.ids[i] = -1
        self.begun[i] = False
        if reset_states is not None:  # the autoreset on the next step starts from this state
            ep.starts[i] = reset_states[int(i)]
            ep.actions[i] = []

    def running(self) -> list[int]:
        """The sub-envs whose episode began for the listeners and has not ended, in episode order."""
        ep = self.state
        return [] if ep is None else sorted(np.flatnonzero(self.begun), key=lambda i: ep.ids[i])

    def close(self, logs_of: Callable[[int], dict[str, Any]]) -> list[BaseException]:
        """When training ends: `on_episode_end` (with `logs_of(i)`) for every episode that began and is still
        running, delivered to every listener; returns their failures. The episodes themselves go on (a later
        `train` call or a resumed run continues them)."""
        errors: list[BaseException] = []
        for i in self.running():
            assert self.state is not None  # running() is empty before the first reset
            self.begun[i] = False
            errors += self.listeners.call_all("on_episode_end", int(self.state.ids[i]), logs_of(i))
        return errors

    def get_state(self) -> tuple[dict[str, Any] | None, np.ndarray | None]:
        """(JSON-ready bookkeeping, observations) of the episodes in progress; (None, None) before a reset."""
        ep = self.state
        if ep is None:
            return None, None
        meta = {
            "resetting": ep.resetting.tolist(),
            "returns": ep.returns.tolist(),
            "lengths": ep.lengths.tolist(),
            "ids": ep.ids.tolist(),
            "next_id": ep.next_id,
            "starts": ep.starts,
            "actions": ep.actions,
        }
        return meta, ep.obs

    def rebuild(self, saved: dict[str, Any], obs: np.ndarray, draw_actions: Callable[[np.ndarray], Any]) -> None:
        """Bring every sub-env back to its saved state: reset it as it was reset, replay its actions.
        `draw_actions` draws one step's actions as the loop would have (to keep the RNGs in step)."""
        # only called when replayable, i.e. for a SyncVectorEnv (see __init__); mypy cannot follow the flag
        env = cast(gym.vector.SyncVectorEnv, self.env)
        n = self.env.num_envs
        ep = EpisodeState(
            obs=obs.copy(),
            resetting=np.array(saved["resetting"], dtype=bool),
            returns=np.array(saved["returns"], dtype=float),
            lengths=np.array(saved["lengths"], dtype=np.int64),
            ids=np.array(saved["ids"], dtype=np.int64),
            next_id=saved["next_id"],
            starts=saved["starts"],
            actions=[list(a) for a in saved["actions"]],
        )
        self.env.reset(seed=0)  # initialise the vector env; every sub-env is reset again below
        was_resetting = ep.resetting.copy()
        if was_resetting.all():
            # The next iteration would only autoreset: draw its actions as it would have.
            draw_actions(ep.obs)
        for i in range(n):
            sub = env.envs[i]
            start = ep.starts[i]
            restore_reset_state(sub, start)  # its RNG (a seeded reset reseeds it) and what it carries
            first_obs, _ = sub.reset(seed=start.get("seed"))
            current = first_obs
            for a in [] if was_resetting[i] else ep.actions[i]:
                current, *_ = sub.step(a)
            if was_resetting[i]:  # exact when all were resetting; otherwise this env skips one autoreset step
                ep.resetting[i] = False
                ep.obs[i] = current
            elif not np.allclose(current, ep.obs[i]):
                warnings.warn(
                    f"sub-environment {i} did not return to its saved state on replay (is it "
                    "deterministic given its seed?); training continues from the replayed state",
                    stacklevel=2,
                )
                ep.obs[i] = current
        self.state = ep
