"""Tabular Q-learning on small MDPs (FrozenLake), checked against exact dynamic programming."""
