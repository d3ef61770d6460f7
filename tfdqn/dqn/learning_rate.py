"""The optimizer and its learning rate: constant, or held and then decayed linearly, counted in gradient steps by
the optimizer's own step counter (so it runs inside the compiled update and resumes with the optimizer's state)."""

from __future__ import annotations

from typing import Any

import keras

from tfdqn.config import DQNConfig

RMSPROP_EPSILON = 0.01**2
"""Keras's RMSProp adds epsilon under the square root, PyTorch's (MinAtar's and Dopamine's DQN: eps 0.01) after
it: sqrt(v + 0.01**2) ~ max(sqrt(v), 0.01) is the closest built-in match."""


def make_optimizer(config: DQNConfig) -> keras.optimizers.Optimizer:
    """The optimizer `config.optimizer` names, at `learning_rate_schedule(config)`, clipping the global gradient
    norm at `max_grad_norm`: Adam, or RMSProp as the MinAtar paper runs it (centred, rho 0.95, eps 0.01)."""
    rate = learning_rate_schedule(config)
    if config.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(
            learning_rate=rate, rho=0.95, epsilon=RMSPROP_EPSILON, centered=True, global_clipnorm=config.max_grad_norm
        )
    return keras.optimizers.Adam(learning_rate=rate, global_clipnorm=config.max_grad_norm)


def learning_rate_schedule(config: DQNConfig) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """The optimizer's learning rate: constant, or `learning_rate` for `learning_rate_decay_start` env steps of updates
    and then linear to `learning_rate_final` over `learning_rate_decay_steps`, counted in gradient steps at the
    config's update ratio (the optimizer's own step counter drives it, inside the compiled update)."""
    if config.learning_rate_final is None:
        return config.learning_rate
    per_env_step = config.gradient_steps / config.train_freq
    decay = max(1, round(config.learning_rate_decay_steps * per_env_step))
    if config.learning_rate_decay_start:
        return HeldLinearDecay(
            config.learning_rate,
            round(config.learning_rate_decay_start * per_env_step),
            decay,
            config.learning_rate_final,
        )
    return keras.optimizers.schedules.PolynomialDecay(
        config.learning_rate, decay, config.learning_rate_final, power=1.0
    )


class HeldLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """`initial` for `hold` optimizer steps, then linear to `final` over `decay` steps, then `final`: a rate that
    learns at full speed early and lets the policy settle before the budget ends."""

    def __init__(self, initial: float, hold: int, decay: int, final: float) -> None:
        self.initial, self.hold, self.decay, self.final = float(initial), int(hold), int(decay), float(final)

    def __call__(self, step: Any) -> Any:
        """The rate at optimizer step `step` (a tensor inside the compiled update)."""
        frac = keras.ops.clip((keras.ops.cast(step, "float32") - self.hold) / self.decay, 0.0, 1.0)
        return self.initial + (self.final - self.initial) * frac

    def get_config(self) -> dict:
        return {"initial": self.initial, "hold": self.hold, "decay": self.decay, "final": self.final}
