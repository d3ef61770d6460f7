"""`assemble`: the one place a run is put together (env, agent, trainer, the protocol's listeners and seeds).

Every command, the sweep worker, `tfdqn.train` and the benchmarks call it, so a run means the same thing
everywhere: the same order of construction (and so the same weights for a seed), the same listeners, the
same evaluation seeds and the same files written when it ends (`Run.finish`).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import keras
import numpy as np
import tensorflow as tf

from tfdqn.config import DQNConfig
from tfdqn.dqn.agent import DQNAgent
from tfdqn.dqn.evaluation import evaluate_model, evaluation_step_cap, greedy_policy, record_gif, step_cap_line
from tfdqn.envs.make import make_vec_env, reward_threshold
from tfdqn.fileio import check_out_dir, write_json
from tfdqn.listeners.base import Listener
from tfdqn.listeners.checkpoint import ModelCheckpoint
from tfdqn.listeners.dispatch import ListenerList
from tfdqn.listeners.divergence import DivergenceAlarm
from tfdqn.listeners.evaluation import PeriodicEvaluation, StopOnReward
from tfdqn.listeners.metrics import MetricsLogger
from tfdqn.listeners.plotting import LivePlot
from tfdqn.listeners.progress import ProgressLogger
from tfdqn.listeners.tensorboard import TensorBoard
from tfdqn.networks.export import load_q_network
from tfdqn.training.protocol import CONFIRM_SEED_OFFSET, EVAL_SEED_OFFSET, FINAL_SEED_OFFSET, Protocol
from tfdqn.training.trainer import Trainer
from tfdqn.version import __version__


@dataclass
class Run:
    """One assembled run: its parts, ready to `train`; `finish` writes what every run leaves behind."""

    config: DQNConfig
    env: gym.vector.VectorEnv
    agent: DQNAgent
    trainer: Trainer
    out: Path | None = None
    protocol: Protocol | None = None
    checkpoint: ModelCheckpoint | None = None
    threshold: float | None = None
    eval_max_steps: int | None = None  # where greedy episodes are cut (None: the environment's own limit)
    notes: list[str] = field(default_factory=list)  # lines for the user at the start: threshold, evaluation cap

    def train(self, steps: int) -> dict[str, Any]:
        """`Trainer.train(steps)`: train until the run's step counter reaches `steps`. A later call continues the
        run (`run.train(1_000)` then `run.train(2_000)` trains as one `run.train(2_000)`), so the environment stays
        open: `close` it once the run trains no more."""
        return self.trainer.train(steps)

    def close(self) -> None:
        """Close the training environment (evaluations and GIFs make their own): once the run trains no more."""
        self.env.close()

    def periodic_evaluations(self) -> list[dict[str, str]]:
        """The rows of `out/evaluations.csv` written by `PeriodicEvaluation` (none if no evaluation ran)."""
        path = None if self.out is None else self.out / "evaluations.csv"
        if path is None or not path.exists():
            return []
        with open(path, newline="", encoding="utf-8") as f:
            return [row for row in csv.DictReader(f) if row["kind"] == "periodic"]

    def first_solved_step(self) -> int | None:
        """The env step of the first periodic evaluation at or above the threshold (None: never, or none)."""
        if self.threshold is None:
            return None
        rows = self.periodic_evaluations()
        return next((int(r["step"]) for r in rows if float(r["mean_return"]) >= self.threshold), None)

    def finish(
        self,
        end: dict[str, Any],
        *,
        start: float,
        gif: bool,
        more_gifs: Callable[[Callable[[np.ndarray], np.ndarray]], object] | None = None,  # its result is unused
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Evaluate best.keras on the protocol's `final_episodes` fresh episodes, record trained.gif (and
        `more_gifs`), and write summary.json (`extra` adds fields); returns the summary.

        `start` is the caller's `time.perf_counter()` at launch, so `wall_seconds` counts the imports too.
        """
        if self.out is None or self.protocol is None or self.checkpoint is None:
            raise ValueError("Run.finish needs a run assembled with an output directory and a protocol")
        config, checkpoint, episodes = self.config, self.checkpoint, self.protocol.final_episodes
        if not checkpoint.best_path.exists():  # no evaluation ran (tiny budget): keep the final network
            self.agent.save(checkpoint.best_path)
        cap, seed = self.eval_max_steps, config.seed + FINAL_SEED_OFFSET
        result = evaluate_model(checkpoint.best_path, config.env_id, episodes, seed=seed, max_steps=cap)
        if gif:
            best = greedy_policy(load_q_network(checkpoint.best_path))
            record_gif(best, config.env_id, self.out / "trained.gif", seed=config.seed + 1, max_steps=cap)
            if more_gifs is not None:
                more_gifs(best)
        summary = {
            "env_id": config.env_id,
            "seed": config.seed,
            "env_steps": end["step"],
            "episodes": end["episodes"],
            "gradient_steps": end["updates"],
            "train_seconds": round(end["wall_seconds"], 2),
            "wall_seconds": round(time.perf_counter() - start, 2),
            "stopped_on_reward": end["stopped"],
            "threshold": self.threshold,
            "eval_max_steps": self.eval_max_steps,
            "best_checkpoint_step": checkpoint.best_step,
            "best_keras_evaluation": {"episodes": episodes, "mean_return": result.mean, "std_return": result.std},
            "versions": {"tfdqn": __version__, "keras": keras.__version__, "tensorflow": tf.__version__},
            **(extra or {}),
        }
        write_json(self.out / "summary.json", summary)
        print(f"best.keras on {episodes} fresh episodes: {result}")
        print(f"results written to {self.out}/")
        return summary


def assemble(
    config: DQNConfig,
    out: str | Path | None = None,
    protocol: Protocol | None = None,
    *,
    listeners: Iterable[Listener] = (),
    env: gym.vector.VectorEnv | None = None,
    save_state: bool = False,
    state_every: int | None = None,
) -> Run:
    """Seed Keras, make the environment (unless `env` is given), the agent and a `Trainer` whose listeners are
    the protocol's (progress, metrics, live plot, evaluation, checkpoint in `out`, confirmed stop, divergence
    alarm, TensorBoard; none without a protocol) followed by `listeners`. A listener given twice and an `out`
    that cannot be written are refused first, before anything is built. With a protocol, `Run.notes` holds the
    threshold line and the evaluation cap's (if any): it prints nothing, the commands print them."""
    listeners = list(ListenerList(listeners))  # a twin is an ArgumentError here, not once the env is made
    if out is not None:
        check_out_dir(Path(out))
    keras.utils.set_random_seed(config.seed)
    if env is None:
        env = make_vec_env(config.env_id, config.num_envs)
    agent = DQNAgent.from_spaces(env.single_observation_space, env.single_action_space, config)
    out = None if out is None else Path(out)
    checkpoint, threshold, cap, standard = None, None, None, []
    notes: list[str] = []
    if protocol is not None:
        if out is None:
            raise ValueError("a run with an evaluation protocol needs an output directory (out)")
        checkpoint = ModelCheckpoint(out, save_state=save_state, state_every=state_every)
        threshold = protocol_threshold(config, protocol)
        cap = evaluation_step_cap(config.env_id, protocol.eval_max_steps)
        notes.append(threshold_line(config.env_id, protocol, threshold))
        if line := step_cap_line(config.env_id, protocol.eval_max_steps):
            notes.append(line)
        standard = protocol_listeners(out, config, protocol, checkpoint, threshold, cap)
    trainer = Trainer(agent, env, config, [*standard, *listeners])
    return Run(config, env, agent, trainer, out, protocol, checkpoint, threshold, cap, notes)


def protocol_threshold(config: DQNConfig, protocol: Protocol) -> float | None:
    """The protocol's threshold, else the environment's reward_threshold (None: neither); `threshold_line` says
    it in one line (a `Run.notes` line), so no run has to be read from summary.json for it."""
    return protocol.threshold if protocol.threshold is not None else reward_threshold(config.env_id)


def threshold_line(env_id: str, protocol: Protocol, threshold: float | None) -> str:
    """One line saying when a run with `protocol` stops: at a confirmed evaluation >= `threshold` (and where
    that number comes from), or only at the end of its budget (and why)."""
    if not protocol.stop_on_reward:
        return "no stop on reward: trains the whole budget"
    if threshold is None:
        return (
            f"no threshold: {env_id} has no reward_threshold in its Gymnasium spec, so training runs the whole "
            "budget (pass --threshold to stop on a confirmed score)"
        )
    source = "the threshold given" if protocol.threshold is not None else f"{env_id}'s reward_threshold"
    confirm = (
        f"confirmed on {protocol.confirm_episodes} fresh episodes"
        if protocol.confirm_episodes
        else "with no confirmation"
    )
    return f"stops at the first evaluation >= {threshold:g} ({source}), {confirm}"


def protocol_listeners(
    out: Path,
    config: DQNConfig,
    protocol: Protocol,
    checkpoint: ModelCheckpoint,
    threshold: float | None,
    max_steps: int | None = None,
) -> list[Listener]:
    """Progress bar, metrics CSV, learning curve (with the threshold line if `plot_threshold`), periodic
    evaluation, `checkpoint`, a confirmed stop on `threshold` (unless not `stop_on_reward` or no threshold),
    the divergence alarm and TensorBoard; the evaluations cut episodes after `max_steps` steps. The order is
    part of a saved state (listener states are keyed by position): new listeners go last."""
    listeners: list[Listener] = [
        ProgressLogger(),
        MetricsLogger(out),
        LivePlot(
            out / "learning_curve.png", live=protocol.live_plot, target=threshold if protocol.plot_threshold else None
        ),
        PeriodicEvaluation(
            protocol.eval_every, protocol.eval_episodes, seed=config.seed + EVAL_SEED_OFFSET, max_steps=max_steps
        ),
        checkpoint,
    ]
    if protocol.stop_on_reward and threshold is not None:
        seed = config.seed + CONFIRM_SEED_OFFSET
        listeners.append(StopOnReward(threshold, protocol.confirm_episodes, seed=seed, max_steps=max_steps))
    if protocol.divergence_alarm:
        listeners.append(DivergenceAlarm())
    if protocol.tensorboard:
        listeners.append(TensorBoard(protocol.tensorboard))
    return listeners
