"""Exceptions tfdqn raises for bad input, so scripts can print one clear line instead of a traceback."""


class TfdqnError(Exception):
    """Base class of every error tfdqn raises on purpose for bad input or a failed run."""


class ConfigError(TfdqnError, ValueError):
    """A hyperparameter has an invalid value; the message names the field and the value."""


class EnvError(TfdqnError, ValueError):
    """The environment cannot be used: unknown id, non-discrete actions, unsupported observations."""


class ModelFileError(TfdqnError, OSError):
    """A model file is missing, truncated, corrupt, or holds a model that does not fit the environment."""


class TrainingError(TfdqnError, RuntimeError):
    """Training cannot go on: a non-finite loss or Q-value, or a listener that raised."""

