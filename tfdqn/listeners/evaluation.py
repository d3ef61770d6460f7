"""Listeners that evaluate the greedy policy during training and stop on a confirmed result."""

from __future__ import annotations

from typing import Any

from tfdqn.envs import make_env
from tfdqn.evaluation import evaluate
from tfdqn.listeners.base import Listener


class PeriodicEvaluation(Listener):
    """Every `every` env steps, run `episodes` greedy episodes on a separate environment and emit
    `on_evaluation` with kind "periodic" to all listeners.

    The evaluation environment is seeded once (`seed`), so each evaluation sees fresh episodes.
    """

    def __init__(self, every: int = 1_000, episodes: int = 20, env_id: str | None = None, seed: int = 10_000):
        if every < 1 or episodes < 1:
            raise ValueError(f"PeriodicEvaluation needs every >= 1 and episodes >= 1, got {every}, {episodes}")
        self.every, self.episodes, self.env_id, self.seed = every, episodes, env_id, seed
        self.env = None
        self._next_seed: int | None = seed
        self._next_step = every

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.env = make_env(self.env_id or self.trainer.config.env_id)
        step = self.trainer.step
        self._next_step = (step // self.every + 1) * self.every

    def on_step(self, step: int, logs: dict[str, Any] | None = None) -> None:
        if step < self._next_step:
            return
        self._next_step = (step // self.every + 1) * self.every
        result = evaluate(self.trainer.agent.greedy, self.env, self.episodes, self._next_seed)
        self._next_seed = None
        self.trainer.listeners.on_evaluation({
            "kind": "periodic", "step": step, "episodes": self.episodes, "mean_return": result.mean,
            "std_return": result.std, "returns": result.returns.tolist()})

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.env is not None:
            self.env.close()
            self.env = None


class StopOnReward(Listener):
    """Stop once a periodic evaluation reaches `threshold` and a re-evaluation of the same policy on
    `confirm_episodes` fresh episodes confirms it (one lucky evaluation is not enough).

    The confirmation is emitted as an `on_evaluation` event of kind "confirmation", so checkpoints and
    metrics see the more reliable estimate. `confirm_episodes=0` stops on the periodic result alone.
    """

    def __init__(self, threshold: float, confirm_episodes: int = 100, env_id: str | None = None,
                 seed: int = 20_000):
        self.threshold, self.confirm_episodes, self.env_id, self.seed = threshold, confirm_episodes, env_id, seed
        self.env = None
        self._next_seed: int | None = seed
        self.confirmed: dict[str, Any] | None = None

    def on_evaluation(self, logs: dict[str, Any] | None = None) -> None:
        if logs.get("kind") != "periodic" or logs["mean_return"] < self.threshold:
            return
        if self.confirm_episodes <= 0:
            self.confirmed = logs
            self.trainer.stop_training = True
            return
        if self.env is None:
            self.env = make_env(self.env_id or self.trainer.config.env_id)
        result = evaluate(self.trainer.agent.greedy, self.env, self.confirm_episodes, self._next_seed)
        self._next_seed = None
        confirmation = {"kind": "confirmation", "step": logs["step"], "episodes": self.confirm_episodes,
                        "mean_return": result.mean, "std_return": result.std,
                        "returns": result.returns.tolist()}
        self.trainer.listeners.on_evaluation(confirmation)
        if result.mean >= self.threshold:
            self.confirmed = confirmation
            self.trainer.stop_training = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.env is not None:
            self.env.close()
            self.env = None
