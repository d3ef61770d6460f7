"""`Trainer`: the DQN loop. It owns the step counters and the update schedule and emits listener events;
it knows nothing of files, logs or plots."""

from __future__ import annotations

import collections
import math
import time
from typing import Any, Iterable

import gymnasium as gym
import keras
import numpy as np

from tfdqn.agent import DQNAgent
from tfdqn.config import DQNConfig
from tfdqn.envs import make_vec_env, observation_dtype
from tfdqn.errors import EnvError, TrainingError
from tfdqn.listeners.base import Listener, ListenerList
from tfdqn.replay import ReplayBuffer
from tfdqn.schedules import make_schedule


class Trainer:
    """Collects experience from a (vector) environment into a replay buffer and trains `agent` on it.

    All counts are environment transitions summed over the parallel environments. The step on which
    a finished sub-environment is reset (Gymnasium's next-step autoreset) is not a transition: it is
    neither stored nor counted.
    """

    def __init__(self, agent: DQNAgent, env: gym.vector.VectorEnv, config: DQNConfig | None = None,
                 listeners: Iterable[Listener] = ()):
        if not isinstance(env, gym.vector.VectorEnv):
            raise EnvError("Trainer needs a gymnasium.vector.VectorEnv; use tfdqn.make_vec_env(env_id, n)")
        self.agent = agent
        self.env = env
        self.config = config or agent.config
        self.listeners = listeners if isinstance(listeners, ListenerList) else ListenerList(listeners)
        self.schedule = make_schedule(self.config)
        self.rng = np.random.default_rng(self.config.seed)
        space = env.single_observation_space
        self.replay = ReplayBuffer(self.config.buffer_size, space.shape, observation_dtype(space))
        self.stop_training = False
        self.step = 0  # transitions collected so far
        self.episodes = 0  # episodes finished so far
        self.updates = 0  # gradient steps taken so far
        self.last_loss = math.nan
        self.last_mean_q = math.nan
        self.recent_returns: collections.deque[float] = collections.deque(maxlen=100)

    def train(self, total_steps: int) -> dict[str, Any]:
        """Run until `total_steps` transitions have been collected or a listener stops training.

        With N parallel environments the last iteration may collect up to N - 1 transitions more.
        """
        if not isinstance(total_steps, int) or total_steps < 1:
            raise ValueError(f"total_steps={total_steps!r} is invalid: must be a positive integer")
        cfg, env, agent, listeners = self.config, self.env, self.agent, self.listeners
        n_envs = env.num_envs
        self.stop_training = False
        listeners.set_trainer(self)
        start = time.perf_counter()
        listeners.on_train_begin({"total_steps": total_steps, "step": self.step, "config": cfg.to_dict()})

        obs, _ = env.reset(seed=cfg.seed)
        env.action_space.seed(cfg.seed)
        resetting = np.zeros(n_envs, dtype=bool)  # sub-envs whose next step() is an autoreset
        ep_return = np.zeros(n_envs)
        ep_length = np.zeros(n_envs, dtype=np.int64)
        episode_ids = np.arange(n_envs) + self.episodes
        next_episode = self.episodes + n_envs
        for i in range(n_envs):
            listeners.on_episode_begin(int(episode_ids[i]), {"step": self.step, "env_index": i})
        wants_step = listeners.wants("on_step")
        check_obs = np.issubdtype(obs.dtype, np.floating)

        while self.step < total_steps and not self.stop_training:
            warming_up = self.step < cfg.learning_starts
            epsilon = 1.0 if warming_up else self.schedule(self.step, self.episodes)
            if warming_up:
                actions = self.rng.integers(0, agent.n_actions, size=n_envs)
            else:
                actions = agent.act(obs, epsilon, self.rng)
            next_obs, rewards, terminated, truncated, _ = env.step(actions)
            if check_obs and not np.isfinite(next_obs).all():
                raise EnvError(f"{cfg.env_id} returned a non-finite observation at step {self.step}")

            real = ~resetting
            n_real = int(real.sum())
            if n_real == n_envs:
                self.replay.add_batch(obs, actions, rewards, next_obs, terminated)
            else:
                self.replay.add_batch(obs[real], actions[real], rewards[real], next_obs[real], terminated[real])
            ep_return[real] += rewards[real]
            ep_length[real] += 1
            prev_step, self.step = self.step, self.step + n_real
            obs = next_obs

            if wants_step and n_real:
                listeners.on_step(self.step, {"epsilon": epsilon, "reward": rewards, "terminated": terminated,
                                              "truncated": truncated})
            done = (terminated | truncated) & real
            for i in np.flatnonzero(done):
                self.recent_returns.append(float(ep_return[i]))
                self.episodes += 1
                listeners.on_episode_end(int(episode_ids[i]), {
                    "return": float(ep_return[i]), "length": int(ep_length[i]), "step": self.step,
                    "epsilon": epsilon, "mean_return_100": float(np.mean(self.recent_returns)),
                    "loss": self.last_loss, "mean_q": self.last_mean_q, "terminated": bool(terminated[i]),
                    "truncated": bool(truncated[i]), "env_index": int(i),
                    "wall_seconds": time.perf_counter() - start})
                ep_return[i] = 0.0
                ep_length[i] = 0
                episode_ids[i] = next_episode
                next_episode += 1
                listeners.on_episode_begin(int(episode_ids[i]), {"step": self.step, "env_index": int(i)})
            resetting = done

            for _ in range(_crossings(prev_step, self.step, cfg.target_update_interval)):
                agent.update_target()
                listeners.on_target_update({"step": self.step, "tau": cfg.tau})
            for _ in range(_crossings(prev_step, self.step, cfg.train_freq)):
                self._train_call()

        wall = time.perf_counter() - start
        end_logs = {"step": self.step, "episodes": self.episodes, "updates": self.updates,
                    "wall_seconds": wall, "stopped": self.stop_training}
        listeners.on_train_end(end_logs)
        return end_logs

    def _train_call(self) -> None:
        cfg = self.config
        if self.step < cfg.learning_starts or len(self.replay) < cfg.batch_size:
            self.listeners.on_replay_fail({"step": self.step, "buffer_size": len(self.replay),
                                           "learning_starts": cfg.learning_starts})
            return
        self.listeners.on_replay_start({"step": self.step, "gradient_steps": cfg.gradient_steps})
        batch = self.replay.sample(cfg.batch_size, self.rng, cfg.gradient_steps)
        metrics = self.agent.learn(batch)
        if not (math.isfinite(metrics["loss"]) and math.isfinite(metrics["mean_q"])):
            raise TrainingError(f"non-finite loss or Q-value at step {self.step} "
                                f"(loss={metrics['loss']}, mean_q={metrics['mean_q']})")
        self.updates += cfg.gradient_steps
        self.last_loss, self.last_mean_q = metrics["loss"], metrics["mean_q"]
        self.listeners.on_replay_end({"step": self.step, "gradient_steps": cfg.gradient_steps,
                                      "updates": self.updates, **metrics})


def _crossings(before: int, after: int, interval: int) -> int:
    """How many multiples of `interval` lie in (before, after]."""
    return after // interval - before // interval


def train(config: DQNConfig = DQNConfig(), total_steps: int = 50_000,
          listeners: Iterable[Listener] = ()) -> Trainer:
    """Build the environment(s), the agent and a `Trainer` from `config`, train, and return the trainer."""
    keras.utils.set_random_seed(config.seed)
    env = make_vec_env(config.env_id, config.num_envs)
    agent = DQNAgent.from_spaces(env.single_observation_space, env.single_action_space, config)
    trainer = Trainer(agent, env, config, listeners)
    try:
        trainer.train(total_steps)
    finally:
        env.close()
    return trainer
