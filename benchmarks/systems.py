"""One run of one system, in this (fresh, one-thread) process: the worker of the side-by-side benchmarks.

`python -m benchmarks.systems SYSTEM --seed S --steps N --env ENV --out run.json` runs tfdqn (its config for
the environment, or RL-Zoo's settings), Stable-Baselines3 DQN with RL-Zoo's settings, or a tutorial-style Keras
loop once, under the shared evaluation protocol (`benchmarks.protocol.Protocol`), and writes the run as JSON.

Heavy imports (TensorFlow, torch) happen inside each runner, so a worker's `import_seconds` is its own
system's (the SB3 worker's excludes TensorFlow, which the shared evaluation needs) and the parent process
that collects runs imports neither.
"""

from __future__ import annotations

import time

_T_START = time.perf_counter()  # the worker's import time is measured from here

import argparse  # noqa: E402
import copy  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from benchmarks.protocol import Protocol  # noqa: E402
from benchmarks.tasks import ENV_ID, SYSTEMS, TASKS, tfdqn_sb3_settings  # noqa: E402
from benchmarks.tutorial import run_tutorial  # noqa: E402
from tfdqn.cli import prepare_process  # noqa: E402


class RunHooks:
    """Additions to a `run_tfdqn` run that must not change its learning (e.g. weight copies for averaging):
    listeners that follow the protocol's at every event (their time counts as training time; they reach the
    agent as `self.trainer.agent`), then new fields for the run's record. The base class adds nothing."""

    def listeners(self, config: Any) -> list:
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
    """tfdqn through `tfdqn.training.run.assemble` (no evaluation protocol of its own) with a Listener that drives
    the shared protocol. The config is what the training command uses for `env_id` (defaults + the environment's
    preset; `preset` None or "none": the plain defaults), or RL-Zoo's settings with `zoo`; `overrides`
    (screening experiments) replace fields on top, but for the seed; `hooks` add listeners and record fields
    without changing the run."""
    if overrides and "seed" in overrides:
        raise ValueError("a run's seed is its --seed, not a config override")
    prepare_process()  # before TensorFlow loads (quiet logs)
    import keras  # heavy: inside the runner, see the module's docstring

    import tfdqn
    from tfdqn.networks.export import export_q_network
    from tfdqn.training.run import assemble

    tfdqn.configure_threads(1)
    t_imported = time.perf_counter()
    task = TASKS[env_id]
    config = tfdqn.config_for_env(env_id, preset).replace(seed=seed)  # the defaults as they are now
    if zoo:
        config = config.replace(**tfdqn_sb3_settings(steps, env_id))
    if overrides:
        config = tfdqn.DQNConfig.from_dict({**config.to_dict(), **overrides})
    protocol = Protocol(seed, task["eval_every"], task["eval_episodes"], env_id=env_id, threshold=task["threshold"])
    losses: list[float] = []
    q_max: list[float] = []

    class ProtocolListener(tfdqn.Listener):
        def on_train_begin(self, logs=None):
            self.agent = self.trainer.agent
            protocol.start()

        def on_step(self, step, logs=None):
            protocol.maybe_evaluate(step, self.agent.greedy, self.agent.q_network.get_weights)

        def on_replay_end(self, logs=None):
            losses.append(logs["loss"])
            q_max.append(abs(logs["mean_q"]))

        def on_train_end(self, logs=None):
            protocol.stop(logs["step"])

    hooks = hooks or RunHooks()
    run = assemble(config, listeners=[ProtocolListener(), *hooks.listeners(config)])
    try:
        run.train(steps)
    finally:
        run.close()
    agent = run.agent

    def make_policy(weights):
        model = tfdqn.clone_network(agent.q_network, name="best")
        model.set_weights(weights)
        return tfdqn.greedy_policy(export_q_network(model, config))  # noisy at its mean, C51 as Q-values

    record = protocol.finish(make_policy, agent.greedy)
    record.update(
        import_seconds=t_imported - _T_START,
        gradient_steps=run.trainer.updates,
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
    # heavy and optional (requirements-bench.txt): inside the runner, see the module's docstring
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


def _version(module: str) -> str:
    return importlib.import_module(module).__version__


def json_default(x: Any) -> Any:
    """JSON for NumPy arrays and scalars (`tolist`) and tuples, in a worker's record."""
    if hasattr(x, "tolist"):
        return x.tolist()
    if isinstance(x, tuple):
        return list(x)
    raise TypeError(f"{type(x).__name__} is not JSON serialisable")


def main(argv: list[str] | None = None) -> int:
    """The worker: run one system once and write its record (`--out`)."""
    p = argparse.ArgumentParser(description="Run one system of a side-by-side benchmark once; write its JSON.")
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
        record = run_tutorial(args.seed, args.steps, started=_T_START)
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
    args.out.write_text(json.dumps(record, indent=1, default=json_default), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
