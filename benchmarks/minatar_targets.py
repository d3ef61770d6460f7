"""The MinAtar issue's targets, judged from the side-by-side's runs: each with its figures, its 95% interval and
what the interval supports (`stats.verdict`: "met" only where the whole interval is on the good side), and the
greedy evaluations of tfdqn's preset per game."""

from __future__ import annotations

import math
from typing import Any

from benchmarks import aggregate, minatar_scores as scores
from tfdqn.envs.minatar import GAMES
from tfdqn.experiments import stats

PRESET_FRAMES = 2_000_000
"""The preset's budget: its score here is set beside the paper's DQN at 5M frames."""
IQM_FRAMES = (1_000_000, 2_000_000)
"""The preset's normalised IQM at 1M frames is set beside the paper's DQN at 2M (2.5x the sample efficiency)."""
MINUTES_LIMIT = 20.0
"""A 2M-frame run on one core of this machine, at most (minutes of the worker's CPU time)."""
SPEED_RATIO = 2.0
"""Equal settings: tfdqn's env steps per second over SB3's, at least."""


def cell(point: float, interval: tuple[float, float], spec: str = ",.1f") -> str:
    """`point [lo, hi]`, "-" for a missing point."""
    return "-" if math.isnan(point) else f"{point:{spec}} {stats.fmt_interval(interval, spec)}"


def at(runs: list[dict[str, Any]], game: str, frame: int) -> list[float]:
    """The paper's score of each run of `game` at `frame` (runs that had ended no episode by then left out)."""
    values = [scores.moving_average_at(r["returns"], r["end_frames"], [frame])[0] for r in runs if r["game"] == game]
    return [v for v in values if not math.isnan(v)]


def normalised_at(runs: list[dict[str, Any]], random: dict[str, float], frame: int) -> dict[str, list[float]]:
    """Per game (those with runs), each run's normalised score at `frame`."""
    games = [g for g in GAMES if any(r["game"] == g for r in runs)]
    return {g: [scores.normalise(s, g, random[g]) for s in at(runs, g, frame)] for g in games}


def reached(runs: list[dict[str, Any]], frames: int) -> bool:
    """Whether every run trained at least `frames` frames."""
    return bool(runs) and all(r["env_steps"] >= frames for r in runs)


def preset_lines(runs: list[dict[str, Any]], random: dict[str, float]) -> list[str]:
    """The preset's targets: per game at 2M frames beside the paper's DQN at 5M, the normalised IQM at 1M beside
    the paper's at 2M, and the minutes a 2M-frame run takes on one core."""
    lines = ["", "### Targets: tfdqn's preset", ""]
    if not reached(runs, PRESET_FRAMES):
        return [*lines, f"Not judged: the preset's runs did not all reach {PRESET_FRAMES:,} frames."]
    lines += ["| game | seeds | score at 2M | the paper's DQN at 5M | verdict |", "| --- | --- | --- | --- | --- |"]
    verdicts = []
    for game in [g for g in GAMES if any(r["game"] == g for r in runs)]:
        values = at(runs, game, PRESET_FRAMES)
        interval = stats.bootstrap_ci(values)
        reference = scores.PAPER_DQN[game][5_000_000]
        verdicts.append(stats.verdict(interval, reference, "higher"))
        point = stats.median(values) if values else math.nan
        lines.append(f"| {game} | {len(values)} | {cell(point, interval)} | {reference:g} | {verdicts[-1]} |")
    met, missed = verdicts.count("met"), verdicts.count("missed")
    undecided = len(verdicts) - met - missed
    lines += ["", f"At least the paper's DQN at 5M on 4 of 5 games: met on {met}, missed on {missed}, undecided on "
              f"{undecided} (the median's 95% bootstrap interval over seeds against the reading)."]  # fmt: skip
    early, late = IQM_FRAMES
    paper = {g: [scores.normalise(scores.PAPER_DQN[g][late], g, random[g])] for g in random}
    paper_iqm = aggregate.aggregate_iqm(paper)
    point, interval = scores.stratified_iqm(normalised_at(runs, random, early))
    lines.append(
        f"Normalised IQM at {early:,} frames {cell(point, interval, '.2f')} against the paper's DQN at {late:,} "
        f"{paper_iqm:.2f} (the IQM of its readings on these games): {stats.verdict(interval, paper_iqm, 'higher')}."
    )
    minutes = [r["train_cpu_seconds"] / r["env_steps"] * PRESET_FRAMES / 60 for r in runs if "train_cpu_seconds" in r]
    if minutes:
        interval = stats.bootstrap_ci(minutes)
        lines.append(
            "Minutes of one core for a 2M-frame run (the worker's CPU time in training, its periodic evaluations "
            f"included): median "
            f"{cell(stats.median(minutes), interval)}, longest {max(minutes):.1f}; under {MINUTES_LIMIT:g}: "
            f"{stats.verdict(interval, MINUTES_LIMIT, 'lower')}."
        )
    return lines


def greedy_lines(runs: list[dict[str, Any]]) -> list[str]:
    """Per game, the greedy returns of best.keras and of the final network (median over seeds [95% bootstrap])."""
    rows = []
    for game in GAMES:
        mine = [r for r in runs if r["game"] == game and "greedy_best" in r]
        if mine:
            best, final = [r["greedy_best"] for r in mine], [r["greedy_final"] for r in mine]
            rows.append(
                f"| {game} | {len(mine)} | {cell(stats.median(best), stats.bootstrap_ci(best))} | "
                f"{cell(stats.median(final), stats.bootstrap_ci(final))} |"
            )
    if not rows:
        return []
    head = ["| game | seeds | best.keras | final network |", "| --- | --- | --- | --- |"]
    return ["", "Greedy evaluation (epsilon 0, median over seeds [95% bootstrap]):", "", *head, *rows]


def equal_lines(runs: list[dict[str, Any]], random: dict[str, float], frame: int) -> list[str]:
    """The equal-settings targets at `frame`: tfdqn's normalised IQM at least SB3's (their difference, with a
    stratified bootstrap interval, and P(tfdqn > SB3)), and tfdqn's env steps per second at least 2x SB3's."""
    mine = {s: [r for r in runs if r["system"] == s] for s in ("tfdqn_equal", "sb3_equal")}
    if not all(mine.values()):
        return []
    x, y = (normalised_at(mine[s], random, frame) for s in mine)
    lines = ["", f"### Targets: equal settings, at {frame:,} frames", ""]
    ix, iy = scores.stratified_iqm(x), scores.stratified_iqm(y)
    diff, diff_ci = scores.iqm_difference(x, y)
    p, p_ci = scores.probability_of_improvement(x, y)
    lines.append(
        f"Normalised IQM: tfdqn {cell(ix[0], ix[1], '.2f')}, SB3 {cell(iy[0], iy[1], '.2f')}; difference "
        f"{cell(diff, diff_ci, '+.2f')}, P(tfdqn > SB3) {cell(p, p_ci, '.2f')}. tfdqn at least SB3's: "
        f"{stats.verdict(diff_ci, 0.0, 'higher')} (undecided: no gap either way that these seeds can show)."
    )
    speeds = {s: [r["env_steps"] / r["train_seconds"] for r in v] for s, v in mine.items()}
    ratio = stats.median(speeds["tfdqn_equal"]) / stats.median(speeds["sb3_equal"])
    interval = stats.ratio_ci(speeds["tfdqn_equal"], speeds["sb3_equal"])
    lines.append(
        "Env steps per second of training wall time, tfdqn / SB3 (same run, interleaved): "
        f"{cell(ratio, interval, '.2f')}; "
        f"at least {SPEED_RATIO:g}x: {stats.verdict(interval, SPEED_RATIO, 'higher')}."
    )
    return lines
