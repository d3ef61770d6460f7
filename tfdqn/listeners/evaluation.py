"""Listeners that evaluate the greedy policy during training and stop on a confirmed result."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from tfdqn.dqn.evaluation import ActionFn, EvaluationResult, evaluate
from tfdqn.envs.make import make_env
from tfdqn.envs.reset_state import reset_state, restore_reset_state
from tfdqn.listeners.base import Listener
from tfdqn.validation import check_budget


class EvaluationEnv:
    """A separate environment for greedy evaluation, seeded once so each evaluation sees fresh episodes;
    its random stream (and what it carries across episodes, `tfdqn.envs.reset_state`) is part of a training
    checkpoint, so a resumed run evaluates on the same episodes.
    Episodes are cut after `max_steps` steps (None: `tfdqn.dqn.evaluation.episode_step_cap`)."""

    def __init__(self, env_id: str | None, seed: int, max_steps: int | None = None):
        self.env_id, self.seed = env_id, seed
        self.max_steps = None if max_steps is None else check_budget(max_steps, "max_steps")
        self.env: gym.Env | None = None
        self._saved: dict[str, Any] | None = None  # where the stream stands while no env is open (`reset_state`)
        self._seeded = False

    def run(self, policy: ActionFn, episodes: int, default_env_id: str) -> EvaluationResult:
        """Evaluate `policy` on `episodes` fresh episodes."""
        if self.env is None:
            self.env = make_env(self.env_id or default_env_id)
            if self._saved is not None:
                restore_reset_state(self.env, self._saved)
        seed = None if self._seeded or self._saved is not None else self.seed
        self._seeded = True
        return evaluate(policy, self.env, episodes, seed, self.max_steps)

    def state(self) -> dict[str, Any]:
        if self.env is not None:
            return reset_state(self.env)
        return self._saved or {"rng": None}

    def restore(self, state: dict[str, Any]) -> None:
        kept: dict[str, Any] = {k: state[k] for k in ("rng", "carried") if k in state}  # a listener's holds more
        self._saved = kept if kept.get("rng") is not None else None

    def close(self) -> None:
        if self.env is not None:
            self._saved = reset_state(self.env)
            self.env.close()
            self.env = None


class PeriodicEvaluation(Listener):
    """Every `every` env steps, run `episodes` greedy episodes on a separate environment and emit
    `on_evaluation` with kind "periodic" to all listeners. Each episode is cut after `max_steps` steps (None:
    the environment's own time limit, or `tfdqn.dqn.evaluation.limitless_cap` without one).
    """

    def __init__(
        self,
        every: int = 1_000,
        episodes: int = 20,
        env_id: str | None = None,
        seed: int = 10_000,
        max_steps: int | None = None,
    ):
        if every < 1 or episodes < 1:
            raise ValueError(f"PeriodicEvaluation needs every >= 1 and episodes >= 1, got {every}, {episodes}")
        self.every, self.episodes = every, episodes
        self.eval_env = EvaluationEnv(env_id, seed, max_steps)
        self._next_step = every

    def get_state(self) -> dict[str, Any]:
        return self.eval_env.state()

    def set_state(self, state: dict[str, Any]) -> None:
        self.eval_env.restore(state)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._next_step = (self.trainer.step // self.every + 1) * self.every

    def on_step(self, step: int, logs: dict[str, Any] | None = None) -> None:
        if step < self._next_step:
            return
        self._next_step = (step // self.every + 1) * self.every
        result = self.eval_env.run(self.trainer.agent.greedy, self.episodes, self.trainer.config.env_id)
        self.trainer.emit_evaluation(
            {
                "kind": "periodic",
                "step": step,
                "episodes": self.episodes,
                "mean_return": result.mean,
                "std_return": result.std,
                "returns": result.returns.tolist(),
            }
        )

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.eval_env.close()


class StopOnReward(Listener):
    """Stop once a periodic evaluation reaches `threshold` and a re-evaluation of the same policy on
    `confirm_episodes` fresh episodes confirms it (one lucky evaluation is not enough).

    The confirmation is emitted as an `on_evaluation` event of kind "confirmation", so checkpoints and
    metrics see the more reliable estimate. `confirm_episodes=0` stops on the periodic result alone.
    `max_steps` cuts the confirmation's episodes, as in `PeriodicEvaluation`.
    """

    def __init__(
        self,
        threshold: float,
        confirm_episodes: int = 100,
        env_id: str | None = None,
        seed: int = 20_000,
        max_steps: int | None = None,
    ):
        self.threshold, self.confirm_episodes = threshold, confirm_episodes
        self.eval_env = EvaluationEnv(env_id, seed, max_steps)
        self.confirmed: dict[str, Any] | None = None

    def get_state(self) -> dict[str, Any]:
        return {**self.eval_env.state(), "confirmed": self.confirmed}

    def set_state(self, state: dict[str, Any]) -> None:
        self.eval_env.restore(state)
        self.confirmed = state.get("confirmed")

    def on_evaluation(self, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        if logs.get("kind") != "periodic" or logs["mean_return"] < self.threshold:
            return
        if self.confirm_episodes <= 0:
            self.confirmed = logs
            self.trainer.stop_training = True
            return
        result = self.eval_env.run(self.trainer.agent.greedy, self.confirm_episodes, self.trainer.config.env_id)
        confirmation = {
            "kind": "confirmation",
            "step": logs["step"],
            "episodes": self.confirm_episodes,
            "mean_return": result.mean,
            "std_return": result.std,
            "returns": result.returns.tolist(),
        }
        self.trainer.emit_evaluation(confirmation)
        if result.mean >= self.threshold:
            self.confirmed = confirmation
            self.trainer.stop_training = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.eval_env.close()
