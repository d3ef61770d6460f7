"""The optimizer and its learning rate: constant, or held and then decayed linearly, counted in gradient steps by
the optimizer's own step counter (so it runs inside the compiled update and resumes with the optimizer's state)."""

from __future__ import annotations

from typing import Any

import keras

from tfdqn.config import DQNConfig

RMSPROP_EPSILON = 0.01
"""RMSProp's epsilon as the MinAtar paper's DQN sets it (PyTorch's `eps`, "minimum squared
gradient"), added after the square root (`PaperRMSprop`)."""


class PaperRMSprop(keras.optimizers.RMSprop):
    """RMSProp with PyTorch's denominator, sqrt(v - mean_g**2) + eps, as the MinAtar paper's code runs it; Keras's
    own puts eps under the root, which makes a step up to 1.4x larger where the gradient's RMS is near eps. Only
    `update_step` differs, so its variables, and a training state holding them, are RMSprop's. With momentum (which
    tfdqn never sets) the buffer holds lr * g / denominator, as Keras's: PyTorch's holds g / denominator and scales it
    by the current rate, the same only at a constant rate."""

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        """One parameter's update: the running squares (and means, centred) as Keras's, PyTorch's denominator."""
        from keras import ops

        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        index = self._get_variable_index(variable)
        velocity = self._velocities[index]
        self.assign(
            velocity, ops.add(ops.multiply(self.rho, velocity), ops.multiply(1 - self.rho, ops.square(gradient)))
        )
        variance = velocity
        if self.centered:
            average = self._average_gradients[index]
            self.assign(average, ops.add(ops.multiply(self.rho, average), ops.multiply(1 - self.rho, gradient)))
            variance = ops.maximum(ops.subtract(velocity, ops.square(average)), 0.0)  # rounding can dip below 0
        increment = ops.divide(ops.multiply(lr, gradient), ops.add(ops.sqrt(variance), self.epsilon))
        if self.momentum > 0:
            momentum = self._momentums[index]
            self.assign(momentum, ops.add(ops.multiply(self.momentum, momentum), increment))
            increment = momentum
        self.assign_sub(variable, increment)


def make_optimizer(config: DQNConfig) -> keras.optimizers.Optimizer:
    """The optimizer `config.optimizer` names, at `learning_rate_schedule(config)`, clipping the global gradient
    norm at `max_grad_norm`: Adam, or RMSProp as the MinAtar paper runs it (centred, rho 0.95, eps 0.01 after the
    square root: `PaperRMSprop`)."""
    rate = learning_rate_schedule(config)
    if config.optimizer == "rmsprop":
        return PaperRMSprop(
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
