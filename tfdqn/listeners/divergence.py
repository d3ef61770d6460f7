"""`DivergenceAlarm`: one clear warning when the Q-values or the loss grow beyond what the rewards allow.

With rewards bounded by r_max, every discounted return lies in [-r_max / (1 - gamma), r_max / (1 - gamma)],
so a Q-value beyond that bound is impossible for any policy: the update is feeding on its own errors
(the "deadly triad" of bootstrapping, off-policy data and function approximation). The TD error, and so
the loss, is then bounded too: |y - Q| <= 2 r_max / (1 - gamma) while Q respects the bound.

The rewards are the learner's, read from the replay buffer: under the Atari protocol the learner trains on
rewards clipped to their sign, whatever the game's scores (`tfdqn.envs.training_signal`), and its Q-values are
bounded by those.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from tfdqn.listeners.base import Listener

LIKELY_CAUSES = (
    "a learning rate too high for this reward scale (lower learning_rate, or add "
    "learning_rate_final), a target network that follows the online one too closely (raise "
    "target_update_interval or lower tau), too many gradient steps per env step (gradient_steps / "
    "train_freq), rewards too large (scale them with a wrapper) or the He initialisation "
    "(initializer='fan_in_uniform')"
)


class DivergenceWarning(RuntimeWarning):
    """Issued once by `DivergenceAlarm` when training looks divergent."""


class DivergenceAlarm(Listener):
    """Warns once when the largest |Q| trained on exceeds `r_max / (1 - gamma)` (times `slack`), or the loss
    exceeds the largest loss such Q-values allow (times `slack`).

    `r_max` is the largest |reward| a transition can give; by default the largest |reward| the learner has
    stored so far (its replay buffer's rewards: clipped ones under the Atari protocol, an n-step return counted
    per step, `largest_step_reward`), which is what the learned Q-values can be built from; read after each
    training call, from the transitions stored since the last. `gamma` defaults to the run's config.
    The alarm never stops training (set `stop=True` to stop it); `self.alarm` holds the message once raised.
    `slack` > 1 leaves room for the noise of early updates.
    """

    def __init__(self, r_max: float | None = None, gamma: float | None = None, slack: float = 1.5, stop: bool = False):
        if r_max is not None and not r_max > 0:
            raise ValueError(f"DivergenceAlarm r_max={r_max!r} is invalid: must be positive")
        if not slack >= 1:
            raise ValueError(f"DivergenceAlarm slack={slack!r} is invalid: must be >= 1")
        self.r_max_given, self.gamma_given, self.slack, self.stop = r_max, gamma, slack, stop
        self.r_max_seen = 0.0
        self.alarm: str | None = None
        self._read_at: int | None = None  # the env step at the last read of the replay (None: read it whole)

    def get_state(self) -> dict[str, Any]:
        return {"r_max_seen": self.r_max_seen, "alarm": self.alarm}

    def set_state(self, state: dict[str, Any]) -> None:
        self.r_max_seen = float(state.get("r_max_seen", 0.0))
        self.alarm = state.get("alarm")

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._read_at = None  # a resumed run's replay, or another trainer's: read whole at the first check

    def read_rewards(self) -> None:
        """Take into `r_max_seen` the rewards of the transitions the trainer's replay buffer stored since the last
        read: at most the env steps since plus what n-step windows held (`n_step` per environment)."""
        replay = getattr(self.trainer, "replay", None)
        if replay is None:
            return
        step, config = self.trainer.step, self.trainer.config
        stored = len(replay) if self._read_at is None else step - self._read_at + config.n_step * self._num_envs()
        self._read_at = step
        rewards, discounts = replay.newest_rewards(stored)
        self.r_max_seen = max(self.r_max_seen, largest_step_reward(rewards, discounts, config.gamma))

    def _num_envs(self) -> int:
        return int(self.params.get("num_envs", 1))

    def bounds(self) -> tuple[float, float, float, float] | None:
        """(r_max, gamma, |Q| bound, loss bound), or None while no bound is known (no reward seen, gamma 1)."""
        gamma = (
            self.gamma_given
            if self.gamma_given is not None
            else (self.trainer.config.gamma if self.trainer is not None else None)
        )
        r_max = self.r_max_given if self.r_max_given is not None else self.r_max_seen
        if gamma is None or gamma >= 1 or not r_max > 0:
            return None
        q_bound = r_max / (1.0 - gamma)
        td_bound = 2.0 * q_bound
        loss_kind = self.trainer.config.loss if self.trainer is not None else "huber"
        if loss_kind == "mse":
            loss_bound = td_bound**2
        else:  # Huber with delta 1: quadratic up to 1, linear beyond
            loss_bound = 0.5 * td_bound**2 if td_bound <= 1 else td_bound - 0.5
        return r_max, gamma, q_bound, loss_bound

    def on_replay_end(self, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        if self.alarm is not None:
            return
        if self.r_max_given is None:
            self.read_rewards()
        bounds = self.bounds()
        if bounds is None:
            return
        r_max, gamma, q_bound, loss_bound = bounds
        q = logs.get("max_abs_q", abs(logs.get("mean_q", 0.0)))
        loss = logs.get("loss", 0.0)
        which = None
        if math.isfinite(q) and q > self.slack * q_bound:
            which = f"max |Q| = {q:,.4g} exceeds {self.slack:g} x the bound r_max / (1 - gamma) = {q_bound:,.4g}"
        elif math.isfinite(loss) and loss > self.slack * loss_bound:
            which = (
                f"the loss = {loss:,.4g} exceeds {self.slack:g} x {loss_bound:,.4g}, the most that TD errors "
                f"within |Q| <= r_max / (1 - gamma) = {q_bound:,.4g} allow"
            )
        if which is None:
            return
        r_max_src = "given" if self.r_max_given is not None else "the largest |reward| the learner has stored"
        self.alarm = (
            f"training looks divergent at step {logs['step']:,}: {which} (r_max = {r_max:g}, "
            f"{r_max_src}; gamma = {gamma:g}). Likely causes: {LIKELY_CAUSES}."
        )
        warnings.warn(self.alarm, DivergenceWarning, stacklevel=2)
        if self.stop and self.trainer is not None:
            self.trainer.stop_training = True


def largest_step_reward(rewards: np.ndarray, discounts: np.ndarray | None, gamma: float) -> float:
    """The largest one-step |reward| that stored `rewards` imply: an n-step return of k steps (its discount
    gamma ** k) sums k rewards, so one of them is at least |R| (1 - gamma) / (1 - gamma ** k); one-step rewards
    (`discounts` None) count as they are. So an n-step run's bound is no looser than a one-step run's."""
    if not np.size(rewards):
        return 0.0
    magnitudes = np.abs(np.asarray(rewards, dtype=np.float64))
    if discounts is not None and 0.0 < gamma < 1.0:
        steps = np.maximum(np.rint(np.log(discounts.astype(np.float64)) / np.log(gamma)), 1.0)
        magnitudes *= (1.0 - gamma) / (1.0 - gamma**steps)
    return float(magnitudes.max())
