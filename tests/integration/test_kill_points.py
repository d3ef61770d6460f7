"""kill -9 at each write point of a run's files and checkpoints, then `--resume`: the resumed run ends exactly as
an uninterrupted one (every evaluation, episode row and best model), with no temporary file left behind.

The subprocess is tests/fault_driver.py: `tfdqn train` with SIGKILL injected before its N-th file operation.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tfdqn import load_q_network

DRIVER = Path(__file__).resolve().parents[1] / "fault_driver.py"
ENV = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "TFDQN_"))}
SMALL = {"hidden_sizes": [32, 32], "learning_starts": 100, "buffer_size": 2000, "train_freq": 4,
         "gradient_steps": 2, "target_update_interval": 50}  # fmt: skip
STEPS, STATE_EVERY = 600, 200
FLAGS = ["--no-stop", "--no-gif", "--no-live-plot", "--deterministic", "--eval-every", "100", "--eval-episodes", "2",
         "--final-episodes", "1", "--state-every", str(STATE_EVERY), "--steps", str(STEPS)]  # fmt: skip


def run_driver(args: list[str], kill_at: int = 0, log: Path | None = None, kill_on: str = "") -> subprocess.Popen:
    env = {**ENV, "TFDQN_KILL_AT": str(kill_at), "TFDQN_KILL_ON": kill_on}
    if log is not None:
        env["TFDQN_WRITE_LOG"] = str(log)
    return subprocess.Popen(
        [sys.executable, str(DRIVER), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(process: subprocess.Popen) -> tuple[int, str]:
    _, err = process.communicate(timeout=600)
    return process.returncode, err


def rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return [{k: v for k, v in row.items() if k != "wall_seconds"} for row in csv.DictReader(f)]


def weights(path: Path) -> list[np.ndarray]:
    return load_q_network(path).get_weights()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run, with the numbered log of its file operations."""
    root = tmp_path_factory.mktemp("reference")
    config = root / "small.json"
    config.write_text(json.dumps(SMALL))
    log = root / "writes.log"
    code, err = finish(run_driver(["--config", str(config), "--out", str(root / "run"), *FLAGS], log=log))
    assert code == 0, err[-3000:]
    calls = [line.split("\t") for line in log.read_text().splitlines()]
    return root, config, [(int(n), op, path) for n, op, path in calls]


def second_checkpoint_points(calls: list[tuple[int, str, str]]) -> dict[str, int]:
    """The numbered write points of the second periodic checkpoint (step 400) and the one just after it."""
    state = [(n, op, path) for n, op, path in calls if "/state/" in path or path.endswith("/state")]
    saves = [n for n, op, path in state if op == "savez"]
    start = saves[1]
    folder = next(n for n, op, path in state if n > start and op == "replace" and "checkpoint-" in path)
    latest = next(n for n, op, path in state if n > folder and op == "replace" and path.endswith(".tmp"))
    old = next(n for n, op, path in state if n > latest and op == "rmtree")
    return {
        "while writing the arrays": start,
        "before the folder is renamed": folder,
        "before latest names it": latest,
        "before the old checkpoint is deleted": old,
        "right after the checkpoint": old + 1,
    }


def end_of_run_points(calls: list[tuple[int, str, str]]) -> dict[str, int]:
    """Write points of the run's end: the second save of the last step (the budget is a multiple of the period),
    a best.keras write, and the summary written last."""

    def first(op: str, text: str, after: int = 0) -> int:
        return next(n for n, o, path in calls if n > after and o == op and text in path)

    return {
        "before the second save of the last step is renamed": first("replace", f"checkpoint-{STEPS:012d}-1.tmp"),
        "while best.keras is written": first("replace", ".best.keras.tmp-", after=first("savez", "checkpoint-")),
        "while summary.json is written": first("replace", ".summary.json.tmp-"),
    }


def check_resumed_equals_reference(run: Path, reference_run: Path) -> None:
    for name in ("metrics.csv", "evaluations.csv"):
        assert rows(run / name) == rows(reference_run / name), name
    assert json.loads((run / "best.json").read_text()) == json.loads((reference_run / "best.json").read_text())
    summary, expected = (json.loads((r / "summary.json").read_text()) for r in (run, reference_run))
    for key in ("env_steps", "episodes", "gradient_steps", "best_checkpoint_step", "best_keras_evaluation"):
        assert summary[key] == expected[key], key
    for name in ("best.keras", "last.keras"):
        for x, y in zip(weights(run / name), weights(reference_run / name), strict=True):
            np.testing.assert_array_equal(x, y)
    leftovers = [p.name for p in [*run.iterdir(), *(run / "state").iterdir()] if ".tmp-" in p.name]
    assert leftovers == []
    assert len([p for p in (run / "state").iterdir() if p.name.startswith("checkpoint-")]) == 1


def kill_and_resume(reference, points: list[int], tmp_path: Path) -> None:
    root, config, _ = reference
    runs = {n: tmp_path / f"killed-at-{n}" for n in points}
    for batch in (points[i : i + 2] for i in range(0, len(points), 2)):  # two at a time: one per core
        killed = {n: run_driver(["--config", str(config), "--out", str(runs[n]), *FLAGS], kill_at=n) for n in batch}
        for n, process in killed.items():
            code, err = finish(process)
            assert code == -signal.SIGKILL, f"not killed at write {n}: {err[-2000:]}"
        resumed = {n: run_driver(["--resume", str(runs[n]), *FLAGS]) for n in batch}
        for n, process in resumed.items():
            code, err = finish(process)
            assert code == 0, f"resume after a kill at write {n}: {err[-3000:]}"
            check_resumed_equals_reference(runs[n], root / "run")


DEFAULT_POINTS = (  # a checkpoint's write and the run's end; the others (and every write) run with -m slow
    "before the folder is renamed",
    "while summary.json is written",
)


def points_of(calls: list[tuple[int, str, str]]) -> dict[str, int]:
    return {**second_checkpoint_points(calls), **end_of_run_points(calls)}


def test_kill_at_each_point_of_a_checkpoint_write_then_resume_is_exact(reference, tmp_path):
    points = points_of(reference[2])
    kill_and_resume(reference, [points[name] for name in DEFAULT_POINTS], tmp_path)


@pytest.mark.slow
def test_kill_at_the_other_named_points_then_resume_is_exact(reference, tmp_path):
    points = points_of(reference[2])
    kill_and_resume(reference, [n for name, n in points.items() if name not in DEFAULT_POINTS], tmp_path)


@pytest.mark.slow  # three runs of the driver (~22 s)
def test_kill_while_a_resume_cuts_the_csv_files_loses_no_row(reference, tmp_path):
    """The resume cuts metrics.csv back to the rows its checkpoint had seen; killed while rewriting, the file
    is whole (old or new), and the next resume ends exactly as an uninterrupted run."""
    root, config, calls = reference
    run = tmp_path / "run"
    first_kill = second_checkpoint_points(calls)["right after the checkpoint"]
    code, err = finish(run_driver(["--config", str(config), "--out", str(run), *FLAGS], kill_at=first_kill))
    assert code == -signal.SIGKILL, err[-2000:]
    before = rows(run / "metrics.csv")
    code, err = finish(run_driver(["--resume", str(run), *FLAGS], kill_on="replace\t" + str(run / ".metrics.csv")))
    assert code == -signal.SIGKILL, f"the resume was not killed while rewriting metrics.csv: {err[-2000:]}"
    assert rows(run / "metrics.csv") == before  # the old file whole, not half of it
    code, err = finish(run_driver(["--resume", str(run), *FLAGS]))
    assert code == 0, err[-3000:]
    check_resumed_equals_reference(run, root / "run")


@pytest.mark.slow
def test_kill_at_every_write_of_a_run_then_resume_is_exact(reference, tmp_path):
    """Every file operation after the first checkpoint (before it there is nothing to resume from)."""
    calls = reference[2]
    first = next(n for n, op, path in calls if op == "replace" and "/.latest.tmp-" in path)  # `latest` is written
    kill_and_resume(reference, [n for n, _, _ in calls if n > first], tmp_path)
