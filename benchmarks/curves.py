"""Where along the budget a config learns: for pooled groups of runs, each run's last greedy evaluation at or
before every tenth of the budget, its median over the group with a 95% bootstrap interval, and how many runs
were at the threshold by then (what the first solve and the final policy alone do not show)."""

from __future__ import annotations

from typing import Any

from benchmarks.tasks import TASKS
from tfdqn.experiments import stats

CURVE_POINTS = 10
"""The learning-curve table's rows: the budget (one for every group) in this many equal parts."""


def curves(groups: dict[str, list[dict[str, Any]]], budget: int, threshold: float) -> dict[str, list[dict[str, Any]]]:
    """Per group, at each tenth of `budget`: the median and 95% interval of its runs' last evaluations by then, and
    how many reached `threshold` (where along the budget a config learns; a run not yet evaluated is left out)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for label, runs in groups.items():
        rows = []
        for step in (budget * (i + 1) // CURVE_POINTS for i in range(CURVE_POINTS)):
            last = [
                max((e for e in r["evaluations"] if e["step"] <= step), key=lambda e: e["step"], default=None)
                for r in runs
            ]
            means = [e["mean"] for e in last if e is not None]
            rows.append(
                {
                    "step": step,
                    "n": len(means),
                    "median": stats.median(means) if means else None,
                    "ci": list(stats.bootstrap_ci(means)) if means else None,
                    "at_threshold": sum(m >= threshold for m in means),
                }
            )
        out[label] = rows
    return out


def render_curves(result: dict[str, Any]) -> list[str]:
    """The learning-curve table: a row per tenth of the budget, two columns per group."""
    labels = list(result["curves"])
    task = TASKS[result["env_id"]]
    lines = [
        f"Along the budget: each run's last greedy evaluation at or before the step ({task['eval_episodes']} "
        f"episodes every {task['eval_every']:,} env steps), median over the group's seeds evaluated by then [95% "
        f"bootstrap], and how many of them were >= {result['threshold']:g}:",
        "",
        "| env steps | " + " | ".join(f"{g}: median [95%] | {g}: >= {result['threshold']:g}" for g in labels) + " |",
        "| --- |" + " --- | --- |" * len(labels),
    ]
    for i, step in enumerate(row["step"] for row in result["curves"][labels[0]]):
        cells = []
        for g in labels:
            row = result["curves"][g][i]
            cells += (
                ["-", "-"]
                if row["median"] is None
                else [f"{row['median']:,.0f} {stats.fmt_interval(row['ci'])}", f"{row['at_threshold']}/{row['n']}"]
            )
        lines.append(f"| {step:,} | " + " | ".join(cells) + " |")
    return lines
