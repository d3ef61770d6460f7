"""Tabular Q-learning on FrozenLake. The whole algorithm is one line, applied after every environment step:

    Q(s, a) <- (1 - alpha) Q(s, a) + alpha (r + gamma max_a' Q(s', a'))

with no `max` term when s' is terminal (a hole or the goal). A time-limit truncation is not terminal: it
still bootstraps, as in DQN. Behaviour is epsilon-greedy, epsilon following a schedule evaluated on the
episode count (`tfdqn.tabular.config`). `tfdqn.tabular.dp` checks the learned table exactly.

This module needs only NumPy, Gymnasium and the listener base classes: no TensorFlow.
"""

from __future__ import annotations

import collections
import math
import time
from collections.abc import Iterable
from typing import Any

import gymnasium as gym
import numpy as np

from tfdqn.errors import ConfigError, EnvError
from tfdqn.listeners.base import Listener, attach_errors
from tfdqn.listeners.dispatch import ListenerList
from tfdqn.tabular.config import TabularConfig, alpha_schedule, epsilon_schedule
from tfdqn.tabular.dp import greedy_actions
from tfdqn.tabular.mdp import make_frozenlake
from tfdqn.tabular.view import TabularView
from tfdqn.validation import is_int


class QLearner:
    """Tabular Q-learning with epsilon-greedy exploration.

    Listeners get the DQN trainer's events where they make sense (`on_train_begin`, `on_episode_begin`,
    `on_step` (only if a listener overrides it), `on_episode_end`, `on_train_end`) with the same log keys,
    plus `success` and `alpha` at episode end; `on_step` logs hold scalars (`reward`, `terminated`,
    `truncated`, `epsilon`) and `state`, `action`, `next_state`. The budget is in episodes, so
    `on_train_begin`'s `total_steps` is an upper bound (episodes x time limit) and `total_episodes` the
    budget. A listener sees the run as `self.trainer`, a `TabularView` (not the learner itself): `step`,
    `updates`, `episodes`, `config` (with `env_id`), `q_table` and `visits` (read-only copies), and
    `stop_training` (set it to stop after the current episode).

    The table is kept in Python lists while training (a NumPy scalar access costs more than the whole
    update here); `q_table` returns it as an array.
    """

    def __init__(
        self, config: TabularConfig | None = None, env: gym.Env | None = None, listeners: Iterable[Listener] = ()
    ):
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
        self._cut: tuple[int, dict[str, Any]] | None = None  # the episode an error cut short, and its logs

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
    def updates(self) -> int:
        """Table updates so far: one per environment step."""
        return self.step

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
        step), `wall_seconds`, `stopped`, ...). The listener contract is the DQN trainer's (`Listener`): however
        training ends (any `BaseException`, from a listener or the environment, Ctrl-C included), the episode
        under way gets `on_episode_end` with `completed=False` (it is not counted: the next `train` call starts a
        fresh episode under its number), then `on_train_end` reaches every listener once, and only then is the
        first error re-raised.
        """
        cfg, env, listeners = self.config, self.env, self.listeners
        episodes = cfg.episode_budget if episodes is None else episodes
        if not is_int(episodes) or episodes < 1:
            raise ConfigError(f"episodes={episodes!r} is invalid: must be a positive integer")
        max_steps = env.spec.max_episode_steps if env.spec is not None else None
        self.stop_training = False
        listeners.set_trainer(TabularView(self))  # what a listener sees of the run: not the learner itself
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
        later = self._close_episode()
        if error is None and later:
            error = later.pop(0)
        end_logs = {
            "step": self.step,
            "episodes": self.episodes,
            "updates": self.updates,
            "wall_seconds": time.perf_counter() - start,
            "stopped": self.stop_training,
            "interrupted": None,
            "error": None if error is None else str(error),
            "healthy": True,
        }
        later += listeners.call_all("on_train_end", end_logs)
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
        explore_u = tie_u = np.empty(0)
        random_a: list[int] = []
        k = block  # the first step draws the first block
        stop = self.episodes + episodes
        episode, epsilon, alpha = self.episodes, math.nan, math.nan
        ep_return, length, r, terminated, truncated = 0.0, 0, 0.0, False, False
        try:  # costs nothing per step; on any error the episode under way is kept for `_close_episode` to end
            while self.episodes < stop and not self.stop_training:
                episode = self.episodes
                epsilon, alpha = self.epsilon_schedule(episode), self.alpha_schedule(episode)
                ep_return, length, r, terminated, truncated = 0.0, 0, 0.0, False, False
                listeners.on_episode_begin(episode, {"step": self.step, "env_index": 0})
                s, _ = env.reset(seed=None if self._seeded else cfg.seed)
                self._seeded = True
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
                    s_next, reward, terminated, truncated, _ = env.step(a)
                    r = float(reward)

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
                                "reward": r,
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
                ended = (bool(terminated), bool(truncated), r)
                listeners.on_episode_end(episode, self._episode_logs(ep_return, length, ended, epsilon, alpha, start))
        except BaseException:
            # its begin reached the listeners (or some of them): they get its end, and only they (ListenerList)
            logs = self._episode_logs(ep_return, length, (False, False, 0.0), epsilon, alpha, start)
            self._cut = (episode, {**logs, "completed": False})
            raise

    def _episode_logs(
        self, ep_return: float, length: int, ended: tuple[bool, bool, float], epsilon: float, alpha: float, start: float
    ) -> dict[str, Any]:
        """The `on_episode_end` logs of an episode with this return and length; `ended`: (terminated, truncated,
        the last reward)."""
        terminated, truncated, r = ended
        return {
            "return": float(ep_return),
            "length": length,
            "step": self.step,
            "epsilon": epsilon,
            "mean_return_100": float(np.mean(self.recent_returns)) if self.recent_returns else math.nan,
            "loss": math.nan,
            "mean_q": math.nan,
            "terminated": terminated,
            "truncated": truncated,
            "env_index": 0,
            "wall_seconds": time.perf_counter() - start,
            "success": terminated and r > 0,
            "alpha": alpha,
        }

    def _close_episode(self) -> list[BaseException]:
        """When training ended on an error: `on_episode_end` (`completed=False`) of the episode under way, for
        the listeners that received its begin; returns their failures."""
        if self._cut is None:
            return []
        (episode, logs), self._cut = self._cut, None
        return self.listeners.call_all("on_episode_end", episode, logs)


def train_q_table(config: TabularConfig | None = None, listeners: Iterable[Listener] = ()) -> QLearner:
    """Make the FrozenLake environment of `config`, train a `QLearner` on it, close it, return the learner."""
    learner = QLearner(config or TabularConfig(), listeners=listeners)
    try:
        learner.train()
    finally:
        learner.env.close()
    return learner
