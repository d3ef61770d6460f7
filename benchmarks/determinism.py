"""Does anything change without `--deterministic`? The measurement behind docs/reproducibility.md.

`python -m benchmarks.determinism [--quick] [--write] [--out DIR]` runs every case in a fresh process (op
determinism cannot be turned off in a process, thread pools are sized once at start), two at a time; its report
is `benchmarks.determinism_report`'s:

- training: `tfdqn train` on CartPole-v1 (its preset, a 32x32 network, `learning_starts` a third of the budget),
  seed 0, twice on each of 1 and 2 TensorFlow threads, with and without `--deterministic`; compared: metrics.csv
  and evaluations.csv (every column but `wall_seconds`) and the weights of last.keras, byte for byte;
- gradients: the Nature DQN network (`tfdqn.networks.build_network` with the "atari" preset, 84x84x4 uint8
  frames) and one Huber-loss gradient (the update's loss: Q(s, a) against fixed targets) on a fixed random batch
  of 64, computed `--repeats` times per process, on 1 and 2 threads, with and without XLA (`jit_compile`), with
  and without op determinism; compared: every repeat's bytes within the process, the first repeat's across them.

The verdict also says whether op determinism changed any bytes (a case against its twin without it). `--quick`
(a smoke test): two training cases of 300 steps, two gradient variants of 2 repeats. `--write` writes
determinism.json and .md to `--out` (default results/benchmark/).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import ROOT, command_line, publish
from benchmarks.determinism_report import machine, render
from benchmarks.launch import thread_env
from tfdqn.cli import ArgumentParser, positive_int, prepare_process, run_main

OBS_SHAPE, N_ACTIONS = (84, 84, 4), 6
ONOFF = ("off", "on")


def train_config(steps: int) -> dict[str, Any]:
    """The training runs' fields over the CartPole preset: a small network, learning from a third of the budget."""
    return {"hidden_sizes": [32, 32], "learning_starts": steps // 3}


def train_flags(steps: int) -> list[str]:
    """`tfdqn train`'s flags besides --config, --threads, --out: short evaluations every third of the budget."""
    flags = ["--steps", steps, "--seed", 0, "--no-stop", "--no-gif", "--no-live-plot", "--eval-every", steps // 3]
    return list(map(str, flags + ["--eval-episodes", 2, "--confirm-episodes", 0, "--final-episodes", 2]))


def gradients(out: Path, threads: int, xla: bool, deterministic: bool, repeats: int, batch: int) -> None:
    """In this (fresh) process: the Nature network's loss gradient on a fixed batch, `repeats` times, into `out`
    (.npz: the first repeat's arrays, every repeat's SHA-256, and the initial weights' SHA-256)."""
    import keras
    import tensorflow as tf

    import tfdqn
    from tfdqn.config import DQNConfig
    from tfdqn.dqn.targets import elementwise_loss
    from tfdqn.networks.build import build_network
    from tfdqn.presets import PRESETS

    tfdqn.configure_threads(threads)
    if deterministic:
        tfdqn.enable_determinism()
    keras.utils.set_random_seed(0)
    model = build_network(OBS_SHAPE, N_ACTIONS, DQNConfig.from_dict(dict(PRESETS["atari"].fields)))
    rng = np.random.default_rng(0)
    obs = tf.constant(rng.integers(0, 256, (batch, *OBS_SHAPE), dtype=np.uint8))
    actions = tf.constant(rng.integers(0, N_ACTIONS, batch, dtype=np.int32))
    targets = tf.constant(rng.normal(size=batch).astype(np.float32))

    @tf.function(jit_compile=xla)
    def gradient(obs: tf.Tensor, actions: tf.Tensor, targets: tf.Tensor) -> list[tf.Tensor]:
        with tf.GradientTape() as tape:  # as DQNAgent's update: cast, Q(s, a), mean Huber loss
            q = model(tf.cast(obs, tf.float32), training=True)
            q_taken = tf.gather(q, actions, axis=1, batch_dims=1)
            loss = tf.reduce_mean(elementwise_loss(targets - q_taken, "huber"))
        return tape.gradient(loss, model.trainable_variables)

    runs = [[g.numpy() for g in gradient(obs, actions, targets)] for _ in range(repeats)]
    digests = np.array([sha(arrays) for arrays in runs])
    np.savez(out, *runs[0], digests=digests, weights=np.array(sha(model.get_weights())))


def sha(arrays: list[np.ndarray]) -> str:
    """A SHA-256 of the arrays' dtypes, shapes and bytes."""
    h = hashlib.sha256()
    for a in arrays:
        h.update(f"{a.dtype}{a.shape}".encode() + np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def run(argv: list[str], what: str) -> None:
    """One case in a fresh process from the repository root; a failure raises with the end of its stderr."""
    proc = subprocess.run([sys.executable, *argv], capture_output=True, text=True, cwd=ROOT, env=thread_env())
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{proc.stderr[-3000:]}")
    print(f"done: {what}", flush=True)


def rows(path: Path) -> list[dict[str, str]]:
    """A CSV's rows without the `wall_seconds` column (a clock)."""
    with open(path, newline="", encoding="utf-8") as f:
        return [{k: v for k, v in row.items() if k != "wall_seconds"} for row in csv.DictReader(f)]


def training_outputs(folder: Path) -> dict[str, Any]:
    """What one training run wrote that a seed should fix: the CSV rows, last.keras's weights."""
    from tfdqn import load_q_network

    weights = load_q_network(folder / "last.keras").get_weights()
    return {
        "metrics.csv": rows(folder / "metrics.csv"),
        "evaluations.csv": rows(folder / "evaluations.csv"),
        "last.keras": [np.ascontiguousarray(w).tobytes() for w in weights],
    }


def gradient_outputs(path: Path) -> dict[str, Any]:
    """One gradient process's file: the first repeat's arrays, whether every repeat matched it, the start."""
    with np.load(path) as f:
        arrays = [f[f"arr_{i}"] for i in range(sum(k.startswith("arr_") for k in f.files))]
        return {"arrays": arrays, "repeats_identical": len(set(f["digests"].tolist())) == 1, "init": str(f["weights"])}


def max_diff(a: list[np.ndarray], b: list[np.ndarray]) -> float | None:
    """The largest absolute difference between two gradients (None when their shapes differ)."""
    if [x.shape for x in a] != [y.shape for y in b]:
        return None
    return max(float(np.max(np.abs(x.astype(np.float64) - y))) for x, y in zip(a, b))


def changed_by_determinism(cases: list[dict[str, Any]]) -> list[str]:
    """The cases with op determinism whose bytes (`digest`) differ from their twin's, alike but without it."""
    plain = {(c.get("run"), c["threads"], c.get("xla")): c["digest"] for c in cases if not c["deterministic"]}
    key = [(c.get("run"), c["threads"], c.get("xla")) for c in cases]
    return [c["name"] for c, k in zip(cases, key) if c["deterministic"] and plain.get(k, c["digest"]) != c["digest"]]


def measure(args: argparse.Namespace, tmp: Path) -> dict[str, list[dict[str, Any]]]:
    """Run every case (`--jobs` at a time) and compare each with the first."""
    config = tmp / "config.json"
    config.write_text(json.dumps(train_config(args.steps)), encoding="utf-8")
    product = itertools.product(range(args.runs), (1, 2), (False, True))
    train: list[dict[str, Any]] = [{"run": r, "threads": t, "deterministic": d} for r, t, d in product]
    grads: list[dict[str, Any]] = [
        {"threads": t, "xla": x, "deterministic": d} for t in (1, 2) for x in (0, 1) for d in (0, 1)
    ]
    if args.quick:  # 1 thread and nothing on; 2 threads, --deterministic (and XLA)
        train, grads = [train[0], train[-1]], [grads[0], grads[-1]]
    jobs: list[tuple[list[str], str]] = []
    for i, c in enumerate(train):
        c["name"] = f"run {c['run'] + 1}, {c['threads']} thread(s){', --deterministic' if c['deterministic'] else ''}"
        flags = ["--config", str(config), "--threads", str(c["threads"]), "--out", str(tmp / f"train_{i}")]
        flags += train_flags(args.steps) + ["--deterministic"] * c["deterministic"]
        jobs.append((["-m", "tfdqn", "train", *flags], f"training: {c['name']}"))
    for i, c in enumerate(grads):
        c["name"] = f"{c['threads']} thread(s), XLA {ONOFF[c['xla']]}, op determinism {ONOFF[c['deterministic']]}"
        flags = ["--grad-worker", str(tmp / f"grad_{i}.npz"), "--threads", str(c["threads"])]
        flags += ["--xla", str(c["xla"]), "--det", str(c["deterministic"]), "--repeats", str(args.repeats)]
        jobs.append((["-m", "benchmarks.determinism", *flags], f"gradients: {c['name']}"))
    with ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(lambda job: run(*job), jobs))
    ref = training_outputs(tmp / "train_0")
    for i, c in enumerate(train):
        got = training_outputs(tmp / f"train_{i}")
        c["differs"] = [name for name in ref if got[name] != ref[name]]
        c.update(identical=not c["differs"], episodes=len(got["metrics.csv"]))
        c["digest"] = hashlib.sha256(repr(got).encode()).hexdigest()
    gref = gradient_outputs(tmp / "grad_0.npz")
    for i, c in enumerate(grads):
        got = gradient_outputs(tmp / f"grad_{i}.npz")
        same = [x.tobytes() for x in got["arrays"]] == [y.tobytes() for y in gref["arrays"]]
        c.update(repeats_identical=got["repeats_identical"], same_start=got["init"] == gref["init"])
        c.update(identical=same and got["repeats_identical"], max_abs_diff=max_diff(got["arrays"], gref["arrays"]))
        c.update(digest=sha(got["arrays"]), largest=max(float(np.max(np.abs(y))) for y in gref["arrays"]))
    return {"training": train, "gradients": grads}


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command's flags (and the hidden ones of one gradient process)."""
    p = ArgumentParser(description="Training runs and conv gradients with and without op determinism, compared.")
    p.add_argument("--steps", type=positive_int, default=1_500, help="env steps per training run (default 1500)")
    p.add_argument("--runs", type=positive_int, default=2, help="training runs per variant (default 2)")
    p.add_argument("--repeats", type=positive_int, default=5, help="gradients per process (default 5)")
    p.add_argument("--batch", type=positive_int, default=64, help="the gradient's batch size (default 64)")
    p.add_argument("--jobs", type=positive_int, default=2, help="processes at a time (default 2, the cores)")
    p.add_argument(
        "--quick", action="store_true", help="a smoke test: 2 training cases of 300 steps, 2 gradient variants"
    )
    p.add_argument("--write", action="store_true", help="write determinism.json and .md to --out")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "benchmark", help="default results/benchmark/")
    p.add_argument("--grad-worker", type=Path, default=None, help=argparse.SUPPRESS)
    p.add_argument("--threads", type=positive_int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--xla", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--det", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.runs, args.repeats = 300, 1, 2
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the cases and print the report (with --grad-worker: one gradient process); write it with --write."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    prepare_process()  # before TensorFlow loads (a gradient process's; the parent's loads last.keras)
    if args.grad_worker is not None:
        gradients(args.grad_worker, args.threads, bool(args.xla), bool(args.det), args.repeats, args.batch)
        return 0
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="determinism_") as tmp:
        cases = measure(args, Path(tmp))
    all_same = all(c["identical"] for c in [*cases["training"], *cases["gradients"]])
    result = {
        "command": command_line("determinism", argv),
        "machine": machine(),
        "obs_shape": OBS_SHAPE,
        "n_actions": N_ACTIONS,
        **{k: getattr(args, k) for k in ("steps", "runs", "repeats", "batch", "jobs")},
        "config": train_config(args.steps),
        "flags": train_flags(args.steps),
        **cases,
        "identical": all_same,
        "changed_by_determinism": [
            *changed_by_determinism(cases["training"]),
            *changed_by_determinism(cases["gradients"]),
        ],
        "load": [load_before, os.getloadavg()[0]],
    }
    publish("determinism", result, render(result), args.out if args.write else None)
    return 0


if __name__ == "__main__":
    run_main(main)
