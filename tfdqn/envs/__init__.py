"""Environments: making them (ids, vector envs), observation spaces and their encoders, pixels and Atari."""
