"""`Trainer`: the DQN loop. Each iteration acts, steps the environment, stores what the step completes,
learns every `train_freq` steps, syncs the target every `target_update_interval` steps, and emits listener
events. It knows nothing of files, logs or plots: listeners do (`tfdqn.training.run.assemble` adds them).
"""

from __future__ import annotations

import collections
import math
import os
import signal
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from tfdqn.config import DQNConfig, check_config
from tfdqn.dqn.agent import DQNAgent
from tfdqn.dqn.schedules import make_schedule
from tfdqn.envs.make import observation_dtype
from tfdqn.envs.training_signal import training_signal
from tfdqn.errors import ArgumentError, EnvError, NonFiniteError, TrainingInterrupted
from tfdqn.listeners.base import Listener, raise_first
from tfdqn.listeners.dispatch import ListenerList, read_only
from tfdqn.listeners.view import RunView
from tfdqn.replay.adder import make_replay
from tfdqn.replay.prioritized import ExtendedReplay, Sample
from tfdqn.training.episodes import Episodes
from tfdqn.training.resume import save_training_state
from tfdqn.training.signals import install_stop_handlers
from tfdqn.validation import check_budget


class Trainer:
    """Collects experience from a (vector) environment into a replay buffer and trains `agent` on it.

    All counts are environment transitions summed over the parallel environments. The step on which a finished
    sub-environment is reset (Gymnasium's next-step autoreset) is not a transition: it is neither stored nor counted.
    Calling `train` again continues where the last call stopped. A hard target copy (tau 1) is skipped when the
    online weights have not changed since the last one (`agent.weights_version`, moved by `learn` and `set_state`):
    a listener that sets the online weights in another way should call `agent.update_target()` itself.
    """

    def __init__(
        self,
        agent: DQNAgent,
        env: gym.vector.VectorEnv,
        config: DQNConfig | None = None,
        listeners: Iterable[Listener] = (),
    ):
        if not isinstance(env, gym.vector.VectorEnv):
            raise EnvError("Trainer needs a gymnasium.vector.VectorEnv; use tfdqn.make_vec_env(env_id, n)")
        if not isinstance(agent, DQNAgent):
            raise ArgumentError(f"agent={agent!r} is invalid: Trainer needs a tfdqn.DQNAgent")
        self.agent, self.env = agent, env
        self.config = check_config(config) if config is not None else agent.config
        self.listeners = listeners if isinstance(listeners, ListenerList) else ListenerList(listeners)
        self.schedule = make_schedule(self.config)
        self.rng = np.random.default_rng(self.config.seed)
        space = env.single_observation_space
        assert space.shape is not None  # the agent was built for this space: one tfdqn encodes has a shape
        # the buffer (discounts and priorities beside it, if asked for) and the adder in front of it
        self.replay, self.adder = make_replay(self.config, space.shape, observation_dtype(space), env.num_envs)
        self.episodes_in_progress = Episodes(env, self.listeners)
        self.total_steps = 0  # the budget of the current train() call (anneals prioritized replay's beta)
        self.stop_training = self.resumed = self.aborted = False  # aborted: by a second Ctrl-C, mid-step
        self.interrupted: int | None = None  # signal number that stopped training
        self.step = self.episodes = self.updates = 0  # transitions collected, episodes finished, gradient steps
        self._copied_at: int | None = None  # agent.weights_version at the last hard target copy (None: copy next)
        self.last_loss = self.last_mean_q = math.nan
        self.recent_returns: collections.deque[float] = collections.deque(maxlen=100)

    # ----- the loop -----------------------------------------------------------------------------------
    def train(self, total_steps: int) -> dict[str, Any]:
        """Run until the step counter reaches `total_steps` (counted from the run's first step: `train(1_000)` then
        `train(2_000)`, or a resumed run, ends where one `train(2_000)` would, the built-in listeners going on with
        their files and scores), a listener sets `stop_training` (on its view of the run or, as in Keras, on
        `self.model`), or SIGINT/SIGTERM arrives.

        With N parallel environments the last iteration may collect up to N - 1 transitions more.
        However training ends, episodes still running get `on_episode_end` with `completed=False` and then
        `on_train_end` reaches every listener (see `Listener`); only then is the first error re-raised
        (any exception, later ones attached), or `TrainingInterrupted` raised after a signal.
        """
        total_steps = self.total_steps = check_budget(total_steps)
        listeners, model = self.listeners, self.agent.q_network
        self.stop_training = model.stop_training = False
        self.interrupted, self.aborted = None, False
        self._copied_at = None  # the weights may have been changed between calls: the first copy is made
        self.episodes_in_progress.begun[:] = False
        listeners.deferred.clear()
        listeners.set_trainer(RunView(self))  # what a listener sees of the run: not the Trainer itself
        listeners.set_model(model)
        config, num_envs = self.config.to_dict(), self.env.num_envs
        listeners.set_params(dict(total_steps=total_steps, start_step=self.step, num_envs=num_envs, config=config))
        start = time.perf_counter()
        error: BaseException | None = None
        restore = install_stop_handlers(self._on_signal)
        try:
            begin = {"total_steps": total_steps, "step": self.step, "resumed": self.resumed, "config": config}
            listeners.on_train_begin(begin)
            self._loop(total_steps, start)
        except BaseException as exc:  # noqa: BLE001 -- re-raised below, after every listener has ended
            error = exc
        finally:
            restore()
        later = self._close_episodes(start)
        self.stop_training = self.stop_training or bool(getattr(model, "stop_training", False))
        if error is None and later:
            error = later.pop(0)
        end_logs = {
            "step": self.step,
            "episodes": self.episodes,
            "updates": self.updates,
            "wall_seconds": time.perf_counter() - start,
            "stopped": self.stop_training,
            "interrupted": None if self.interrupted is None else signal.Signals(self.interrupted).name,
            "error": None if error is None else str(error) or type(error).__name__,
            "healthy": not isinstance(error, NonFiniteError),
            "aborted": self.aborted,
        }
        later += listeners.call_all("on_train_end", end_logs)
        later += listeners.run_quiet_point()  # a state saved at the end, once every listener has ended
        raise_first(later if error is None else [error, *later])
        if self.interrupted is not None:
            raise TrainingInterrupted(self.interrupted, self.step)
        return end_logs

    def _on_signal(self, signum: int) -> None:
        """SIGINT/SIGTERM: finish the current step and stop; a second SIGINT aborts the step at once."""
        if self.interrupted is not None and signum == signal.SIGINT:
            self.aborted = True  # mid-step: the state may be torn, so none is saved at the end
            raise KeyboardInterrupt
        self.interrupted = signum

    def _stopping(self) -> bool:
        return self.stop_training or bool(self.agent.q_network.stop_training)

    def _loop(self, total_steps: int, start: float) -> None:
        cfg, env, agent, listeners = self.config, self.env, self.agent, self.listeners
        episodes = self.episodes_in_progress
        if episodes.state is None:
            self._reset_episodes(seed=cfg.seed + self.step)  # cfg.seed on a fresh start
        ep = episodes.state
        assert ep is not None  # just reset, or rebuilt on resume
        wants_step = listeners.wants("on_step")
        check_obs = np.issubdtype(ep.obs.dtype, np.floating)
        episodes.continue_running(self.step)
        pending = True  # sub-envs whose next episode has not begun for the listeners yet

        while self.step < total_steps and not self._stopping() and self.interrupted is None:
            if pending:
                pending = False
                episodes.announce(self.step)
                if self._stopping():
                    break
            actions, epsilon = self._choose_actions(ep.obs)
            next_obs, rewards, terminated, truncated, infos = env.step(actions)
            if check_obs and not np.isfinite(next_obs).all():
                raise EnvError(f"{cfg.env_id} returned a non-finite observation at step {self.step}")
            # CRUCIAL: a sub-env that ended last step is autoreset on this one: not a transition (`real`)
            real = ~ep.resetting
            n_real = int(real.sum())
            # truncation still bootstraps: only `terminated` is stored, as the learner sees it (`training_signal`)
            learn_rewards, learn_terminated = training_signal(rewards, terminated, infos)
            self.adder.add(ep.obs, actions, learn_rewards, next_obs, learn_terminated, truncated, real, n_real)
            episodes.record(actions, rewards, real, n_real)
            prev_step, self.step = self.step, self.step + n_real
            ep.obs = next_obs

            # the step is booked (episodes ended) even when a listener fails in on_step: a state saved then resumes
            failed = self._emit_step(epsilon, rewards, terminated, truncated) if wants_step and n_real else []
            done = (terminated | truncated) & real
            ep.resetting = done
            if done.any():
                pending = True
                failed += self._end_episodes(np.flatnonzero(done), terminated, truncated, epsilon, start)
            raise_first(failed)

            if not self._stopping():  # a stop in this step's events: the network it judged is the final one
                for _ in range(_crossings(prev_step, self.step, cfg.target_update_interval)):
                    # a hard copy with no change to the online weights since the last one would change nothing
                    if agent.config.tau < 1.0 or self._copied_at != agent.weights_version:
                        agent.update_target()
                        self._copied_at = agent.weights_version
                    listeners.on_target_update({"step": self.step, "tau": cfg.tau})
                for _ in range(_crossings(prev_step, self.step, cfg.train_freq)):
                    if not self._train_call():  # the replay is not ready: said once for this step
                        break
            if listeners.deferred:  # a quiet point: every event so far has reached every listener
                raise_first(listeners.run_quiet_point())

    def save_state(self, directory: str | os.PathLike) -> Path:
        """Write this run's full training state under `directory` (`tfdqn.training.resume`); returns its folder."""
        return save_training_state(self, directory)

    def _choose_actions(self, obs: np.ndarray) -> tuple[np.ndarray, float]:
        """Uniformly random actions before `learning_starts`, epsilon-greedy after."""
        if self.step < self.config.learning_starts:
            return self.rng.integers(0, self.agent.n_actions, size=len(obs)), 1.0
        epsilon = 0.0 if self.config.noisy else self.schedule(self.step, self.episodes)  # noisy nets explore
        return self.agent.act(obs, epsilon, self.rng), epsilon

    def _reset_episodes(self, seed: int | None) -> None:
        """Reset every sub-env: fresh episodes, so no n-step window may carry over."""
        self.episodes_in_progress.reset(seed, self.episodes)
        self.adder.clear()

    def _episode_logs(self, i: int, epsilon: float, start: float, completed: bool) -> dict[str, Any]:
        ep = self.episodes_in_progress.state
        assert ep is not None  # episodes end only after the environment was reset
        mean_100 = float(np.mean(self.recent_returns)) if self.recent_returns else math.nan
        return {
            "return": float(ep.returns[i]),
            "length": int(ep.lengths[i]),
            "step": self.step,
            "epsilon": epsilon,
            "mean_return_100": mean_100,
            "loss": self.last_loss,
            "mean_q": self.last_mean_q,
            "completed": completed,
            "env_index": int(i),
            "wall_seconds": time.perf_counter() - start,
        }

    def _end_episodes(
        self, finished: np.ndarray, terminated: np.ndarray, truncated: np.ndarray, epsilon: float, start: float
    ) -> list[BaseException]:
        episodes = self.episodes_in_progress
        ep = episodes.state
        assert ep is not None  # episodes end only after the environment was reset
        reset_states = episodes.reset_states(finished)  # before any listener runs
        errors: list[BaseException] = []
        for i in finished:  # every finished episode ends, even if a listener raised at an earlier one
            self.recent_returns.append(float(ep.returns[i]))
            self.episodes += 1
            episode = int(ep.ids[i])
            logs = self._episode_logs(i, epsilon, start, completed=True)
            logs["terminated"], logs["truncated"] = bool(terminated[i]), bool(truncated[i])
            episodes.restart(i, reset_states)
            errors += self.listeners.call_all("on_episode_end", episode, logs)
        return errors

    def _emit_step(self, epsilon: float, *arrays: np.ndarray) -> list[BaseException]:
        """`on_step` with read-only views of (rewards, terminated, truncated), so a listener cannot change what
        training does with them; its failure is returned, to be raised once the step is booked."""
        logs = dict(zip(("reward", "terminated", "truncated"), map(read_only, arrays), strict=True))
        try:
            self.listeners.on_step(self.step, {"epsilon": epsilon, **logs})
        except BaseException as exc:  # noqa: BLE001 -- raised by the loop right after
            return [exc]
        return []

    def _close_episodes(self, start: float) -> list[BaseException]:
        """When training ends: `on_episode_end(completed=False)` for every episode still running
        (`Episodes.close`); returns the listeners' failures."""
        epsilon = 1.0 if self.step < self.config.learning_starts else self.schedule(self.step, self.episodes)

        def logs_of(i: int) -> dict[str, Any]:
            return {**self._episode_logs(i, epsilon, start, completed=False), "terminated": False, "truncated": False}

        return self.episodes_in_progress.close(logs_of)

    def _train_call(self) -> bool:
        """One training call (`gradient_steps` updates); False, after `on_replay_fail` saying why, when the replay
        cannot be sampled yet."""
        cfg = self.config
        if self.step < cfg.learning_starts or len(self.replay) < cfg.batch_size:
            cause = "learning_starts" if self.step < cfg.learning_starts else "buffer smaller than batch_size"
            fail = {"step": self.step, "buffer_size": len(self.replay), "learning_starts": cfg.learning_starts}
            self.listeners.on_replay_fail({**fail, "batch_size": cfg.batch_size, "cause": cause})
            return False
        self.listeners.on_replay_start({"step": self.step, "gradient_steps": cfg.gradient_steps})
        if cfg.prioritized:  # importance-weight exponent, annealed linearly to 1
            assert isinstance(self.replay, ExtendedReplay)  # for_config wraps the buffer when prioritized
            self.replay.anneal_beta(self.step, self.total_steps)
        batch = self.replay.sample(cfg.batch_size, self.rng, cfg.gradient_steps)
        metrics, priorities = self.agent.learn(batch)
        if not all(math.isfinite(v) for v in metrics.values()):
            raise NonFiniteError(
                f"non-finite loss or Q-value at step {self.step} "
                f"(loss={metrics['loss']}, mean_q={metrics['mean_q']}); training stopped"
            )
        if cfg.prioritized:  # the learner's |TD errors| become the sampled transitions' priorities
            assert isinstance(self.replay, ExtendedReplay) and isinstance(batch, Sample)
            self.replay.update_priorities(batch.indices, priorities)
        self.updates += cfg.gradient_steps
        self.last_loss, self.last_mean_q = metrics["loss"], metrics["mean_q"]
        self.listeners.on_replay_end(
            {"step": self.step, "gradient_steps": cfg.gradient_steps, "updates": self.updates, **metrics}
        )
        return True


def _crossings(before: int, after: int, interval: int) -> int:
    """How many multiples of `interval` lie in (before, after]."""
    return after // interval - before // interval
