"""`Trainer`: the DQN loop. It owns the step counters and the update schedule and emits listener events;
it knows nothing of files, logs or plots."""

from __future__ import annotations

import collections
import math
import numbers
import signal
import threading
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import keras
import numpy as np

from tfdqn.config import DQNConfig
from tfdqn.dqn.agent import DQNAgent
from tfdqn.dqn.schedules import make_schedule
from tfdqn.envs.make import make_vec_env, observation_dtype
from tfdqn.errors import ArgumentError, EnvError, NonFiniteError, TrainingInterrupted
from tfdqn.listeners.base import Listener, ListenerList, attach_errors
from tfdqn.replay.buffer import ReplayBuffer
from tfdqn.replay.nstep import NStepWindows
from tfdqn.replay.prioritized import ExtendedReplay
from tfdqn.rng import generator_from_state, generator_state


@dataclass
class EpisodeState:
    """Per-sub-environment bookkeeping of the episodes in progress (saved with a training state).

    `starts[i]` is how sub-env i's current episode began (its reset seed, or its RNG state just before
    the autoreset) and `actions[i]` the actions taken since: together they rebuild the environment's
    state on resume without pickling it.
    """

    obs: np.ndarray
    resetting: np.ndarray  # sub-envs whose next step() is Gymnasium's autoreset, not a transition
    returns: np.ndarray
    lengths: np.ndarray
    ids: np.ndarray  # listeners' episode number per sub-env; -1 until its episode begins (lazily, in order)
    next_id: int
    starts: list[dict[str, Any]]
    actions: list[list[int]]


class Trainer:
    """Collects experience from a (vector) environment into a replay buffer and trains `agent` on it.

    All counts are environment transitions summed over the parallel environments. The step on which
    a finished sub-environment is reset (Gymnasium's next-step autoreset) is not a transition: it is
    neither stored nor counted. Calling `train` again continues where the last call stopped.
    A hard target copy (tau 1) is skipped when the online weights have not changed since the last one
    (`agent.weights_version`, moved by `learn` and `set_state`): a listener that sets the online weights in
    another way should call `agent.update_target()` itself.
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
        self.agent = agent
        self.env = env
        self.config = check_config(config) if config is not None else agent.config
        self.listeners = listeners if isinstance(listeners, ListenerList) else ListenerList(listeners)
        self.schedule = make_schedule(self.config)
        self.rng = np.random.default_rng(self.config.seed)
        space = env.single_observation_space
        self.replay = ExtendedReplay.for_config(  # discounts and priorities beside the buffer, if asked for
            ReplayBuffer.for_observations(self.config.buffer_size, space.shape, observation_dtype(space)), self.config
        )
        self.nstep = (
            None
            if self.config.n_step == 1
            else NStepWindows(
                self.config.n_step, self.config.gamma, env.num_envs, space.shape, observation_dtype(space)
            )
        )
        self.total_steps = 0  # the budget of the current train() call (anneals prioritized replay's beta)
        self.stop_training = False
        self.interrupted: int | None = None  # signal number that stopped training
        self.step = 0  # transitions collected so far
        self.episodes = 0  # episodes finished so far
        self.updates = 0  # gradient steps taken so far
        self._copied_at: int | None = None  # agent.weights_version at the last hard target copy (None: copy next)
        self.last_loss = math.nan
        self.last_mean_q = math.nan
        self.recent_returns: collections.deque[float] = collections.deque(maxlen=100)
        self.episode_state: EpisodeState | None = None  # None until the environment is first reset
        self._begun = np.zeros(env.num_envs, dtype=bool)  # sub-envs whose episode listeners saw begin
        self._first_id = 0  # the first episode number when episodes are (re)started from a reset
        self.resumed = False
        # Only a SyncVectorEnv lets us rebuild each sub-env's state on resume; others restart episodes.
        self.replayable = isinstance(env, gym.vector.SyncVectorEnv)

    # ----- the loop -----------------------------------------------------------------------------------
    def train(self, total_steps: int) -> dict[str, Any]:
        """Run until the step counter reaches `total_steps` (counted from the very first step, so a
        resumed run with the same budget ends where an uninterrupted one would), a listener sets
        `stop_training` (on the trainer or, as in Keras, on `self.model`), or SIGINT/SIGTERM arrives.

        With N parallel environments the last iteration may collect up to N - 1 transitions more.
        However training ends, episodes still running get `on_episode_end` with `completed=False` and then
        `on_train_end` reaches every listener (see `Listener`); only then is the first error re-raised
        (any exception, later ones attached), or `TrainingInterrupted` raised after a signal.
        """
        total_steps = check_budget(total_steps)
        listeners, model = self.listeners, self.agent.q_network
        self.total_steps = total_steps
        self.stop_training = False
        model.stop_training = False
        self.interrupted = None
        self._copied_at = None  # the weights may have been changed between calls: the first copy is made
        self._begun[:] = False
        listeners.set_trainer(self)
        listeners.set_model(model)
        listeners.set_params(
            {
                "total_steps": total_steps,
                "start_step": self.step,
                "num_envs": self.env.num_envs,
                "config": self.config.to_dict(),
            }
        )
        start = time.perf_counter()
        error: BaseException | None = None
        restore = self._install_signal_handlers()
        try:
            listeners.on_train_begin(
                {
                    "total_steps": total_steps,
                    "step": self.step,
                    "resumed": self.resumed,
                    "config": self.config.to_dict(),
                }
            )
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
        }
        later += listeners.call_all("on_train_end", end_logs)
        if error is None and later:
            error = later.pop(0)
        if error is not None:
            raise attach_errors(error, later)
        if self.interrupted is not None:
            raise TrainingInterrupted(self.interrupted, self.step)
        return end_logs

    def _loop(self, total_steps: int, start: float) -> None:
        cfg, env, agent, listeners = self.config, self.env, self.agent, self.listeners
        if self.episode_state is None:
            self._begin_episodes(seed=cfg.seed + self.step)  # cfg.seed on a fresh start
        ep = self.episode_state
        model = agent.q_network
        wants_step = listeners.wants("on_step")
        check_obs = np.issubdtype(ep.obs.dtype, np.floating)
        record = self.replayable
        self._continue_episodes()
        pending = True  # sub-envs whose next episode has not begun for the listeners yet

        while (
            self.step < total_steps and not self.stop_training and not model.stop_training and self.interrupted is None
        ):
            if pending:
                pending = False
                self._announce_episodes()
                if self.stop_training or model.stop_training:
                    break
            actions, epsilon = self._choose_actions(ep.obs)
            next_obs, rewards, terminated, truncated, _ = env.step(actions)
            if check_obs and not np.isfinite(next_obs).all():
                raise EnvError(f"{cfg.env_id} returned a non-finite observation at step {self.step}")

            real = ~ep.resetting
            n_real = int(real.sum())
            obs = ep.obs
            if self.nstep is not None:  # n-step returns: the windows decide which transitions are complete
                completed = self.nstep.push(obs, actions, rewards, next_obs, terminated, truncated, real)
                if completed is not None:
                    self.replay.add_batch(*completed)
            elif n_real == env.num_envs:
                self.replay.add_batch(obs, actions, rewards, next_obs, terminated)
            else:
                self.replay.add_batch(obs[real], actions[real], rewards[real], next_obs[real], terminated[real])
            if n_real == env.num_envs:
                ep.returns += rewards
                ep.lengths += 1
            else:
                ep.returns[real] += rewards[real]
                ep.lengths[real] += 1
            if record:
                for i in np.flatnonzero(real):
                    ep.actions[i].append(int(actions[i]))
            prev_step, self.step = self.step, self.step + n_real
            ep.obs = next_obs

            if wants_step and n_real:
                listeners.on_step(
                    self.step, {"epsilon": epsilon, "reward": rewards, "terminated": terminated, "truncated": truncated}
                )
            done = (terminated | truncated) & real
            ep.resetting = done  # set first: a state saved while a listener fails here is consistent
            if done.any():
                pending = True
                self._end_episodes(np.flatnonzero(done), terminated, truncated, epsilon, start)

            for _ in range(_crossings(prev_step, self.step, cfg.target_update_interval)):
                if agent.config.tau < 1.0 or self._copied_at != agent.weights_version:  # a hard copy with no
                    agent.update_target()  # change to the online weights since the last one would change nothing
                    self._copied_at = agent.weights_version
                listeners.on_target_update({"step": self.step, "tau": cfg.tau})
            for _ in range(_crossings(prev_step, self.step, cfg.train_freq)):
                self._train_call()

    def _choose_actions(self, obs: np.ndarray) -> tuple[np.ndarray, float]:
        """Uniformly random actions before `learning_starts`, epsilon-greedy after."""
        if self.step < self.config.learning_starts:
            return self.rng.integers(0, self.agent.n_actions, size=len(obs)), 1.0
        epsilon = 0.0 if self.config.noisy else self.schedule(self.step, self.episodes)  # noisy nets explore
        return self.agent.act(obs, epsilon, self.rng), epsilon

    def _begin_episodes(self, seed: int | None) -> None:
        """Reset every sub-env; their episodes are numbered when they begin (`_announce_episodes`)."""
        n = self.env.num_envs
        obs, _ = self.env.reset(seed=seed)
        if self.nstep is not None:  # fresh episodes: no window may carry over
            self.nstep.clear()
        if seed is not None:
            self.env.action_space.seed(seed)
        self.episode_state = EpisodeState(
            obs=obs,
            resetting=np.zeros(n, dtype=bool),
            returns=np.zeros(n),
            lengths=np.zeros(n, dtype=np.int64),
            ids=np.full(n, -1, dtype=np.int64),
            next_id=max(self._first_id, self.episodes),
            starts=[{"seed": None if seed is None else seed + i} for i in range(n)],
            actions=[[] for _ in range(n)],
        )

    def _continue_episodes(self) -> None:
        """At the start of a `train` call: episodes left running by an earlier call (or a resumed run)
        begin again for the listeners, under their own numbers, in order."""
        ep = self.episode_state
        for i in sorted(np.flatnonzero(ep.ids >= 0), key=lambda i: ep.ids[i]):
            self._begun[i] = True
            self.listeners.on_episode_begin(int(ep.ids[i]), {"step": self.step, "env_index": int(i), "continued": True})

    def _announce_episodes(self) -> None:
        """Number the sub-envs' new episodes (in increasing order) and emit their `on_episode_begin`."""
        ep = self.episode_state
        for i in np.flatnonzero(ep.ids < 0):
            ep.ids[i] = ep.next_id
            ep.next_id += 1
            self._begun[i] = True
            self.listeners.on_episode_begin(
                int(ep.ids[i]), {"step": self.step, "env_index": int(i), "continued": False}
            )

    def _episode_logs(self, i: int, epsilon: float, start: float, completed: bool) -> dict[str, Any]:
        ep = self.episode_state
        return {
            "return": float(ep.returns[i]),
            "length": int(ep.lengths[i]),
            "step": self.step,
            "epsilon": epsilon,
            "mean_return_100": float(np.mean(self.recent_returns)) if self.recent_returns else math.nan,
            "loss": self.last_loss,
            "mean_q": self.last_mean_q,
            "completed": completed,
            "env_index": int(i),
            "wall_seconds": time.perf_counter() - start,
        }

    def _end_episodes(
        self, finished: np.ndarray, terminated: np.ndarray, truncated: np.ndarray, epsilon: float, start: float
    ) -> None:
        ep = self.episode_state
        rng_states = self.env.get_attr("np_random") if self.replayable else None
        for i in finished:
            self.recent_returns.append(float(ep.returns[i]))
            self.episodes += 1
            episode = int(ep.ids[i])
            logs = self._episode_logs(i, epsilon, start, completed=True)
            logs["terminated"], logs["truncated"] = bool(terminated[i]), bool(truncated[i])
            ep.returns[i] = 0.0
            ep.lengths[i] = 0
            ep.ids[i] = -1  # the next episode begins (and gets its number) when training goes on
            self._begun[i] = False
            if rng_states is not None:  # the autoreset on the next step draws from this RNG state
                ep.starts[i] = {"rng": generator_state(rng_states[i])}
                ep.actions[i] = []
            self.listeners.on_episode_end(episode, logs)

    def _close_episodes(self, start: float) -> list[BaseException]:
        """When training ends: `on_episode_end(completed=False)` for every episode that began and is still
        running, delivered to every listener; returns the listeners' failures. The episodes themselves go on
        (a later `train` call or a resumed run continues them)."""
        ep, errors = self.episode_state, []
        if ep is None:
            return errors
        epsilon = 1.0 if self.step < self.config.learning_starts else self.schedule(self.step, self.episodes)
        for i in sorted(np.flatnonzero(self._begun), key=lambda i: ep.ids[i]):
            self._begun[i] = False
            logs = self._episode_logs(i, epsilon, start, completed=False)
            logs["terminated"] = logs["truncated"] = False
            errors += self.listeners.call_all("on_episode_end", int(ep.ids[i]), logs)
        return errors

    def _train_call(self) -> None:
        cfg = self.config
        if self.step < cfg.learning_starts or len(self.replay) < cfg.batch_size:
            self.listeners.on_replay_fail(
                {"step": self.step, "buffer_size": len(self.replay), "learning_starts": cfg.learning_starts}
            )
            return
        self.listeners.on_replay_start({"step": self.step, "gradient_steps": cfg.gradient_steps})
        if cfg.prioritized:  # importance-weight exponent, annealed linearly from priority_beta to 1
            span = cfg.priority_beta_steps or max(self.total_steps, 1)
            self.replay.beta = min(1.0, cfg.priority_beta + (1.0 - cfg.priority_beta) * self.step / span)
        batch = self.replay.sample(cfg.batch_size, self.rng, cfg.gradient_steps)
        metrics = self.agent.learn(batch)
        if cfg.prioritized:
            self.replay.update_priorities(batch.indices, self.agent.last_priorities)
        if not all(math.isfinite(v) for v in metrics.values()):
            raise NonFiniteError(
                f"non-finite loss or Q-value at step {self.step} "
                f"(loss={metrics['loss']}, mean_q={metrics['mean_q']}); training stopped"
            )
        self.updates += cfg.gradient_steps
        self.last_loss, self.last_mean_q = metrics["loss"], metrics["mean_q"]
        self.listeners.on_replay_end(
            {"step": self.step, "gradient_steps": cfg.gradient_steps, "updates": self.updates, **metrics}
        )

    # ----- signals ------------------------------------------------------------------------------------
    def _install_signal_handlers(self):
        """On SIGINT/SIGTERM, finish the current step and stop cleanly; a second SIGINT aborts the step at once
        (`KeyboardInterrupt`, raised after the listeners' `on_train_end`; a third one cuts that short)."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

        def handler(signum, frame):
            if self.interrupted is not None and signum == signal.SIGINT:
                raise KeyboardInterrupt
            self.interrupted = signum

        for s in previous:
            signal.signal(s, handler)

        def restore():
            for s, h in previous.items():
                signal.signal(s, h)

        return restore

    # ----- saving and restoring (file handling lives in tfdqn.training.resume) -----------------------------------
    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """(JSON-ready metadata, arrays) that let a new Trainer continue this run exactly."""
        ep = self.episode_state
        meta = {
            "step": self.step,
            "episodes": self.episodes,
            "updates": self.updates,
            "last_loss": self.last_loss,
            "last_mean_q": self.last_mean_q,
            "recent_returns": list(self.recent_returns),
            "rng": generator_state(self.rng),
            "action_space_rng": generator_state(self.env.action_space.np_random),
            "num_envs": self.env.num_envs,
            "replayable": self.replayable,
        }
        arrays = {f"replay/{k}": v for k, v in self.replay.state_dict().items()}
        if self.nstep is not None:
            arrays.update({f"nstep/{k}": v for k, v in self.nstep.state_dict().items()})
        if ep is not None:
            meta["episodes_in_progress"] = {
                "resetting": ep.resetting.tolist(),
                "returns": ep.returns.tolist(),
                "lengths": ep.lengths.tolist(),
                "ids": ep.ids.tolist(),
                "next_id": ep.next_id,
                "starts": ep.starts,
                "actions": ep.actions,
            }
            arrays["episode/obs"] = ep.obs
        return meta, arrays

    def set_state(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Restore `get_state()` output (the agent's own state is restored separately)."""
        self.step, self.episodes, self.updates = meta["step"], meta["episodes"], meta["updates"]
        self.last_loss, self.last_mean_q = meta["last_loss"], meta["last_mean_q"]
        self.recent_returns = collections.deque(meta["recent_returns"], maxlen=100)
        self.rng.bit_generator.state = meta["rng"]
        self.replay.load_state_dict({k[len("replay/") :]: v for k, v in arrays.items() if k.startswith("replay/")})
        if self.nstep is not None:
            self.nstep.load_state_dict({k[len("nstep/") :]: v for k, v in arrays.items() if k.startswith("nstep/")})
        if meta["num_envs"] != self.env.num_envs:
            raise ValueError(f"saved state has {meta['num_envs']} environments, this trainer {self.env.num_envs}")
        self.env.action_space.np_random.bit_generator.state = meta["action_space_rng"]
        self.resumed = True
        saved = meta.get("episodes_in_progress")
        self._first_id = saved["next_id"] if saved is not None else self.episodes
        if saved is None:
            self.episode_state = None
            return
        if not (self.replayable and meta["replayable"]):
            self.episode_state = None  # in-progress episodes are dropped; new ones start on the next train()
            return
        self._rebuild_episodes(saved, arrays["episode/obs"])

    def _rebuild_episodes(self, saved: dict[str, Any], obs: np.ndarray) -> None:
        """Bring every sub-env back to its saved state: reset it as it was reset, replay its actions."""
        n = self.env.num_envs
        ep = EpisodeState(
            obs=obs.copy(),
            resetting=np.array(saved["resetting"], dtype=bool),
            returns=np.array(saved["returns"], dtype=float),
            lengths=np.array(saved["lengths"], dtype=np.int64),
            ids=np.array(saved["ids"], dtype=np.int64),
            next_id=saved["next_id"],
            starts=saved["starts"],
            actions=[list(a) for a in saved["actions"]],
        )
        self.env.reset(seed=0)  # initialise the vector env; every sub-env is reset again below
        was_resetting = ep.resetting.copy()
        if was_resetting.all():
            # The next iteration would only autoreset: draw its actions as it would have.
            self._choose_actions(ep.obs)
        for i in range(n):
            sub = self.env.envs[i]
            start = ep.starts[i]
            if "rng" in start:
                sub.np_random = generator_from_state(start["rng"])
            first_obs, _ = sub.reset(seed=start.get("seed"))
            current = first_obs
            for a in [] if was_resetting[i] else ep.actions[i]:
                current, *_ = sub.step(a)
            if was_resetting[i]:  # exact when all were resetting; otherwise this env skips one autoreset step
                ep.resetting[i] = False
                ep.obs[i] = current
            elif not np.allclose(current, ep.obs[i]):
                warnings.warn(
                    f"sub-environment {i} did not return to its saved state on replay (is it "
                    "deterministic given its seed?); training continues from the replayed state"
                )
                ep.obs[i] = current
        self.episode_state = ep


def _crossings(before: int, after: int, interval: int) -> int:
    """How many multiples of `interval` lie in (before, after]."""
    return after // interval - before // interval


def check_budget(total_steps: Any, name: str = "total_steps") -> int:
    """`total_steps` as a Python int, or an `ArgumentError`: it must be a positive whole number (a NumPy
    integer, or a float such as 5e4 with no fractional part, is accepted)."""
    if (
        isinstance(total_steps, numbers.Real)
        and not isinstance(total_steps, bool)
        and math.isfinite(total_steps)
        and total_steps == int(total_steps)
        and total_steps >= 1
    ):
        return int(total_steps)
    raise ArgumentError(f"{name}={total_steps!r} is invalid: must be a positive integer number of env steps")


def check_config(config: Any) -> DQNConfig:
    """`config` if it is a `DQNConfig`, else an `ArgumentError` saying how to make one."""
    if isinstance(config, DQNConfig):
        return config
    if isinstance(config, dict):
        raise ArgumentError(
            "config is a dict: pass DQNConfig.from_dict(...) (or DQNConfig(**...), or "
            "tfdqn.config_for_env(env_id).replace(...)) instead"
        )
    if isinstance(config, type) and issubclass(config, DQNConfig):
        raise ArgumentError("config is the DQNConfig class: did you mean DQNConfig()?")
    raise ArgumentError(f"config={config!r} is invalid: pass a tfdqn.DQNConfig")


def train(
    config: DQNConfig | None = None, total_steps: int = 50_000, listeners: Iterable[Listener] | Listener = ()
) -> Trainer:
    """Build the environment(s), the agent and a `Trainer` from `config` (default: what the training command
    uses for CartPole-v1, `config_for_env("CartPole-v1")`), train, and return the trainer.

    The arguments are checked before anything is built: a bad one is an `ArgumentError` saying what to pass.
    `listeners` may be one listener or a list; Keras callbacks in it are wrapped in `tfdqn.KerasCallbacks`.
    """
    if config is None:
        from tfdqn.presets import config_for_env

        config = config_for_env("CartPole-v1")
    config = check_config(config)
    total_steps = check_budget(total_steps)
    listeners = ListenerList(listeners)
    keras.utils.set_random_seed(config.seed)
    env = make_vec_env(config.env_id, config.num_envs)
    try:
        agent = DQNAgent.from_spaces(env.single_observation_space, env.single_action_space, config)
        trainer = Trainer(agent, env, config, listeners)
        trainer.train(total_steps)
    finally:
        env.close()
    return trainer
