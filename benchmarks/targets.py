"""The side-by-side suites' targets (from the robust-learning issue): for each, whether these seeds meet it
and what its 95% interval supports ("met" only where the whole interval is on the good side)."""

from __future__ import annotations

import math
from typing import Any

from benchmarks.tasks import BUDGET, ENV_ID, TASKS
from tfdqn.experiments import stats

Target = tuple[str, bool | None, str, str]
"""(target, met on these seeds? (None: no target, reported only), what the interval says, figures)."""


def fmt(x: float | None, spec: str = ",.0f", none: str = "-") -> str:
    """`x` formatted with `spec`, or `none` for a missing figure."""
    return none if x is None else format(x, spec)


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None when either is missing or b is 0."""
    return None if a is None or b is None or b == 0 else a / b


def fmt_ci(interval: Any, spec: str = ",.0f") -> str:
    """An interval as "[lo, hi]" (a None bound: not solved), "-" for none."""
    if interval is None:
        return "-"
    return stats.fmt_interval(not_solved_as_inf(interval), spec)


def not_solved_as_inf(interval: Any) -> tuple[float, float]:
    """An interval of steps or seconds to solve with its None bounds (not solved) as infinity."""
    lo, hi = (math.inf if v is None else v for v in interval)
    return lo, hi


def rate_target(name: str, k: int, n: int, fraction: float, ci: list[float]) -> Target:
    """A "k of n seeds at least `fraction`" target: met on these seeds when k >= ceil(fraction * n); the Wilson
    interval supports a rate of at least `fraction` only when its lower bound reaches it."""
    need = math.ceil(fraction * n - 1e-9)
    return (
        name,
        k >= need,
        stats.verdict((ci[0], ci[1]), fraction, "higher"),
        f"{k}/{n} seeds; 95% interval of the rate [{ci[0]:.2f}, {ci[1]:.2f}] (target rate {fraction:.2f})",
    )


def ratio_target(
    name: str,
    a: dict[str, Any],
    b: dict[str, Any],
    what: str,
    limit: float,
    spec: str = ",.0f",
    unit: str = "",
    note: str = "",
) -> Target:
    """A "median of a <= limit x median of b" target on `what` ("step" or "seconds"): the ratio of medians and
    its bootstrap interval (each system resampled on its own)."""
    values, median = {
        "step": ("solved_steps", "median_solved_step"),
        "seconds": ("solved_seconds", "median_solved_seconds"),
    }[what]
    ci = stats.ratio_ci(a[values], b[values])
    r = ratio(a[median], b[median])
    met = a[median] is not None and (r is None or r <= limit)
    return (
        name,
        met,
        stats.verdict(ci, limit, "lower"),
        f"{fmt(a[median], spec, 'not solved')}{unit} vs {fmt(b[median], spec, 'not solved')}{unit} ({fmt(r, '.2f')}x; "
        f"95% interval of the ratio {fmt_ci(ci, '.2f')}{note})",
    )


def targets(summary: dict[str, dict[str, Any]], env_id: str = ENV_ID, budget: int | None = None) -> list[Target]:
    """(target, met on these seeds?, what the 95% interval supports: met/missed/undecided, figures) for each
    of the robust-learning issue's targets that the runs can decide."""
    out: list[Target] = []
    t1, sb, t3, tut = (summary.get(k) for k in ("tfdqn_default", "sb3_zoo", "tfdqn_zoo", "tutorial"))
    th = TASKS[env_id]["threshold"]
    if env_id == "CartPole-v1":
        if t3 and sb:
            out.append(
                ratio_target(
                    "equal settings: tfdqn at RL-Zoo settings within 1.25x SB3's median env steps to solve",
                    t3,
                    sb,
                    "step",
                    1.25,
                )
            )
        if t1:
            m, ci = t1["median_solved_step"], t1["ci_solved_step"]
            out.append(
                (
                    "defaults: median env steps to the first evaluation >= 475 <= 8,000",
                    m is not None and m <= 8_000,
                    stats.verdict(not_solved_as_inf(ci), 8_000, "lower"),
                    f"median {fmt(m, none='not solved')}, 95% interval {fmt_ci(ci)}",
                )
            )
            mx = t1["max_solved_step"]
            out.append(
                (
                    "defaults: every seed's first evaluation >= 475 within 20,000 env steps",
                    mx is not None and mx <= 20_000,
                    "-",
                    f"slowest seed {fmt(mx, none='not solved in the budget')} (a maximum over the seeds run: no "
                    "interval)",
                )
            )
            out.append(
                rate_target(
                    "defaults: best.keras >= 475 on 100 fresh episodes in 10/10 seeds",
                    t1["best_ge_threshold"],
                    t1["runs"],
                    1.0,
                    t1["ci_best_rate"],
                )
            )
            name = f"defaults: final policy after {budget or BUDGET:,} steps (no early stop) >= 475 in >= 9/10"
            k, n = t1["final_ge_threshold"], t1["runs"]
            row = rate_target(name, k, n, 0.9, t1["ci_final_rate"])
            if sb:
                row = row[:3] + (row[3] + f"; SB3 RL-Zoo {sb['final_ge_threshold']}/{sb['runs']}",)
            out.append(row)
        if t1 and sb:
            out.append(
                ratio_target(
                    "defaults: median train-only seconds to solve <= 0.5x SB3 RL-Zoo's",
                    t1,
                    sb,
                    "seconds",
                    0.5,
                    ".1f",
                    " s",
                )
            )
        if t3 and sb:
            speedup = ratio(t3["median_train_steps_per_s"], sb["median_train_steps_per_s"])
            lo = ratio(t3["ci_train_steps_per_s"][0], sb["ci_train_steps_per_s"][1])
            out.append(
                (
                    "equal settings: tfdqn train-only env steps/s >= 2x SB3's",
                    speedup is not None and speedup >= 2.0,
                    "met" if lo is not None and lo >= 2.0 else "undecided",
                    f"{fmt(speedup, '.2f')}x ({t3['median_train_steps_per_s']:,.0f} vs "
                    f"{sb['median_train_steps_per_s']:,.0f} env steps/s; the ratio of the intervals' facing ends is "
                    f"{fmt(lo, '.2f')}x)",
                )
            )
        if tut and t1:
            r = tut["median_train_steps_per_s"] / t1["median_train_steps_per_s"]
            out.append(
                (
                    "tutorial-style loop throughput, as a ratio to tfdqn defaults' (reported, no target)",
                    None,
                    "-",
                    f"{r:.4f}x ({tut['median_train_steps_per_s']:,.1f} vs {t1['median_train_steps_per_s']:,.0f} "
                    f"env steps/s: tfdqn is {1 / r:,.0f}x faster)",
                )
            )
    else:
        if t1:
            n = t1["runs"]
            out.append(
                rate_target(
                    f"defaults: best.keras >= {th:g} on 100 fresh episodes in >= 8/10 seeds",
                    t1["best_ge_threshold"],
                    n,
                    0.8,
                    t1["ci_best_rate"],
                )
            )
            out.append(
                rate_target(
                    f"defaults: final policy >= {th:g} in >= 7/10 seeds",
                    t1["final_ge_threshold"],
                    n,
                    0.7,
                    t1["ci_final_rate"],
                )
            )
        if t1 and sb:
            out.append(
                ratio_target(
                    f"defaults: median env steps to the first evaluation >= {th:g} below SB3 RL-Zoo's",
                    t1,
                    sb,
                    "step",
                    1.0,
                    note=f"; SB3 over {sb['runs']} seeds",
                )
            )
    return out
