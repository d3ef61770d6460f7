"""Tabular Q-learning on small MDPs (FrozenLake), checked against exact dynamic programming.

- `tfdqn.tabular.mdp`: `TabularMDP` (a finite MDP as arrays) and FrozenLake (`make_frozenlake`, `MAPS`).
- `tfdqn.tabular.config`: `TabularConfig` and its epsilon and alpha schedules.
- `tfdqn.tabular.qlearning`: `QLearner` and `train_q_table`.
- `tfdqn.tabular.view`: `TabularView`, what a listener sees of the run (`self.trainer`).
- `tfdqn.tabular.dp`: value iteration, exact success probabilities, `compare_with_optimum`.
- `tfdqn.tabular.frozenlake`: pictures (policy map, episode GIF) and the exact check of a saved DQN.

The names below need only NumPy and Gymnasium: importing this package does not load TensorFlow.
"""

from tfdqn.tabular.config import TabularConfig
from tfdqn.tabular.dp import (
    compare_with_optimum,
    greedy_actions,
    max_success_probability,
    success_probabilities,
    success_probability,
    value_iteration,
)
from tfdqn.tabular.mdp import ACTION_NAMES, MAPS, TabularMDP, make_frozenlake
from tfdqn.tabular.qlearning import QLearner, train_q_table
from tfdqn.tabular.view import TabularView

__all__ = [
    "ACTION_NAMES",
    "MAPS",
    "QLearner",
    "TabularConfig",
    "TabularMDP",
    "TabularView",
    "compare_with_optimum",
    "greedy_actions",
    "make_frozenlake",
    "max_success_probability",
    "success_probabilities",
    "success_probability",
    "train_q_table",
    "value_iteration",
]
