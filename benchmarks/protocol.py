"""The evaluation protocol every system in a side-by-side benchmark shares (`Protocol`).

A greedy evaluation of `episodes` episodes every `every` env steps on a separate environment seeded once
(seed + 10,000), with `tfdqn.dqn.evaluation.evaluate`; a clock that leaves evaluation time out
("train-only"); the best policy's weights; where tfdqn's `StopOnReward` would have stopped (a confirmation
on 100 fresh episodes, seed + 20,000); and at the end the best and the final policy on the same 100 fresh
episodes (seed + 30,000).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from benchmarks.tasks import CONFIRM_EPISODES, ENV_ID, EVAL_EPISODES, EVAL_EVERY, FINAL_EPISODES, THRESHOLD
from tfdqn.training.protocol import CONFIRM_SEED_OFFSET, EVAL_SEED_OFFSET, FINAL_SEED_OFFSET


class Protocol:
    """Evaluates one run the same way whatever the system; keeps its clock and its best weights.

    A system calls `start()` when training begins, `maybe_evaluate(step, policy, snapshot)` after each
    env step, `stop()` when training ends, then `finish(make_policy, final_policy)`. `policy` maps an
    observation batch to actions; `snapshot()` returns a copy of the current weights and `make_policy`
    turns such a copy back into a policy.
    """

    def __init__(
        self,
        seed: int,
        every: int = EVAL_EVERY,
        episodes: int = EVAL_EPISODES,
        confirm_episodes: int = CONFIRM_EPISODES,
        env_id: str = ENV_ID,
        threshold: float = THRESHOLD,
    ):
        # Imported here, not at the top: a worker's timed import is its own system's (SB3's excludes TensorFlow).
        import gymnasium as gym

        from tfdqn.dqn.evaluation import evaluate

        self._gym = gym
        self._evaluate = evaluate
        self.seed, self.every, self.episodes, self.confirm_episodes = seed, every, episodes, confirm_episodes
        self.env_id, self.threshold = env_id, threshold
        self.eval_env = gym.make(env_id)
        self.confirm_env = gym.make(env_id)
        self._eval_seeded = self._confirm_seeded = False
        self.next_eval = every
        self.evaluations: list[dict[str, float]] = []
        self.best_mean = -math.inf
        self.best_step: int | None = None
        self.best_weights: Any = None
        self.stop_on_reward: dict[str, Any] | None = None  # where tfdqn's StopOnReward would have stopped
        self.confirmations: list[dict[str, float]] = []
        self.t0 = 0.0
        self.t_end: float | None = None
        self.eval_seconds = 0.0
        self.steps = 0

    def start(self) -> None:
        """Training begins: start the clock."""
        self.t0 = time.perf_counter()

    def train_seconds(self, now: float | None = None) -> float:
        """Wall seconds since `start()` minus the time spent evaluating."""
        now = time.perf_counter() if now is None else now
        return now - self.t0 - self.eval_seconds

    def maybe_evaluate(self, step: int, policy: Callable, snapshot: Callable[[], Any]) -> None:
        """Evaluate `policy` if `step` reached the next evaluation; keep `snapshot()` if it is the best yet."""
        if step < self.next_eval:
            return
        self.next_eval = (step // self.every + 1) * self.every
        t_in = time.perf_counter()
        result = self._evaluate(
            policy, self.eval_env, self.episodes, None if self._eval_seeded else self.seed + EVAL_SEED_OFFSET
        )
        self._eval_seeded = True
        record = {
            "step": step,
            "mean": result.mean,
            "std": result.std,
            "train_seconds": self.train_seconds(t_in),
            "total_seconds": t_in - self.t0,
        }
        self.evaluations.append(record)
        if result.mean > self.best_mean:  # ties keep the earliest
            self.best_mean, self.best_step, self.best_weights = result.mean, step, snapshot()
        if self.stop_on_reward is None and result.mean >= self.threshold:
            # What tfdqn's StopOnReward(475, 100) would do: confirm on 100 fresh episodes, stop if confirmed.
            confirm = self._evaluate(
                policy,
                self.confirm_env,
                self.confirm_episodes,
                None if self._confirm_seeded else self.seed + CONFIRM_SEED_OFFSET,
            )
            self._confirm_seeded = True
            self.confirmations.append({"step": step, "mean": confirm.mean})
            if confirm.mean >= self.threshold:
                self.stop_on_reward = {"step": step, "mean": confirm.mean, "train_seconds": record["train_seconds"]}
        self.eval_seconds += time.perf_counter() - t_in

    def stop(self, steps: int) -> None:
        """Training ended after `steps` env steps: stop the clock."""
        self.t_end = time.perf_counter()
        self.steps = steps

    def finish(self, make_policy: Callable[[Any], Callable], final_policy: Callable) -> dict[str, Any]:
        """The run's record: evaluations, solve point, train-only rate, best and final on 100 episodes."""
        train_s = self.train_seconds(self.t_end)
        solved = next((e for e in self.evaluations if e["mean"] >= self.threshold), None)
        scores: dict[str, Any] = {}
        for name, policy in (
            ("final", final_policy),
            ("best", make_policy(self.best_weights) if self.best_weights is not None else None),
        ):
            if policy is None:
                scores[name] = None
                continue
            env = self._gym.make(self.env_id)
            r = self._evaluate(policy, env, FINAL_EPISODES, self.seed + FINAL_SEED_OFFSET)  # same episodes for both
            env.close()
            scores[name] = {"mean": r.mean, "std": r.std, "episodes": FINAL_EPISODES}
        self.eval_env.close()
        self.confirm_env.close()
        return {
            "env_steps": self.steps,
            "train_seconds": train_s,
            "eval_seconds": self.eval_seconds,
            "train_steps_per_s": self.steps / train_s if train_s > 0 else None,
            "evaluations": self.evaluations,
            "solved_step": solved["step"] if solved else None,
            "solved_train_seconds": solved["train_seconds"] if solved else None,
            "best_eval_step": self.best_step,
            "best_eval_mean": self.best_mean if self.best_step is not None else None,
            "best_100": scores["best"],
            "final_100": scores["final"],
            "stop_on_reward": self.stop_on_reward,
            "confirmations": self.confirmations,
        }
