"""A short Atari run that shows the pipeline learns (issue 29): `tfdqn atari` on one game (default Pong) with the
`atari` preset's network, settings and protocol, but schedules short enough for a CPU
(`benchmarks/configs/atari_short.json`: learning from 10,000 agent steps, epsilon 1 -> 0.01 over 100,000, not
over the preset's 1M), then a report of its raw training returns over time beside random play's.

    python -m benchmarks.atari_short --steps 1000000 --out results/atari/pong

The run's own files (metrics.csv, evaluations.csv, summary.json, config.json, learning_curve.png, best.keras,
last.keras) are in OUT/run/; OUT/report.md reads them. One run, one seed: it shows learning, it measures nothing
against a published table (a GPU-sized budget would). `tfdqn atari` cannot resume, so a stopped run starts over.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks import aggregate
from benchmarks.common import ROOT, atomic_write_text, command_line, load_note, repo_relative
from benchmarks.launch import thread_env
from tfdqn.cli import positive_int

CONFIG = ROOT / "benchmarks" / "configs" / "atari_short.json"
MIN_GAMES = 5
"""Games that a window of training and random play each need before the report judges whether the run learns."""
ALE_LINE = "error: Atari needs ale-py, which is not installed: pip install -r requirements-atari.txt"


def mean_cell(values: list[float], seed: int = 0, resamples: int = 10_000) -> tuple[float, float, float]:
    """The mean of `values` and its 95% percentile bootstrap interval (NaNs when there are none)."""
    if not values:
        return (float("nan"),) * 3
    x = np.asarray(values, dtype=float)
    means = x[np.random.default_rng(seed).integers(0, len(x), (resamples, len(x)))].mean(axis=1)
    return float(x.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def fmt(cell: tuple[float, float, float]) -> str:
    """`mean [lo, hi]`, "-" for none."""
    return "-" if np.isnan(cell[0]) else f"{cell[0]:.1f} [{cell[1]:.1f}, {cell[2]:.1f}]"


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a run's CSV file (none when it is missing)."""
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def report(run: Path, config: Path, steps: int, windows: int, floor: list[float], command: str, load: str) -> str:
    """The Markdown report of the run in `run` (trained with the fields in `config`): training returns per window
    of steps beside random play (`floor`), the periodic evaluations, best.keras."""
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    fields = json.loads(config.read_text(encoding="utf-8"))
    episodes = [(int(r["step"]), float(r["return"])) for r in read_csv(run / "metrics.csv")]
    width = max(steps // windows, 1)
    rows = ["| agent steps | games ended | raw training return, mean [95% bootstrap] |", "| --- | --- | --- |"]
    cells, counts = [], []
    for i in range(windows):
        end = steps if i == windows - 1 else (i + 1) * width  # the last window takes the remainder
        values = [r for s, r in episodes if i * width < s <= end]
        cells.append(mean_cell(values))
        counts.append(len(values))
        rows.append(f"| {i * width:,} - {end:,} | {len(values)} | {fmt(cells[-1])} |")
    evals = ["| agent steps | games | greedy return, mean (std) |", "| --- | --- | --- |"]
    evals += [
        f"| {int(r['step']):,} | {r['episodes']} | {float(r['mean_return']):.1f} ({float(r['std_return']):.1f}) |"
        for r in read_csv(run / "evaluations.csv")
        if r["kind"] == "periodic"
    ]
    best = summary.get("best_keras_evaluation") or {}
    last = next((c for c in reversed(cells) if not np.isnan(c[0])), (float("nan"),) * 3)
    random = mean_cell(floor)
    last_games = next((n for n in reversed(counts) if n), 0)
    if min(last_games, len(floor)) < MIN_GAMES:
        learns = f"not judged (fewer than {MIN_GAMES} games)"
    else:
        learns = "yes" if last[1] > random[2] else "not shown"
    speed = summary["env_steps"] / summary["train_seconds"]
    return "\n".join([
        f"# A short {summary['env_id']} run", "", f"Command: `{command}`", "",
        f"`tfdqn atari` with the `atari` preset and {', '.join(f'`{k}={v}`' for k, v in fields.items())} "
        f"(`{repo_relative(config)}`), seed {summary['seed']}, {summary['env_steps']:,} agent steps "
        f"({summary['env_steps'] * 4:,} frames), {summary['gradient_steps']:,} gradient steps, "
        f"{summary['train_seconds'] / 60:.0f} minutes of training ({speed:.0f} agent steps/s). Returns are raw game "
        "scores of whole games (the learner saw clipped rewards and a terminal at each life lost).",
        load, "## Training returns", "", *rows, "",
        f"Random play: {fmt(random)} over {len(floor)} games. The last window's interval above random play's: "
        f"**learns: {learns}**.", "", "## Greedy evaluations (periodic)", "", *evals, "",
        f"best.keras on {best.get('episodes', 0)} fresh games: {best.get('mean_return', float('nan')):.1f} "
        f"(std {best.get('std_return', float('nan')):.1f}).", "",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run `tfdqn atari` into OUT/run (a fresh run each time), measure random play, write OUT/report.md."""
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(prog="python -m benchmarks.atari_short", description=__doc__.split("\n\n")[0])
    p.add_argument("--env", default="ALE/Pong-v5")
    p.add_argument("--steps", type=positive_int, default=1_000_000, help="agent steps (default %(default)s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--config", type=Path, default=CONFIG, help="DQNConfig fields over the atari preset")
    p.add_argument("--eval-every", type=positive_int, default=100_000)
    p.add_argument("--eval-episodes", type=positive_int, default=5)
    p.add_argument("--final-episodes", type=positive_int, default=10)
    p.add_argument("--eval-max-steps", type=positive_int, help="cut greedy games after N agent steps")
    p.add_argument("--random-episodes", type=positive_int, default=10)
    p.add_argument("--windows", type=positive_int, default=10, help="rows of the training-return table")
    p.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "tfdqn-atari-short")
    args = p.parse_args(argv)
    args.out, args.config = args.out.resolve(), args.config.resolve()  # the run's process works from ROOT
    if importlib.util.find_spec("ale_py") is None:
        print(ALE_LINE, file=sys.stderr)
        return 2
    run = args.out / "run"
    shutil.rmtree(run, ignore_errors=True)  # `tfdqn atari` cannot resume: a rerun is a fresh run
    cmd = [sys.executable, "-m", "tfdqn", "atari", "--env", args.env, "--steps", str(args.steps),
           "--seed", str(args.seed), "--config", str(args.config), "--out", str(run), "--no-stop", "--no-gif",
           "--no-live-plot", "--eval-every", str(args.eval_every), "--eval-episodes", str(args.eval_episodes),
           "--final-episodes", str(args.final_episodes)]  # fmt: skip
    if args.eval_max_steps:
        cmd += ["--eval-max-steps", str(args.eval_max_steps)]
    before = os.getloadavg()[0]
    proc = subprocess.run(cmd, cwd=ROOT, env=thread_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        return proc.returncode
    env_id: str = json.loads((run / "summary.json").read_text(encoding="utf-8"))["env_id"]
    floor = aggregate.random_returns(env_id, args.random_episodes, args.seed)
    load = load_note(before, os.getloadavg()[0])
    text = report(run, args.config, args.steps, args.windows, floor, command_line("atari_short", argv), load)
    atomic_write_text(args.out / "report.md", text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
