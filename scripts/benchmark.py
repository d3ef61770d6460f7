"""Benchmarks whose figures the README and the issues quote. Each suite prints its figures and writes
`results/benchmark/<suite>.md` and `<suite>.json` (raw runs included).

Suites:
  loop   time of one compiled gradient step and of one env step + action, the floor they imply, and the
         train-only env steps/s the Trainer achieves against that floor (measured in the same process);
  solve  the default `train_cartpole.py` over --seeds seeds (each run a fresh process, import included):
         env steps to the first evaluation >= 475, best.keras on 100 fresh episodes, wall seconds;
  vector env steps/s with num_envs in {1, 4, 8, 16}, collection only and at the default update ratio,
         and env steps to solve over --vector-seeds seeds for num_envs 1 and 8;
  memory resident memory every 10k env steps over --memory-steps of CartPole training (the CartPole config, config_for_env):
         it must stay flat (within 10%) from 20k steps on;
  cartpole  (not part of "all": needs `pip install -r requirements-bench.txt`) tfdqn's defaults, Stable-
         Baselines3 DQN with RL-Zoo's tuned CartPole settings, tfdqn with those same settings, and a
         tutorial-style Keras loop, side by side over --seeds seeds with the same evaluation protocol;
         writes cartpole.md, cartpole.json (raw runs) and cartpole_curves.png. See scripts/benchmark_systems.py.
  rainbow  the Rainbow ablation (scripts/benchmark_rainbow.py, which has more options): CartPole-v1 and
         LunarLander-v3, each part alone, all together and the config as it is, --seeds (default here 5)
         seeds each, plus the act cost of each part; rainbow.md and rainbow.json. Hours on 2 cores.
  lunarlander  (likewise) tfdqn's config for LunarLander-v3 (the defaults with its 'lunarlander' preset) against SB3 DQN with RL-Zoo's
         LunarLander settings (--sb3-seeds of them); lunarlander.md, .json and _curves.png.
  --preset NAME runs tfdqn in a side-by-side suite with that preset instead (e.g. --preset rainbow).
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from tfdqn.cli import ArgumentParser, non_negative_int, positive_int, prepare_process, run_main  # noqa: E402
from tfdqn.errors import ConfigError  # noqa: E402

SUITES = ("loop", "solve", "memory", "vector")


def parse_args(argv: list[str] | None = None):
    p = ArgumentParser(description="Run tfdqn's benchmarks and write reports under results/benchmark/.")
    p.add_argument(
        "--suite",
        choices=SUITES + ("cartpole", "lunarlander", "rainbow", "all"),
        default="all",
        help="which benchmark (default all: every suite but the side-by-side cartpole and lunarlander)",
    )
    p.add_argument(
        "--seeds",
        type=positive_int,
        default=10,
        help="seeds for the solve, cartpole and lunarlander suites (default 10)",
    )
    p.add_argument(
        "--first-seed",
        type=non_negative_int,
        default=0,
        help="side-by-side suites: seeds are first-seed .. first-seed + seeds - 1, e.g. fresh seeds to "
        "confirm a config chosen on seeds 0-9 (default 0)",
    )
    p.add_argument(
        "--preset",
        default=None,
        help="side-by-side suites: run tfdqn with this preset (e.g. rainbow; none: the plain DQNConfig "
        "defaults) instead of the one the training command picks for the environment",
    )
    p.add_argument(
        "--sb3-seeds",
        type=positive_int,
        default=None,
        help="seeds of SB3 in the side-by-side suites (default: --seeds; the first ones)",
    )
    p.add_argument(
        "--workers",
        "--jobs",
        dest="workers",
        type=positive_int,
        default=None,
        help="run the solve and side-by-side suites' runs as Ray tasks (tfdqn.experiments.sweep), N at once on a "
        "local Ray (one thread each; 2 uses both cores here), or on the cluster at RAY_ADDRESS; "
        "default: one after another, no Ray",
    )
    p.add_argument(
        "--deterministic",
        action="store_true",
        help="solve suite: TensorFlow op determinism in every run (identical results serial or parallel)",
    )
    p.add_argument(
        "--steps",
        type=positive_int,
        default=None,
        help="step budget per run (default: 50000 for solve and cartpole, 100000 for lunarlander; "
        "e.g. 3000 for a quick smoke run)",
    )
    p.add_argument(
        "--tutorial-steps",
        type=positive_int,
        default=300,
        help="env steps of each tutorial-style loop run in the cartpole suite (default 300)",
    )
    p.add_argument(
        "--tutorial-seeds",
        type=positive_int,
        default=3,
        help="seeds (the first ones) on which the cartpole suite runs the tutorial-style loop (default 3)",
    )
    p.add_argument("--repeats", type=positive_int, default=5, help="repeats of each loop timing (default 5)")
    p.add_argument(
        "--vector-seeds",
        type=positive_int,
        default=5,
        help="seeds per num_envs for the vector suite's solve runs (default 5)",
    )
    p.add_argument(
        "--memory-steps", type=positive_int, default=200_000, help="env steps of the memory suite (default 200000)"
    )
    p.add_argument(
        "--rerender",
        action="store_true",
        help="rewrite <suite>.md from the <suite>.json already in --out, without measuring",
    )
    p.add_argument("--out", type=Path, default=ROOT / "results" / "benchmark", help="report directory")
    return p.parse_args(argv)


# ----- loop efficiency ---------------------------------------------------------------------------------
def bench_loop(repeats: int) -> dict:
    """Floor `updates_per_step * t_update + t_env_and_act` versus the Trainer's achieved train-only rate."""
    import keras
    import numpy as np

    import tfdqn

    tfdqn.configure_threads(1)
    config = tfdqn.config_for_env("CartPole-v1")  # what train_cartpole.py uses
    keras.utils.set_random_seed(0)
    env = tfdqn.make_vec_env(config.env_id, 1)
    agent = tfdqn.DQNAgent.from_spaces(env.single_observation_space, env.single_action_space, config)
    rng = np.random.default_rng(0)
    from tfdqn.rainbow import parts_on
    from tfdqn.replay.prioritized import ExtendedReplay

    # The Trainer's own kind of replay (n-step discounts beside the buffer when the config asks for them).
    buffer = ExtendedReplay.for_config(tfdqn.ReplayBuffer(config.buffer_size, (4,)), config)
    obs, _ = env.reset(seed=0)
    for _ in range(5_000):  # realistic CartPole transitions to sample from
        action = rng.integers(0, 2, size=1)
        next_obs, reward, terminated, truncated, _ = env.step(action)
        buffer.add_batch(obs, action, reward, next_obs, terminated)
        obs = next_obs

    # The same update without XLA (jit_compile=False), timed alternately with the default, to show what
    # jit_compile=True buys.
    plain = tfdqn.DQNAgent.from_spaces(
        env.single_observation_space, env.single_action_space, config.replace(jit_compile=False)
    )
    for learner in (agent, plain):
        learner.learn(buffer.sample(config.batch_size, rng, config.gradient_steps))  # trace and compile
    learn = agent.learn  # bound; timed_learn wraps it for the Trainer runs only
    in_loop: list[float] = []  # seconds inside agent.learn during a Trainer run

    def timed_learn(batch):
        t0 = time.perf_counter()
        try:
            return learn(batch)
        finally:
            in_loop.append(time.perf_counter() - t0)

    # Every repeat times each part in turn (interleaved), so that drift in the machine's load hits all alike.
    updates_per_step = config.gradient_steps / config.train_freq
    t_update, t_update_plain, t_env_act, achieved, update_share = [], [], [], [], []
    for r in range(repeats):
        for learner, times in ((agent, t_update), (plain, t_update_plain)):
            calls = []
            for _ in range(20):
                batch = buffer.sample(config.batch_size, rng, config.gradient_steps)
                t0 = time.perf_counter()
                learner.learn(batch)
                calls.append(time.perf_counter() - t0)
            times.append(statistics.median(calls) / config.gradient_steps)

        n = 5_000
        obs, _ = env.reset(seed=r)
        t0 = time.perf_counter()
        for _ in range(n):
            action = agent.act(obs, 0.05, rng)
            obs, reward, terminated, truncated, _ = env.step(action)
        t_env_act.append((time.perf_counter() - t0) / n)

        trainer = tfdqn.Trainer(agent, env, config.replace(learning_starts=0, seed=r))
        trainer.replay = buffer  # already warm: every step of this run is a training step
        steps = 10_000
        in_loop.clear()
        agent.learn = timed_learn
        try:
            t0 = time.perf_counter()
            trainer.step = 0
            trainer.train(steps)
            elapsed = time.perf_counter() - t0
        finally:
            del agent.learn  # the class's own method again
        achieved.append(steps / elapsed)
        update_share.append((sum(in_loop) / steps, len(in_loop)))
    env.close()
    tu, te, sps = statistics.median(t_update), statistics.median(t_env_act), statistics.median(achieved)
    floor = updates_per_step * tu + te
    # Where a Trainer step's time goes: the update calls, and everything else (acting, the env, replay, bookkeeping).
    update_per_step = statistics.median(u for u, _ in update_share)
    rest_per_step = statistics.median(1 / a - u for a, (u, _) in zip(achieved, update_share))
    calls = update_share[0][1]
    # The same ratio within each repeat (its own floor and Trainer run), with a bootstrap interval over repeats.
    from tfdqn.experiments import stats

    ratios = [a * (updates_per_step * u + e) for a, u, e in zip(achieved, t_update, t_env_act)]
    return {
        "t_update_ms": tu * 1e3,
        "t_update_without_xla_ms": statistics.median(t_update_plain) * 1e3,
        "t_env_and_act_us": te * 1e6,
        "updates_per_step": updates_per_step,
        "gradient_steps_per_call": config.gradient_steps,
        "batch_size": config.batch_size,
        "hidden_sizes": list(config.hidden_sizes),
        "parts": parts_on(config),
        "floor_ms_per_step": floor * 1e3,
        "ceiling_steps_per_s": 1 / floor,
        "achieved_steps_per_s": sps,
        "achieved_over_ceiling": sps * floor,
        "repeats": repeats,
        "in_loop_update_ms_per_step": update_per_step * 1e3,
        "in_loop_t_update_ms": update_per_step / updates_per_step * 1e3,
        "in_loop_rest_us_per_step": rest_per_step * 1e6,
        "in_loop_update_calls": calls,
        "ratio_per_repeat": ratios,
        "median_ratio": statistics.median(ratios),
        "ci_ratio": stats.bootstrap_ci(ratios),
        "raw": {
            "t_update_s": t_update,
            "t_update_without_xla_s": t_update_plain,
            "t_env_and_act_s": t_env_act,
            "achieved_steps_per_s": achieved,
            "in_loop_update_s_per_step": [u for u, _ in update_share],
        },
    }


def report_loop(r: dict) -> str:
    return "\n".join(
        [
            "# Loop efficiency (CartPole-v1, the training command's CartPole config, 1 TensorFlow thread)",
            "",
            f"Medians of {r['repeats']} repeats, measured in one process by `python scripts/benchmark.py --suite loop`.",
            "",
            "| figure | value |",
            "| --- | --- |",
            f"| one gradient step (batch {r.get('batch_size', 64)}, "
            f"{'x'.join(str(h) for h in r.get('hidden_sizes', (256, 256)))}"
            f"{''.join(', ' + p for p in r.get('parts', []))}, "
            f"inside a {r.get('gradient_steps_per_call', 64)}-step compiled call) "
            f"| {r['t_update_ms']:.3f} ms |",
            *(
                [
                    f"| the same gradient step without XLA (`jit_compile=False`) | {r['t_update_without_xla_ms']:.3f} ms "
                    f"({r['t_update_without_xla_ms'] / r['t_update_ms']:.1f}x) |"
                ]
                if "t_update_without_xla_ms" in r
                else []
            ),
            f"| one env step + epsilon-greedy action | {r['t_env_and_act_us']:.1f} µs |",
            f"| gradient steps per env step | {r['updates_per_step']:g} |",
            f"| floor = updates_per_step x t_update + t_env_and_act | {r['floor_ms_per_step']:.3f} ms/step "
            f"({r['ceiling_steps_per_s']:,.0f} steps/s) |",
            f"| achieved train-only env steps/s (Trainer, no listeners) | {r['achieved_steps_per_s']:,.0f} |",
            f"| achieved / floor | **{r['achieved_over_ceiling']:.2f}** (goal >= 0.9) |",
            *(
                [
                    f"| achieved / floor within each repeat: median [95% bootstrap interval over repeats] | "
                    f"{r['median_ratio']:.2f} [{r['ci_ratio'][0]:.2f}, {r['ci_ratio'][1]:.2f}] "
                    f"({', '.join(f'{x:.2f}' for x in r['ratio_per_repeat'])}): goal 0.9 "
                    f"{'met' if r['ci_ratio'][0] >= 0.9 else 'missed' if r['ci_ratio'][1] < 0.9 else 'undecided'} |"
                ]
                if "median_ratio" in r
                else []
            ),
            *(
                [
                    f"| in that Trainer run: time in the update calls ({r['in_loop_update_calls']:,} calls) | "
                    f"{r['in_loop_update_ms_per_step']:.3f} ms/step ({r['in_loop_t_update_ms']:.3f} ms per gradient step) |",
                    f"| in that Trainer run: everything else (act, env, replay, n-step windows, target copies, bookkeeping) | "
                    f"{r['in_loop_rest_us_per_step']:.1f} µs/step (the floor allows {r['t_env_and_act_us']:.1f}) |",
                ]
                if "in_loop_update_ms_per_step" in r
                else []
            ),
            *(
                [
                    "",
                    "Each repeat times the update, the env step and a 10,000-step Trainer run in turn (interleaved); "
                    "'met' needs the whole interval at or above 0.9 (with 5 repeats or fewer the interval is simply the "
                    "lowest to the highest repeat).",
                ]
                if "in_loop_update_ms_per_step" in r
                else []
            ),
            "",
        ]
    )


# ----- solving CartPole over seeds ---------------------------------------------------------------------
def bench_solve(seeds: int, steps: int, extra: tuple[str, ...] = (), workers: int | None = None) -> dict:
    """Run `train_cartpole.py` once per seed in a fresh process and collect its summary and evaluations:
    one after another, or with `workers` as Ray tasks (tfdqn.experiments.sweep), that many at once."""
    runs = []
    t_begin = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:

        def argv(seed: int, out: str) -> list[str]:
            return [
                str(ROOT / "scripts" / "train_cartpole.py"),
                "--seed",
                str(seed),
                "--steps",
                str(steps),
                "--out",
                out,
                "--no-live-plot",
                "--no-gif",
                *extra,
            ]

        def collect(seed: int, out: Path, wall: float) -> None:
            summary = json.loads((out / "summary.json").read_text())
            evaluations = (out / "evaluations.csv").read_text().splitlines()
            run = {
                "seed": seed,
                "wall_seconds": wall,
                "first_solved_step": summary["first_evaluation_at_threshold_step"],
                "env_steps": summary["env_steps"],
                "best_score_100": summary["best_keras_evaluation"]["mean_return"],
                "train_seconds": summary["train_seconds"],
                "evaluations_csv": evaluations,
            }
            runs.append(run)
            print(
                f"seed {seed}: first eval >= 475 at {run['first_solved_step']}, best.keras "
                f"{run['best_score_100']:.1f} on 100 episodes, {wall:.1f} s",
                flush=True,
            )

        if workers is None:
            for seed in range(seeds):
                out = Path(tmp) / f"seed{seed}"
                t0 = time.perf_counter()
                proc = subprocess.run([sys.executable, *argv(seed, str(out))], capture_output=True, text=True, cwd=ROOT)
                if proc.returncode != 0:
                    raise RuntimeError(f"seed {seed} failed:\n{proc.stderr[-2000:]}")
                collect(seed, out, time.perf_counter() - t0)
        else:
            from tfdqn.experiments.sweep import RunSpec, run_specs

            specs = [
                RunSpec(f"seed{s}", ("{python}", *argv(s, "{run_dir}")), {"seed": s}, "summary.json")
                for s in range(seeds)
            ]
            for r in run_specs(specs, Path(tmp), num_cpus=workers, resume=False):
                if r["status"] != "ok":
                    raise RuntimeError(f"{r['key']} failed: {r.get('error')}")
                collect(r["seed"], Path(tmp) / "runs" / r["key"], r["wall_seconds"])
    solved = [r["first_solved_step"] for r in runs if r["first_solved_step"] is not None]
    return {
        "seeds": seeds,
        "step_budget": steps,
        "runs": runs,
        "best_ge_475": sum(r["best_score_100"] >= 475 for r in runs),
        "median_first_solved_step": statistics.median(solved) if solved else None,
        "max_first_solved_step": max(solved) if solved else None,
        "solved_runs": len(solved),
        "median_wall_seconds": statistics.median(r["wall_seconds"] for r in runs),
        "workers": workers,
        "suite_wall_seconds": time.perf_counter() - t_begin,
        "median_train_seconds": statistics.median(r["train_seconds"] for r in runs),
    }


def report_solve(r: dict) -> str:
    rows = [
        f"| {x['seed']} | {x['first_solved_step'] if x['first_solved_step'] is not None else 'not solved'} | "
        f"{x['env_steps']:,} | {x['best_score_100']:.1f} | {x['train_seconds']:.1f} | {x['wall_seconds']:.1f} |"
        for x in r["runs"]
    ]
    return "\n".join(
        [
            "# Solving CartPole-v1 with the default configuration",
            "",
            f"`python scripts/train_cartpole.py --seed S` for S in 0..{r['seeds'] - 1} (step budget {r['step_budget']:,}), "
            "each in a fresh process; greedy evaluation of 20 episodes every 1,000 env steps; training stops once "
            "an evaluation >= 475 is confirmed on 100 fresh episodes. Produced by "
            "`python scripts/benchmark.py --suite solve`.",
            "",
            "| seed | env steps to first evaluation >= 475 | env steps used | best.keras, 100 fresh episodes | "
            "train s | wall s (import included) |",
            "| --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
            f"- best.keras >= 475 on 100 fresh episodes: **{r['best_ge_475']}/{r['seeds']}** seeds (goal >= 9/10; "
            f"95% Wilson interval of the rate {_rate_interval(r['best_ge_475'], r['seeds'])})",
            f"- env steps to the first evaluation >= 475: median **{_fmt(r['median_first_solved_step'])}** (95% bootstrap "
            f"interval {_median_interval([x['first_solved_step'] for x in r['runs']])}), max "
            f"{_fmt(r['max_first_solved_step'])} ({r['solved_runs']}/{r['seeds']} runs reached it; goal median <= 15,000, "
            "max <= 30,000)",
            f"- wall seconds per run, import included: median **{r['median_wall_seconds']:.1f}** "
            f"(training alone: {r['median_train_seconds']:.1f})",
            *(
                [
                    f"- the whole suite: {r['suite_wall_seconds']:.0f} s wall, "
                    + (
                        f"{r['workers']} runs at once as Ray tasks (`--workers {r['workers']}`, tfdqn.experiments.sweep)"
                        if r.get("workers")
                        else "one run after another"
                    )
                ]
                if "suite_wall_seconds" in r
                else []
            ),
            "",
        ]
    )


# ----- several environments at once ---------------------------------------------------------------
def bench_vector(repeats: int, seeds: int, steps: int) -> dict:
    """Throughput per num_envs (collection only, and with the default update ratio), then steps to solve."""
    import keras

    import tfdqn

    tfdqn.configure_threads(1)
    base = tfdqn.config_for_env("CartPole-v1")
    trainers = {}
    for n in (1, 4, 8, 16):
        for mode, config in (
            ("collect", base.replace(num_envs=n, learning_starts=0, train_freq=10**9, target_update_interval=10**9)),
            ("train", base.replace(num_envs=n, learning_starts=0)),
        ):
            keras.utils.set_random_seed(0)
            env = tfdqn.make_vec_env(config.env_id, n)
            agent = tfdqn.DQNAgent.from_spaces(env.single_observation_space, env.single_action_space, config)
            trainers[f"{mode}/{n}"] = trainer = tfdqn.Trainer(agent, env, config)
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
        mode, n = key.split("/")
        print(f"num_envs {int(n):2d} {mode:7s}: {throughput[key]:,.0f} env steps/s", flush=True)
    solve = {n: bench_solve(seeds, steps, ("--num-envs", str(n))) for n in (1, 8)}
    return {
        "repeats": repeats,
        "throughput": throughput,
        "raw_rates": rates,
        "solve": solve,
        "updates_per_step": base.gradient_steps / base.train_freq,
        "collect_8_over_1": throughput["collect/8"] / throughput["collect/1"],
    }


def report_vector(r: dict) -> str:
    t = r["throughput"]
    rows = [
        f"| {n} | {t[f'collect/{n}']:,.0f} | {t[f'collect/{n}'] / t['collect/1']:.1f}x | {t[f'train/{n}']:,.0f} | "
        f"{t[f'train/{n}'] / t['train/1']:.2f}x |"
        for n in (1, 4, 8, 16)
    ]
    solve_rows = []
    for n, s in r["solve"].items():
        steps = ", ".join(_fmt(x["first_solved_step"]) for x in s["runs"])
        solve_rows.append(
            f"| {n} | {steps} | {_fmt(s['median_first_solved_step'])} "
            f"{_median_interval([x['first_solved_step'] for x in s['runs']])} | "
            f"{s['best_ge_475']}/{s['seeds']} {_rate_interval(s['best_ge_475'], s['seeds'])} | "
            f"{s['median_train_seconds']:.1f} |"
        )
    return "\n".join(
        [
            "# Several environments at once (CartPole-v1)",
            "",
            "Produced by `python scripts/benchmark.py --suite vector`; medians of "
            f"{r['repeats']} repeats in one process, taken round-robin over the settings"
            f"{'' if 'raw_rates' in r else ' (older runs: one setting after another)'}. num_envs 1 uses `SyncVectorEnv`, more use Gymnasium's native "
            "vectorised CartPole; actions for all environments come from one forward pass.",
            "",
            f"| num_envs | collection only, env steps/s | vs 1 env | default update ratio "
            f"({r.get('updates_per_step', 4):g} gradient steps per env step), env steps/s | vs 1 env |",
            "| --- | --- | --- | --- | --- |",
            *rows,
            "",
            f"Collection-only throughput with 8 environments: **{r['collect_8_over_1']:.1f}x** that of one (goal >= 4x). "
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


# ----- memory -----------------------------------------------------------------------------------------
def rss_mib() -> float:
    """Resident set size of this process in MiB (Linux /proc)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("VmRSS not found in /proc/self/status")


def bench_memory(steps: int) -> dict:
    """Train CartPole for `steps` env steps (no early stop) and sample resident memory every 10k steps."""
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


def report_memory(r: dict) -> str:
    rows = [f"| {s:,} | {v:.1f} |" for s, v in r["samples"]]
    return "\n".join(
        [
            "# Resident memory during CartPole training",
            "",
            f"The training command's CartPole config (`tfdqn.config_for_env('CartPole-v1')`), {r['steps']:,} env steps without early stop, one process; produced by "
            "`python scripts/benchmark.py --suite memory`. The replay buffer's arrays take "
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


# ----- side by side: tfdqn, Stable-Baselines3, tutorial-style loop (scripts/benchmark_systems.py) --------
SIDE_BY_SIDE = {"cartpole": "CartPole-v1", "lunarlander": "LunarLander-v3"}
"""The suites that run tfdqn beside Stable-Baselines3 (needs requirements-bench.txt), and their task."""


def bench_side_by_side(args, suite: str) -> dict:
    """For seed in seeds: for system in systems: one fresh one-thread process, `--workers` at a time (Ray
    tasks) in that order (so every system meets the same load); the report is rewritten after every run, so an interrupted
    run still leaves the runs it finished."""
    import datetime
    import platform

    import benchmark_systems as bs

    from tfdqn.fileio import write_json

    env_id = SIDE_BY_SIDE[suite]
    task = bs.TASKS[env_id]
    steps = args.steps or task["budget"]
    sb3_seeds = args.sb3_seeds or args.seeds
    t_begin = time.perf_counter()
    command = "python scripts/benchmark.py " + (" ".join(sys.argv[1:]) or f"--suite {suite}")
    load = os.getloadavg()
    result = {
        "command": command,
        "env_id": env_id,
        "jobs": args.workers or 1,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "seeds_requested": args.seeds,
        "first_seed": args.first_seed,
        "seeds_done": 0,
        "step_budget": steps,
        "tutorial_steps": args.tutorial_steps,
        "runs": [],
        "summary": {},
        "duration_seconds": 0.0,
        "curves_file": f"{suite}_curves.png",
        "machine": f"{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}, load average {load[0]:.2f} at the start",
        "settings_notes": _settings_notes(bs, steps, env_id, args.preset),
        "load_averages": [load[0]],
        **({"preset": args.preset} if args.preset else {}),
    }
    learners = bs.LEARNERS if suite == "cartpole" else ("tfdqn_default", "sb3_zoo")

    def preset_flag(system: str) -> tuple[str, ...]:
        if not args.preset or system != "tfdqn_default":
            return ()
        return ("--preset", args.preset)

    jobs = []
    for k, seed in enumerate(range(args.first_seed, args.first_seed + args.seeds)):
        for system in learners:
            if system == "sb3_zoo" and k >= sb3_seeds:
                continue
            jobs.append((seed, system, steps))
        if suite == "cartpole" and k < args.tutorial_seeds:
            jobs.append((seed, "tutorial", args.tutorial_steps))
    with tempfile.TemporaryDirectory() as tmp:

        def add(run_: dict, _all: list | None = None) -> None:
            if run_.get("status", "ok") != "ok":  # a sweep's failed run: stop, as a failed worker does serially
                raise RuntimeError(f"{run_['key']} ({env_id}) failed: {run_.get('error')}")
            result["runs"].append(run_)
            solved = f", solved at {run_['solved_step']:,}" if run_.get("solved_step") else ""
            print(
                f"seed {run_['seed']} {run_['system']:14s}: {run_['train_steps_per_s']:,.1f} train-only env "
                f"steps/s{solved}, {run_['wall_seconds']:.1f} s",
                flush=True,
            )
            result["load_averages"].append(os.getloadavg()[0])
            result["seeds_done"] = len({r["seed"] for r in result["runs"] if r["system"] == "tfdqn_default"})
            result["summary"] = bs.summarize(result["runs"], task["threshold"])
            result["duration_seconds"] = time.perf_counter() - t_begin
            write_json(args.out / f"{suite}.json", result)
            bs.plot_curves(result["runs"], args.out / f"{suite}_curves.png", env_id, args.preset)
            atomic_write_text(args.out / f"{suite}.md", bs.render_report(result))

        if args.workers:  # Ray tasks submitted in the jobs' order, so the systems stay interleaved across workers
            from tfdqn.experiments.sweep import RunSpec, run_specs

            specs = [
                RunSpec(
                    f"{system}_{seed}",
                    bs.worker_argv(system, seed, budget, env_id, "{run_dir}/run.json", *preset_flag(system)),
                    {},
                    "run.json",
                )
                for seed, system, budget in jobs
            ]
            run_specs(specs, Path(tmp), num_cpus=args.workers, resume=False, on_record=add)
        else:
            for seed, system, budget in jobs:
                add(
                    bs.run_worker(
                        system, seed, budget, env_id, Path(tmp) / f"{system}_{seed}.json", *preset_flag(system)
                    )
                )
    return result


def atomic_write_text(path: Path, text: str) -> None:
    from tfdqn.fileio import atomic_write

    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def _settings_notes(bs, steps: int, env_id: str, chosen: str | None = None, config=None) -> list[str]:
    """The report's settings lines; the first describes tfdqn's `config` (default: the one the suite runs now)."""
    import tfdqn
    from tfdqn.rainbow import parts_on

    d = config or tfdqn.config_for_env(env_id, chosen or "auto")
    z = bs.TASKS[env_id]["zoo"]
    preset = tfdqn.preset_for_env(env_id)
    return [
        (
            f"tfdqn with `--preset {chosen}` (`tfdqn.config_for_env({env_id!r}, {chosen!r})` at run time): "
            if chosen
            else f"tfdqn defaults (`tfdqn.config_for_env({env_id!r})` at run time: the defaults"
            f"{f' with the {preset!r} preset' if preset else ''}, what the training command uses): "
        )
        + f"{list(d.hidden_sizes)} MLP{' with a LayerNormalization in each hidden layer' if d.layer_norm else ''}, "
        f"{d.initializer} initialisation, lr {d.learning_rate:g}"
        + (
            f" decaying linearly to {d.learning_rate_final:g} over {d.learning_rate_decay_steps:,} env steps"
            + (f" after {d.learning_rate_decay_start:,} at that rate" if d.learning_rate_decay_start else "")
            if d.learning_rate_final is not None
            else ""
        )
        + ", "
        f"batch {d.batch_size}, buffer {d.buffer_size:,}, learning_starts {d.learning_starts:,}, gamma {d.gamma:g}, "
        f"{d.gradient_steps} gradient steps every {d.train_freq} env steps "
        f"({d.gradient_steps / d.train_freq:g} per env step), target copy every {d.target_update_interval} env steps "
        f"(tau {d.tau:g}), epsilon {d.exploration} {d.epsilon_start:g} -> {d.epsilon_end:g} over "
        f"{d.epsilon_decay_steps:,} steps, {'cross-entropy' if d.distributional else d.loss} loss, "
        f"global grad-norm clip {d.max_grad_norm}, "
        f"double DQN {d.double_dqn}, num_envs {d.num_envs}, XLA {d.jit_compile}"
        + "".join(f", {part}" for part in parts_on(d))
        + ".",
        f"SB3 DQN (RL-Zoo `hyperparams/dqn.yml`, {env_id}): {z}, total_timesteps {steps:,}; SB3's fixed "
        "choices: smooth L1 loss (= Huber), global grad-norm clip 10, Adam (PyTorch, eps 1e-8), hard target copy "
        "(tau 1) counted in env steps (`_on_step` every target_update_interval // n_envs calls), epsilon linear over "
        "exploration_fraction x total_timesteps from step 0, random actions before learning_starts.",
        "tfdqn with RL-Zoo settings (CartPole suite): the defaults' initialisation with "
        "`benchmark_systems.tfdqn_sb3_settings()` on top = "
        f"{bs.tfdqn_sb3_settings(steps, env_id)}. Differences left: Keras Adam's epsilon is 1e-7 (PyTorch's 1e-8); "
        "SB3 collects whole rollouts of train_freq steps so it may run up to train_freq - 1 env steps past the "
        "budget (its env steps/s uses the steps it really ran).",
        "Tutorial-style loop: a 256-256 Keras MLP (`compile(Adam, 'mse')`), a `deque` memory, per env step "
        "`model.predict(state)` to act (epsilon-greedy), then a `random.sample` minibatch of 32 through "
        "`predict(states)`, `target.predict(next_states)` and `fit(..., epochs=1, verbose=0)` (the batched form of "
        "the notebooks in shared/seeds; the per-sample form fits each of the 32 transitions separately and is ~32x "
        "slower still); target copy every 100 steps; its clock includes the first calls' tracing, as tfdqn's "
        "includes its XLA compile.",
        "SB3's greedy policy for evaluation is `q_net(obs).argmax()` under `torch.no_grad()`; tfdqn's is "
        "`agent.greedy` (its NumPy forward pass). Both are timed out of train-only seconds. The SB3 worker imports "
        "`tfdqn.dqn.evaluation` (which imports TensorFlow) for the shared `evaluate`, outside its timed import and "
        "training.",
    ]


def _describe_recorded_config(bs, result: dict) -> None:
    """On --rerender: the first settings line describes the config tfdqn's runs recorded (fields added since at
    their defaults), so the report names what ran, not what the suite would run today."""
    import tfdqn

    run = next((r for r in result["runs"] if r["system"] == "tfdqn_default" and r.get("config")), None)
    if run is None or not result.get("settings_notes"):
        return
    known = {f.name for f in dataclasses.fields(tfdqn.DQNConfig)}
    recorded = {k: v for k, v in bs.complete_config(run).items() if k in known}
    config = tfdqn.DQNConfig.from_dict(recorded)
    fresh = _settings_notes(bs, result["step_budget"], result["env_id"], result.get("preset"), config)[0]
    head = result["settings_notes"][0].partition("): ")[0]  # what the run called its config, as it was then
    result["settings_notes"][0] = f"{head}): {fresh.partition('): ')[2]}"


def _load_note(before: float, after: float) -> str:
    cores = os.cpu_count()
    busy = (
        f"above {cores}: other jobs shared the cores and wall times are inflated; step counts are not affected"
        if max(before, after) > cores
        else f"at most {cores}: the cores were not oversubscribed"
    )
    return (
        f"\nMachine: {cores} cores; 1-minute load average {before:.1f} at the start and {after:.1f} at "
        f"the end ({busy}).\n"
    )


def _median_interval(values: list) -> str:
    """The 95% bootstrap interval of a median over seeds (unsolved = worse than any solve)."""
    from tfdqn.experiments import stats

    return stats.fmt_interval(stats.bootstrap_ci(values))


def _rate_interval(k: int, n: int) -> str:
    from tfdqn.experiments import stats

    lo, hi = stats.wilson_ci(k, n)
    return f"[{lo:.2f}, {hi:.2f}]"


def _fmt(x) -> str:
    return "-" if x is None else f"{x:,.0f}"


def main() -> int:
    args = parse_args()
    prepare_process()
    from tfdqn.fileio import atomic_write, write_json

    if args.suite == "rainbow":  # the ablation has its own script and options (scripts/benchmark_rainbow.py)
        import benchmark_rainbow

        return benchmark_rainbow.main(
            [
                "--seeds",
                str(min(args.seeds, 5) if "--seeds" not in sys.argv else args.seeds),
                "--jobs",
                str(args.jobs),
                "--out",
                str(args.out),
            ]
            + (["--steps", str(args.steps)] if args.steps else [])
        )

    suites = SUITES if args.suite == "all" else (args.suite,)
    if args.preset is not None:
        if suites != (args.suite,) or args.suite not in SIDE_BY_SIDE:
            raise ConfigError(
                f"--preset is for the side-by-side suites ({', '.join(SIDE_BY_SIDE)}), not --suite {args.suite}"
            )
        from tfdqn.presets import preset_fields, resolve_preset

        name = resolve_preset(SIDE_BY_SIDE[args.suite], args.preset)  # auto and none are fine
        if name is not None:
            preset_fields(name, SIDE_BY_SIDE[args.suite])  # unknown, or for another env: one line, status 2
    if any(suite in SIDE_BY_SIDE for suite in suites):
        import benchmark_systems

        if benchmark_systems.missing_extras():
            print(benchmark_systems.EXTRAS_MESSAGE, file=sys.stderr)
            return 2
    for suite in suites:
        if suite in SIDE_BY_SIDE:
            if args.rerender:
                import json as _json

                import benchmark_systems as bs

                result = _json.loads((args.out / f"{suite}.json").read_text(encoding="utf-8"))
                result["summary"] = bs.summarize(result["runs"], bs.TASKS[result["env_id"]]["threshold"])
                _describe_recorded_config(bs, result)
                write_json(args.out / f"{suite}.json", result)
                atomic_write_text(args.out / f"{suite}.md", bs.render_report(result))
            else:
                bench_side_by_side(args, suite)  # writes <suite>.md, .json and _curves.png after every run
            print((args.out / f"{suite}.md").read_text(encoding="utf-8"))
            continue
        if args.rerender:
            import json as _json

            if not (args.out / f"{suite}.json").is_file():
                raise ConfigError(f"--rerender needs {args.out / f'{suite}.json'}, which does not exist: run the suite")
            result = _json.loads((args.out / f"{suite}.json").read_text(encoding="utf-8"))
            text = {"loop": report_loop, "vector": report_vector, "memory": report_memory, "solve": report_solve}[
                suite
            ](result)
            if "load_average" in result:
                text += _load_note(*result["load_average"])
            atomic_write(args.out / f"{suite}.md", lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
            print(text)
            continue
        load_before = os.getloadavg()[0]
        if suite == "loop":
            result, text = (r := bench_loop(args.repeats)), report_loop(r)
        elif suite == "vector":
            result, text = (r := bench_vector(args.repeats, args.vector_seeds, args.steps or 50_000)), report_vector(r)
        elif suite == "memory":
            result, text = (r := bench_memory(args.memory_steps)), report_memory(r)
        else:
            result, text = (
                (
                    r := bench_solve(
                        args.seeds,
                        args.steps or 50_000,
                        ("--deterministic",) if args.deterministic else (),
                        args.workers,
                    )
                ),
                report_solve(r),
            )
        result["load_average"] = [load_before, os.getloadavg()[0]]
        text += _load_note(*result["load_average"])
        write_json(args.out / f"{suite}.json", result)
        atomic_write(args.out / f"{suite}.md", lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
        print(text)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    run_main(main)
