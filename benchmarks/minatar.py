"""The MinAtar side-by-side (issue 29): systems on MinAtar's five games, scored as the MinAtar paper scores
DQN, beside the paper's own curves.

Every run is a fresh one-thread process (`benchmarks.minatar_runs`), interleaved seed by seed, game by game,
system by system, so a busy machine slows every system alike; a rerun with the same `--out` keeps the runs an earlier
one finished with the same frames, evaluation episodes and settings, and resumes a tfdqn run it stopped from that
run's last saved training state (every `--state-every` frames; SB3 runs start over). The report gives, per system
and game, the 100-episode moving average of training returns at each checkpoint (median over seeds, 95% bootstrap
interval), the IQM over games and seeds of scores normalised by random play (0) and the paper's DQN at 5M frames (1)
with a stratified bootstrap interval, env steps per second (of training seconds summed over a resumed run's
attempts), and for tfdqn's preset the greedy return of best.keras and of the final network. The issue's two
experiments, on seeds the preset's screen did not use, each in its own folder (a report holds its command's runs):

    python -m benchmarks.minatar --systems tfdqn --seeds 3 --first-seed 100 --frames 2000000 --jobs 2 \
        --out results/minatar
    python -m benchmarks.minatar --systems tfdqn_equal sb3_equal --seeds 2 --first-seed 100 --frames 1000000 \
        --jobs 2 --out results/minatar/equal

A smoke test: `python -m benchmarks.minatar --games Breakout --seeds 1 --frames 6000 --checkpoints 3000 6000
--eval-episodes 3 --random-episodes 5`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from benchmarks import minatar_scores as scores, minatar_targets as targets
from benchmarks.common import ROOT, atomic_write_text, command_line, config_digest
from benchmarks.launch import thread_env
from benchmarks.minatar_runs import CANDIDATE, EQUAL_FIELDS, STATE_EVERY, SYSTEMS, candidate_fields, env_id
from benchmarks.minatar_state import discard_state, run_folder
from benchmarks.minatar_tables import SCORES_NOTE, reference_lines, resumed_at, resumed_lines, score_table
from benchmarks.tasks import missing_extras
from tfdqn.cli import positive_int
from tfdqn.envs.minatar import GAMES

EXTRAS_LINE = "error: sb3_equal needs torch and stable-baselines3, not installed: pip install -r requirements-bench.txt"
MINATAR_LINE = "error: MinAtar needs the minatar package, not installed: pip install 'tfdqn[minatar]'"


def checkpoints_for(frames: int, given: list[int] | None) -> list[int]:
    """The frames a run is scored at: `given`, or the paper's checkpoints within the budget and the budget."""
    if given:
        return sorted(set(given))
    return sorted({f for f in scores.PAPER_CHECKPOINTS if f <= frames} | {frames})


def settings_digest(system: str, game: str, fields: dict[str, Any] | None = None) -> str:
    """A short digest of the config `system` trains with on `game` (the `minatar` preset, which may change, the
    equal settings, or a screened candidate's `fields` over the paper's): part of each run's file name, so a rerun
    after the settings changed runs it again."""
    if system in ("tfdqn", CANDIDATE):
        from tfdqn.presets import config_for_env

        preset, extra = ("auto", {}) if system == "tfdqn" else ("none", candidate_fields(fields or {}))
        return config_digest(with_optimizer_form(config_for_env(env_id(game), preset, **extra).to_dict()))
    return config_digest(with_optimizer_form(dict(EQUAL_FIELDS)))


def with_optimizer_form(config: dict[str, Any]) -> dict[str, Any]:
    """`config` with RMSProp's form named (PyTorch's since the paper's RMSProp replaced Keras's, which no config
    field tells apart), so a run or a saved state from before that change is neither reused nor resumed."""
    return {**config, "rmsprop_form": "pytorch"} if config.get("optimizer") == "rmsprop" else config


def run_one(
    system: str, game: str, seed: int, frames: int, eval_episodes: int, out: Path, state_every: int = STATE_EVERY
) -> dict[str, Any]:
    """One system's run on `game` (`run_record`)."""
    path = record_path(system, game, seed, frames, eval_episodes, out)
    args = [system, "--game", game, "--seed", str(seed), "--frames", str(frames), "--eval-episodes", str(eval_episodes)]
    return run_record(path, [*args, "--state-every", str(state_every)], f"{system} {game} seed {seed}")


def record_path(system: str, game: str, seed: int, frames: int, eval_episodes: int, out: Path) -> Path:
    """Where a run's record lives: its name holds what it ran with, so a rerun reuses only a run of the same."""
    return out / "runs" / f"{system}_{game}_{seed}_{frames}_{eval_episodes}_{settings_digest(system, game)}.json"


def finished_record(path: Path) -> dict[str, Any] | None:
    """The record a finished run left at `path` (its worker writes it whole, last), or None."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def run_record(path: Path, worker_args: list[str], label: str) -> dict[str, Any]:
    """The record at `path`, or one worker process (`benchmarks.minatar_runs WORKER_ARGS --out PATH`) run to
    completion to write it: a tfdqn worker resumes from the training state an earlier, stopped one saved in the
    run's folder beside `path` (`minatar_state.run_folder`, left as it is here). A failed worker raises with the
    end of its stderr."""
    import subprocess

    path.parent.mkdir(parents=True, exist_ok=True)
    finished = finished_record(path)  # a rerun keeps the runs an earlier one finished with the same settings
    if finished is not None:
        discard_state(run_folder(path))  # a worker stopped between its record and this leaves its state behind
        return finished
    argv = [sys.executable, "-m", "benchmarks.minatar_runs", *worker_args, "--out", str(path)]
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=thread_env())
    if proc.returncode != 0:
        raise RuntimeError(f"{label} failed:\n{proc.stderr[-3000:]}")
    record = json.loads(path.read_text(encoding="utf-8"))
    speed = record["env_steps"] / record["train_seconds"]
    print(f"{label}: {speed:,.0f} env steps/s{resumed_at(record)}", file=sys.stderr)
    return record


def report(
    runs: list[dict[str, Any]], random: dict[str, float], checkpoints: list[int], command: str, planned: int = 0
) -> str:
    """The Markdown report of `runs` (records of `benchmarks.minatar_runs`), `planned` of them in all (0: as many)."""
    complete = planned <= len(runs)
    done = f"{len(runs)} runs." if complete else f"{len(runs)} of {planned} runs finished (an interim report)."
    lines = [
        "# MinAtar side-by-side", "", f"Command: `{command}`", "", done, "", SCORES_NOTE, "", *reference_lines(random),
    ]  # fmt: skip
    for system in [s for s in SYSTEMS if any(r["system"] == s for r in runs)]:
        mine = [r for r in runs if r["system"] == system]
        lines += ["", f"## {SYSTEMS[system]}", "", *score_table(mine, random, checkpoints).lines]
        if system == "tfdqn":
            lines += targets.greedy_lines(mine) + targets.preset_lines(mine, random, complete)
    lines += targets.equal_lines(runs, random, checkpoints[-1], complete)
    lines += targets.machine_lines(runs) + resumed_lines(runs)
    return "\n".join(lines) + "\n"


def add_run_flags(p: argparse.ArgumentParser, seeds: int, frames: int, checkpoints: str) -> None:
    """The flags the side-by-side and the screen share: games, seeds, frames, where to score, random play."""
    p.add_argument("--games", nargs="+", choices=GAMES, default=list(GAMES))
    p.add_argument(
        "--seeds", type=positive_int, default=seeds, help="seeds per game and system or candidate (default %(default)s)"
    )
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--frames", type=positive_int, default=frames, help="training frames per run (default %(default)s)")
    p.add_argument("--checkpoints", type=positive_int, nargs="+", help=f"frames to score at (default: {checkpoints})")
    p.add_argument("--random-episodes", type=positive_int, default=100, help="episodes of random play per game")
    p.add_argument(
        "--state-every",
        type=positive_int,
        default=STATE_EVERY,
        help="frames between saves of a tfdqn run's training state, which a rerun resumes (default %(default)s)",
    )


def main(argv: list[str] | None = None) -> int:
    """Parse, check the extras, run every (seed, game, system) interleaved, write runs/ and report.md."""
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(prog="python -m benchmarks.minatar", description=__doc__.split("\n\n")[0])
    p.add_argument("--systems", nargs="+", choices=tuple(SYSTEMS), default=["tfdqn"])
    add_run_flags(p, seeds=5, frames=2_000_000, checkpoints="the paper's within --frames, and --frames")
    p.add_argument("--eval-episodes", type=int, default=100, help="greedy episodes, best and final (tfdqn)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes at once (default %(default)s)")
    scratch = Path(tempfile.gettempdir()) / "tfdqn-minatar"
    p.add_argument(
        "--out", type=Path, default=scratch, help="runs/ and report.md (default: scratch; real runs: results/minatar)"
    )
    p.add_argument(
        "--report-only",
        action="store_true",
        help="rewrite report.md from the runs OUT/runs holds already (interim while runs are missing); start none",
    )
    args = p.parse_args(argv)
    if min(args.seeds, args.frames, args.jobs, args.random_episodes) < 1 or args.eval_episodes < 0:
        p.error("--seeds, --frames, --jobs and --random-episodes must be positive, --eval-episodes >= 0")
    import importlib.util

    if importlib.util.find_spec("minatar") is None:
        print(MINATAR_LINE, file=sys.stderr)
        return 2
    if "sb3_equal" in args.systems and missing_extras():
        print(EXTRAS_LINE, file=sys.stderr)
        return 2
    checkpoints = checkpoints_for(args.frames, args.checkpoints)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    plan = [(s, g, seed) for seed in seeds for g in args.games for s in args.systems]  # interleaved
    if args.report_only:  # before random play: no finished run is an error found at once
        return report_only(args, plan, checkpoints, [a for a in argv if a != "--report-only"])
    random = random_scores(args.games, args.random_episodes)

    def one(job: tuple[str, str, int]) -> dict[str, Any]:
        return run_one(*job, args.frames, args.eval_episodes, args.out, args.state_every)

    command, runs = command_line("minatar", argv), []
    with ThreadPoolExecutor(args.jobs) as pool:  # submitted in plan order; the report is rewritten after each run
        futures = [pool.submit(one, job) for job in plan]
        try:
            for future in as_completed(futures):
                runs.append(future.result())
                text = report(sorted(runs, key=plan_order(plan)), random, checkpoints, command, len(plan))
                atomic_write_text(args.out / "report.md", text)
        except BaseException:  # a failed run (or ^C) stops the benchmark: the runs not yet started never start
            for future in futures:
                future.cancel()
            raise
    print(text, end="")
    return 0


def report_only(
    args: argparse.Namespace,
    plan: list[tuple[str, str, int]],
    checkpoints: list[int],
    argv: list[str],
) -> int:
    """`--report-only`: the report the command (`argv`) would write now, from the plan's finished runs."""
    paths = (record_path(system, game, seed, args.frames, args.eval_episodes, args.out) for system, game, seed in plan)
    runs = [r for r in map(finished_record, paths) if r is not None]
    if not runs:
        print(f"error: no finished run of this command in {args.out / 'runs'}", file=sys.stderr)
        return 2
    random = random_scores(args.games, args.random_episodes)
    text = report(runs, random, checkpoints, command_line("minatar", argv), len(plan))
    atomic_write_text(args.out / "report.md", text)
    print(text, end="")
    print(f"report.md rewritten from {len(runs)} of {len(plan)} planned runs; none started", file=sys.stderr)
    return 0


def random_scores(games: list[str], episodes: int) -> dict[str, float]:
    """Random play's mean return on each game: the normalisation's 0."""
    return {g: scores.random_score(g, episodes) for g in games}


def plan_order(plan: list[tuple[str, str, int]]) -> Callable[[dict[str, Any]], int]:
    """A sort key putting run records in the plan's (interleaved) order, whatever order they finished in."""
    index = {job: i for i, job in enumerate(plan)}
    return lambda r: index[(r["system"], r["game"], r["seed"])]


if __name__ == "__main__":
    sys.exit(main())
