"""`TabularView`: what a listener sees of tabular Q-learning, as `self.trainer`: never the `QLearner` itself.

The tabular counterpart of the DQN `RunView` (both build on `tfdqn.listeners.view.View`): the counters, the config
and the Q-table (read-only copies), and `stop_training`. The learner's RNG, environment, schedules and listener list
stay its own, so a listener cannot change how training runs but by stopping it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

from tfdqn.listeners.dispatch import read_only
from tfdqn.listeners.view import Counted, View

if TYPE_CHECKING:
    from tfdqn.tabular.config import TabularConfig


class Learner(Counted, Protocol):
    """What a `TabularView` reads of the run it shows (a `QLearner` has all of it)."""

    config: TabularConfig

    @property
    def q_table(self) -> np.ndarray: ...
    @property
    def visits(self) -> np.ndarray: ...


class TabularView(View[Learner]):
    """A listener's narrow view of the tabular Q-learning run it watches (`self.trainer` in a listener).

    Read-only: `step` (environment steps), `updates` (table updates: one per step), `episodes` (finished), `config`
    (the `TabularConfig`, with `env_id`), `q_table` and `visits` (copies that cannot be written, shape (states,
    actions)). Read and write: `stop_training` (set it True to stop after the current episode). Any other name
    raises `AttributeError`, and so does assigning one, so the learner's RNG, environment, schedules and listener
    list are not part of what a listener is given (not reassignable; Python keeps nothing truly private).
    """

    __slots__ = ()
    _shown = (*View._shown[:3], "config", "q_table", "visits", "stop_training")

    @property
    def config(self) -> TabularConfig:
        """The run's configuration (`config.env_id` is the Gymnasium id of its map)."""
        return self._run.config

    @property
    def q_table(self) -> np.ndarray:
        """The Q-table as it stands, shape (n_states, n_actions): a copy, read-only, taken at each access."""
        return read_only(self._run.q_table)

    @property
    def visits(self) -> np.ndarray:
        """How many times each (state, action) has been updated so far: a copy, read-only."""
        return read_only(self._run.visits)
