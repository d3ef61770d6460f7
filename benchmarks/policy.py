"""The cost of one greedy action from a saved Q-network: `policy(obs)` (`tfdqn.load_policy`, NumPy where the
network allows) beside the Keras calls a user would write instead, the target being under 20 µs for the MLP.

`python -m benchmarks.policy` times, for one CartPole observation at a time, round-robin over --blocks blocks in
one process (one TensorFlow and BLAS thread):
  policy(obs)          tfdqn's Policy: the raw observation in, an int action out;
  keras model(x)       the eager Keras call on a batch of one, then argmax;
  keras tf.function    the same call compiled with `tf.function`, then argmax;
for the MLP at the CartPole preset's size (64x64), at DQNConfig's default size (256x256), and the trained CartPole
model (results/cartpole/best.keras: C51, its expectation in NumPy). Each block times many calls; the table gives
the median µs per call over blocks with a 95% bootstrap interval. Prints the report; `--write` also writes it as
policy.md and policy.json under --out (default results/benchmark/), naming the command that produced it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, command_line, load_note, publish
from tfdqn.cli import ArgumentParser, positive_int, prepare_process, run_main
from tfdqn.experiments import stats
from tfdqn.fileio import check_out_dir

TARGET_US = 20.0
TRAINED = ROOT / "results" / "cartpole" / "best.keras"
CALLS = {"policy(obs)": 2_000, "keras model(x)": 100, "keras tf.function": 400}
"""Calls per timed block of each kind (about 20-50 ms a block)."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command's flags."""
    p = ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--blocks", type=positive_int, default=30, help="timed blocks per call and network (default 30)")
    p.add_argument("--write", action="store_true", help="also write policy.md and policy.json to --out")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "benchmark", help="(default results/benchmark)")
    return p.parse_args(argv)


def networks() -> dict[str, Any]:
    """name -> Keras Q-network for CartPole's observations (4 floats, 2 actions)."""
    import tfdqn

    keras_models = {
        "MLP 64x64": tfdqn.build_q_network((4,), 2, (64, 64)),
        "MLP 256x256": tfdqn.build_q_network((4,), 2, (256, 256)),
    }
    if TRAINED.is_file():
        keras_models["trained CartPole (C51 64x64)"] = tfdqn.load_q_network(TRAINED)
    return keras_models


def calls(model: Any, obs: Any) -> dict[str, Callable[[], Any]]:
    """The three ways to get one greedy action from `model` for the observation `obs`."""
    import numpy as np
    import tensorflow as tf

    import tfdqn

    policy = tfdqn.Policy(model)
    compiled = tf.function(lambda x: model(x, training=False))
    return {
        "policy(obs)": lambda: policy(obs),
        "keras model(x)": lambda: int(np.argmax(model(obs[None], training=False).numpy()[0])),
        "keras tf.function": lambda: int(np.argmax(compiled(obs[None]).numpy()[0])),
    }


def measure(blocks: int) -> dict[str, dict[str, list[float]]]:
    """network -> call -> µs per call in each block; blocks run round-robin over every (network, call)."""
    import numpy as np

    import tfdqn

    tfdqn.configure_threads(1)
    obs = np.array([0.02, -0.3, 0.04, 0.5], np.float32)
    fns = {name: calls(model, obs) for name, model in networks().items()}
    for row in fns.values():  # warm up: traces, caches
        for kind, fn in row.items():
            for _ in range(CALLS[kind] // 10):
                fn()
    times: dict[str, dict[str, list[float]]] = {name: {kind: [] for kind in CALLS} for name in fns}
    for _ in range(blocks):
        for name, row in fns.items():
            for kind, fn in row.items():
                t0 = time.perf_counter()
                for _ in range(CALLS[kind]):
                    fn()
                times[name][kind].append((time.perf_counter() - t0) / CALLS[kind] * 1e6)
    return times


def render(r: dict[str, Any]) -> str:
    """The Markdown report of a result (`main`'s), which the command prints and --write writes."""
    lines = [
        "# One greedy action from a saved Q-network: `policy(obs)` beside the Keras calls",
        "",
        f"Produced by `{r['command']}`: µs per greedy action, one CartPole observation, one TensorFlow thread; "
        f"median over {r['blocks']} blocks [95% bootstrap interval].",
        "",
        f"| network | {' | '.join(CALLS)} |",
        "| --- |" + " --- |" * len(CALLS),
    ]
    for name in r["networks"]:  # in the order measured (the JSON's keys are sorted)
        row = (r["times"][name][kind] for kind in CALLS)
        cells = [f"{statistics.median(v):,.1f} {stats.fmt_interval(stats.bootstrap_ci(v), ',.1f')}" for v in row]
        lines.append(f"| {name} | {' | '.join(cells)} |")
    t = r["target"]
    lines += [
        "",
        f"policy(obs), MLP 64x64: {t['median']:.1f} µs per call, target < {t['target_us']:.0f} µs: {t['verdict']}",
    ]
    return "\n".join([*lines, load_note(*r["load"])])


def main(argv: list[str] | None = None) -> int:
    """Measure, print the report (with the verdict on the MLP's target) and, with --write, write it."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    if args.write:
        check_out_dir(args.out)  # before the measurement
    prepare_process()
    before = os.getloadavg()[0]
    times = measure(args.blocks)
    mlp = times["MLP 64x64"]["policy(obs)"]
    result = {
        "command": command_line("policy", argv),
        "blocks": args.blocks,
        "calls_per_block": CALLS,
        "networks": list(times),
        "times": times,
        "target": {
            "median": statistics.median(mlp),
            "ci": list(stats.bootstrap_ci(mlp)),
            "target_us": TARGET_US,
            "verdict": stats.verdict(stats.bootstrap_ci(mlp), TARGET_US, "lower"),
        },
        "load": [before, os.getloadavg()[0]],
    }
    publish("policy", result, render(result), args.out if args.write else None)
    return 0


if __name__ == "__main__":
    run_main(main)
