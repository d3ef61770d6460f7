"""The CartPole side-by-side benchmark: tfdqn against Stable-Baselines3 and a tutorial-style Keras loop.

`scripts/benchmark.py --suite cartpole` drives it; this module holds

- the worker: `python scripts/benchmark_systems.py SYSTEM --seed S --steps N --out run.json` runs ONE
  system once in this (fresh) process, one thread, and writes the run as JSON;
- the evaluation protocol shared by every system (`Protocol`): a greedy evaluation of 20 episodes every
  1,000 env steps on a separate CartPole-v1 seeded once (seed + 10,000), with `tfdqn.evaluation.evaluate`;
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
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

ENV_ID = "CartPole-v1"
THRESHOLD = 475.0
EVAL_EVERY = 1_000
EVAL_EPISODES = 20
FINAL_EPISODES = 100
CONFIRM_EPISODES = 100
BUDGET = 50_000

# RL-Zoo's tuned DQN hyperparameters for CartPole-v1 (rl-baselines3-zoo, hyperparams/dqn.yml).
RL_ZOO_CARTPOLE = {"learning_rate": 2.3e-3, "batch_size": 64, "buffer_size": 100_000, "learning_starts": 1_000,
                   "gamma": 0.99, "target_update_interval": 10, "train_freq": 256, "gradient_steps": 128,
                   "exploration_fraction": 0.16, "exploration_final_eps": 0.04,
                   "policy_kwargs": {"net_arch": [256, 256]}}


def tfdqn_sb3_settings(budget: int = BUDGET) -> dict[str, Any]:
    """The DQNConfig fields that reproduce RL_ZOO_CARTPOLE (and SB3's fixed choices) in tfdqn."""
    z = RL_ZOO_CARTPOLE
    return {"learning_rate": z["learning_rate"], "batch_size": z["batch_size"], "buffer_size": z["buffer_size"],
            "learning_starts": z["learning_starts"], "gamma": z["gamma"],
            "target_update_interval": z["target_update_interval"], "train_freq": z["train_freq"],
            "gradient_steps": z["gradient_steps"], "exploration": "linear", "epsilon_start": 1.0,
            "epsilon_end": z["exploration_final_eps"],
            "epsilon_decay_steps": int(z["exploration_fraction"] * budget),
            "hidden_sizes": tuple(z["policy_kwargs"]["net_arch"]),
            # SB3 DQN's fixed choices: global grad-norm clip 10, smooth L1 (= Huber, delta 1), plain DQN
            # target, hard target copy, one environment.
            "max_grad_norm": 10.0, "loss": "huber", "double_dqn": False, "tau": 1.0, "num_envs": 1}


SYSTEMS: dict[str, str] = {
    "tfdqn_default": "tfdqn, default config",
    "sb3_zoo": "SB3 DQN, RL-Zoo tuned",
    "tfdqn_zoo": "tfdqn, RL-Zoo settings",
    "tutorial": "tutorial-style Keras loop",
}
LEARNERS = ("tfdqn_default", "sb3_zoo", "tfdqn_zoo")
EXTRAS_MESSAGE = ("error: the cartpole suite needs torch and stable-baselines3: "
                  "pip install -r requirements-bench.txt")


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

    def __init__(self, seed: int, every: int = EVAL_EVERY, episodes: int = EVAL_EPISODES,
                 confirm_episodes: int = CONFIRM_EPISODES):
        import gymnasium as gym
        from tfdqn.evaluation import evaluate

        self._evaluate = evaluate
        self.seed, self.every, self.episodes, self.confirm_episodes = seed, every, episodes, confirm_episodes
        self.eval_env = gym.make(ENV_ID)
        self.confirm_env = gym.make(ENV_ID)
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
        record = {"step": step, "mean": result.mean, "std": result.std,
                  "train_seconds": self.train_seconds(t_in), "total_seconds": t_in - self.t0}
        self.evaluations.append(record)
        if result.mean > self.best_mean:  # ties keep the earliest
            self.best_mean, self.best_step, self.best_weights = result.mean, step, snapshot()
        if self.stop_on_reward is None and result.mean >= THRESHOLD:
            # What tfdqn's StopOnReward(475, 100) would do: confirm on 100 fresh episodes, stop if confirmed.
            confirm = self._evaluate(policy, self.confirm_env, self.confirm_episodes,
                                     None if self._confirm_seeded else self.seed + 20_000)
            self._confirm_seeded = True
            self.confirmations.append({"step": step, "mean": confirm.mean})
            if confirm.mean >= THRESHOLD:
                self.stop_on_reward = {"step": step, "mean": confirm.mean, "train_seconds": record["train_seconds"]}
        self.eval_seconds += time.perf_counter() - t_in

    def stop(self, steps: int) -> None:
        self.t_end = time.perf_counter()
        self.steps = steps

    def finish(self, make_policy: Callable[[Any], Callable], final_policy: Callable) -> dict[str, Any]:
        """The run's record: evaluations, solve point, train-only rate, best and final on 100 episodes."""
        import gymnasium as gym

        train_s = self.train_seconds(self.t_end)
        solved = next((e for e in self.evaluations if e["mean"] >= THRESHOLD), None)
        scores = {}
        for name, policy in (("final", final_policy),
                             ("best", make_policy(self.best_weights) if self.best_weights is not None else None)):
            if policy is None:
                scores[name] = None
                continue
            env = gym.make(ENV_ID)
            r = self._evaluate(policy, env, FINAL_EPISODES, self.seed + 30_000)  # same episodes for both
            env.close()
            scores[name] = {"mean": r.mean, "std": r.std, "episodes": FINAL_EPISODES}
        self.eval_env.close()
        self.confirm_env.close()
        return {"env_steps": self.steps, "train_seconds": train_s, "eval_seconds": self.eval_seconds,
                "train_steps_per_s": self.steps / train_s if train_s > 0 else None,
                "evaluations": self.evaluations,
                "solved_step": solved["step"] if solved else None,
                "solved_train_seconds": solved["train_seconds"] if solved else None,
                "best_eval_step": self.best_step, "best_eval_mean": self.best_mean if self.best_step is not None else None,
                "best_100": scores["best"], "final_100": scores["final"],
                "stop_on_reward": self.stop_on_reward, "confirmations": self.confirmations}


# ----- the systems (each runs in its own process) ------------------------------------------------------
def run_tfdqn(seed: int, steps: int, zoo: bool) -> dict[str, Any]:
    """tfdqn through its public API: Trainer + a Listener that drives the shared protocol."""
    from tfdqn.cli import prepare_process

    prepare_process()
    import keras

    import tfdqn

    tfdqn.configure_threads(1)
    t_imported = time.perf_counter()
    config = tfdqn.DQNConfig().replace(seed=seed)  # the defaults as they are now
    if zoo:
        config = config.replace(**tfdqn_sb3_settings(steps))
    keras.utils.set_random_seed(seed)
    env = tfdqn.make_vec_env(config.env_id, config.num_envs)
    agent = tfdqn.DQNAgent.from_spaces(env.single_observation_space, env.single_action_space, config)
    protocol = Protocol(seed)

    class ProtocolListener(tfdqn.Listener):
        def on_train_begin(self, logs=None):
            protocol.start()

        def on_step(self, step, logs=None):
            protocol.maybe_evaluate(step, agent.greedy, agent.q_network.get_weights)

        def on_train_end(self, logs=None):
            protocol.stop(logs["step"])

    trainer = tfdqn.Trainer(agent, env, config, [ProtocolListener()])
    trainer.train(steps)
    env.close()

    def make_policy(weights):
        model = tfdqn.clone_network(agent.q_network, name="best")
        model.set_weights(weights)
        return tfdqn.greedy_policy(model)

    record = protocol.finish(make_policy, agent.greedy)
    record.update(import_seconds=t_imported - _T_START, gradient_steps=trainer.updates, config=config.to_dict(),
                  versions={"tfdqn": tfdqn.__version__, "keras": keras.__version__, "tensorflow": _version("tensorflow")})
    return record


def run_sb3(seed: int, steps: int) -> dict[str, Any]:
    """Stable-Baselines3 DQN with RL-Zoo's CartPole settings; greedy evaluation straight from `q_net`."""
    import copy

    import gymnasium as gym
    import stable_baselines3
    import torch
    from stable_baselines3 import DQN
    from stable_baselines3.common.callbacks import BaseCallback

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    t_imported = time.perf_counter()
    protocol = Protocol(seed)  # imports tfdqn.evaluation (and so TensorFlow): not counted in import_seconds
    model = DQN("MlpPolicy", gym.make(ENV_ID), seed=seed, device="cpu", verbose=0, **RL_ZOO_CARTPOLE)

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
            protocol.maybe_evaluate(self.num_timesteps, live_policy,
                                    lambda: copy.deepcopy(model.q_net.state_dict()))
            return True

        def _on_training_end(self) -> None:
            protocol.stop(self.num_timesteps)

    model.learn(total_timesteps=steps, callback=ProtocolCallback())

    def make_policy(state_dict):
        q_net = copy.deepcopy(model.q_net)
        q_net.load_state_dict(state_dict)
        return greedy_of(q_net)

    record = protocol.finish(make_policy, live_policy)
    record.update(import_seconds=t_imported - _T_START, gradient_steps=int(model._n_updates),
                  config={k: v for k, v in RL_ZOO_CARTPOLE.items()},
                  versions={"stable_baselines3": stable_baselines3.__version__, "torch": torch.__version__})
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
        model = keras.Sequential([keras.Input((n_obs,)), keras.layers.Dense(256, activation="relu"),
                                  keras.layers.Dense(256, activation="relu"),
                                  keras.layers.Dense(n_actions, activation="linear")])
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
    return {"env_steps": steps, "train_seconds": seconds, "train_steps_per_s": steps / seconds,
            "import_seconds": t_imported - _T_START,
            "versions": {"keras": keras.__version__, "tensorflow": _version("tensorflow")}}


def _version(module: str) -> str:
    return importlib.import_module(module).__version__



def worker_main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Run one system of the cartpole benchmark once; write its JSON.")
    p.add_argument("system", choices=tuple(SYSTEMS))
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.system == "sb3_zoo":
        record = run_sb3(args.seed, args.steps)
    elif args.system == "tutorial":
        record = run_tutorial(args.seed, args.steps)
    else:
        record = run_tfdqn(args.seed, args.steps, zoo=args.system == "tfdqn_zoo")
    record.update(system=args.system, seed=args.seed, step_budget=args.steps,
                  process_seconds=time.perf_counter() - _T_START)
    args.out.write_text(json.dumps(record, indent=1, default=_json_default), encoding="utf-8")
    return 0


def _json_default(x):
    if hasattr(x, "tolist"):
        return x.tolist()
    if isinstance(x, tuple):
        return list(x)
    raise TypeError(f"{type(x).__name__} is not JSON serialisable")


# ----- pure helpers of the report ----------------------------------------------------------------------
def thread_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker process: one thread for OpenMP/MKL, quiet TensorFlow."""
    env = dict(os.environ if base is None else base)
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONUNBUFFERED="1")
    return env


def band(curves: list[tuple[list[float], list[float]]], grid: list[float] | Any,
         carry_forward: bool = False) -> tuple[Any, Any, Any]:
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


def summarize(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per-system medians and counts from the raw runs."""
    out: dict[str, dict[str, Any]] = {}
    for system in SYSTEMS:
        rs = sorted((r for r in runs if r["system"] == system), key=lambda r: r["seed"])
        if not rs:
            continue
        s: dict[str, Any] = {"runs": len(rs),
                             "median_train_steps_per_s": statistics.median(r["train_steps_per_s"] for r in rs),
                             "median_process_seconds": statistics.median(r["process_seconds"] for r in rs),
                             "median_import_seconds": statistics.median(r["import_seconds"] for r in rs)}
        if system in LEARNERS:
            best = [r["best_100"]["mean"] if r.get("best_100") else None for r in rs]
            final = [r["final_100"]["mean"] if r.get("final_100") else None for r in rs]
            s.update(
                solved=sum(r["solved_step"] is not None for r in rs),
                median_solved_step=_median_or_inf([r["solved_step"] for r in rs]),
                median_solved_seconds=_median_or_inf([r["solved_train_seconds"] for r in rs]),
                median_train_seconds=statistics.median(r["train_seconds"] for r in rs),
                best_ge_threshold=sum(b is not None and b >= THRESHOLD for b in best),
                final_ge_threshold=sum(f is not None and f >= THRESHOLD for f in final),
                median_best_100=statistics.median(b for b in best if b is not None) if any(
                    b is not None for b in best) else None,
                median_final_100=statistics.median(f for f in final if f is not None) if any(
                    f is not None for f in final) else None,
                median_stop_step=_median_or_inf([(r.get("stop_on_reward") or {}).get("step") for r in rs]))
        out[system] = s
    return out


def _f(x, fmt: str = ",.0f", none: str = "-") -> str:
    return none if x is None else format(x, fmt)


def _ratio(a, b) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def targets(summary: dict[str, dict[str, Any]]) -> list[tuple[str, bool | None, str]]:
    """(target, met?, figures) for each of the issue's targets that the runs can decide."""
    out = []
    t1, sb, t3, tut = (summary.get(k) for k in ("tfdqn_default", "sb3_zoo", "tfdqn_zoo", "tutorial"))
    if t3 and sb:
        r = _ratio(t3["median_train_steps_per_s"], sb["median_train_steps_per_s"])
        out.append(("equal settings: tfdqn train-only env steps/s >= 2x SB3's", r >= 2.0,
                    f"{r:.2f}x ({t3['median_train_steps_per_s']:,.0f} vs {sb['median_train_steps_per_s']:,.0f} "
                    f"env steps/s)" + ("" if r >= 2.0 else f"; short of 2x by {100 * (1 - r / 2):.0f}%")))
    if t1 and sb:
        a, b = t1["median_solved_step"], sb["median_solved_step"]
        met = a is not None and (b is None or a < b)
        out.append(("tfdqn defaults solve in fewer median env steps than SB3 tuned", met,
                    f"{_f(a, none='not solved')} vs {_f(b, none='not solved')}"
                    + (f" ({_ratio(a, b):.2f}x)" if a is not None and b is not None else "")))
        a, b = t1["median_solved_seconds"], sb["median_solved_seconds"]
        met = a is not None and (b is None or a < b)
        out.append(("tfdqn defaults solve in fewer median train-only wall seconds than SB3 tuned", met,
                    f"{_f(a, '.1f', 'not solved')} s vs {_f(b, '.1f', 'not solved')} s"
                    + (f" ({_ratio(a, b):.2f}x)" if a is not None and b is not None else "")))
        a, b = t1["best_ge_threshold"], sb["best_ge_threshold"]
        out.append(("tfdqn defaults: best saved policy >= 475 on 100 episodes in more seeds than SB3 tuned",
                    a > b, f"{a}/{t1['runs']} vs {b}/{sb['runs']}" + (
                        "; a tie at the ceiling (every seed of both), so 'more' cannot be met"
                        if a == b == t1["runs"] == sb["runs"] else "" if a > b else f"; short by {b - a + 1} seed(s)")))
    if tut and t1:
        r = _ratio(tut["median_train_steps_per_s"], t1["median_train_steps_per_s"])
        out.append(("tutorial-style loop throughput, as a ratio to tfdqn defaults' (reported, no target)", None,
                    f"{r:.4f}x ({tut['median_train_steps_per_s']:,.1f} vs {t1['median_train_steps_per_s']:,.0f} "
                    f"env steps/s: tfdqn is {1 / r:,.0f}x faster)"))
    return out


def render_report(result: dict[str, Any]) -> str:
    """The Markdown report of a cartpole benchmark result (see `scripts/benchmark.py --suite cartpole`)."""
    runs, summary = result["runs"], result["summary"]
    lines = ["# CartPole-v1: tfdqn vs Stable-Baselines3 vs a tutorial-style loop", "",
             f"Produced by `{result['command']}` on {result['date']}, "
             f"{result['seeds_done']} seed(s) ({result['seeds_requested']} requested), "
             f"step budget {result['step_budget']:,} env steps per run; {result['duration_seconds'] / 60:.1f} minutes "
             "in all.", "",
             f"Machine: {result['machine']}. Each run is a fresh process (its import included) with one thread "
             "(`OMP_NUM_THREADS=1`, `MKL_NUM_THREADS=1`, `torch.set_num_threads(1)` / "
             "`tfdqn.configure_threads(1)`); runs are interleaved (for each seed, every system in turn) so "
             "that drift in the machine's load hits all systems alike. Ratios are of medians measured in this "
             "same run.", "",
             "Protocol, the same for every learner: a greedy evaluation of 20 episodes every 1,000 env steps on "
             "a separate CartPole-v1 seeded once (seed + 10,000), with `tfdqn.evaluation.evaluate`; **solved** = "
             "first evaluation mean >= 475; *train-only* time excludes the evaluations; no early stop (the whole "
             "budget runs); at the end the best evaluated policy (highest evaluation mean, earliest on ties) and "
             "the final policy are each evaluated on the same 100 fresh episodes (seed + 30,000).", "",
             "## Summary (medians over seeds)", "",
             "| system | solved | env steps to solve | train-only s to solve | train-only env steps/s | "
             "best policy, 100 ep. | best >= 475 | final policy, 100 ep. | final >= 475 | process s (import s) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for system, s in summary.items():
        if system in LEARNERS:
            lines.append(f"| {SYSTEMS[system]} | {s['solved']}/{s['runs']} | {_f(s['median_solved_step'], none='not solved')} | "
                         f"{_f(s['median_solved_seconds'], '.1f', 'not solved')} | {s['median_train_steps_per_s']:,.0f} | "
                         f"{_f(s['median_best_100'], '.1f')} | {s['best_ge_threshold']}/{s['runs']} | "
                         f"{_f(s['median_final_100'], '.1f')} | {s['final_ge_threshold']}/{s['runs']} | "
                         f"{s['median_process_seconds']:.1f} ({s['median_import_seconds']:.1f}) |")
        else:
            lines.append(f"| {SYSTEMS[system]} ({result['tutorial_steps']} env steps, throughput only) | - | - | - | "
                         f"{s['median_train_steps_per_s']:,.1f} | - | - | - | - | {s['median_process_seconds']:.1f} "
                         f"({s['median_import_seconds']:.1f}) |")
    lines += ["", "A median over runs that did not all solve counts an unsolved run as worse than any solved one "
              "('not solved' when that is the median).", "", "## Targets", "", "| target | met | figures |",
              "| --- | --- | --- |"]
    for name, met, figures in targets(summary):
        lines.append(f"| {name} | {'-' if met is None else ('**yes**' if met else '**no**')} | {figures} |")
    lines += ["", "Ratios tfdqn / SB3 (medians):", ""]
    t1, sb, t3 = (summary.get(k) for k in ("tfdqn_default", "sb3_zoo", "tfdqn_zoo"))
    if sb:
        for label, key, fmt in (("train-only env steps/s", "median_train_steps_per_s", ".2f"),
                                ("env steps to solve", "median_solved_step", ".2f"),
                                ("train-only seconds to solve", "median_solved_seconds", ".2f"),
                                ("best policy, 100 episodes", "median_best_100", ".3f"),
                                ("final policy, 100 episodes", "median_final_100", ".3f"),
                                ("process seconds", "median_process_seconds", ".2f")):
            cells = []
            for name, s in (("tfdqn defaults", t1), ("tfdqn RL-Zoo settings", t3)):
                if s:
                    cells.append(f"{name} / SB3: {_f(_ratio(s.get(key), sb.get(key)), fmt)}")
            lines.append(f"- {label}: " + "; ".join(cells))
    if t1 and t1.get("median_stop_step") is not None:
        lines += ["", f"tfdqn defaults with `StopOnReward(475, 100)` (a 100-episode confirmation, seed + 20,000) "
                      f"would have stopped at a median of {t1['median_stop_step']:,.0f} env steps."]
    lines += ["", "![curves](cartpole_curves.png)", "", "## Per seed", ""]
    for system in SYSTEMS:
        rs = sorted((r for r in runs if r["system"] == system), key=lambda r: r["seed"])
        if not rs:
            continue
        lines += [f"### {SYSTEMS[system]}", ""]
        if system in LEARNERS:
            lines += ["| seed | env steps to solve | train-only s to solve | StopOnReward would stop at | "
                      "train-only env steps/s | train-only s | evaluation s | best eval (step) | best, 100 ep. | "
                      "final, 100 ep. | process s |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
            for r in rs:
                stop = (r.get("stop_on_reward") or {}).get("step")
                best = r.get("best_100") or {}
                final = r.get("final_100") or {}
                lines.append(
                    f"| {r['seed']} | {_f(r['solved_step'], none='not solved')} | {_f(r['solved_train_seconds'], '.1f')} | "
                    f"{_f(stop)} | {r['train_steps_per_s']:,.0f} | {r['train_seconds']:.1f} | {r['eval_seconds']:.1f} | "
                    f"{_f(r['best_eval_mean'], '.1f')} ({_f(r['best_eval_step'])}) | "
                    f"{_f(best.get('mean'), '.1f')} ± {_f(best.get('std'), '.1f')} | "
                    f"{_f(final.get('mean'), '.1f')} ± {_f(final.get('std'), '.1f')} | {r['process_seconds']:.1f} |")
            solved = [r["solved_step"] for r in rs]
            lines += ["", f"Median env steps to solve {_f(_median_or_inf(solved), none='not solved')}, train-only "
                          f"seconds to solve {_f(_median_or_inf([r['solved_train_seconds'] for r in rs]), '.1f', 'not solved')}.", ""]
        else:
            lines += ["| seed | env steps | seconds | env steps/s | process s |", "| --- | --- | --- | --- | --- |"]
            for r in rs:
                lines.append(f"| {r['seed']} | {r['env_steps']} | {r['train_seconds']:.1f} | "
                             f"{r['train_steps_per_s']:.1f} | {r['process_seconds']:.1f} |")
            lines.append("")
    lines += ["## Settings", ""] + [f"- {line}" for line in result.get("settings_notes", [])]
    if result.get("load_averages"):
        lines += ["", "1-minute load average at the start and after each seed (2 cores; another process's work "
                      "shared the machine): " + ", ".join(f"{x:.2f}" for x in result["load_averages"]) + "."]
    if result.get("notes"):
        lines += ["", "## Notes", ""] + list(result["notes"])
    return "\n".join(lines) + "\n"


def plot_curves(runs: list[dict[str, Any]], path: Path) -> None:
    """Evaluation mean vs env steps and vs train-only seconds: median line and 25-75% band per system."""
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
        label = f"{SYSTEMS[system]} (n={len(rs)})"
        by_step = [([e["step"] for e in r["evaluations"]], [e["mean"] for e in r["evaluations"]]) for r in rs]
        grid = np.arange(EVAL_EVERY, max(max(xs) for xs, _ in by_step) + 1, EVAL_EVERY)
        med, lo, hi = band(by_step, grid)
        axes[0].plot(grid, med, color=colors[system], label=label)
        axes[0].fill_between(grid, lo, hi, color=colors[system], alpha=0.2)
        by_time = [([e["train_seconds"] for e in r["evaluations"]], [e["mean"] for e in r["evaluations"]]) for r in rs]
        tgrid = np.linspace(0, max_t, 400)
        med, lo, hi = band(by_time, tgrid, carry_forward=True)
        axes[1].plot(tgrid, med, color=colors[system], label=label)
        axes[1].fill_between(tgrid, lo, hi, color=colors[system], alpha=0.2)
    for ax, xlabel in zip(axes, ("env steps", "train-only wall seconds (evaluations excluded)")):
        ax.axhline(THRESHOLD, color="grey", linestyle="--", linewidth=0.8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("greedy evaluation mean (20 episodes)")
        ax.set_ylim(0, 520)
        ax.grid(alpha=0.3)
    axes[0].set_title("CartPole-v1: evaluation mean vs env steps (median, 25-75%)")
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
