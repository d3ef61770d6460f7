"""The tables both MinAtar reports share (the side-by-side's, `benchmarks.minatar`, and the screen's): scores per
game at each checkpoint with bootstrap intervals, the normalised IQM, the paper's readings and random play, and the
note on resumed runs."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from benchmarks import minatar_scores as scores
from tfdqn.envs.minatar import GAMES
from tfdqn.experiments import stats

SCORES_NOTE = (
    "Scores: the 100-episode moving average of training returns at each frame checkpoint (the paper's score), "
    "median over seeds [95% bootstrap interval]; games run as MinAtar/<Game>-v0 (6 actions, sticky actions 0.1)."
)


def resumed_at(record: dict[str, Any]) -> str:
    """The note after a resumed run's name, `" (resumed at frame N, ...)"`; "" for a run that went in one go."""
    frames = record.get("resumed_from") or []
    return f" (resumed at frame {', '.join(f'{f:,}' for f in frames)})" if frames else ""


def resumed_lines(runs: list[dict[str, Any]], name: str = "system") -> list[str]:
    """The report's note on the runs that were stopped and resumed (each named by its `name` key, game and seed);
    none when every run went in one go."""
    resumed = [r for r in runs if r.get("resumed_from")]
    if not resumed:
        return []
    which = "; ".join(f"{r[name]} {r['game']} seed {r['seed']}{resumed_at(r)}" for r in resumed)
    return [
        "",
        f"Resumed: {len(resumed)} of {len(runs)} runs were stopped and went on from their last saved training state "
        f"({which}). A resumed run trains as the uninterrupted run would; its seconds are summed over its attempts, "
        "each frame's once (what an attempt spent after its last saved state bought no frame of the run).",
    ]


def median_cell(values: list[float], fmt: str = ",.1f") -> str:
    """The median of `values` (NaN left out) with its 95% bootstrap interval, "-" for none."""
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return "-"
    return f"{stats.median(values):{fmt}} {stats.fmt_interval(stats.bootstrap_ci(values), fmt)}"


def iqm_cell(normalised: dict[str, list[float]]) -> str:
    """The normalised IQM over games and seeds with its 95% stratified bootstrap interval, "-" for none."""
    point, (lo, hi) = scores.stratified_iqm(normalised)
    return "-" if math.isnan(point) else f"{point:.2f} [{lo:.2f}, {hi:.2f}]"


class ScoreTable(NamedTuple):
    """One system's (or candidate's) table (`lines`), its normalised scores (per checkpoint, per game, one per
    seed) and its normalised IQM cell at each checkpoint."""

    lines: list[str]
    normalised: dict[int, dict[str, list[float]]]
    iqms: list[str]


def score_table(runs: list[dict[str, Any]], random: dict[str, float], checkpoints: list[int]) -> ScoreTable:
    """Per game the score at each checkpoint and env steps per second, then the normalised IQM."""
    head = " | ".join(f"{c:,}" for c in checkpoints)
    lines = [f"| game | seeds | {head} | env steps/s |", "| --- | --- |" + " --- |" * (len(checkpoints) + 1)]
    normalised: dict[int, dict[str, list[float]]] = {c: {} for c in checkpoints}
    for game in [g for g in GAMES if any(r["game"] == g for r in runs)]:
        runs_g = [r for r in runs if r["game"] == game]
        at = [scores.moving_average_at(r["returns"], r["end_frames"], checkpoints) for r in runs_g]
        cells = " | ".join(median_cell([a[i] for a in at]) for i in range(len(checkpoints)))
        speed = median_cell([r["env_steps"] / r["train_seconds"] for r in runs_g], ",.0f")
        lines.append(f"| {game} | {len(runs_g)} | {cells} | {speed} |")
        for i, c in enumerate(checkpoints):
            normalised[c][game] = [scores.normalise(a[i], game, random[game]) for a in at]
    iqms = [iqm_cell(normalised[c]) for c in checkpoints]
    lines.append(f"| normalised IQM [95% stratified bootstrap] | | {' | '.join(iqms)} | |")
    return ScoreTable(lines, normalised, iqms)


def reference_lines(random: dict[str, float]) -> list[str]:
    """The paper's DQN and the measured random play, the two ends of the normalisation."""
    return [
        "## The paper's DQN (read from its curves, +-3%)", "", scores.reference_table(), "",
        "## Random play (the normalisation's 0)", "", "| game | mean return |", "| --- | --- |",
        *(f"| {g} | {r:.2f} |" for g, r in random.items()),
    ]  # fmt: skip
