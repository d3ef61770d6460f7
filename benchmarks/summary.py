"""From recorded runs to figures: per-system summaries with 95% intervals, the "late" figure, curve bands,
and a recorded config completed with the fields added since."""

from __future__ import annotations

import math
import statistics
from typing import Any

import numpy as np

from benchmarks.tasks import LEARNERS, SYSTEMS, THRESHOLD
from tfdqn.config import DQNConfig
from tfdqn.experiments import stats

LATE_EVALUATIONS = 10
"""How many of a run's last greedy evaluations its "late" figure averages."""


def late_mean(run: dict) -> float:
    """The mean of a run's last `LATE_EVALUATIONS` greedy evaluations: where its policy stood over the end of the
    budget, a steadier figure than the final policy's one score (NaN for a run without evaluations)."""
    means = [e["mean"] for e in run.get("evaluations") or []][-LATE_EVALUATIONS:]
    return statistics.fmean(means) if means else math.nan


def max_loss(runs: list[dict[str, Any]]) -> float | None:
    """The largest loss any of `runs` recorded; None when none did (SB3 records no loss), not a made-up 0."""
    return max((r["max_loss"] for r in runs if r.get("max_loss") is not None), default=None)


def complete_config(run: dict[str, Any]) -> dict[str, Any]:
    """The config a run recorded, with any `DQNConfig` field added since filled in at its default (it had that
    value then) for tfdqn's runs; other systems' configs as recorded."""
    recorded = run.get("config") or {}
    if not str(run.get("system", "")).startswith("tfdqn"):
        return dict(recorded)
    return {**DQNConfig().to_dict(), **recorded}


def band(
    curves: list[tuple[list[float], list[float]]], grid: list[float] | Any, carry_forward: bool = False
) -> tuple[Any, Any, Any]:
    """Median and 25-75% band of several curves (x ascending) on a common grid.

    `carry_forward=False` interpolates linearly (NaN outside a curve's x range); `True` holds each curve's
    last value at or before the grid point (a step function, the last value carried on past its end) and
    gives NaN before its first point. The statistics are NaN wherever some curve is NaN.
    """
    points = np.asarray(grid, dtype=float)
    rows = []
    for curve_x, curve_y in curves:
        xs, ys = np.asarray(curve_x, dtype=float), np.asarray(curve_y, dtype=float)
        if len(xs) == 0:
            rows.append(np.full(len(points), np.nan))
            continue
        if carry_forward:
            idx = np.searchsorted(xs, points, side="right") - 1
            row = np.where(idx >= 0, ys[np.clip(idx, 0, None)], np.nan)
        else:
            row = np.interp(points, xs, ys, left=np.nan, right=np.nan)
        rows.append(row)
    m = np.vstack(rows)
    bad = np.isnan(m).any(axis=0)
    with np.errstate(all="ignore"):
        med, q25, q75 = (np.percentile(np.where(bad, 0.0, m), q, axis=0) for q in (50, 25, 75))
    med[bad] = q25[bad] = q75[bad] = np.nan
    return med, q25, q75


def _median_or_inf(values: list[float | None]) -> float | None:
    """Median where a missing value (not solved) counts as worse than any; None if the median is one."""
    if not values:
        return None
    m = statistics.median([math.inf if v is None else v for v in values])
    return None if math.isinf(m) else m


def _none_if_inf(interval: tuple[float, float]) -> list[float | None]:
    return [None if math.isinf(v) else v for v in interval]


def _median_of_known(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def summarize(runs: list[dict[str, Any]], threshold: float = THRESHOLD) -> dict[str, dict[str, Any]]:
    """Per-system medians (with bootstrap 95% intervals) and counts (with Wilson intervals) from the raw runs."""
    out: dict[str, dict[str, Any]] = {}
    for system in SYSTEMS:
        rs = sorted((r for r in runs if r["system"] == system), key=lambda r: r["seed"])
        if not rs:
            continue
        sps = [r["train_steps_per_s"] for r in rs]
        s: dict[str, Any] = {
            "runs": len(rs),
            "median_train_steps_per_s": statistics.median(sps),
            "ci_train_steps_per_s": list(stats.bootstrap_ci(sps)),
            "median_process_seconds": statistics.median(r["process_seconds"] for r in rs),
            "median_import_seconds": statistics.median(r["import_seconds"] for r in rs),
        }
        if system in LEARNERS:
            best = [r["best_100"]["mean"] if r.get("best_100") else None for r in rs]
            final = [r["final_100"]["mean"] if r.get("final_100") else None for r in rs]
            steps = [r["solved_step"] for r in rs]
            seconds = [r["solved_train_seconds"] for r in rs]
            n_best = sum(b is not None and b >= threshold for b in best)
            n_final = sum(f is not None and f >= threshold for f in final)
            late = [v for v in map(late_mean, rs) if not math.isnan(v)]
            known_final = [f for f in final if f is not None]
            s.update(
                solved=sum(v is not None for v in steps),
                solved_steps=steps,
                solved_seconds=seconds,
                median_solved_step=_median_or_inf(steps),
                ci_solved_step=_none_if_inf(stats.bootstrap_ci(steps)),
                max_solved_step=None if any(v is None for v in steps) else max(steps),
                median_solved_seconds=_median_or_inf(seconds),
                ci_solved_seconds=_none_if_inf(stats.bootstrap_ci(seconds)),
                median_train_seconds=statistics.median(r["train_seconds"] for r in rs),
                best_ge_threshold=n_best,
                ci_best_rate=list(stats.wilson_ci(n_best, len(rs))),
                final_ge_threshold=n_final,
                ci_final_rate=list(stats.wilson_ci(n_final, len(rs))),
                best_100=best,
                final_100=final,
                median_best_100=_median_of_known(best),
                median_final_100=_median_of_known(final),
                ci_final_100=list(stats.bootstrap_ci(known_final)) if known_final else None,
                late_mean=[round(v, 1) for v in late],
                median_late_mean=statistics.median(late) if late else None,
                ci_late_mean=list(stats.bootstrap_ci(late)) if late else None,
                median_stop_step=_median_or_inf([(r.get("stop_on_reward") or {}).get("step") for r in rs]),
                max_loss=max_loss(rs),
            )
        out[system] = s
    return out
