"""The vector suite: env steps/s with num_envs in {1, 4, 8, 16}, collection only and at the default update
ratio (round-robin repeats in one process), then env steps to solve for num_envs 1 and 8 (the solve suite)."""

from __future__ import annotations

import statistics
import time
from typing import Any

from benchmarks.common import fmt_steps, median_interval, rate_interval
from benchmarks.solve import bench_solve

OLD_COMMAND = "python scripts/benchmark.py --suite vector"
"""What results recorded before reports stored their command were produced by."""


def bench_vector(repeats: int, seeds: int, steps: int) -> dict[str, Any]:
    """Throughput per num_envs (collection only, and with the default update ratio), then steps to solve."""
    # TensorFlow and the agent load here, not at the top: the other suites and `--help` do without them
    import tfdqn
    from tfdqn.training.run import assemble

    tfdqn.configure_threads(1)
    base = tfdqn.config_for_env("CartPole-v1")
    trainers = {}
    for n in (1, 4, 8, 16):
        for mode, config in (
            ("collect", base.replace(num_envs=n, learning_starts=0, train_freq=10**9, target_update_interval=10**9)),
            ("train", base.replace(num_envs=n, learning_starts=0)),
        ):
            trainers[f"{mode}/{n}"] = trainer = assemble(config).trainer  # seed 0, as the suite always used
            trainer.train(2_000)  # warm up: first traces, buffer content
    # Round-robin: repeat r of every setting runs before repeat r + 1 of any, so that a change in the
    # machine's load while the suite runs hits every num_envs alike and the ratios stay fair.
    rates: dict[str, list[float]] = {key: [] for key in trainers}
    for _ in range(repeats):
        for key, trainer in trainers.items():
            chunk = 20_000 if key.startswith("collect") else 4_000
            start_step, t0 = trainer.step, time.perf_counter()
            trainer.train(trainer.step + chunk)
            rates[key].append((trainer.step - start_step) / (time.perf_counter() - t0))
    throughput = {key: statistics.median(r) for key, r in rates.items()}
    for key, trainer in trainers.items():
        trainer.env.close()
        mode, envs = key.split("/")
        print(f"num_envs {int(envs):2d} {mode:7s}: {throughput[key]:,.0f} env steps/s", flush=True)
    solve = {n: bench_solve(seeds, steps, ("--num-envs", str(n))) for n in (1, 8)}
    return {
        "repeats": repeats,
        "throughput": throughput,
        "raw_rates": rates,
        "solve": solve,
        "updates_per_step": base.gradient_steps / base.train_freq,
        "collect_8_over_1": throughput["collect/8"] / throughput["collect/1"],
    }


def report_vector(r: dict[str, Any]) -> str:
    """The vector suite's Markdown report (older results without `raw_rates` ran the settings one by one)."""
    t = r["throughput"]
    rows = [
        f"| {n} | {t[f'collect/{n}']:,.0f} | {t[f'collect/{n}'] / t['collect/1']:.1f}x | {t[f'train/{n}']:,.0f} | "
        f"{t[f'train/{n}'] / t['train/1']:.2f}x |"
        for n in (1, 4, 8, 16)
    ]
    solve_rows = []
    for n, s in r["solve"].items():
        steps = ", ".join(fmt_steps(x["first_solved_step"]) for x in s["runs"])
        solve_rows.append(
            f"| {n} | {steps} | {fmt_steps(s['median_first_solved_step'])} "
            f"{median_interval([x['first_solved_step'] for x in s['runs']])} | "
            f"{s['best_ge_475']}/{s['seeds']} {rate_interval(s['best_ge_475'], s['seeds'])} | "
            f"{s['median_train_seconds']:.1f} |"
        )
    return "\n".join(
        [
            "# Several environments at once (CartPole-v1)",
            "",
            f"Produced by `{r.get('command', OLD_COMMAND)}`; medians of "
            f"{r['repeats']} repeats in one process, taken round-robin over the settings"
            f"{'' if 'raw_rates' in r else ' (older runs: one setting after another)'}. "
            "num_envs 1 uses `SyncVectorEnv`, more use Gymnasium's native "
            "vectorised CartPole; actions for all environments come from one forward pass.",
            "",
            f"| num_envs | collection only, env steps/s | vs 1 env | default update ratio "
            f"({r.get('updates_per_step', 4):g} gradient steps per env step), env steps/s | vs 1 env |",
            "| --- | --- | --- | --- | --- |",
            *rows,
            "",
            f"Collection-only throughput with 8 environments: **{r['collect_8_over_1']:.1f}x** that of one "
            "(goal >= 4x). "
            "With learning on, the gradient steps dominate and are the same per env step whatever num_envs is.",
            "",
            "Env steps to the first evaluation >= 475 (`train_cartpole.py --num-envs N --seed S`):",
            "",
            "| num_envs | per seed | median [95% bootstrap] | best.keras >= 475 [95% Wilson] | median train s |",
            "| --- | --- | --- | --- | --- |",
            *solve_rows,
            "",
        ]
    )
