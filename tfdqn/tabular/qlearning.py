"""Tabular Q-learning on FrozenLake, and the exact dynamic programming that checks it.

The whole algorithm is one line, applied after every environment step:

    Q(s, a) <- (1 - alpha) Q(s, a) + alpha (r + gamma max_a' Q(s', a'))

with no `max` term when s' is terminal (a hole or the goal). A time-limit truncation is not terminal: it
still bootstraps, as in DQN. Behaviour is epsilon-greedy, epsilon following a schedule from
`tfdqn.dqn.schedules` evaluated on the episode count.

FrozenLake publishes its transition model, `env.unwrapped.P[s][a] = [(prob, next_state, reward,
terminated), ...]`, so everything the learner should achieve can be computed exactly, with no sampling
error: `value_iteration` gives Q*, `success_probability` the probability that a policy reaches the goal
within the time limit, and `compare_with_optimum` puts the learned table beside both.

This module needs only NumPy and Gymnasium; listeners (and through them TensorFlow) are imported only
when a `QLearner` is built.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np

from tfdqn.dqn.schedules import ExponentialSchedule, LinearSchedule, MultiplicativeSchedule
from tfdqn.errors import ConfigError, EnvError, TrainingError
from tfdqn.validation import CheckedFields, check_exploration, invalid, is_int, is_real

if TYPE_CHECKING:
    from tfdqn.listeners.base import Listener

MAPS = {"4x4": "FrozenLake-v1", "8x8": "FrozenLake8x8-v1"}
"""FrozenLake map name -> Gymnasium id (the ids set the time limit: 100 and 200 steps)."""

DEFAULT_EPISODES = {"4x4": 20_000, "8x8": 50_000}
"""Episode budget per map when `TabularConfig.episodes` is None (measured in the README's FrozenLake section)."""


ACTION_NAMES = ("left", "down", "right", "up")
"""FrozenLake's actions, in index order."""

Transitions = Mapping[int, Mapping[int, Sequence[tuple[float, int, float, bool]]]]
"""Gymnasium's toy-text model: `P[s][a]` lists `(probability, next_state, reward, terminated)`."""


# --------------------------------------------------------------------------------------------- config


@dataclass(frozen=True)
class TabularConfig(CheckedFields):
    """Hyperparameters of a tabular Q-learning run on FrozenLake. Validated on construction.

    The defaults meet the acceptance figures in the README's FrozenLake section on every seed measured.

    Attributes:
        map_name: "4x4" (`FrozenLake-v1`, 100-step limit) or "8x8" (`FrozenLake8x8-v1`, 200 steps).
        is_slippery: whether the ice is slippery (the intended move happens with probability 1/3).
        episodes: training episodes; None picks `DEFAULT_EPISODES[map_name]`.
        seed: seeds the environment (first reset) and the learner's random numbers.
        gamma: discount factor, in (0, 1].
        alpha: learning rate at the start, in (0, 1].
        alpha_end: learning rate after `decay_fraction` of the episodes (linear decay), in (0, alpha].
            Set it equal to `alpha` for a constant rate.
        exploration: epsilon schedule over episodes: "linear" (start -> end over `decay_fraction` of the
            episodes), "exponential" (`end + (start - end) * exp(-epsilon_decay_rate * episode)`) or
            "multiplicative" (`start * epsilon_multiplier ** episode`, floored at end).
        epsilon_start, epsilon_end: exploration rate at the start and at the end, in [0, 1].
        decay_fraction: share of the episodes over which epsilon ("linear") and alpha decay, in (0, 1].
        epsilon_decay_rate: per-episode rate of the "exponential" schedule, > 0.
        epsilon_multiplier: per-episode factor of the "multiplicative" schedule, in (0, 1].
    """

    map_name: str = "4x4"
    is_slippery: bool = True
    episodes: int | None = None
    seed: int = 0
    gamma: float = 0.99
    alpha: float = 0.1
    alpha_end: float = 0.01
    exploration: str = "linear"
    epsilon_start: float = 1.0
    epsilon_end: float = 0.01
    decay_fraction: float = 0.5
    epsilon_decay_rate: float = 1e-3
    epsilon_multiplier: float = 0.999

    def __post_init__(self) -> None:
        if self.episodes is None and self.map_name in MAPS:
            object.__setattr__(self, "episodes", DEFAULT_EPISODES[self.map_name])
        self.validate()

    def validate(self) -> None:
        """Raise `ConfigError` naming the first field whose value is invalid."""

        def bad(name: str, why: str) -> ConfigError:
            return invalid(self, name, why)

        if self.map_name not in MAPS:
            raise bad("map_name", f"unknown FrozenLake map; choose from {', '.join(MAPS)}")
        if not isinstance(self.is_slippery, bool):
            raise bad("is_slippery", "must be True or False")
        if not is_int(self.episodes) or self.episodes < 1:
            raise bad("episodes", "must be a positive integer")
        if not is_int(self.seed) or self.seed < 0:
            raise bad("seed", "must be a non-negative integer")
        if not is_real(self.gamma) or not 0 < self.gamma <= 1:
            raise bad("gamma", "must lie in (0, 1]")
        if not is_real(self.alpha) or not 0 < self.alpha <= 1:
            raise bad("alpha", "must lie in (0, 1]")
        if not is_real(self.alpha_end) or not 0 < self.alpha_end <= 1:
            raise bad("alpha_end", "must lie in (0, 1]")
        if self.alpha_end > self.alpha:
            raise bad("alpha_end", f"must not exceed alpha={self.alpha}")
        check_exploration(self)
        if not is_real(self.decay_fraction) or not 0 < self.decay_fraction <= 1:
            raise bad("decay_fraction", "must lie in (0, 1]")

    @property
    def env_id(self) -> str:
        """The Gymnasium id of `map_name` (what listeners read as `trainer.config.env_id`)."""
        return MAPS[self.map_name]

    @property
    def decay_episodes(self) -> int:
        """Episodes over which the linear schedules (epsilon, alpha) run from start to end."""
        return max(1, round(self.decay_fraction * self.episodes))

    def replace(self, **changes: Any) -> TabularConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of every field, plus the derived `env_id`."""
        return {**dataclasses.asdict(self), "env_id": self.env_id}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TabularConfig:
        """Build from `to_dict()` output; unknown keys are an error rather than silently ignored."""
        data = dict(data)
        env_id = data.pop("env_id", None)
        unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ConfigError(f"unknown TabularConfig field(s): {', '.join(unknown)}")
        config = cls(**data)
        if env_id is not None and env_id != config.env_id:
            raise ConfigError(
                f"env_id={env_id!r} does not match map_name={config.map_name!r} (which is {config.env_id!r})"
            )
        return config


def epsilon_schedule(config: TabularConfig) -> Callable[[int], float]:
    """Epsilon as a function of the number of finished episodes, built from `tfdqn.dqn.schedules`."""
    if config.exploration == "linear":
        # LinearSchedule counts whatever it is given; here that is episodes, not env steps.
        linear = LinearSchedule(config.epsilon_start, config.epsilon_end, config.decay_episodes)
        return lambda episode: linear(episode)
    if config.exploration == "exponential":
        exponential = ExponentialSchedule(config.epsilon_start, config.epsilon_end, config.epsilon_decay_rate)
        return lambda episode: exponential(episode)
    multiplicative = MultiplicativeSchedule(config.epsilon_start, config.epsilon_end, config.epsilon_multiplier)
    return lambda episode: multiplicative(0, episode)


def alpha_schedule(config: TabularConfig) -> Callable[[int], float]:
    """The learning rate as a function of the number of finished episodes: alpha -> alpha_end, linearly."""
    linear = LinearSchedule(config.alpha, config.alpha_end, config.decay_episodes)
    return lambda episode: linear(episode)


# ----------------------------------------------------------------------------------------- environment


def make_frozenlake(map_name: str = "4x4", is_slippery: bool = True, render_mode: str | None = None) -> gym.Env:
    """`gym.make` of the FrozenLake id for `map_name`, with its time limit; `ConfigError` for other maps."""
    if map_name not in MAPS:
        raise ConfigError(f"map_name={map_name!r} is invalid: unknown FrozenLake map; choose from {', '.join(MAPS)}")
    return gym.make(MAPS[map_name], is_slippery=is_slippery, render_mode=render_mode)


def horizon(env: gym.Env) -> int:
    """The environment's time limit (`max_episode_steps` of its spec)."""
    steps = env.spec.max_episode_steps if env.spec is not None else None
    if steps is None:
        raise EnvError(f"{env} has no time limit (spec.max_episode_steps); pass a horizon explicitly")
    return int(steps)


# ---------------------------------------------------------------------------- exact dynamic programming


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
        return self.reward.shape[0]

    @property
    def n_actions(self) -> int:
        return self.reward.shape[1]

    @classmethod
    def from_transitions(
        cls, P: Transitions, n_states: int | None = None, n_actions: int | None = None
    ) -> TabularMDP:
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
        return cls.from_transitions(inner.P, int(env.observation_space.n), int(env.action_space.n))


def _mdp(P: Transitions | TabularMDP, n_states: int | None = None, n_actions: int | None = None) -> TabularMDP:
    return P if isinstance(P, TabularMDP) else TabularMDP.from_transitions(P, n_states, n_actions)


def value_iteration(
    P: Transitions | TabularMDP,
    n_states: int | None = None,
    n_actions: int | None = None,
    gamma: float = 0.99,
    tol: float = 1e-10,
    max_iterations: int = 1_000_000,
) -> np.ndarray:
    """Q* of the MDP by value iteration: `Q <- R + gamma * T @ max_a Q` until no entry moves by `tol`.

    `P` is Gymnasium's `P[s][a]` lists or a `TabularMDP`. A terminating transition contributes its reward
    and nothing after it. Returns an (n_states, n_actions) array; terminal states' rows are 0.
    """
    if not is_real(gamma) or not 0 < gamma <= 1:
        raise ConfigError(f"gamma={gamma!r} is invalid: must lie in (0, 1]")
    if not is_real(tol) or not tol > 0:
        raise ConfigError(f"tol={tol!r} is invalid: must be a positive number")
    mdp = _mdp(P, n_states, n_actions)
    q = np.zeros_like(mdp.reward)
    for _ in range(max_iterations):
        new_q = mdp.reward + gamma * (mdp.transition @ q.max(axis=1))
        change = float(np.max(np.abs(new_q - q)))
        q = new_q
        if change < tol:
            return q
    raise TrainingError(
        f"value iteration did not converge in {max_iterations} iterations "
        f"(last change {change:.3g} >= tol {tol}); with gamma=1 some values may be unbounded"
    )


def greedy_actions(q_table: np.ndarray, atol: float = 0.0) -> np.ndarray:
    """The greedy policy of a Q-table as an array, one action per state (for a network's greedy policy
    see `tfdqn.greedy_policy`). Among actions within `atol` of the best, the lowest index wins.

    With `atol=0` this is `np.argmax(q_table, axis=1)`. Use a small `atol` (e.g. 1e-9) for value
    iteration's Q*, whose exactly tied actions may differ in the last bit.
    """
    q_table = np.asarray(q_table, dtype=float)
    if atol == 0:
        return np.argmax(q_table, axis=1)
    return np.argmax(q_table >= q_table.max(axis=1, keepdims=True) - atol, axis=1)


def _initial(initial: int | np.ndarray, n_states: int) -> np.ndarray:
    if is_int(initial):
        if not 0 <= initial < n_states:
            raise ConfigError(f"initial state {initial} is outside 0..{n_states - 1}")
        dist = np.zeros(n_states)
        dist[initial] = 1.0
        return dist
    dist = np.asarray(initial, dtype=float)
    if dist.shape != (n_states,) or abs(dist.sum() - 1.0) > 1e-9 or (dist < 0).any():
        raise ConfigError(f"initial distribution must be {n_states} non-negative probabilities summing to 1")
    return dist


def _check_horizon(horizon: int) -> None:
    if not is_int(horizon) or horizon < 0:
        raise ConfigError(f"horizon={horizon!r} is invalid: must be a non-negative integer")


def success_probabilities(P: Transitions | TabularMDP, policy: np.ndarray, horizon: int) -> np.ndarray:
    """For each start state, the exact probability that `policy` reaches a rewarding terminal within
    `horizon` steps.

    Dynamic programming over (state, steps left): `p_0 = 0`, `p_k = success_pi + T_pi @ p_{k-1}`.
    """
    _check_horizon(horizon)
    policy = np.asarray(policy)
    mdp = _mdp(P, len(policy))
    if (
        policy.shape != (mdp.n_states,)
        or not np.issubdtype(policy.dtype, np.integer)
        or (policy < 0).any()
        or (policy >= mdp.n_actions).any()
    ):
        raise ConfigError(f"policy must be {mdp.n_states} action indices in 0..{mdp.n_actions - 1}")
    states = np.arange(mdp.n_states)
    move, win = mdp.transition[states, policy], mdp.success[states, policy]
    p = np.zeros(mdp.n_states)
    for _ in range(horizon):
        p = win + move @ p
    return p


def success_probability(
    P: Transitions | TabularMDP, policy: np.ndarray, horizon: int, initial: int | np.ndarray = 0
) -> float:
    """Exact probability that the deterministic `policy` (one action per state) reaches a rewarding
    terminal state within `horizon` steps, starting from state `initial` or a distribution over states
    (FrozenLake's is `env.unwrapped.initial_state_distrib`). No sampling: a DP over the model."""
    p = success_probabilities(P, policy, horizon)
    return float(_initial(initial, len(p)) @ p)


def max_success_probability(
    P: Transitions | TabularMDP,
    horizon: int,
    initial: int | np.ndarray = 0,
    n_states: int | None = None,
    n_actions: int | None = None,
) -> float:
    """The best success probability within `horizon` steps over *all* policies, including those that
    change with the steps left (`p_k = max_a [success + T @ p_{k-1}]`): an upper bound for any
    stationary policy such as a greedy one."""
    _check_horizon(horizon)
    mdp = _mdp(P, n_states, n_actions)
    p = np.zeros(mdp.n_states)
    for _ in range(horizon):
        p = (mdp.success + mdp.transition @ p).max(axis=1)
    return float(_initial(initial, mdp.n_states) @ p)


def compare_with_optimum(
    q_table: np.ndarray, env: gym.Env, gamma: float, visits: np.ndarray | None = None
) -> dict[str, Any]:
    """Exact figures for a learned Q-table on `env` (a toy-text env with a model and a time limit).

    Returns a JSON-ready dict: `learned_success_probability` (greedy policy of `q_table`, ties to the
    lowest action), `optimal_success_probability` (greedy policy of value iteration's Q* at `gamma`),
    `best_success_probability_any_policy` (horizon-aware optimum, an upper bound), `success_gap`
    (optimal - learned; negative when the learned policy does better within the time limit),
    `max_abs_q_error` and `mean_abs_q_error` over non-terminal states, `horizon`, both policies, and
    `policy_disagreements` (non-terminal states where the learned action is not one of Q*'s best), and
    with `visits` (update counts per state and action) `unvisited_state_actions` among non-terminal states.
    """
    mdp = TabularMDP.from_env(env)
    steps = horizon(env)
    initial = (
        np.asarray(env.unwrapped.initial_state_distrib, dtype=float)
        if hasattr(env.unwrapped, "initial_state_distrib")
        else 0
    )
    q_table = np.asarray(q_table, dtype=float)
    q_star = value_iteration(mdp, gamma=gamma)
    learned, optimal = greedy_actions(q_table), greedy_actions(q_star, atol=1e-9)
    learned_p = success_probability(mdp, learned, steps, initial)
    optimal_p = success_probability(mdp, optimal, steps, initial)
    live = ~mdp.terminal
    error = np.abs(q_table - q_star)[live]
    best_set = q_star >= q_star.max(axis=1, keepdims=True) - 1e-9
    disagree = [int(s) for s in np.flatnonzero(live) if not best_set[s, learned[s]]]
    extra = {} if visits is None else {"unvisited_state_actions": int((np.asarray(visits)[live] == 0).sum())}
    return {
        "horizon": steps,
        "gamma": gamma,
        "learned_success_probability": learned_p,
        "optimal_success_probability": optimal_p,
        "best_success_probability_any_policy": max_success_probability(mdp, steps, initial),
        "success_gap": optimal_p - learned_p,
        "max_abs_q_error": float(error.max()),
        "mean_abs_q_error": float(error.mean()),
        "learned_policy": learned.tolist(),
        "optimal_policy": optimal.tolist(),
        "policy_disagreements": disagree,
        **extra,
    }


# ----------------------------------------------------------------------------------------- Q-learning


class QLearner:
    """Tabular Q-learning with epsilon-greedy exploration; the "trainer" its listeners see.

    Listeners get the DQN trainer's events where they make sense (`on_train_begin`, `on_episode_begin`,
    `on_step` (only if a listener overrides it), `on_episode_end`, `on_train_end`) with the same log keys,
    plus `success` and `alpha` at episode end; `on_step` logs hold scalars (`reward`, `terminated`,
    `truncated`, `epsilon`) and `state`, `action`, `next_state`. The budget is in episodes, so
    `on_train_begin`'s `total_steps` is an upper bound (episodes x time limit) and `total_episodes` the
    budget. Attributes a listener may read: `config` (with `env_id`), `step`, `episodes`, `stop_training`
    (set it to stop after the current episode), `listeners`, `q_table`.

    The table is kept in Python lists while training (a NumPy scalar access costs more than the whole
    update here); `q_table` returns it as an array.
    """

    def __init__(
        self, config: TabularConfig | None = None, env: gym.Env | None = None, listeners: Iterable[Listener] = ()
    ):
        from tfdqn.listeners.dispatch import ListenerList

        self.config = config = config or TabularConfig()
        self.env = env if env is not None else make_frozenlake(config.map_name, config.is_slippery)
        obs_space, act_space = self.env.observation_space, self.env.action_space
        if not isinstance(obs_space, gym.spaces.Discrete) or not isinstance(act_space, gym.spaces.Discrete):
            raise EnvError(
                f"tabular Q-learning needs Discrete observations and actions, got {obs_space} and {act_space}"
            )
        self.n_states, self.n_actions = int(obs_space.n), int(act_space.n)
        self.listeners = listeners if isinstance(listeners, ListenerList) else ListenerList(listeners)
        self.epsilon_schedule = epsilon_schedule(config)
        self.alpha_schedule = alpha_schedule(config)
        self.rng = np.random.default_rng(config.seed)
        self._q = [[0.0] * self.n_actions for _ in range(self.n_states)]
        self._visits = [[0] * self.n_actions for _ in range(self.n_states)]
        self.stop_training = False
        self.step = 0  # environment steps so far
        self.episodes = 0  # episodes finished so far
        self.recent_returns: collections.deque[float] = collections.deque(maxlen=100)
        self._seeded = False

    @property
    def q_table(self) -> np.ndarray:
        """A copy of the Q-table, shape (n_states, n_actions)."""
        return np.array(self._q, dtype=float)

    @q_table.setter
    def q_table(self, values: Any) -> None:
        """Replace the table (e.g. an optimistic start); shape (n_states, n_actions)."""
        values = np.asarray(values, dtype=float)
        if values.shape != (self.n_states, self.n_actions):
            raise ValueError(f"q_table must have shape {(self.n_states, self.n_actions)}, got {values.shape}")
        self._q = values.tolist()

    @property
    def visits(self) -> np.ndarray:
        """How many times each (state, action) has been updated."""
        return np.array(self._visits, dtype=np.int64)

    def greedy_actions(self) -> np.ndarray:
        """The greedy action of every state (ties to the lowest action, as `np.argmax`)."""
        return greedy_actions(self.q_table)

    def train(self, episodes: int | None = None) -> dict[str, Any]:
        """Run `episodes` more episodes (default `config.episodes`) or until a listener stops training.

        Returns the `on_train_end` logs (`step`, `episodes`, `updates` (= steps: one table update per
        step), `wall_seconds`, `stopped`, ...). An error (a listener's, or any other) is re-raised after
        `on_train_end` has reached every listener.
        """
        cfg, env, listeners = self.config, self.env, self.listeners
        episodes = cfg.episodes if episodes is None else episodes
        if not is_int(episodes) or episodes < 1:
            raise ConfigError(f"episodes={episodes!r} is invalid: must be a positive integer")
        max_steps = env.spec.max_episode_steps if env.spec is not None else None
        self.stop_training = False
        listeners.set_trainer(self)
        start = time.perf_counter()
        error: BaseException | None = None
        try:
            listeners.on_train_begin(
                {
                    "total_steps": episodes * max_steps if max_steps else episodes,  # an upper bound on the steps
                    "total_episodes": episodes,
                    "step": self.step,
                    "resumed": False,
                    "config": cfg.to_dict(),
                }
            )
            self._loop(episodes, start)
        except BaseException as exc:  # noqa: BLE001 -- re-raised once every listener has had on_train_end
            error = exc
        end_logs = {
            "step": self.step,
            "episodes": self.episodes,
            "updates": self.step,
            "wall_seconds": time.perf_counter() - start,
            "stopped": self.stop_training,
            "interrupted": None,
            "error": None if error is None else str(error),
            "healthy": True,
        }
        from tfdqn.listeners.base import attach_errors

        later = listeners.call_all("on_train_end", end_logs)
        if error is None and later:
            error = later.pop(0)
        if error is not None:
            raise attach_errors(error, later)
        return end_logs

    def _loop(self, episodes: int, start: float) -> None:
        cfg, env, listeners = self.config, self.env, self.listeners
        q, visits, gamma, n_actions = self._q, self._visits, cfg.gamma, self.n_actions
        wants_step = listeners.wants("on_step")
        # Random numbers are drawn in blocks: one Generator call per step would cost more than the update.
        block = 4096
        explore_u = tie_u = random_a = None
        k = block
        stop = self.episodes + episodes
        while self.episodes < stop and not self.stop_training:
            episode = self.episodes
            epsilon, alpha = self.epsilon_schedule(episode), self.alpha_schedule(episode)
            listeners.on_episode_begin(episode, {"step": self.step, "env_index": 0})
            s, _ = env.reset(seed=None if self._seeded else cfg.seed)
            self._seeded = True
            ep_return, length = 0.0, 0
            while True:
                if k == block:
                    explore_u, tie_u = self.rng.random(block), self.rng.random(block)
                    random_a = self.rng.integers(0, n_actions, block).tolist()
                    k = 0
                row = q[s]
                if explore_u[k] < epsilon:
                    a = random_a[k]
                else:  # greedy, ties broken at random (argmax's lowest index would always pick "left")
                    best = max(row)
                    a = row.index(best)
                    if row.count(best) > 1:
                        ties = [i for i in range(n_actions) if row[i] == best]
                        a = ties[int(tie_u[k] * len(ties))]
                k += 1
                s_next, r, terminated, truncated, _ = env.step(a)

                # The Q-learning update. No bootstrap past a terminal state; a truncation still bootstraps.
                target = r if terminated else r + gamma * max(q[s_next])
                row[a] = (1 - alpha) * row[a] + alpha * target

                visits[s][a] += 1
                self.step += 1
                ep_return += r
                length += 1
                if wants_step:
                    listeners.on_step(
                        self.step,
                        {
                            "epsilon": epsilon,
                            "reward": float(r),
                            "terminated": terminated,
                            "truncated": truncated,
                            "state": s,
                            "action": a,
                            "next_state": s_next,
                        },
                    )
                s = s_next
                if terminated or truncated:
                    break

            self.episodes += 1
            self.recent_returns.append(float(ep_return))
            listeners.on_episode_end(
                episode,
                {
                    "return": float(ep_return),
                    "length": length,
                    "step": self.step,
                    "epsilon": epsilon,
                    "mean_return_100": float(np.mean(self.recent_returns)),
                    "loss": math.nan,
                    "mean_q": math.nan,
                    "terminated": bool(terminated),
                    "truncated": bool(truncated),
                    "env_index": 0,
                    "wall_seconds": time.perf_counter() - start,
                    "success": bool(terminated and r > 0),
                    "alpha": alpha,
                },
            )


def train_q_table(config: TabularConfig | None = None, listeners: Iterable[Listener] = ()) -> QLearner:
    """Make the FrozenLake environment of `config`, train a `QLearner` on it, close it, return the learner."""
    learner = QLearner(config or TabularConfig(), listeners=listeners)
    try:
        learner.train()
    finally:
        learner.env.close()
    return learner
