"""Exceptions tfdqn raises for bad input, so scripts can print one clear line instead of a traceback."""


class TfdqnError(Exception):
    """Base class of every error tfdqn raises on purpose for bad input or a failed run.

    `exit_code` is the status the scripts exit with: 2 for bad input, 1 for a run that failed.
    """

    exit_code = 2


class ConfigError(TfdqnError, ValueError):
    """A hyperparameter has an invalid value; the message names the field and the value."""


class EnvError(TfdqnError, ValueError):
    """The environment cannot be used: unknown id, non-discrete actions, unsupported observations."""


class ModelFileError(TfdqnError, OSError):
    """A model file is missing, truncated, corrupt, or holds a model that does not fit the environment."""


class OutputDirError(TfdqnError, OSError):
    """--out cannot hold the run's files: it names a file, lies under a file, or cannot be written."""


class TrainingError(TfdqnError, RuntimeError):
    """Training cannot go on: a non-finite loss or Q-value, or a listener that raised."""

    exit_code = 1


class NonFiniteError(TrainingError):
    """A loss or Q-value became NaN or infinite; the weights after that update are not trustworthy."""


class ListenerError(TrainingError):
    """A listener raised an exception; the message names the listener and the hook."""


class TrainingInterrupted(TfdqnError):
    """Training stopped on SIGINT or SIGTERM after the listeners had their chance to save.

    `exit_code` is the conventional status for the signal (130 for SIGINT, 143 for SIGTERM).
    """

    def __init__(self, signum: int, step: int):
        import signal

        self.signum, self.step = signum, step
        self.signal_name = signal.Signals(signum).name
        self.exit_code = 128 + signum
        super().__init__(f"training interrupted by {self.signal_name} at step {step:,}")


class ArgumentError(TfdqnError, TypeError, ValueError):
    """An argument of the wrong kind or value for `train`/`Trainer`: a listener class instead of an
    instance, a dict instead of a `DQNConfig`, a budget that is not a positive integer. It is also a
    `TypeError` and a `ValueError`, so code written against the plain errors keeps working."""
