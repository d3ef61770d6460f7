"""Acting cost on MinAtar: one greedy forward pass of the MinAtar paper's Q-network (16 3x3 filters, 128 units)
in NumPy (`tfdqn.networks.numpy_mirror`, what the agent acts with) against the compiled TensorFlow call it
replaces (`tf.function`, with and without XLA), per game's channel count, on random boolean observations.

Each repeat times `--calls` calls of each path, interleaved path by path so that a busy machine slows all
alike, and keeps their median; the report gives the median over repeats with its 95% percentile bootstrap
interval (over repeats), and the ratio. One TensorFlow and one BLAS thread, as tfdqn runs.

    python -m benchmarks.numpy_conv                 # all five games, batch 1
    python -m benchmarks.numpy_conv --games Breakout --repeats 5 --calls 200
"""

from __future__ import annotations

from tfdqn.cli import prepare_process

prepare_process()  # one BLAS thread: OpenBLAS reads it when NumPy loads (its threads cost 40x on 2 busy cores)

import argparse  # noqa: E402
import sys  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks.common import (  # noqa: E402
    load_note,
    micro_benchmark,
    microseconds,
    per_call_seconds,
)
from tfdqn.envs.minatar import CHANNELS, GAMES  # noqa: E402
from tfdqn.experiments import stats  # noqa: E402
from tfdqn.presets import MINATAR_PAPER  # noqa: E402

PATHS = ("numpy", "tf.function", "tf.function+xla")


def bench_game(game: str, repeats: int, calls: int, batch: int, seed: int = 0) -> dict[str, Any]:
    """Per-call seconds of each path in `PATHS` for `game`'s network, one median per repeat, and the largest
    |Q| difference between NumPy and Keras."""
    import gymnasium as gym
    import tensorflow as tf

    from tfdqn import config_for_env
    from tfdqn.dqn.agent import DQNAgent

    channels = CHANNELS[game]
    space = gym.spaces.Box(0.0, 1.0, (10, 10, channels), bool)  # type: ignore[arg-type]  # gymnasium's hints omit bool
    config = config_for_env(f"MinAtar/{game}-v0", "none", seed=seed, **MINATAR_PAPER)  # the paper's network
    agent = DQNAgent.from_spaces(space, gym.spaces.Discrete(6), config)
    if agent._numpy is None:
        raise RuntimeError(f"the {game} network is not mirrored in NumPy")
    mirror, model = agent._numpy, agent.q_network
    obs = np.random.default_rng(seed).random((batch, 10, 10, channels)) < 0.3
    plain = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    xla = tf.function(lambda x: model(x, training=False), jit_compile=True, reduce_retracing=True)
    fns = {
        "numpy": lambda: mirror(obs),
        "tf.function": lambda: plain(tf.convert_to_tensor(obs)).numpy(),
        "tf.function+xla": lambda: xla(tf.convert_to_tensor(obs)).numpy(),
    }
    times: dict[str, list[float]] = {path: [] for path in PATHS}
    for _ in range(repeats):
        for path in PATHS:
            times[path].append(per_call_seconds(fns[path], calls))
    max_diff = float(np.abs(mirror(obs) - model(obs).numpy()).max())
    return {"game": game, "channels": channels, "batch": batch, "times": times, "max_abs_diff": max_diff}


def report(results: list[dict[str, Any]], command: str, load: tuple[float, float] | None = None) -> str:
    """The Markdown table: per-call microseconds of each path and TF / NumPy."""
    lines = [
        "# Acting on MinAtar: NumPy forward pass vs compiled TensorFlow call",
        "",
        f"Command: `{command}`",
        "",
        "Per-call time of one greedy forward pass of the MinAtar paper's network (batch "
        f"{results[0]['batch']}), microseconds: median over repeats [95% bootstrap interval over repeats]; each "
        "repeat's figure is the median of its calls. One TensorFlow and one BLAS thread.",
        "",
        "| game | channels | NumPy | tf.function | tf.function + XLA | tf.function / NumPy | XLA / NumPy "
        "| max abs Q diff |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        t = r["times"]
        ratio, xla = (stats.median(t[path]) / stats.median(t["numpy"]) for path in ("tf.function", "tf.function+xla"))
        lines.append(
            f"| {r['game']} | {r['channels']} | {microseconds(t['numpy'])} | {microseconds(t['tf.function'])} | "
            f"{microseconds(t['tf.function+xla'])} | {ratio:.1f}x | {xla:.1f}x | {r['max_abs_diff']:.1e} |"
        )
    return "\n".join(lines) + "\n" + (load_note(*load) if load else "")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, time every game, print the report (and write it to --out)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.numpy_conv", description=__doc__.split("\n\n")[0])
    parser.add_argument("--games", nargs="+", choices=GAMES, default=list(GAMES), help="MinAtar games (default all)")
    parser.add_argument("--repeats", type=int, default=10, help="repeats per path (default %(default)s)")
    parser.add_argument("--calls", type=int, default=500, help="timed calls per repeat (default %(default)s)")
    parser.add_argument("--batch", type=int, default=1, help="observations per call (default %(default)s)")
    parser.add_argument("--out", type=Path, help="also write the report to this Markdown file")
    args = parser.parse_args(argv)
    if min(args.repeats, args.calls, args.batch) < 1:
        parser.error("--repeats, --calls and --batch must be positive")
    return micro_benchmark(
        "numpy_conv",
        argv,
        lambda: [bench_game(game, args.repeats, args.calls, args.batch) for game in args.games],
        report,
        args.out,
    )


if __name__ == "__main__":
    sys.exit(main())
