"""Redo the greedy evaluations of finished MinAtar preset runs that were cut at another step cap.

Runs recorded before MinAtar had its own evaluation cap (`tfdqn.envs.minatar.EPISODE_CAP`, 10,000 steps) had their
greedy episodes cut at the 1,000 steps of other environments without a time limit, which scored Freeway on 40% of
each episode. `python -m benchmarks.minatar_greedy --out results/minatar [--models DIR ...]` evaluates each such
run's best.keras and last.keras again as the run did (the same number of episodes, seeds from `config.seed +
FINAL_SEED_OFFSET`) under today's cap, and rewrites its record: `greedy_best`, `greedy_final`, `greedy_step_cap`,
and what they were (`greedy_before`); `benchmarks.minatar --report-only` then names the runs redone. A run's models
are looked for in its folder beside the record, else in each `--models` folder (another checkout's
`results/minatar/runs/`). best.keras stays the network the run's periodic evaluations chose, under their cap.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import atomic_write_text, command_line, repo_relative
from benchmarks.minatar_runs import env_id
from benchmarks.minatar_state import run_folder
from benchmarks.minatar_targets import OLD_GREEDY_CAP
from tfdqn.cli import ArgumentParser, positive_int, prepare_process, run_main
from tfdqn.envs.minatar import EPISODE_CAP
from tfdqn.errors import ArgumentError


def stale(record: dict[str, Any]) -> bool:
    """Whether the record has greedy evaluations cut at another cap than today's (MinAtar's games have no time
    limit of their own: `tfdqn.dqn.evaluation.limitless_cap` gives them `EPISODE_CAP`)."""
    return "greedy_best" in record and record.get("greedy_step_cap", OLD_GREEDY_CAP) != EPISODE_CAP


def models_folder(record_path: Path, models: list[Path]) -> Path | None:
    """The finished run's folder (best.keras, last.keras and the summary.json its end writes): beside its record,
    else the same name in `models` (a folder a stopped attempt left, without summary.json, is passed over)."""
    for folder in [run_folder(record_path)] + [m / run_folder(record_path).name for m in models]:
        if all((folder / file).is_file() for file in ("best.keras", "last.keras", "summary.json")):
            return folder
    return None


def redo(record: dict[str, Any], folder: Path, command: str) -> dict[str, Any]:
    """The record with best.keras and last.keras from `folder` evaluated greedily again under today's cap."""
    from tfdqn.dqn.evaluation import evaluate_model, evaluation_step_cap
    from tfdqn.training.protocol import FINAL_SEED_OFFSET

    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    episodes = int(summary["best_keras_evaluation"]["episodes"])
    seed, game = record["config"]["seed"] + FINAL_SEED_OFFSET, env_id(record["game"])
    best = evaluate_model(folder / "best.keras", game, episodes, seed)
    final = evaluate_model(folder / "last.keras", game, episodes, seed)
    before = {k: record[k] for k in ("greedy_best", "greedy_final")}
    before["greedy_step_cap"] = record.get("greedy_step_cap", OLD_GREEDY_CAP)
    return {
        **record,
        "greedy_best": best.mean,
        "greedy_final": final.mean,
        "greedy_step_cap": evaluation_step_cap(game),
        "greedy_before": before,
        "greedy_redone_by": command,
    }


def main(argv: list[str] | None = None) -> int:
    """Find the stale records under OUT/runs, refuse at once if a run's models are missing, then redo each."""
    argv = list(sys.argv[1:] if argv is None else argv)
    p = ArgumentParser(prog="python -m benchmarks.minatar_greedy", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True, help="the side-by-side's folder (its runs/ holds the records)")
    p.add_argument("--models", type=Path, nargs="*", default=[], help="other folders holding the runs' folders")
    p.add_argument("--threads", type=positive_int, default=1, help="TensorFlow threads (default %(default)s)")
    args = p.parse_args(argv)
    prepare_process()  # before NumPy and TensorFlow load
    paths = sorted((args.out / "runs").glob("*.json"))
    if not paths:
        raise ArgumentError(f"no run records in {args.out / 'runs'}")
    records = {path: json.loads(path.read_text(encoding="utf-8")) for path in paths}
    todo = {path: record for path, record in records.items() if stale(record)}
    folders = {path: models_folder(path, args.models) for path in todo}
    missing = [path.stem for path, folder in folders.items() if folder is None]
    if missing:
        raise ArgumentError(
            f"no finished run folder (best.keras, last.keras, summary.json) for {', '.join(missing)} "
            "(--models DIR: a folder holding their run folders)"
        )
    print(f"{len(todo)} of {len(paths)} records to redo", file=sys.stderr)
    import tfdqn

    tfdqn.configure_threads(args.threads)
    command = command_line("minatar_greedy", ["--out", repo_relative(args.out)])
    for path, record in todo.items():
        folder = folders[path]
        assert folder is not None
        start = time.perf_counter()
        new = redo(record, folder, command)
        atomic_write_text(path, json.dumps(new, indent=1))
        was = new["greedy_before"]
        print(
            f"{record['game']} seed {record['seed']}: best.keras {was['greedy_best']:.2f} -> {new['greedy_best']:.2f}, "
            f"final {was['greedy_final']:.2f} -> {new['greedy_final']:.2f} ({time.perf_counter() - start:.0f} s)",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    run_main(main)
