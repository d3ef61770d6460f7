"""The CartPole side-by-side benchmark: tfdqn against Stable-Baselines3 and a tutorial-style Keras loop.

`scripts/benchmark.py --suite cartpole` drives it; this module holds

- the worker: `python scripts/benchmark_systems.py SYSTEM --seed S --steps N --out run.json` runs ONE
  system once in this (fresh) process, one thread, and writes the run as JSON;
- the evaluation protocol shared by every system (`Protocol`): a greedy evaluation of 20 episodes every
  1,000 env steps on a separate CartPole-v1 seeded once (seed + 10,000), with `tfdqn.dqn.evaluation.evaluate`;
  the clock that excludes evaluation time ("train-only"); the best policy's weights; the final 100-episode
  evaluations of the best and the final policy (seed + 30,000, the same episodes for both);
- the pure helpers of the report: extras check, median/IQR bands of curves, summaries and Markdown.

Nothing heavy is imported at module level: the parent process never imports torch or TensorFlow.
"""

from __future__ import annotations

import time

_T_START = time.perf_counter()  # the worker's import time is measured from here

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

ENV_ID = "CartPole-v1"
THRESHOLD = 475.0
EVAL_EVERY = 1_000
EVAL_EPISODES = 20
FINAL_EPISODES = 100
CONFIRM_EPISODES = 100
BUDGET = 50_000

# RL-Zoo's tuned DQN hyperparameters for CartPole-v1 (rl-baselines3-zoo, hyperparams/dqn.yml).
RL_ZOO_CARTPOLE = {
    "learning_rate": 2.3e-3,
    "batch_size": 64,
    "buffer_size": 100_000,
    "learning_starts": 1_000,
    "gamma": 0.99,
    "target_update_interval": 10,
    "train_freq": 256,
    "gradient_steps": 128,
    "exploration_fraction": 0.16,
    "exploration_final_eps": 0.04,
    "policy_kwargs": {"net_arch": [256, 256]},
}
# RL-Zoo's tuned DQN hyperparameters for LunarLander (hyperparams/dqn.yml; gradient_steps -1 there means one
# gradient step per env step collected, here 4 every 4).
RL_ZOO_LUNARLANDER = {
    "learning_rate": 6.3e-4,
    "batch_size": 128,
    "buffer_size": 50_000,
    "learning_starts": 0,
    "gamma": 0.99,
    "target_update_interval": 250,
    "train_freq": 4,
    "gradient_steps": 4,
    "exploration_fraction": 0.12,
    "exploration_final_eps": 0.1,
    "policy_kwargs": {"net_arch": [256, 256]},
}

TASKS: dict[str, dict[str, Any]] = {
    "CartPole-v1": {
        "threshold": 475.0,
        "budget": 50_000,
        "eval_every": 1_000,
        "eval_episodes": 20,
        "zoo": RL_ZOO_CARTPOLE,
    },
    "LunarLander-v3": {
        "threshold": 200.0,
        "budget": 100_000,
        "eval_every": 2_000,
        "eval_episodes": 20,
        "zoo": RL_ZOO_LUNARLANDER,
    },
}
"""Each task's evaluation protocol (threshold, step budget, greedy evaluation schedule) and SB3 settings."""


def tfdqn_sb3_settings(budget: int = BUDGET, env_id: str = ENV_ID) -> dict[str, Any]:
    """The DQNConfig fields that reproduce RL-Zoo's settings for `env_id` (and SB3's fixed choices) in tfdqn."""
    from tfdqn.rainbow import RAINBOW_OFF

    z = TASKS[env_id]["zoo"]
    return {
        "learning_rate": z["learning_rate"],
        "batch_size": z["batch_size"],
        "buffer_size": z["buffer_size"],
        "learning_starts": z["learning_starts"],
        "gamma": z["gamma"],
        "target_update_interval": z["target_update_interval"],
        "train_freq": z["train_freq"],
        "gradient_steps": z["gradient_steps"],
        "exploration": "linear",
        "epsilon_start": 1.0,
        "epsilon_end": z["exploration_final_eps"],
        "epsilon_decay_steps": int(z["exploration_fraction"] * budget),
        "hidden_sizes": tuple(z["policy_kwargs"]["net_arch"]),
        # SB3 DQN's fixed choices: global grad-norm clip 10, smooth L1 (= Huber, delta 1), plain DQN
        # target, hard target copy, constant learning rate, PyTorch's initialisation, one environment,
        # none of Rainbow's parts (one-step returns, uniform replay, a plain head, epsilon-greedy).
        "max_grad_norm": 10.0,
        "loss": "huber",
        "double_dqn": False,
        "tau": 1.0,
        "num_envs": 1,
        "learning_rate_final": None,
        "initializer": "fan_in_uniform",
        **RAINBOW_OFF,
    }


SYSTEMS: dict[str, str] = {
    "tfdqn_default": "tfdqn, default config",
    "sb3_zoo": "SB3 DQN, RL-Zoo tuned",
    "tfdqn_zoo": "tfdqn, RL-Zoo settings",
    "tutorial": "tutorial-style Keras loop",
}
LEARNERS = ("tfdqn_default", "sb3_zoo", "tfdqn_zoo")


def system_labels(preset: str | None = None) -> dict[str, str]:
    """`SYSTEMS`, with tfdqn's label naming the preset a suite ran it with (`benchmark.py --preset`)."""
    return {**SYSTEMS, "tfdqn_default": f"tfdqn, --preset {preset}"} if preset else dict(SYSTEMS)


EXTRAS_MESSAGE = "error: the cartpole suite needs torch and stable-baselines3: pip install -r requirements-bench.txt"


# ----- the extras --------------------------------------------------------------------------------------
def missing_extras(find_spec: Callable[[str], Any] = importlib.util.find_spec) -> list[str]:
    """The optional packages the cartpole suite needs that are not installed (without importing them)."""
    missing = []
    for module, package in (("torch", "torch"), ("stable_baselines3", "stable-baselines3")):
        try:
            found = find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(package)
    return missing


# ----- the shared evaluation protocol ------------------------------------------------------------------
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
        import gymnasium as gym

        from tfdqn.dqn.evaluation import evaluate

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
        self.t0 = self.t_end = None
        self.eval_seconds = 0.0
        self.steps = 0

    def start(self) -> None:
        self.t0 = time.perf_counter()

    def train_seconds(self, now: float | None = None) -> float:
        """Wall seconds since `start()` minus the time spent evaluating."""
        now = time.perf_counter() if now is None else now
        return now - self.t0 - self.eval_seconds

    def maybe_evaluate(self, step: int, policy: Callable, snapshot: Callable[[], Any]) -> None:
        if step < self.next_eval:
            return
        self.next_eval = (step // self.every + 1) * self.every
        t_in = time.perf_counter()
        result = self._evaluate(policy, self.eval_env, self.episodes, None if self._eval_seeded else self.seed + 10_000)
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
                policy, self.confirm_env, self.confirm_episodes, None if self._confirm_seeded else self.seed + 20_000
            )
            self._confirm_seeded = True
            self.confirmations.append({"step": step, "mean": confirm.mean})
            if confirm.mean >= self.threshold:
                self.stop_on_reward = {"step": step, "mean": confirm.mean, "train_seconds": record["train_seconds"]}
        self.eval_seconds += time.perf_counter() - t_in

    def stop(self, steps: int) -> None:
        self.t_end = time.perf_counter()
        self.steps = steps

    def finish(self, make_policy: Callable[[Any], Callable], final_policy: Callable) -> dict[str, Any]:
        """The run's record: evaluations, solve point, train-only rate, best and final on 100 episodes."""
        import gymnasium as gym

        train_s = self.train_seconds(self.t_end)
        solved = next((e for e in self.evaluations if e["mean"] >= self.threshold), None)
        scores = {}
        for name, policy in (
            ("final", final_policy),
            ("best", make_policy(self.best_weights) if self.best_weights is not None else None),
        ):
            if policy is None:
                scores[name] = None
                continue
            env = gym.make(self.env_id)
            r = self._evaluate(policy, env, FINAL_EPISODES, self.seed + 30_000)  # same episodes for both
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


# ----- the systems (each runs in its own process) ------------------------------------------------------
class RunHooks:
    """Additions to a `run_tfdqn` run that must not change its learning (e.g. weight copies for averaging):
    listeners that follow the protocol's at every event (their time counts as training time), then new fields
    for the run's record. The base class adds nothing."""

    def listeners(self, agent: Any, config: Any) -> list:
        """Extra `tfdqn.Listener`s, called after the protocol's listener."""
        return []

    def record(self, agent: Any, config: Any, make_policy: Callable[[list], Any]) -> dict[str, Any]:
        """Extra fields for the record after training; `make_policy(weights)` is a greedy policy of those weights."""
        return {}


def run_tfdqn(
    seed: int,
    steps: int,
    zoo: bool,
    env_id: str = ENV_ID,
    overrides: dict[str, Any] | None = None,
    preset: str | None = "auto",
    hooks: RunHooks | None = None,
) -> dict[str, Any]:
    """tfdqn through its public API: Trainer + a Listener that drives the shared protocol. The config is
    what the training command uses for `env_id` (defaults + the environment's preset; `preset` None or
    "none": the plain defaults), or RL-Zoo's settings with `zoo`; `overrides` (screening experiments) replace
    fields on top; `hooks` add listeners and record fields without changing the run."""
    from tfdqn.cli import prepare_process

    prepare_process()
    import keras

    import tfdqn

    tfdqn.configure_threads(1)
    t_imported = time.perf_counter()
    task = TASKS[env_id]
    config = tfdqn.config_for_env(env_id, preset).replace(seed=seed)  # the defaults as they are now
    if zoo:
        config = config.replace(**tfdqn_sb3_settings(steps, env_id))
    if overrides:
        config = tfdqn.DQNConfig.from_dict({**config.to_dict(), **overrides})
    keras.utils.set_random_seed(seed)
    env = tfdqn.make_vec_env(config.env_id, config.num_envs)
    agent = tfdqn.DQNAgent.from_spaces(env.single_observation_space, env.single_action_space, config)
    protocol = Protocol(seed, task["eval_every"], task["eval_episodes"], env_id=env_id, threshold=task["threshold"])
    losses: list[float] = []
    q_max: list[float] = []

    class ProtocolListener(tfdqn.Listener):
        def on_train_begin(self, logs=None):
            protocol.start()

        def on_step(self, step, logs=None):
            protocol.maybe_evaluate(step, agent.greedy, agent.q_network.get_weights)

        def on_replay_end(self, logs=None):
            losses.append(logs["loss"])
            q_max.append(abs(logs["mean_q"]))

        def on_train_end(self, logs=None):
            protocol.stop(logs["step"])

    hooks = hooks or RunHooks()
    trainer = tfdqn.Trainer(agent, env, config, [ProtocolListener(), *hooks.listeners(agent, config)])
    trainer.train(steps)
    env.close()

    def make_policy(weights):
        from tfdqn.networks.heads import export_q_network

        model = tfdqn.clone_network(agent.q_network, name="best")
        model.set_weights(weights)
        return tfdqn.greedy_policy(export_q_network(model, config))  # noisy at its mean, C51 as Q-values

    record = protocol.finish(make_policy, agent.greedy)
    record.update(
        import_seconds=t_imported - _T_START,
        gradient_steps=trainer.updates,
        config=config.to_dict(),
        max_loss=max(losses, default=None),
        max_abs_mean_q=max(q_max, default=None),
        versions={"tfdqn": tfdqn.__version__, "keras": keras.__version__, "tensorflow": _version("tensorflow")},
    )
    extra = hooks.record(agent, config, make_policy)
    if clash := sorted(extra.keys() & record.keys()):
        raise ValueError(f"{type(hooks).__name__}.record would overwrite the run's {', '.join(clash)}")
    record.update(extra)
    return record


def run_sb3(seed: int, steps: int, env_id: str = ENV_ID) -> dict[str, Any]:
    """Stable-Baselines3 DQN with RL-Zoo's settings for `env_id`; greedy evaluation straight from `q_net`."""
    import copy

    import gymnasium as gym
    import stable_baselines3
    import torch
    from stable_baselines3 import DQN
    from stable_baselines3.common.callbacks import BaseCallback

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    t_imported = time.perf_counter()
    task = TASKS[env_id]
    # Protocol imports tfdqn.dqn.evaluation (and so TensorFlow): not counted in import_seconds
    protocol = Protocol(seed, task["eval_every"], task["eval_episodes"], env_id=env_id, threshold=task["threshold"])
    model = DQN("MlpPolicy", gym.make(env_id), seed=seed, device="cpu", verbose=0, **task["zoo"])

    def greedy_of(q_net):
        @torch.no_grad()
        def policy(obs):
            return q_net(torch.as_tensor(obs, dtype=torch.float32)).argmax(dim=1).numpy()

        return policy

    live_policy = greedy_of(model.q_net)

    class ProtocolCallback(BaseCallback):
        def _on_training_start(self) -> None:
            protocol.start()

        def _on_step(self) -> bool:
            protocol.maybe_evaluate(self.num_timesteps, live_policy, lambda: copy.deepcopy(model.q_net.state_dict()))
            return True

        def _on_training_end(self) -> None:
            protocol.stop(self.num_timesteps)

    model.learn(total_timesteps=steps, callback=ProtocolCallback())

    def make_policy(state_dict):
        q_net = copy.deepcopy(model.q_net)
        q_net.load_state_dict(state_dict)
        return greedy_of(q_net)

    record = protocol.finish(make_policy, live_policy)
    record.update(
        import_seconds=t_imported - _T_START,
        gradient_steps=int(model._n_updates),
        config=dict(task["zoo"]),
        versions={"stable_baselines3": stable_baselines3.__version__, "torch": torch.__version__},
    )
    return record


def run_tutorial(seed: int, steps: int) -> dict[str, Any]:
    """What learners copy from notebooks: `predict` to act on every step, then per step a replay of a
    minibatch of 32 through `predict` (states), `predict` (next states, target net) and `fit`, verbose=0.
    Throughput only: `steps` env steps, no evaluation."""
    import collections
    import random

    from tfdqn.cli import prepare_process

    prepare_process()
    import gymnasium as gym
    import keras
    import numpy as np

    import tfdqn

    tfdqn.configure_threads(1)
    t_imported = time.perf_counter()
    random.seed(seed)
    keras.utils.set_random_seed(seed)
    env = gym.make(ENV_ID)
    n_obs, n_actions = env.observation_space.shape[0], int(env.action_space.n)

    def build():
        model = keras.Sequential(
            [
                keras.Input((n_obs,)),
                keras.layers.Dense(256, activation="relu"),
                keras.layers.Dense(256, activation="relu"),
                keras.layers.Dense(n_actions, activation="linear"),
            ]
        )
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="mse")
        return model

    q_network, target_network = build(), build()
    target_network.set_weights(q_network.get_weights())
    memory: collections.deque = collections.deque(maxlen=100_000)
    batch_len, gamma, epsilon = 32, 0.99, 1.0
    state, _ = env.reset(seed=seed)
    state = np.reshape(state, [1, n_obs])
    t0 = time.perf_counter()
    for step in range(1, steps + 1):
        if epsilon > random.random():
            action = env.action_space.sample()
        else:
            action = int(np.argmax(q_network.predict(state, verbose=0)))
        next_state, reward, terminated, truncated, _ = env.step(action)
        next_state = np.reshape(next_state, [1, n_obs])
        memory.append((state, action, reward, terminated, next_state))
        state = next_state
        if terminated or truncated:
            state, _ = env.reset()
            state = np.reshape(state, [1, n_obs])
        epsilon = max(0.05, epsilon * 0.99)
        if len(memory) >= batch_len:
            states, actions, rewards, dones, next_states = zip(*random.sample(memory, batch_len))
            states, next_states = np.concatenate(states), np.concatenate(next_states)
            q_values = q_network.predict(states, verbose=0, batch_size=batch_len)
            next_q = target_network.predict(next_states, verbose=0, batch_size=batch_len)
            for i in range(batch_len):
                q_values[i, actions[i]] = rewards[i] + (0.0 if dones[i] else gamma * np.max(next_q[i]))
            q_network.fit(states, q_values, batch_size=batch_len, epochs=1, verbose=0)
        if step % 100 == 0:
            target_network.set_weights(q_network.get_weights())
    seconds = time.perf_counter() - t0
    env.close()
    return {
        "env_steps": steps,
        "train_seconds": seconds,
        "train_steps_per_s": steps / seconds,
        "import_seconds": t_imported - _T_START,
        "versions": {"keras": keras.__version__, "tensorflow": _version("tensorflow")},
    }


def complete_config(run: dict[str, Any]) -> dict[str, Any]:
    """The config a run recorded, with any `DQNConfig` field added since filled in at its default (it had that
    value then) for tfdqn's runs; other systems' configs as recorded."""
    recorded = run.get("config") or {}
    if not str(run.get("system", "")).startswith("tfdqn"):
        return dict(recorded)
    from tfdqn import DQNConfig

    return {**DQNConfig().to_dict(), **recorded}


def _version(module: str) -> str:
    return importlib.import_module(module).__version__


def worker_main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Run one system of the cartpole benchmark once; write its JSON.")
    p.add_argument("system", choices=tuple(SYSTEMS))
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--env", default=ENV_ID, choices=tuple(TASKS))
    p.add_argument("--config", default=None, help="JSON object of DQNConfig fields overriding tfdqn's config")
    p.add_argument(
        "--preset",
        default="auto",
        help="the preset tfdqn's config starts from: auto (default: the "
        "environment's own), none (the plain DQNConfig defaults) or a name",
    )
    args = p.parse_args(argv)
    if args.system == "sb3_zoo":
        record = run_sb3(args.seed, args.steps, args.env)
    elif args.system == "tutorial":
        record = run_tutorial(args.seed, args.steps)
    else:
        record = run_tfdqn(
            args.seed,
            args.steps,
            zoo=args.system == "tfdqn_zoo",
            env_id=args.env,
            overrides=json.loads(args.config) if args.config else None,
            preset=args.preset,
        )
    record.update(
        system=args.system,
        env_id=args.env,
        seed=args.seed,
        step_budget=args.steps,
        process_seconds=time.perf_counter() - _T_START,
    )
    args.out.write_text(json.dumps(record, indent=1, default=_json_default), encoding="utf-8")
    return 0


def _json_default(x):
    if hasattr(x, "tolist"):
        return x.tolist()
    if isinstance(x, tuple):
        return list(x)
    raise TypeError(f"{type(x).__name__} is not JSON serialisable")


def run_worker(system: str, seed: int, steps: int, env_id: str, out: Path, *extra: str) -> dict[str, Any]:
    """Run the worker above (`python scripts/benchmark_systems.py SYSTEM ...`) in a fresh one-thread process
    and return its record, with `wall_seconds` (the process's, import included) added; `extra` are more
    worker flags (`--config JSON`, `--preset NAME`). A failed worker raises with the end of its stderr."""
    t0 = time.perf_counter()
    argv = [a.replace("{python}", sys.executable) for a in worker_argv(system, seed, steps, env_id, str(out), *extra)]
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=thread_env())
    if proc.returncode != 0:
        raise RuntimeError(f"{system} {env_id} seed {seed} failed:\n{proc.stderr[-3000:]}")
    record = json.loads(Path(out).read_text(encoding="utf-8"))
    record["wall_seconds"] = time.perf_counter() - t0
    return record


def worker_argv(system: str, seed: int, steps: int, env_id: str, out: str, *extra: str) -> tuple[str, ...]:
    """The worker's command line ("{python}": the interpreter; a sweep's task fills it in on its node)."""
    return (
        "{python}",
        str(ROOT / "scripts" / "benchmark_systems.py"),
        system,
        "--seed",
        str(seed),
        "--steps",
        str(steps),
        "--env",
        env_id,
        "--out",
        out,
        *extra,
    )


# ----- pure helpers of the report ----------------------------------------------------------------------
def thread_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker process: one thread for OpenMP/MKL, quiet TensorFlow."""
    from tfdqn.experiments.sweep import worker_env

    return worker_env(base)


def band(
    curves: list[tuple[list[float], list[float]]], grid: list[float] | Any, carry_forward: bool = False
) -> tuple[Any, Any, Any]:
    """Median and 25-75% band of several curves (x ascending) on a common grid.

    `carry_forward=False` interpolates linearly (NaN outside a curve's x range); `True` holds each curve's
    last value at or before the grid point (a step function, the last value carried on past its end) and
    gives NaN before its first point. The statistics are NaN wherever some curve is NaN.
    """
    import numpy as np

    grid = np.asarray(grid, dtype=float)
    rows = []
    for xs, ys in curves:
        xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        if len(xs) == 0:
            rows.append(np.full(len(grid), np.nan))
            continue
        if carry_forward:
            idx = np.searchsorted(xs, grid, side="right") - 1
            row = np.where(idx >= 0, ys[np.clip(idx, 0, None)], np.nan)
        else:
            row = np.interp(grid, xs, ys, left=np.nan, right=np.nan)
        rows.append(row)
    m = np.vstack(rows)
    bad = np.isnan(m).any(axis=0)
    with np.errstate(all="ignore"):
        med, q25, q75 = (np.percentile(np.where(bad, 0.0, m), q, axis=0) for q in (50, 25, 75))
    med[bad] = q25[bad] = q75[bad] = np.nan
    return med, q25, q75


def _median_or_inf(values: list[float | None]) -> float | None:
    """Median where a missing value (not solved) counts as worse than any; None if the median is one."""
    if not values:
        return None
    m = statistics.median([math.inf if v is None else v for v in values])
    return None if math.isinf(m) else m


def _none_if_inf(interval: tuple[float, float]) -> list[float | None]:
    return [None if math.isinf(v) else v for v in interval]


LATE_EVALUATIONS = 10


def late_mean(run: dict) -> float:
    """The mean of a run's last `LATE_EVALUATIONS` greedy evaluations: where its policy stood over the end of the
    budget, a steadier figure than the final policy's one score (NaN for a run without evaluations)."""
    means = [e["mean"] for e in run.get("evaluations") or []][-LATE_EVALUATIONS:]
    return statistics.fmean(means) if means else math.nan


def summarize(runs: list[dict[str, Any]], threshold: float = THRESHOLD) -> dict[str, dict[str, Any]]:
    """Per-system medians (with bootstrap 95% intervals) and counts (with Wilson intervals) from the raw runs."""
    from tfdqn.experiments import stats

    out: dict[str, dict[str, Any]] = {}
    for system in SYSTEMS:
        rs = sorted((r for r in runs if r["system"] == system), key=lambda r: r["seed"])
        if not rs:
            continue
        sps = [r["train_steps_per_s"] for r in rs]
        s: dict[str, Any] = {
            "runs": len(rs),
            "median_train_steps_per_s": statistics.median(sps),
            "ci_train_steps_per_s": list(stats.bootstrap_ci(sps)),
            "median_process_seconds": statistics.median(r["process_seconds"] for r in rs),
            "median_import_seconds": statistics.median(r["import_seconds"] for r in rs),
        }
        if system in LEARNERS:
            best = [r["best_100"]["mean"] if r.get("best_100") else None for r in rs]
            final = [r["final_100"]["mean"] if r.get("final_100") else None for r in rs]
            steps = [r["solved_step"] for r in rs]
            seconds = [r["solved_train_seconds"] for r in rs]
            n_best = sum(b is not None and b >= threshold for b in best)
            n_final = sum(f is not None and f >= threshold for f in final)
            late = [v for v in map(late_mean, rs) if not math.isnan(v)]
            s.update(
                solved=sum(v is not None for v in steps),
                solved_steps=steps,
                solved_seconds=seconds,
                median_solved_step=_median_or_inf(steps),
                ci_solved_step=_none_if_inf(stats.bootstrap_ci(steps)),
                max_solved_step=None if any(v is None for v in steps) else max(steps),
                median_solved_seconds=_median_or_inf(seconds),
                ci_solved_seconds=_none_if_inf(stats.bootstrap_ci(seconds)),
                median_train_seconds=statistics.median(r["train_seconds"] for r in rs),
                best_ge_threshold=n_best,
                ci_best_rate=list(stats.wilson_ci(n_best, len(rs))),
                final_ge_threshold=n_final,
                ci_final_rate=list(stats.wilson_ci(n_final, len(rs))),
                best_100=best,
                final_100=final,
                median_best_100=statistics.median(b for b in best if b is not None)
                if any(b is not None for b in best)
                else None,
                median_final_100=statistics.median(f for f in final if f is not None)
                if any(f is not None for f in final)
                else None,
                ci_final_100=list(stats.bootstrap_ci([f for f in final if f is not None]))
                if any(f is not None for f in final)
                else None,
                late_mean=[round(v, 1) for v in late],
                median_late_mean=statistics.median(late) if late else None,
                ci_late_mean=list(stats.bootstrap_ci(late)) if late else None,
                median_stop_step=_median_or_inf([(r.get("stop_on_reward") or {}).get("step") for r in rs]),
                max_loss=max_loss(rs),
            )
        out[system] = s
    return out


def max_loss(runs: list[dict[str, Any]]) -> float | None:
    """The largest loss any of `runs` recorded; None when none did (SB3 records no loss), not a made-up 0."""
    return max((r["max_loss"] for r in runs if r.get("max_loss") is not None), default=None)


def _f(x, fmt: str = ",.0f", none: str = "-") -> str:
    return none if x is None else format(x, fmt)


def _ratio(a, b) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def _ci(interval, fmt: str = ",.0f") -> str:
    from tfdqn.experiments import stats

    if interval is None:
        return "-"
    return stats.fmt_interval(tuple(math.inf if v is None else v for v in interval), fmt)


def _rate_target(name: str, k: int, n: int, fraction: float, ci: list[float]) -> tuple[str, bool, str, str]:
    """A "k of n seeds at least `fraction`" target: met on these seeds when k >= ceil(fraction * n); the Wilson
    interval supports a rate of at least `fraction` only when its lower bound reaches it."""
    from tfdqn.experiments import stats

    need = math.ceil(fraction * n - 1e-9)
    return (
        name,
        k >= need,
        stats.verdict(tuple(ci), fraction, "higher"),
        f"{k}/{n} seeds; 95% interval of the rate [{ci[0]:.2f}, {ci[1]:.2f}] (target rate {fraction:.2f})",
    )


def _ratio_target(
    name: str,
    a: dict[str, Any],
    b: dict[str, Any],
    what: str,
    limit: float,
    fmt: str = ",.0f",
    unit: str = "",
    note: str = "",
) -> tuple[str, bool, str, str]:
    """A "median of a <= limit x median of b" target on `what` ("step" or "seconds"): the ratio of medians and
    its bootstrap interval (each system resampled on its own)."""
    from tfdqn.experiments import stats

    values, median = {
        "step": ("solved_steps", "median_solved_step"),
        "seconds": ("solved_seconds", "median_solved_seconds"),
    }[what]
    ci = stats.ratio_ci(a[values], b[values])
    r = _ratio(a[median], b[median])
    met = a[median] is not None and (b[median] is None or r <= limit)
    return (
        name,
        met,
        stats.verdict(ci, limit, "lower"),
        f"{_f(a[median], fmt, 'not solved')}{unit} vs {_f(b[median], fmt, 'not solved')}{unit} ({_f(r, '.2f')}x; "
        f"95% interval of the ratio {_ci(ci, '.2f')}{note})",
    )


def targets(
    summary: dict[str, dict[str, Any]], env_id: str = ENV_ID, budget: int | None = None
) -> list[tuple[str, bool | None, str, str]]:
    """(target, met on these seeds?, what the 95% interval supports: met/missed/undecided, figures) for each
    of the robust-learning issue's targets that the runs can decide."""
    from tfdqn.experiments import stats

    out: list[tuple[str, bool | None, str, str]] = []
    t1, sb, t3, tut = (summary.get(k) for k in ("tfdqn_default", "sb3_zoo", "tfdqn_zoo", "tutorial"))
    th = TASKS[env_id]["threshold"]
    if env_id == "CartPole-v1":
        if t3 and sb:
            out.append(
                _ratio_target(
                    "equal settings: tfdqn at RL-Zoo settings within 1.25x SB3's median env steps to solve",
                    t3,
                    sb,
                    "step",
                    1.25,
                )
            )
        if t1:
            m, ci = t1["median_solved_step"], t1["ci_solved_step"]
            out.append(
                (
                    "defaults: median env steps to the first evaluation >= 475 <= 8,000",
                    m is not None and m <= 8_000,
                    stats.verdict(tuple(math.inf if v is None else v for v in ci), 8_000, "lower"),
                    f"median {_f(m, none='not solved')}, 95% interval {_ci(ci)}",
                )
            )
            mx = t1["max_solved_step"]
            out.append(
                (
                    "defaults: every seed's first evaluation >= 475 within 20,000 env steps",
                    mx is not None and mx <= 20_000,
                    "-",
                    f"slowest seed {_f(mx, none='not solved in the budget')} (a maximum over the seeds run: no "
                    "interval)",
                )
            )
            out.append(
                _rate_target(
                    "defaults: best.keras >= 475 on 100 fresh episodes in 10/10 seeds",
                    t1["best_ge_threshold"],
                    t1["runs"],
                    1.0,
                    t1["ci_best_rate"],
                )
            )
            name = f"defaults: final policy after {budget or BUDGET:,} steps (no early stop) >= 475 in >= 9/10"
            k, n = t1["final_ge_threshold"], t1["runs"]
            row = _rate_target(name, k, n, 0.9, t1["ci_final_rate"])
            if sb:
                row = row[:3] + (row[3] + f"; SB3 RL-Zoo {sb['final_ge_threshold']}/{sb['runs']}",)
            out.append(row)
        if t1 and sb:
            out.append(
                _ratio_target(
                    "defaults: median train-only seconds to solve <= 0.5x SB3 RL-Zoo's",
                    t1,
                    sb,
                    "seconds",
                    0.5,
                    ".1f",
                    " s",
                )
            )
        if t3 and sb:
            ratio = _ratio(t3["median_train_steps_per_s"], sb["median_train_steps_per_s"])
            lo = _ratio(t3["ci_train_steps_per_s"][0], sb["ci_train_steps_per_s"][1])
            out.append(
                (
                    "equal settings: tfdqn train-only env steps/s >= 2x SB3's",
                    ratio >= 2.0,
                    "met" if lo is not None and lo >= 2.0 else "undecided",
                    f"{ratio:.2f}x ({t3['median_train_steps_per_s']:,.0f} vs {sb['median_train_steps_per_s']:,.0f} "
                    f"env steps/s; the ratio of the intervals' facing ends is {_f(lo, '.2f')}x)",
                )
            )
        if tut and t1:
            r = _ratio(tut["median_train_steps_per_s"], t1["median_train_steps_per_s"])
            out.append(
                (
                    "tutorial-style loop throughput, as a ratio to tfdqn defaults' (reported, no target)",
                    None,
                    "-",
                    f"{r:.4f}x ({tut['median_train_steps_per_s']:,.1f} vs {t1['median_train_steps_per_s']:,.0f} "
                    f"env steps/s: tfdqn is {1 / r:,.0f}x faster)",
                )
            )
    else:
        if t1:
            n = t1["runs"]
            out.append(
                _rate_target(
                    f"defaults: best.keras >= {th:g} on 100 fresh episodes in >= 8/10 seeds",
                    t1["best_ge_threshold"],
                    n,
                    0.8,
                    t1["ci_best_rate"],
                )
            )
            out.append(
                _rate_target(
                    f"defaults: final policy >= {th:g} in >= 7/10 seeds",
                    t1["final_ge_threshold"],
                    n,
                    0.7,
                    t1["ci_final_rate"],
                )
            )
        if t1 and sb:
            out.append(
                _ratio_target(
                    f"defaults: median env steps to the first evaluation >= {th:g} below SB3 RL-Zoo's",
                    t1,
                    sb,
                    "step",
                    1.0,
                    note=f"; SB3 over {sb['runs']} seeds",
                )
            )
    return out


def render_report(result: dict[str, Any]) -> str:
    """The Markdown report of a side-by-side benchmark result (`scripts/benchmark.py --suite cartpole` or
    `--suite lunarlander`)."""
    from tfdqn.experiments import stats  # noqa: F401  (intervals below)

    env_id = result.get("env_id", ENV_ID)
    task = TASKS[env_id]
    th = task["threshold"]
    runs, summary = result["runs"], result["summary"]
    labels = system_labels(result.get("preset"))
    title = {"CartPole-v1": "tfdqn vs Stable-Baselines3 vs a tutorial-style loop"}.get(
        env_id, "tfdqn vs Stable-Baselines3"
    )
    lines = [
        f"# {env_id}: {title}",
        "",
        f"Produced by `{result['command']}` on {result['date']}, "
        f"{result['seeds_done']} seed(s) ({result['seeds_requested']} requested"
        + (
            f", seeds {result['first_seed']} to {result['first_seed'] + result['seeds_requested'] - 1}"
            if result.get("first_seed")
            else ""
        )
        + "), "
        f"step budget {result['step_budget']:,} env steps per run; {result['duration_seconds'] / 60:.1f} minutes "
        "in all.",
        "",
        f"Machine: {result['machine']}. Each run is a fresh process (its import included) with one thread "
        "(`OMP_NUM_THREADS=1`, `MKL_NUM_THREADS=1`, `torch.set_num_threads(1)` / "
        "`tfdqn.configure_threads(1)`); runs are interleaved (seed by seed, every system in turn"
        + (f", {result['jobs']} at a time so each has one of the cores" if result.get("jobs", 1) > 1 else "")
        + ") so that drift in the machine's load hits all systems alike. Ratios are of medians measured "
        "in this same run.",
        "",
        f"Protocol, the same for every learner: a greedy evaluation of {task['eval_episodes']} episodes every "
        f"{task['eval_every']:,} env steps on a separate {env_id} seeded once (seed + 10,000), with "
        f"`tfdqn.dqn.evaluation.evaluate`; **solved** = first evaluation mean >= {th:g}; *train-only* time excludes "
        "the evaluations; no early stop (the whole budget runs); at the end the best evaluated policy (highest "
        "evaluation mean, earliest on ties) and the final policy are each evaluated on the same 100 fresh "
        "episodes (seed + 30,000).",
        "",
        "Intervals: 95%, percentile bootstrap over seeds (10,000 resamples) for medians and ratios of medians "
        "(an unsolved run counts as worse than any solve, so a bound can be 'not solved'); Wilson score "
        "intervals for k-of-n rates. A target is called **met** only where the whole interval is on the good "
        "side of it.",
        "",
        "## Summary (medians over seeds, 95% intervals in brackets)",
        "",
        "| system | solved | env steps to solve | train-only s to solve | train-only env steps/s | "
        f"best policy, 100 ep. | best >= {th:g} | final policy, 100 ep. | final >= {th:g} | "
        f"late | process s (import s) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for system, s in summary.items():
        if system in LEARNERS:
            lines.append(
                f"| {labels[system]} | {s['solved']}/{s['runs']} | {_f(s['median_solved_step'], none='not solved')} "
                f"{_ci(s.get('ci_solved_step'))} | {_f(s['median_solved_seconds'], '.1f', 'not solved')} "
                f"{_ci(s.get('ci_solved_seconds'), '.1f')} | {s['median_train_steps_per_s']:,.0f} | "
                f"{_f(s['median_best_100'], '.1f')} | {s['best_ge_threshold']}/{s['runs']} | "
                f"{_f(s['median_final_100'], '.1f')} {_ci(s.get('ci_final_100'), '.1f')} | "
                f"{s['final_ge_threshold']}/{s['runs']} | "
                f"{_f(s.get('median_late_mean'), '.1f')} {_ci(s.get('ci_late_mean'), '.1f')} | "
                f"{s['median_process_seconds']:.1f} ({s['median_import_seconds']:.1f}) |"
            )
        else:
            lines.append(
                f"| {labels[system]} ({result['tutorial_steps']} env steps, throughput only) | - | - | - | "
                f"{s['median_train_steps_per_s']:,.1f} | - | - | - | - | - | {s['median_process_seconds']:.1f} "
                f"({s['median_import_seconds']:.1f}) |"
            )
    lines += [
        "",
        f"*late*: each run's mean over its last {LATE_EVALUATIONS} greedy evaluations (the last "
        f"{LATE_EVALUATIONS * task['eval_every']:,} env steps), where its policy stood over the end of the budget: a "
        "steadier figure than the final policy's one score.",
        "",
        "## Targets",
        "",
        "| target | on these seeds | the 95% interval says | figures |",
        "| --- | --- | --- | --- |",
    ]
    for name, met, verdict, figures in targets(summary, env_id, result.get("step_budget")):
        on_seeds = "-" if met is None else ("**yes**" if met else "**no**")
        lines.append(f"| {name} | {on_seeds} | {verdict} | {figures} |")
    t1 = summary.get("tfdqn_default")
    if t1 and t1.get("median_stop_step") is not None:
        lines += [
            "",
            f"tfdqn defaults with `StopOnReward({th:g}, 100)` (a 100-episode confirmation, seed + 20,000) "
            f"would have stopped at a median of {t1['median_stop_step']:,.0f} env steps.",
        ]
    curves = result.get("curves_file", "cartpole_curves.png")
    lines += ["", f"![curves]({curves})", "", "## Per seed", ""]
    for system in SYSTEMS:
        rs = sorted((r for r in runs if r["system"] == system), key=lambda r: r["seed"])
        if not rs:
            continue
        lines += [f"### {labels[system]}", ""]
        if system in LEARNERS:
            lines += [
                "| seed | env steps to solve | train-only s to solve | StopOnReward would stop at | "
                "train-only env steps/s | train-only s | evaluation s | best eval (step) | best, 100 ep. | "
                "final, 100 ep. | late | max loss | process s |",
                "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            ]
            for r in rs:
                stop = (r.get("stop_on_reward") or {}).get("step")
                late = late_mean(r)
                best = r.get("best_100") or {}
                final = r.get("final_100") or {}
                lines.append(
                    f"| {r['seed']} | {_f(r['solved_step'], none='not solved')} | {_f(r['solved_train_seconds'], '.1f')} | "
                    f"{_f(stop)} | {r['train_steps_per_s']:,.0f} | {r['train_seconds']:.1f} | {r['eval_seconds']:.1f} | "
                    f"{_f(r['best_eval_mean'], '.1f')} ({_f(r['best_eval_step'])}) | "
                    f"{_f(best.get('mean'), '.1f')} ± {_f(best.get('std'), '.1f')} | "
                    f"{_f(final.get('mean'), '.1f')} ± {_f(final.get('std'), '.1f')} | "
                    f"{'-' if math.isnan(late) else format(late, '.1f')} | "
                    f"{_f(r.get('max_loss'), ',.1f')} | {r['process_seconds']:.1f} |"
                )
            lines.append("")
        else:
            lines += ["| seed | env steps | seconds | env steps/s | process s |", "| --- | --- | --- | --- | --- |"]
            for r in rs:
                lines.append(
                    f"| {r['seed']} | {r['env_steps']} | {r['train_seconds']:.1f} | "
                    f"{r['train_steps_per_s']:.1f} | {r['process_seconds']:.1f} |"
                )
            lines.append("")
    lines += ["## Settings", ""] + [f"- {line}" for line in result.get("settings_notes", [])]
    if result.get("load_averages"):
        lines += [
            "",
            "1-minute load average at the start and after each seed (2 cores): "
            + ", ".join(f"{x:.2f}" for x in result["load_averages"])
            + ".",
        ]
    if result.get("notes"):
        lines += ["", "## Notes", ""] + list(result["notes"])
    return "\n".join(lines) + "\n"


def plot_curves(runs: list[dict[str, Any]], path: Path, env_id: str = ENV_ID, preset: str | None = None) -> None:
    """Evaluation mean vs env steps and vs train-only seconds: median line and 25-75% band per system."""
    task = TASKS[env_id]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    colors = {"tfdqn_default": "tab:blue", "sb3_zoo": "tab:orange", "tfdqn_zoo": "tab:green"}
    max_t = max((r["evaluations"][-1]["train_seconds"] for r in runs if r.get("evaluations")), default=1.0)
    for system in LEARNERS:
        rs = [r for r in runs if r["system"] == system and r.get("evaluations")]
        if not rs:
            continue
        label = f"{system_labels(preset)[system]} (n={len(rs)})"
        by_step = [([e["step"] for e in r["evaluations"]], [e["mean"] for e in r["evaluations"]]) for r in rs]
        grid = np.arange(task["eval_every"], max(max(xs) for xs, _ in by_step) + 1, task["eval_every"])
        med, lo, hi = band(by_step, grid)
        axes[0].plot(grid, med, color=colors[system], label=label)
        axes[0].fill_between(grid, lo, hi, color=colors[system], alpha=0.2)
        by_time = [([e["train_seconds"] for e in r["evaluations"]], [e["mean"] for e in r["evaluations"]]) for r in rs]
        tgrid = np.linspace(0, max_t, 400)
        med, lo, hi = band(by_time, tgrid, carry_forward=True)
        axes[1].plot(tgrid, med, color=colors[system], label=label)
        axes[1].fill_between(tgrid, lo, hi, color=colors[system], alpha=0.2)
    for ax, xlabel in zip(axes, ("env steps", "train-only wall seconds (evaluations excluded)")):
        ax.axhline(task["threshold"], color="grey", linestyle="--", linewidth=0.8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"greedy evaluation mean ({task['eval_episodes']} episodes)")
        if env_id == "CartPole-v1":
            ax.set_ylim(0, 520)
        else:
            ax.set_ylim(-400, 320)
        ax.grid(alpha=0.3)
    axes[0].set_title(f"{env_id}: evaluation mean vs env steps (median, 25-75%)")
    axes[1].set_title("... vs train-only wall seconds (last value carried forward)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(worker_main())
