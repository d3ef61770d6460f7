"""The cost of one training call (`DQNAgent.learn`): how tfdqn calls its compiled update now against how it called
it before (d1291d0), with and without XLA, for the networks whose update is the loop's largest cost.

Before: `learn` called a `tf.function` (with `reduce_retracing`) on NumPy arrays, and that function looped over
the gradient steps with `tf.range` even for one step. Now: one step is compiled without the loop (XLA ran a
convolution's update inside the loop 3-10x slower) and `learn` calls the traced concrete function, which
skips tf.function's matching of its arguments. Both paths include what `learn` does around the call (reading
the priorities back, syncing the NumPy mirror the agent acts with).

Each repeat times `--calls` calls of every (network, path, XLA) variant, interleaved so a busy machine slows all
alike, and keeps their median; the report gives the median over repeats with its 95% bootstrap interval and the
ratio before / now. One TensorFlow and one BLAS thread, as tfdqn runs.

    python -m benchmarks.update --out results/benchmark/update.md
"""

from __future__ import annotations

from tfdqn.cli import prepare_process

prepare_process()  # one BLAS thread: OpenBLAS reads it when NumPy loads

import argparse  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks.common import (  # noqa: E402
    load_note,
    micro_benchmark,
    microseconds,
    per_call_seconds,
)
from tfdqn.experiments import stats  # noqa: E402
from tfdqn.presets import MINATAR_PAPER  # noqa: E402

NETWORKS: dict[str, dict[str, Any]] = {
    "minatar": {
        "label": "MinAtar paper net (16 3x3 filters, 128 units), batch 32, 1 step a call",
        "env_id": "MinAtar/Breakout-v0",
        "shape": (10, 10, 4),
        "dtype": bool,
        "n_actions": 6,
        "preset": "none",
        "fields": dict(MINATAR_PAPER),  # the paper's network and RMSProp, whatever the `minatar` preset is
    },
    "minatar4": {
        "label": "the same MinAtar net, 4 steps a call",
        "env_id": "MinAtar/Breakout-v0",
        "shape": (10, 10, 4),
        "dtype": bool,
        "n_actions": 6,
        "preset": "none",
        "fields": {**MINATAR_PAPER, "train_freq": 4, "gradient_steps": 4},
    },
    "pixels": {
        "label": "tfdqn pixels preset (2 conv layers on 84x84x4), batch 32, 1 step a call",
        "env_id": "CartPole-v1",
        "shape": (84, 84, 4),
        "dtype": np.uint8,
        "n_actions": 2,
        "preset": "pixels",
        "fields": {},
    },
    "mlp": {
        "label": "MLP defaults (256x256), batch 128, 4 steps a call",
        "env_id": "CartPole-v1",
        "shape": (4,),
        "dtype": np.float32,
        "n_actions": 2,
        "preset": "none",
        "fields": {},
    },
}
PATHS = ("before", "now")


def variants(name: str, seed: int = 0) -> dict[tuple[str, bool], Callable[[], Any]]:
    """The training calls to time for network `name`: (path, XLA) -> a call on a fixed random batch."""
    import gymnasium as gym
    import tensorflow as tf

    from tfdqn import config_for_env
    from tfdqn.dqn.agent import DQNAgent
    from tfdqn.presets import PRESETS
    from tfdqn.replay.buffer import Batch

    spec = NETWORKS[name]
    low, high = (0, 1) if spec["dtype"] is bool else (0, 255) if spec["dtype"] is np.uint8 else (-np.inf, np.inf)
    space = gym.spaces.Box(low, high, spec["shape"], spec["dtype"])
    fields = dict(PRESETS[spec["preset"]].fields) if spec["preset"] in ("pixels",) else {}
    rng = np.random.default_rng(seed)
    calls: dict[tuple[str, bool], Callable[[], Any]] = {}
    for xla in (False, True):
        config = config_for_env(
            spec["env_id"],
            "none" if spec["preset"] == "pixels" else spec["preset"],
            seed=seed,
            **{**fields, **spec["fields"], "jit_compile": xla},
        )
        agent = DQNAgent.from_spaces(space, gym.spaces.Discrete(spec["n_actions"]), config)
        steps, size = config.gradient_steps, config.batch_size

        def draw(shape: tuple[int, ...]) -> np.ndarray:
            if spec["dtype"] is bool:
                return rng.random(shape) < 0.2
            if spec["dtype"] is np.uint8:
                return rng.integers(0, 256, shape, dtype=np.uint8)
            return rng.normal(size=shape).astype(np.float32)

        batch = Batch(
            draw((steps, size, *spec["shape"])),
            rng.integers(0, spec["n_actions"], (steps, size)),
            rng.normal(size=(steps, size)).astype(np.float32),
            draw((steps, size, *spec["shape"])),
            rng.random((steps, size)) < 0.05,
        )
        old_fn = tf.function(agent._learn_many, jit_compile=xla, reduce_retracing=True)

        def before(agent: DQNAgent = agent, batch: Batch = batch, old_fn: Any = old_fn) -> None:
            discounts = np.full(batch.actions.shape, agent.config.gamma, dtype=np.float32)
            weights = np.ones(batch.actions.shape, dtype=np.float32)
            loss, mean_q, max_abs_q, priorities, mirrored = old_fn(*batch, discounts, weights)
            priorities.numpy()
            if agent._numpy is not None:
                agent._numpy.sync([t.numpy() for t in mirrored])
            float(loss), float(mean_q), float(max_abs_q)

        def now(agent: DQNAgent = agent, batch: Batch = batch) -> None:
            agent.learn(batch)

        calls[("before", xla)] = before
        calls[("now", xla)] = now
    return calls


def bench(name: str, repeats: int, calls: int) -> dict[str, Any]:
    """Per-call seconds of every variant of network `name`, one median per repeat."""
    fns = variants(name)
    times: dict[str, list[float]] = {f"{p}{'+xla' if x else ''}": [] for p, x in fns}
    for _ in range(repeats):
        for (path, xla), fn in fns.items():
            times[f"{path}{'+xla' if xla else ''}"].append(per_call_seconds(fn, calls))
    return {"network": name, "label": NETWORKS[name]["label"], "times": times}


def report(results: list[dict[str, Any]], command: str, load: tuple[float, float] | None = None) -> str:
    """The Markdown table: microseconds per training call of each variant, and before / now."""
    lines = [
        "# One training call: before (d1291d0) and now, with and without XLA",
        "",
        f"Command: `{command}`",
        "",
        "Wall microseconds per `learn` call on a fixed random batch: median over repeats [95% bootstrap interval "
        "over repeats]; each repeat's figure is the median of its calls. One TensorFlow and one BLAS thread.",
        "",
        "| network | before | now | before / now | before + XLA | now + XLA | before + XLA / now + XLA |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        t = r["times"]
        m = {k: stats.median(v) for k, v in t.items()}
        us = partial(microseconds, fmt=",.0f")
        lines.append(
            f"| {r['label']} | {us(t['before'])} | {us(t['now'])} | {m['before'] / m['now']:.2f}x | "
            f"{us(t['before+xla'])} | {us(t['now+xla'])} | {m['before+xla'] / m['now+xla']:.2f}x |"
        )
    return "\n".join(lines) + "\n" + (load_note(*load) if load else "")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, time every network, print the report (and write it to --out)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.update", description=__doc__.split("\n\n")[0])
    parser.add_argument("--networks", nargs="+", choices=tuple(NETWORKS), default=list(NETWORKS))
    parser.add_argument("--repeats", type=int, default=7, help="repeats per variant (default %(default)s)")
    parser.add_argument("--calls", type=int, default=100, help="timed calls per repeat (default %(default)s)")
    parser.add_argument("--out", type=Path, help="also write the report to this Markdown file")
    args = parser.parse_args(argv)
    if min(args.repeats, args.calls) < 1:
        parser.error("--repeats and --calls must be positive")
    return micro_benchmark(
        "update", argv, lambda: [bench(name, args.repeats, args.calls) for name in args.networks], report, args.out
    )


if __name__ == "__main__":
    sys.exit(main())
