"""The memory suite: resident memory every 10k env steps over a long CartPole run (the training command's
CartPole config, no early stop); it must stay flat (within 10%) from 20k steps on."""

from __future__ import annotations

import time
from typing import Any

OLD_COMMAND = "python scripts/benchmark.py --suite memory"
"""What results recorded before reports stored their command were produced by."""


def rss_mib() -> float:
    """Resident set size of this process in MiB (Linux /proc)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("VmRSS not found in /proc/self/status")


def bench_memory(steps: int) -> dict[str, Any]:
    """Train CartPole for `steps` env steps (no early stop) and sample resident memory every 10k steps."""
    # TensorFlow and the agent load here, not at the top: the other suites and `--help` do without them
    import keras

    import tfdqn

    tfdqn.configure_threads(1)

    class MemoryProbe(tfdqn.Listener):
        def __init__(self):
            self.samples: list[tuple[int, float]] = []

        def on_step(self, step, logs=None):
            if step % 10_000 == 0:
                self.samples.append((step, rss_mib()))
                print(f"step {step:,}: {self.samples[-1][1]:.1f} MiB", flush=True)

    config = tfdqn.config_for_env("CartPole-v1")
    keras.utils.set_random_seed(0)
    probe = MemoryProbe()
    t0 = time.perf_counter()
    trainer = tfdqn.train(config, steps, [probe, tfdqn.PeriodicEvaluation(10_000, 5)])
    samples = dict(probe.samples)
    base = samples.get(20_000, probe.samples[0][1])
    return {
        "steps": steps,
        "samples": probe.samples,
        "rss_20k_mib": base,
        "rss_end_mib": probe.samples[-1][1],
        "max_rss_after_20k_mib": max(v for s, v in probe.samples if s >= 20_000),
        "growth_from_20k": max(v for s, v in probe.samples if s >= 20_000) / base - 1,
        "replay_buffer_mib": trainer.replay.nbytes / 2**20,
        "wall_seconds": time.perf_counter() - t0,
    }


def report_memory(r: dict[str, Any]) -> str:
    """The memory suite's Markdown report."""
    rows = [f"| {s:,} | {v:.1f} |" for s, v in r["samples"]]
    return "\n".join(
        [
            "# Resident memory during CartPole training",
            "",
            "The training command's CartPole config (`tfdqn.config_for_env('CartPole-v1')`), "
            f"{r['steps']:,} env steps without early stop, one process; produced by "
            f"`{r.get('command', OLD_COMMAND)}`. The replay buffer's arrays take "
            f"{r['replay_buffer_mib']:.1f} MiB, allocated up front.",
            "",
            "| env steps | resident memory (MiB) |",
            "| --- | --- |",
            *rows,
            "",
            f"- from 20k steps to the end: {r['rss_20k_mib']:.1f} -> {r['rss_end_mib']:.1f} MiB, largest "
            f"{r['max_rss_after_20k_mib']:.1f} MiB: growth **{100 * r['growth_from_20k']:+.1f}%** (goal within 10%)",
            "",
        ]
    )
