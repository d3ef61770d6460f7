"""The training loop's throughput on two revisions side by side: did a change slow `Trainer.train` down?

`python -m benchmarks.loop_revisions [--before REV] [--after REV] [--write]` measures the env steps per wall and
per CPU second of `Trainer.train` on CartPole-v1 (the training command's config, one TensorFlow thread) with the
listeners `tfdqn train` runs in the loop, minus evaluation and file-heavy ones (a silenced `ProgressLogger`, a
`MetricsLogger` into a temporary folder, the `DivergenceAlarm`), plus a user's listener (`on_step`,
`on_episode_end`) and a Keras `History` through `tfdqn.KerasCallbacks`: public API only, so any revision works.

Each measurement is a fresh one-thread process whose `sys.path` starts with that revision's `tfdqn` (the baseline
from `git archive`; the working tree copied once at the start). It warms up (`learning_starts` + `--warmup`
steps: traces, XLA) and times one `train()` call of `--steps` env steps. Pairs run interleaved, order alternating,
pair i with seed i on both sides (the same work, checked). The report: each revision's median with a 95% bootstrap
interval, and the median after/before ratio within pairs with its paired bootstrap interval: "unchanged within
noise" only when that interval contains 1 or lies within +-3%. `--write` writes `loop_revisions.json` and `.md`.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, atomic_write_text, command_line, load_note
from benchmarks.launch import thread_env
from tfdqn.cli import ArgumentParser, positive_int, run_main
from tfdqn.errors import ArgumentError
from tfdqn.experiments.stats import bootstrap_ci
from tfdqn.fileio import write_json
from tfdqn.listeners.base import Listener

BASELINE = "78d9d84"  # the tree before issue 31's listener changes (private logs, read-only arrays, quiet points)
TOLERANCE = 0.03  # a ratio interval inside 1 +- this is "unchanged within noise" even if it excludes 1
SIDES = ("before", "after")


class UserListener(Listener):
    """What a user's listener does every step and episode: read the step's arrays, keep the returns."""

    def __init__(self) -> None:
        self.steps, self.reward = 0, 0.0
        self.returns: list[float] = []

    def on_step(self, step: int, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        self.steps += 1
        self.reward += float(logs["reward"].sum())

    def on_episode_end(self, episode: int, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None
        self.returns.append(float(logs["return"]))


def measure(seed: int, steps: int, warmup: int, folder: Path) -> dict[str, Any]:
    """In this (fresh) process: warm a CartPole Trainer up, then time one `train()` call of `steps` env steps."""
    # TensorFlow and the agent load here: the parent process, which only starts workers, does without them
    import keras

    import tfdqn

    tfdqn.configure_threads(1)
    config = tfdqn.config_for_env("CartPole-v1", seed=seed)  # the training command's CartPole config
    keras.utils.set_random_seed(seed)
    env = tfdqn.make_vec_env(config.env_id, config.num_envs)
    agent = tfdqn.DQNAgent.from_spaces(env.single_observation_space, env.single_action_space, config)
    user, history = UserListener(), keras.callbacks.History()
    listeners = [
        tfdqn.ProgressLogger(stream=io.StringIO()),  # not a terminal: a plain line every 10 s, into memory
        tfdqn.MetricsLogger(folder),
        tfdqn.DivergenceAlarm(),
        user,
        tfdqn.KerasCallbacks([history]),
    ]
    trainer = tfdqn.Trainer(agent, env, config, listeners)
    trainer.train(config.learning_starts + warmup)
    start, t0, c0 = trainer.step, time.perf_counter(), time.process_time()
    trainer.train(start + steps)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    env.close()
    return {
        "seed": seed,
        "steps": trainer.step - start,
        "seconds": seconds,
        "steps_per_s": (trainer.step - start) / seconds,
        # CPU seconds of this one-thread process: far less sensitive than wall time to other jobs on the cores
        "cpu_steps_per_s": (trainer.step - start) / cpu,
        # the work done, the same on both sides of a pair unless a revision changed what training does
        "work": [
            trainer.step,
            trainer.episodes,
            trainer.updates,
            user.steps,
            round(user.reward, 6),
            len(history.epoch),
        ],
        "tfdqn": str(Path(tfdqn.__file__).resolve().parents[1]),
        "config": {k: getattr(config, k) for k in ("learning_starts", "train_freq", "gradient_steps", "batch_size")},
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command's flags."""
    p = ArgumentParser(description="Training-loop throughput of two revisions, side by side in one run.")
    p.add_argument("--before", default=BASELINE, help=f"the baseline revision (default {BASELINE})")
    p.add_argument("--after", default=None, help="the revision under test (default: the working tree's tfdqn/)")
    p.add_argument("--pairs", type=positive_int, default=7, help="before/after pairs, interleaved (default 7)")
    p.add_argument("--steps", type=positive_int, default=20_000, help="timed env steps per measurement")
    p.add_argument("--warmup", type=positive_int, default=1_000, help="untimed env steps after learning_starts")
    p.add_argument("--quick", action="store_true", help="a smoke test: 2 pairs of 2,000 steps, 200 of warm-up")
    p.add_argument("--write", action="store_true", help="write loop_revisions.json and .md to --out")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "benchmark")
    p.add_argument("--worker", type=Path, default=None, help=argparse.SUPPRESS)  # one measurement, internal
    p.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.pairs, args.steps, args.warmup = 2, 2_000, 200
    return args


def _git(*args: str) -> str:
    proc = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise ArgumentError(f"git {' '.join(args)} failed: {last}")
    return proc.stdout.strip()


def _commit(rev: str) -> str:
    """The full hash of `rev`; an `ArgumentError` naming it when this checkout has no such commit."""
    try:
        return _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except ArgumentError:
        raise ArgumentError(f"--before/--after {rev!r} is not a commit of this checkout") from None


def _digest(tree: Path) -> str:
    """A short hash of the .py files under `tree/tfdqn`: which code a measurement ran, edits included."""
    h = hashlib.sha256()
    for path in sorted((tree / "tfdqn").rglob("*.py*")):
        h.update(str(path.relative_to(tree)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:12]


def snapshot(rev: str | None, into: Path) -> dict[str, Any]:
    """`tfdqn/` of commit `rev` (None: the working tree, copied now) unpacked under `into`; what it is."""
    into.mkdir(parents=True)
    if rev is None:
        shutil.copytree(ROOT / "tfdqn", into / "tfdqn", ignore=shutil.ignore_patterns("__pycache__"))
        dirty = bool(_git("status", "--porcelain", "--", "tfdqn"))
        label = f"working tree (HEAD {_git('rev-parse', '--short', 'HEAD')}{', tfdqn/ edited' if dirty else ''})"
    else:
        archive = into / "tree.tar"
        _git("archive", "--format=tar", "-o", str(archive), rev, "tfdqn")
        with tarfile.open(archive) as tar:
            tar.extractall(into, filter="data")
        archive.unlink()
        label = f"commit {rev[:7]}"
    return {"label": label, "commit": rev, "digest": _digest(into), "tree": str(into)}


def run_one(tree: Path, seed: int, steps: int, warmup: int, scratch: Path) -> dict[str, Any]:
    """One measurement in a fresh one-thread process importing `tree`'s tfdqn (first on its sys.path: `-P` keeps
    the working directory off it, PYTHONPATH puts the tree before this checkout, which provides `benchmarks`)."""
    out = scratch / f"{tree.name}_{seed}.json"
    env = thread_env()
    env["PYTHONPATH"] = os.pathsep.join([str(tree), env["PYTHONPATH"]])
    argv = ["--worker", str(out), "--seed", str(seed), "--steps", str(steps), "--warmup", str(warmup)]
    proc = subprocess.run(
        [sys.executable, "-P", "-m", "benchmarks.loop_revisions", *argv], capture_output=True, text=True, env=env
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the measurement on {tree} failed:\n{proc.stderr[-3000:]}")
    record = json.loads(out.read_text(encoding="utf-8"))
    if Path(record["tfdqn"]) != tree.resolve():
        raise RuntimeError(f"the measurement on {tree} imported tfdqn from {record['tfdqn']}")
    return record


def summarize(pairs: list[dict[str, Any]], key: str = "steps_per_s") -> dict[str, Any]:
    """Per side the median of `key` (steps per wall or CPU second) and its bootstrap interval; the after/before
    ratio within pairs, its paired bootstrap interval (pairs resampled whole) and the verdict."""
    rates = {side: [p[side][key] for p in pairs] for side in SIDES}
    ratios = [a / b for a, b in zip(rates["after"], rates["before"])]
    lo, hi = bootstrap_ci(ratios)
    within = 1 - TOLERANCE <= lo and hi <= 1 + TOLERANCE
    if lo <= 1 <= hi or within:
        verdict = "unchanged within noise"
        if not within:
            verdict += f" (the interval reaches beyond +-{TOLERANCE:.0%}: more pairs would narrow it)"
    else:
        verdict = f"{'slower' if hi < 1 else 'faster'}: the whole interval lies {'below' if hi < 1 else 'above'} 1"
    return {
        **{side: {"median": statistics.median(r), "ci": bootstrap_ci(r), "rates": r} for side, r in rates.items()},
        "ratio": {"median": statistics.median(ratios), "ci": [lo, hi], "per_pair": ratios},
        "verdict": verdict,
        "same_work": all(p["before"]["work"] == p["after"]["work"] for p in pairs),
    }


def table(r: dict[str, Any], key: str, unit: str) -> list[str]:
    """One comparison (`key`: "summary" per wall second, "cpu_summary" per CPU second) as Markdown lines."""
    s = r.get(key)
    if s is None:  # a report from before CPU time was measured
        return []
    lines = [f"| revision | median env steps per {unit} | 95% bootstrap interval | per pair |", "| --- " * 4 + "|"]
    for side in SIDES:
        x, label = s[side], r["trees"][side]["label"]
        rates = ", ".join(f"{v:,.0f}" for v in x["rates"])
        lines.append(f"| {side}: {label} | {x['median']:,.0f} | [{x['ci'][0]:,.0f}, {x['ci'][1]:,.0f}] | {rates} |")
    ratio = s["ratio"]
    per_pair = ", ".join(f"{v:.3f}" for v in ratio["per_pair"])
    return [
        *lines,
        f"| after / before within pairs | **{ratio['median']:.3f}** | [{ratio['ci'][0]:.3f}, {ratio['ci'][1]:.3f}] "
        f"(paired) | {per_pair} |",
        "",
        f"Verdict per {unit}: **{s['verdict']}** (said only when the ratio's interval contains 1 or lies within "
        f"+-{TOLERANCE:.0%}).",
        "",
    ]


def render(r: dict[str, Any]) -> str:
    """The Markdown report (also what the command prints)."""
    return "\n".join(
        [
            "# Training-loop throughput, two revisions side by side (CartPole-v1, 1 TensorFlow thread)",
            "",
            f"Produced by `{r['command']}`.",
            "",
            f"{r['pairs']} pairs, interleaved with alternating order, each measurement a fresh process; timed: one "
            f"`Trainer.train` call of {r['steps']:,} env steps after `learning_starts` + {r['warmup']:,} warm-up steps "
            f"(train_freq {r['config']['train_freq']}, gradient_steps {r['config']['gradient_steps']}, batch "
            f"{r['config']['batch_size']}). Listeners: ProgressLogger (silenced), MetricsLogger (temporary folder), "
            "DivergenceAlarm, a user's listener (on_step, on_episode_end), KerasCallbacks([History()]).",
            "",
            *table(r, "summary", "wall second"),
            *table(r, "cpu_summary", "CPU second (of the measuring process: less sensitive to other jobs)"),
            "Both sides did the same work in every pair (steps, episodes, updates, listener calls)."
            if r["summary"]["same_work"]
            else "WARNING: the two sides did different work in some pair: the revisions train differently.",
            "",
            f"Code measured: before {r['trees']['before']['digest']}, after {r['trees']['after']['digest']} "
            "(hashes of tfdqn/*.py*).",
            load_note(*r["load"]),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Measure the pairs (or, with --worker, one measurement) and print the report; write it with --write."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    if args.worker is not None:
        with tempfile.TemporaryDirectory() as folder:
            record = measure(args.seed, args.steps, args.warmup, Path(folder))
        args.worker.write_text(json.dumps(record), encoding="utf-8")
        return 0
    revs = {"before": _commit(args.before), "after": None if args.after is None else _commit(args.after)}
    result: dict[str, Any] = {
        "command": command_line("loop_revisions", argv),
        **{k: getattr(args, k) for k in ("pairs", "steps", "warmup")},
        "pairs_measured": [],
    }
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="loop_revisions_") as tmp:
        trees = {side: snapshot(rev, Path(tmp) / side) for side, rev in revs.items()}
        result["trees"] = {side: {k: v for k, v in t.items() if k != "tree"} for side, t in trees.items()}
        for i in range(args.pairs):
            order = SIDES if i % 2 == 0 else SIDES[::-1]
            pair: dict[str, Any] = {"order": list(order)}
            for side in order:
                pair[side] = run_one(Path(trees[side]["tree"]), i, args.steps, args.warmup, Path(tmp))
                print(f"pair {i + 1}/{args.pairs} {side}: {pair[side]['steps_per_s']:,.0f} env steps/s", flush=True)
            result["pairs_measured"].append(pair)
    result["load"] = [load_before, os.getloadavg()[0]]
    result["config"] = result["pairs_measured"][0]["before"]["config"]
    result["summary"] = summarize(result["pairs_measured"])
    result["cpu_summary"] = summarize(result["pairs_measured"], "cpu_steps_per_s")
    report = render(result)
    print("\n" + report)
    if args.write:
        args.out.mkdir(parents=True, exist_ok=True)
        write_json(args.out / "loop_revisions.json", result)
        atomic_write_text(args.out / "loop_revisions.md", report)
    return 0


if __name__ == "__main__":
    run_main(main)
