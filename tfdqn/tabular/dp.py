"""Exact dynamic programming on a `TabularMDP`: Q* by value iteration, the probability that a policy reaches the
goal within the time limit, and a learned Q-table beside both (`compare_with_optimum`). No sampling: every
figure here is exact for the model (FrozenLake publishes its own).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from tfdqn.errors import ConfigError, TrainingError
from tfdqn.tabular.mdp import TabularMDP, Transitions, as_mdp, horizon
from tfdqn.validation import is_int, is_real


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
    mdp = as_mdp(P, n_states, n_actions)
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
    """A start state as a one-hot distribution, or a given distribution checked."""
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
    """A `ConfigError` unless `horizon` is a non-negative integer."""
    if not is_int(horizon) or horizon < 0:
        raise ConfigError(f"horizon={horizon!r} is invalid: must be a non-negative integer")


def success_probabilities(P: Transitions | TabularMDP, policy: np.ndarray, horizon: int) -> np.ndarray:
    """For each start state, the exact probability that `policy` reaches a rewarding terminal within
    `horizon` steps.

    Dynamic programming over (state, steps left): `p_0 = 0`, `p_k = success_pi + T_pi @ p_{k-1}`.
    """
    _check_horizon(horizon)
    policy = np.asarray(policy)
    mdp = as_mdp(P, len(policy))
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
    mdp = as_mdp(P, n_states, n_actions)
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
