"""The side-by-side suites' report: the Markdown (summary, targets, per-seed tables, settings) and the
learning-curve figure (median and 25-75% band per system, against env steps and train-only seconds)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.summary import LATE_EVALUATIONS, band, late_mean
from benchmarks.targets import fmt, fmt_ci, targets
from benchmarks.tasks import ENV_ID, LEARNERS, SYSTEMS, TASKS, system_labels

EVALUATE = "tfdqn.dqn.evaluation.evaluate"
"""The evaluation function of the shared protocol, as a result records it (`evaluate`)."""
OLD_EVALUATE = "tfdqn.evaluation.evaluate"
"""Its name when results did not record it yet (before the package moved into subpackages)."""


def render_report(result: dict[str, Any]) -> str:
    """The Markdown report of a side-by-side benchmark result (`--suite cartpole` or `--suite lunarlander`)."""
    env_id = result.get("env_id", ENV_ID)
    task = TASKS[env_id]
    th = task["threshold"]
    runs, summary = result["runs"], result["summary"]
    labels = system_labels(result.get("preset"))
    title = {"CartPole-v1": "tfdqn vs Stable-Baselines3 vs a tutorial-style loop"}.get(
        env_id, "tfdqn vs Stable-Baselines3"
    )
    lines = [
        f"# {env_id}: {title}",
        "",
        f"Produced by `{result['command']}` on {result['date']}, "
        f"{result['seeds_done']} seed(s) ({result['seeds_requested']} requested"
        + (
            f", seeds {result['first_seed']} to {result['first_seed'] + result['seeds_requested'] - 1}"
            if result.get("first_seed")
            else ""
        )
        + "), "
        f"step budget {result['step_budget']:,} env steps per run; {result['duration_seconds'] / 60:.1f} minutes "
        "in all.",
        "",
        f"Machine: {result['machine']}. Each run is a fresh process (its import included) with one thread "
        "(`OMP_NUM_THREADS=1`, `MKL_NUM_THREADS=1`, `torch.set_num_threads(1)` / "
        "`tfdqn.configure_threads(1)`); runs are interleaved (seed by seed, every system in turn"
        + (f", {result['jobs']} at a time so each has one of the cores" if result.get("jobs", 1) > 1 else "")
        + ") so that drift in the machine's load hits all systems alike. Ratios are of medians measured "
        "in this same run.",
        "",
        f"Protocol, the same for every learner: a greedy evaluation of {task['eval_episodes']} episodes every "
        f"{task['eval_every']:,} env steps on a separate {env_id} seeded once (seed + 10,000), with "
        f"`{result.get('evaluate', OLD_EVALUATE)}`; **solved** = first evaluation mean >= {th:g}; *train-only* time "
        "excludes the evaluations; no early stop (the whole budget runs); at the end the best evaluated policy "
        "(highest evaluation mean, earliest on ties) and the final policy are each evaluated on the same 100 fresh "
        "episodes (seed + 30,000).",
        "",
        "Intervals: 95%, percentile bootstrap over seeds (10,000 resamples) for medians and ratios of medians "
        "(an unsolved run counts as worse than any solve, so a bound can be 'not solved'); Wilson score "
        "intervals for k-of-n rates. A target is called **met** only where the whole interval is on the good "
        "side of it.",
        "",
        "## Summary (medians over seeds, 95% intervals in brackets)",
        "",
        "| system | solved | env steps to solve | train-only s to solve | train-only env steps/s | "
        f"best policy, 100 ep. | best >= {th:g} | final policy, 100 ep. | final >= {th:g} | "
        f"late | process s (import s) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for system, s in summary.items():
        if system in LEARNERS:
            lines.append(
                f"| {labels[system]} | {s['solved']}/{s['runs']} | {fmt(s['median_solved_step'], none='not solved')} "
                f"{fmt_ci(s.get('ci_solved_step'))} | {fmt(s['median_solved_seconds'], '.1f', 'not solved')} "
                f"{fmt_ci(s.get('ci_solved_seconds'), '.1f')} | {s['median_train_steps_per_s']:,.0f} | "
                f"{fmt(s['median_best_100'], '.1f')} | {s['best_ge_threshold']}/{s['runs']} | "
                f"{fmt(s['median_final_100'], '.1f')} {fmt_ci(s.get('ci_final_100'), '.1f')} | "
                f"{s['final_ge_threshold']}/{s['runs']} | "
                f"{fmt(s.get('median_late_mean'), '.1f')} {fmt_ci(s.get('ci_late_mean'), '.1f')} | "
                f"{s['median_process_seconds']:.1f} ({s['median_import_seconds']:.1f}) |"
            )
        else:
            lines.append(
                f"| {labels[system]} ({result['tutorial_steps']} env steps, throughput only) | - | - | - | "
                f"{s['median_train_steps_per_s']:,.1f} | - | - | - | - | - | {s['median_process_seconds']:.1f} "
                f"({s['median_import_seconds']:.1f}) |"
            )
    lines += [
        "",
        f"*late*: each run's mean over its last {LATE_EVALUATIONS} greedy evaluations (the last "
        f"{LATE_EVALUATIONS * task['eval_every']:,} env steps), where its policy stood over the end of the budget: a "
        "steadier figure than the final policy's one score.",
        "",
        "## Targets",
        "",
        "| target | on these seeds | the 95% interval says | figures |",
        "| --- | --- | --- | --- |",
    ]
    for name, met, verdict, figures in targets(summary, env_id, result.get("step_budget")):
        on_seeds = "-" if met is None else ("**yes**" if met else "**no**")
        lines.append(f"| {name} | {on_seeds} | {verdict} | {figures} |")
    t1 = summary.get("tfdqn_default")
    if t1 and t1.get("median_stop_step") is not None:
        lines += [
            "",
            f"tfdqn defaults with `StopOnReward({th:g}, 100)` (a 100-episode confirmation, seed + 20,000) "
            f"would have stopped at a median of {t1['median_stop_step']:,.0f} env steps.",
        ]
    curves = result.get("curves_file", "cartpole_curves.png")
    lines += ["", f"![curves]({curves})", "", "## Per seed", ""]
    for system in SYSTEMS:
        rs = sorted((r for r in runs if r["system"] == system), key=lambda r: r["seed"])
        if not rs:
            continue
        lines += [f"### {labels[system]}", ""]
        if system in LEARNERS:
            lines += [
                "| seed | env steps to solve | train-only s to solve | StopOnReward would stop at | "
                "train-only env steps/s | train-only s | evaluation s | best eval (step) | best, 100 ep. | "
                "final, 100 ep. | late | max loss | process s |",
                "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            ]
            for r in rs:
                stop = (r.get("stop_on_reward") or {}).get("step")
                late = late_mean(r)
                best = r.get("best_100") or {}
                final = r.get("final_100") or {}
                lines.append(
                    f"| {r['seed']} | {fmt(r['solved_step'], none='not solved')} | "
                    f"{fmt(r['solved_train_seconds'], '.1f')} | {fmt(stop)} | {r['train_steps_per_s']:,.0f} | "
                    f"{r['train_seconds']:.1f} | {r['eval_seconds']:.1f} | "
                    f"{fmt(r['best_eval_mean'], '.1f')} ({fmt(r['best_eval_step'])}) | "
                    f"{fmt(best.get('mean'), '.1f')} ± {fmt(best.get('std'), '.1f')} | "
                    f"{fmt(final.get('mean'), '.1f')} ± {fmt(final.get('std'), '.1f')} | "
                    f"{'-' if math.isnan(late) else format(late, '.1f')} | "
                    f"{fmt(r.get('max_loss'), ',.1f')} | {r['process_seconds']:.1f} |"
                )
            lines.append("")
        else:
            lines += ["| seed | env steps | seconds | env steps/s | process s |", "| --- | --- | --- | --- | --- |"]
            for r in rs:
                lines.append(
                    f"| {r['seed']} | {r['env_steps']} | {r['train_seconds']:.1f} | "
                    f"{r['train_steps_per_s']:.1f} | {r['process_seconds']:.1f} |"
                )
            lines.append("")
    lines += ["## Settings", ""] + [f"- {line}" for line in result.get("settings_notes", [])]
    if result.get("load_averages"):
        lines += [
            "",
            "1-minute load average at the start and after each seed (2 cores): "
            + ", ".join(f"{x:.2f}" for x in result["load_averages"])
            + ".",
        ]
    if result.get("notes"):
        lines += ["", "## Notes", ""] + list(result["notes"])
    return "\n".join(lines) + "\n"


def plot_curves(runs: list[dict[str, Any]], path: Path, env_id: str = ENV_ID, preset: str | None = None) -> None:
    """Evaluation mean vs env steps and vs train-only seconds: median line and 25-75% band per system."""
    task = TASKS[env_id]
    # matplotlib here, not at the top: only a suite that draws its curves pays for importing it
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    colors = {"tfdqn_default": "tab:blue", "sb3_zoo": "tab:orange", "tfdqn_zoo": "tab:green"}
    max_t = max((r["evaluations"][-1]["train_seconds"] for r in runs if r.get("evaluations")), default=1.0)
    for system in LEARNERS:
        rs = [r for r in runs if r["system"] == system and r.get("evaluations")]
        if not rs:
            continue
        label = f"{system_labels(preset)[system]} (n={len(rs)})"
        by_step = [([e["step"] for e in r["evaluations"]], [e["mean"] for e in r["evaluations"]]) for r in rs]
        grid = np.arange(task["eval_every"], max(max(xs) for xs, _ in by_step) + 1, task["eval_every"])
        med, lo, hi = band(by_step, grid)
        axes[0].plot(grid, med, color=colors[system], label=label)
        axes[0].fill_between(grid, lo, hi, color=colors[system], alpha=0.2)
        by_time = [([e["train_seconds"] for e in r["evaluations"]], [e["mean"] for e in r["evaluations"]]) for r in rs]
        tgrid = np.linspace(0, max_t, 400)
        med, lo, hi = band(by_time, tgrid, carry_forward=True)
        axes[1].plot(tgrid, med, color=colors[system], label=label)
        axes[1].fill_between(tgrid, lo, hi, color=colors[system], alpha=0.2)
    for ax, xlabel in zip(axes, ("env steps", "train-only wall seconds (evaluations excluded)")):
        ax.axhline(task["threshold"], color="grey", linestyle="--", linewidth=0.8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"greedy evaluation mean ({task['eval_episodes']} episodes)")
        if env_id == "CartPole-v1":
            ax.set_ylim(0, 520)
        else:
            ax.set_ylim(-400, 320)
        ax.grid(alpha=0.3)
    axes[0].set_title(f"{env_id}: evaluation mean vs env steps (median, 25-75%)")
    axes[1].set_title("... vs train-only wall seconds (last value carried forward)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)
