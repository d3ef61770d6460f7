"""The screen that chooses the `minatar` preset (issue 29): candidate settings side by side on MinAtar's games,
scored as the MinAtar paper scores DQN, with each one's speed and its chance of beating a baseline candidate.

    python -m benchmarks.minatar_screen --candidates benchmarks/configs/minatar_candidates.json --seeds 2
        --frames 500000 --workers 2 --out results/minatar/screen

The candidates file (JSON): {"description": TEXT, "baseline": NAME, "candidates": {NAME: {"why": TEXT, "fields":
{DQNConfig field: value, ...}}, ...}}; each candidate trains with its fields over the MinAtar paper's DQN
(`MINATAR_PAPER`, `benchmarks.minatar_runs.candidate_fields`). Every (seed, game, candidate) run is a fresh
one-thread process (`benchmarks.minatar_runs candidate`), interleaved seed by seed, game by game, candidate by
candidate, `--workers` at once, recording training returns only (no greedy evaluation: the paper's score needs
none); a rerun with the same `--out` keeps the runs an earlier one finished with the same frames and config (a
digest of the whole config is in each run's file name) and resumes a run it stopped from that run's last saved
training state (every `--state-every` frames), so a stopped screen goes on, and a candidate added later runs
alone. OUT/report.md, rewritten after every run, gives per candidate and game the paper's score at each checkpoint
(median over seeds, 95% bootstrap interval), per candidate the normalised IQM over games (stratified bootstrap), env
steps per second and the minutes a 2M-frame run would take on one core (the issue's target: under 20; both summed
over a resumed run's attempts), and each candidate's probability of improvement over the baseline at the last
checkpoint.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import re
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks import minatar_scores as scores
from benchmarks.common import atomic_write_text, command_line, load_note
from benchmarks.minatar import MINATAR_LINE, add_run_flags, checkpoints_for, run_record, settings_digest
from benchmarks.minatar_runs import CANDIDATE, STATE_EVERY, candidate_fields, env_id
from benchmarks.minatar_tables import (
    SCORES_NOTE,
    ScoreTable,
    median_cell,
    reference_lines,
    resumed_lines,
    score_table,
)
from tfdqn.cli import ArgumentParser, positive_int, run_main
from tfdqn.config import DQNConfig, read_object_file
from tfdqn.envs.minatar import GAMES
from tfdqn.errors import ConfigError
from tfdqn.experiments import stats
from tfdqn.presets import config_for_env

TARGET_FRAMES = 2_000_000
TARGET_MINUTES = 20.0
"""The issue's speed target: a 2M-frame MinAtar run under 20 minutes on one core."""
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
"""A candidate's name: part of its runs' file names."""


@dataclass(frozen=True)
class Candidates:
    """A candidates file, checked: per name its DQNConfig fields over the paper's and why it is screened."""

    path: Path
    fields: dict[str, dict[str, Any]]
    why: dict[str, str]
    baseline: str


def read_candidates(path: Path, baseline: str | None, games: list[str]) -> Candidates:
    """The candidates in `path`, each config built for every game in `games`; a ConfigError (one line) for a
    file that is not a candidates object, a bad name or field, or a baseline that is missing or not a candidate."""
    data = read_object_file(path)
    where = str(path)
    extra = sorted(set(data) - {"description", "baseline", "candidates"})
    if extra:
        raise ConfigError(f"{where}: unknown key {extra[0]!r} (keys: description, baseline, candidates)")
    given = data.get("candidates")
    if not isinstance(given, dict) or not given:
        raise ConfigError(f'{where}: no candidates (give "candidates": {{NAME: {{"why": ..., "fields": {{...}}}}}})')
    fields: dict[str, dict[str, Any]] = {}
    for name, entry in given.items():
        if not NAME.fullmatch(name):
            raise ConfigError(f"{where}: candidate name {name!r} must be letters, digits, '_', '.' or '-'")
        if not isinstance(entry, dict) or set(entry) - {"why", "fields"} or not isinstance(entry.get("fields"), dict):
            raise ConfigError(
                f'{where}: candidate {name!r} must be {{"why": TEXT, "fields": {{DQNConfig field: value}}}}'
            )
        fixed = sorted({"env_id", "seed"} & set(entry["fields"]))
        if fixed:
            raise ConfigError(f"{where}: candidate {name!r} sets {fixed[0]!r}, which the screen sets for each run")
        for game in games:
            try:
                config_for_game(game, entry["fields"])
            except ConfigError as exc:
                raise ConfigError(f"{where}: candidate {name!r}: {exc}") from None
        fields[name] = entry["fields"]
    baseline = baseline or data.get("baseline")
    if not baseline:
        raise ConfigError(f'{where}: name the baseline candidate (--baseline NAME or a "baseline" key)')
    if baseline not in fields:
        raise ConfigError(f"{where}: baseline {baseline!r} is not a candidate (candidates: {', '.join(fields)})")
    return Candidates(path, fields, {n: str(e.get("why", "")) for n, e in given.items()}, baseline)


def config_for_game(game: str, fields: dict[str, Any]) -> DQNConfig:
    """The DQNConfig a candidate with `fields` trains with on `game` (validated)."""
    return config_for_env(env_id(game), "none", **candidate_fields(fields))


def run_candidate(
    name: str, fields: dict[str, Any], game: str, seed: int, frames: int, out: Path, state_every: int = STATE_EVERY
) -> dict[str, Any]:
    """One candidate's run on `game` (`benchmarks.minatar.run_record`), its record marked with the candidate."""
    path = out / "runs" / f"{name}_{game}_{seed}_{frames}_{settings_digest(CANDIDATE, game, fields)}.json"
    args = [CANDIDATE, "--game", game, "--seed", str(seed), "--frames", str(frames), "--eval-episodes", "0"]
    args += ["--state-every", str(state_every), "--fields", json.dumps(fields)]
    record = run_record(path, args, f"{name} {game} seed {seed}")
    return {**record, "candidate": name}


def speeds(runs: list[dict[str, Any]], clock: str = "train_seconds") -> list[float]:
    """Env steps per second of training, one per run: of wall time, or of the worker's CPU time
    ("train_cpu_seconds", what a core of its own would take however busy the machine; wall time where a run
    did not record it)."""
    return [r["env_steps"] / r.get(clock, r["train_seconds"]) for r in runs]


def fmt_fields(fields: dict[str, Any]) -> str:
    """A candidate's fields over the paper's, as `name=value` pairs ("the paper's DQN" for none)."""
    return ", ".join(f"`{k}={json.dumps(v)}`" for k, v in fields.items()) or "the paper's DQN"


def summary_lines(
    by_name: dict[str, list[dict[str, Any]]], tables: dict[str, ScoreTable], baseline: str, cache: dict[tuple, Any]
) -> list[str]:
    """One row per candidate: its normalised IQM at each checkpoint, P(better than the baseline) at the last,
    its training speed and what that makes of a 2M-frame run on one core."""
    checkpoints = sorted(next(iter(tables.values())).normalised)
    last = checkpoints[-1]
    head = " | ".join(f"IQM at {c:,}" for c in checkpoints)
    lines = [
        f"| candidate | runs | {head} | P(better than {baseline}) at {last:,} | env steps/s | env steps per CPU s | "
        f"minutes for {TARGET_FRAMES / 1e6:g}M frames on one core (target < {TARGET_MINUTES:g}) |",
        "| --- | --- |" + " --- |" * (len(checkpoints) + 4),
    ]
    for name, runs in by_name.items():
        poi = "-"
        if name != baseline and baseline in tables:
            x, y = tables[name].normalised[last], tables[baseline].normalised[last]
            key = ("poi", name, len(runs), len(by_name[baseline]))
            point, (lo, hi) = memo(cache, key, partial(scores.probability_of_improvement, x, y))
            poi = "-" if math.isnan(point) else f"{point:.2f} [{lo:.2f}, {hi:.2f}]"
        cpu = speeds(runs, "train_cpu_seconds")
        minutes = TARGET_FRAMES / stats.median(cpu) / 60
        lines.append(
            f"| {name} | {len(runs)} | {' | '.join(tables[name].iqms)} | {poi} | {median_cell(speeds(runs), ',.0f')} "
            f"| {median_cell(cpu, ',.0f')} | {minutes:,.1f} ({'meets' if minutes < TARGET_MINUTES else 'misses'}) |"
        )
    return lines


def memo(cache: dict[tuple, Any], key: tuple, compute: Callable[[], Any]) -> Any:
    """`cache[key]`, computed first if missing: a screen's report is rewritten after every run, and a candidate's
    figures (bootstraps of 10,000 resamples) change only when a run of its own (or the baseline's) is added."""
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def report(
    runs: list[dict[str, Any]],
    candidates: Candidates,
    random: dict[str, float],
    checkpoints: list[int],
    meta: dict[str, Any],
    cache: dict[tuple, Any] | None = None,
) -> str:
    """The Markdown report of the finished `runs`; `meta`: the command, the planned runs, the machine's load;
    `cache`: figures from this screen's earlier reports (its runs only accumulate: a count keys them)."""
    cache = {} if cache is None else cache
    by_name = {n: [r for r in runs if r["candidate"] == n] for n in candidates.fields}
    by_name = {n: sorted(v, key=lambda r: (GAMES.index(r["game"]), r["seed"])) for n, v in by_name.items() if v}
    tables = {
        n: memo(cache, ("table", n, len(v)), partial(score_table, v, random, checkpoints)) for n, v in by_name.items()
    }
    lines = [
        "# MinAtar screen: candidates for the `minatar` preset", "", f"Command: `{meta['command']}`", "",
        f"{len(runs)} of {meta['planned']} runs finished. Each candidate trains with its fields over the MinAtar "
        f"paper's DQN (`MINATAR_PAPER`), from `{candidates.path}`; every run is a fresh one-thread process, "
        "interleaved, and records training returns only (no greedy evaluation).",
        "", SCORES_NOTE, "Normalised: random play 0, the paper's DQN at 5M frames 1 (`benchmarks.minatar_scores`). "
        "P(better): the chance a run of the candidate beats a run of the baseline on the same game, averaged over "
        "games (Agarwal et al. 2021), with a stratified bootstrap interval. Speed: env steps per second of "
        "training wall time, and per second of the worker's CPU time, which the projected minutes use (a busy "
        "machine stretches wall time, not the work a run needs of a core); a resumed run's seconds are summed over "
        "its attempts.", meta["load"],
        "## Summary", "",
    ]  # fmt: skip
    if by_name:
        lines += summary_lines(by_name, tables, candidates.baseline, cache)
    lines += ["", "## Candidates", "", "| candidate | fields over the paper's DQN | why |", "| --- | --- | --- |"]
    lines += [
        f"| {n} | {fmt_fields(f)} | {candidates.why[n].replace('|', '/')} |" for n, f in candidates.fields.items()
    ]
    for name, table in tables.items():
        lines += ["", f"## {name}", "", *table.lines]
    lines += resumed_lines(runs, name="candidate")
    return "\n".join([*lines, "", *reference_lines(random)]) + "\n"


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The screen's flags; a bad one is one line and status 2."""
    p = ArgumentParser(prog="python -m benchmarks.minatar_screen", description=__doc__.split("\n\n")[0])
    p.add_argument("--candidates", type=Path, required=True, help="the candidates file (JSON; see the module doc)")
    p.add_argument("--baseline", help="the candidate the others are compared with (default: the file's baseline)")
    add_run_flags(p, seeds=2, frames=500_000, checkpoints="each quarter of --frames and the paper's within it")
    p.add_argument("--workers", type=positive_int, default=2, help="runs at once (default %(default)s: the cores)")
    scratch = Path(tempfile.gettempdir()) / "tfdqn-minatar-screen"
    p.add_argument("--out", type=Path, default=scratch, help="runs/ and report.md (real runs: results/minatar/screen)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Check the candidates, run every (seed, game, candidate) interleaved, rewrite report.md after each run."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if importlib.util.find_spec("minatar") is None:
        print(MINATAR_LINE, file=sys.stderr)
        return 2
    candidates = read_candidates(args.candidates, args.baseline, args.games)
    quarters = [args.frames * q // 4 for q in range(1, 5)]  # where along the budget a candidate learns
    checkpoints = checkpoints_for(args.frames, args.checkpoints or [*quarters, *checkpoints_for(args.frames, None)])
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    plan = [(n, f, g, seed) for seed in seeds for g in args.games for n, f in candidates.fields.items()]
    random = {g: scores.random_score(g, args.random_episodes) for g in args.games}
    before = os.getloadavg()[0]
    meta = {"command": command_line("minatar_screen", argv), "planned": len(plan)}
    runs: list[dict[str, Any]] = []
    cache: dict[tuple, Any] = {}
    with ThreadPoolExecutor(args.workers) as pool:  # submitted in plan order: the runs start interleaved
        futures = [pool.submit(run_candidate, *job, args.frames, args.out, args.state_every) for job in plan]
        try:
            for future in as_completed(futures):
                runs.append(future.result())
                meta["load"] = load_note(before, os.getloadavg()[0])
                atomic_write_text(args.out / "report.md", report(runs, candidates, random, checkpoints, meta, cache))
        except BaseException:  # a failed run (or ^C) stops the screen: the runs not yet started never start
            for future in futures:
                future.cancel()
            raise
    print((args.out / "report.md").read_text(encoding="utf-8"), end="")
    return 0


if __name__ == "__main__":
    run_main(main)
