"""A finite MDP as dense arrays (`TabularMDP`), and FrozenLake, whose transition model Gymnasium publishes.

FrozenLake's `env.unwrapped.P[s][a] = [(prob, next_state, reward, terminated), ...]` is the whole model, so
what a learner should achieve can be computed exactly (`tfdqn.tabular.dp`), with no sampling error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from tfdqn.errors import ConfigError, EnvError

MAPS = {"4x4": "FrozenLake-v1", "8x8": "FrozenLake8x8-v1"}
"""FrozenLake map name -> Gymnasium id (the ids set the time limit: 100 and 200 steps)."""

ACTION_NAMES = ("left", "down", "right", "up")
"""FrozenLake's actions, in index order."""

Transitions = Mapping[int, Mapping[int, Sequence[tuple[float, int, float, bool]]]]
"""Gymnasium's toy-text model: `P[s][a]` lists `(probability, next_state, reward, terminated)`."""


def make_frozenlake(map_name: str = "4x4", is_slippery: bool = True, render_mode: str | None = None) -> gym.Env:
    """`gym.make` of the FrozenLake id for `map_name`, with its time limit; `ConfigError` for other maps."""
    if map_name not in MAPS:
        raise ConfigError(f"map_name={map_name!r} is invalid: unknown FrozenLake map; choose from {', '.join(MAPS)}")
    return gym.make(MAPS[map_name], is_slippery=is_slippery, render_mode=render_mode)


def discrete_size(space: gym.Space) -> int:
    """The number of values of a `Discrete` space (states or actions); an `EnvError` for any other space."""
    if not isinstance(space, gym.spaces.Discrete):
        raise EnvError(f"a tabular method needs Discrete observations and actions, not {space}")
    return int(space.n)


def frozenlake_map(env: gym.Env) -> np.ndarray:
    """FrozenLake's map (`env.unwrapped.desc`): rows of cells b"S", b"F", b"H", b"G"."""
    inner = env.unwrapped
    if not hasattr(inner, "desc"):
        raise EnvError(f"{env} has no FrozenLake map (env.unwrapped.desc)")
    return np.asarray(inner.desc)


def horizon(env: gym.Env) -> int:
    """The environment's time limit (`max_episode_steps` of its spec)."""
    steps = env.spec.max_episode_steps if env.spec is not None else None
    if steps is None:
        raise EnvError(f"{env} has no time limit (spec.max_episode_steps); pass a horizon explicitly")
    return int(steps)


@dataclass(frozen=True)
class TabularMDP:
    """A finite MDP as dense arrays, built from Gymnasium's `P[s][a]` lists by `TabularMDP.from_transitions`.

    Attributes:
        transition: (S, A, S) probability of moving to s' *without* the episode terminating.
        reward: (S, A) expected immediate reward.
        success: (S, A) probability that the step terminates the episode with a positive reward
            (FrozenLake: reaching the goal).
        terminal: (S,) True for states entered only by terminating transitions (holes, goal).
    """

    transition: np.ndarray
    reward: np.ndarray
    success: np.ndarray
    terminal: np.ndarray

    @property
    def n_states(self) -> int:
        """Number of states S."""
        return int(self.reward.shape[0])

    @property
    def n_actions(self) -> int:
        """Number of actions A."""
        return int(self.reward.shape[1])

    @classmethod
    def from_transitions(cls, P: Transitions, n_states: int | None = None, n_actions: int | None = None) -> TabularMDP:
        """Tabulate `P[s][a] = [(prob, next_state, reward, terminated), ...]`; checks that each list sums to 1."""
        n_states = len(P) if n_states is None else n_states
        n_actions = len(P[0]) if n_actions is None else n_actions
        transition = np.zeros((n_states, n_actions, n_states))
        reward = np.zeros((n_states, n_actions))
        success = np.zeros((n_states, n_actions))
        entered_by = np.zeros((n_states, 2), dtype=bool)  # [entered by a terminating / a continuing move]
        for s in range(n_states):
            for a in range(n_actions):
                total = 0.0
                for prob, nxt, r, terminated in P[s][a]:
                    if not 0 <= nxt < n_states:
                        raise EnvError(f"P[{s}][{a}] leads to state {nxt}, outside 0..{n_states - 1}")
                    total += prob
                    reward[s, a] += prob * r
                    if terminated:
                        success[s, a] += prob * (r > 0)
                    else:
                        transition[s, a, nxt] += prob
                    entered_by[nxt, 0 if terminated else 1] = True
                if abs(total - 1.0) > 1e-9:
                    raise EnvError(f"P[{s}][{a}] probabilities sum to {total}, not 1")
        terminal = entered_by[:, 0] & ~entered_by[:, 1]
        return cls(transition, reward, success, terminal)

    @classmethod
    def from_env(cls, env: gym.Env) -> TabularMDP:
        """The model of a toy-text environment (`env.unwrapped.P`)."""
        inner = env.unwrapped
        if not hasattr(inner, "P"):
            raise EnvError(f"{env} publishes no transition model (env.unwrapped.P)")
        return cls.from_transitions(inner.P, discrete_size(env.observation_space), discrete_size(env.action_space))


def as_mdp(P: Transitions | TabularMDP, n_states: int | None = None, n_actions: int | None = None) -> TabularMDP:
    """`P` itself if it is a `TabularMDP`, else its tabulation."""
    return P if isinstance(P, TabularMDP) else TabularMDP.from_transitions(P, n_states, n_actions)
