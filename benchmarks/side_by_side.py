"""The side-by-side suites (cartpole, lunarlander): tfdqn beside Stable-Baselines3 (and, on CartPole, tfdqn at
SB3's settings and a tutorial-style loop), seed by seed in fresh one-thread processes under one evaluation
protocol; the report is rewritten after every run. Needs `pip install -r requirements-bench.txt`."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import atomic_write_text, command_line
from benchmarks.launch import run_worker, worker_argv
from benchmarks.report import EVALUATE, plot_curves, render_report
from benchmarks.summary import complete_config, summarize
from benchmarks.tasks import LEARNERS, TASKS, tfdqn_sb3_settings
from tfdqn.config import DQNConfig
from tfdqn.experiments.engine import run_specs
from tfdqn.experiments.plan import RunSpec
from tfdqn.fileio import write_json
from tfdqn.presets import config_for_env, parts_on, preset_for_env

SIDE_BY_SIDE = {"cartpole": "CartPole-v1", "lunarlander": "LunarLander-v3"}
"""The suites that run tfdqn beside Stable-Baselines3 (needs requirements-bench.txt), and their task."""


def bench_side_by_side(args: argparse.Namespace, suite: str, argv: list[str]) -> dict[str, Any]:
    """For seed in seeds: for system in systems: one fresh one-thread process, `--workers` at a time (Ray
    tasks) in that order (so every system meets the same load); the report is rewritten after every run, so an
    interrupted run still leaves the runs it finished. `argv`: the suite command's flags, for the report."""
    env_id = SIDE_BY_SIDE[suite]
    task = TASKS[env_id]
    steps = args.steps or task["budget"]
    sb3_seeds = args.sb3_seeds or args.seeds
    t_begin = time.perf_counter()
    load = os.getloadavg()
    result: dict[str, Any] = {
        "command": command_line("suite", argv or ["--suite", suite]),
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
        "settings_notes": settings_notes(steps, env_id, args.preset),
        "evaluate": EVALUATE,
        "load_averages": [load[0]],
        **({"preset": args.preset} if args.preset else {}),
    }
    learners = LEARNERS if suite == "cartpole" else ("tfdqn_default", "sb3_zoo")

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
            result["summary"] = summarize(result["runs"], task["threshold"])
            result["duration_seconds"] = time.perf_counter() - t_begin
            write_json(args.out / f"{suite}.json", result)
            plot_curves(result["runs"], args.out / f"{suite}_curves.png", env_id, args.preset)
            atomic_write_text(args.out / f"{suite}.md", render_report(result))

        if args.workers:  # Ray tasks submitted in the jobs' order, so the systems stay interleaved across workers
            specs = [
                RunSpec(
                    f"{system}_{seed}",
                    worker_argv(system, seed, budget, env_id, "{run_dir}/run.json", *preset_flag(system)),
                    {},
                    "run.json",
                )
                for seed, system, budget in jobs
            ]
            run_specs(specs, Path(tmp), num_cpus=args.workers, resume=False, on_record=add)
        else:
            for seed, system, budget in jobs:
                add(run_worker(system, seed, budget, env_id, Path(tmp) / f"{system}_{seed}.json", *preset_flag(system)))
    return result


def rerender(out: Path, suite: str) -> None:
    """Rewrite `<suite>.md` (and the summary in `<suite>.json`) from the runs the JSON holds, without measuring."""
    path = out / f"{suite}.json"
    result = json.loads(path.read_text(encoding="utf-8"))
    result["summary"] = summarize(result["runs"], TASKS[result["env_id"]]["threshold"])
    describe_recorded_config(result)
    write_json(path, result)
    atomic_write_text(out / f"{suite}.md", render_report(result))


def settings_notes(steps: int, env_id: str, chosen: str | None = None, config: DQNConfig | None = None) -> list[str]:
    """The report's settings lines; the first describes tfdqn's `config` (default: the one the suite runs now)."""
    d = config or config_for_env(env_id, chosen or "auto")
    z = TASKS[env_id]["zoo"]
    preset = preset_for_env(env_id)
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
        "`benchmarks.tasks.tfdqn_sb3_settings()` on top = "
        f"{tfdqn_sb3_settings(steps, env_id)}. Differences left: Keras Adam's epsilon is 1e-7 (PyTorch's 1e-8); "
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


def describe_recorded_config(result: dict[str, Any]) -> None:
    """On --rerender: the first settings line describes the config tfdqn's runs recorded (fields added since at
    their defaults), so the report names what ran, not what the suite would run today."""
    run = next((r for r in result["runs"] if r["system"] == "tfdqn_default" and r.get("config")), None)
    if run is None or not result.get("settings_notes"):
        return
    known = {f.name for f in dataclasses.fields(DQNConfig)}
    recorded = {k: v for k, v in complete_config(run).items() if k in known}
    config = DQNConfig.from_dict(recorded)
    fresh = settings_notes(result["step_budget"], result["env_id"], result.get("preset"), config)[0]
    head = result["settings_notes"][0].partition("): ")[0]  # what the run called its config, as it was then
    result["settings_notes"][0] = f"{head}): {fresh.partition('): ')[2]}"
