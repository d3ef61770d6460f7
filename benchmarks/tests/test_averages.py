"""Weight averages: scored on the suite worker's own run, and bad input refused before anything runs."""

import json

import pytest

from benchmarks.launch import run_worker
from benchmarks.tests.cli import run_benchmark


def averages(*args, timeout=120):
    return run_benchmark("averages", *args, timeout=timeout)


@pytest.mark.slow  # two 2,000-step CartPole runs: over a minute on a busy 2-core machine
def test_averages_score_averages_of_the_suites_own_run(tmp_path):
    """The copies do not change training: the run's evaluations and final score are the suite worker's."""
    proc = averages(
        "--env", "CartPole-v1", "--seeds", 1, "--first-seed", 2, "--steps", 2000, "--jobs", 1, "--out", tmp_path,
        timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    (got,) = json.loads((tmp_path / "averages.json").read_text())["runs"]
    assert set(got["averages"]) == {"swa_half", "swa_last_fifth", "ema", "target"}
    assert "| swa_half | " in (tmp_path / "averages.md").read_text()
    want = run_worker("tfdqn_default", 2, 2000, "CartPole-v1", tmp_path / "suite.json")
    assert [e["mean"] for e in got["evaluations"]] == [e["mean"] for e in want["evaluations"]]
    assert got["final_100"]["mean"] == want["final_100"]["mean"]


def test_averages_refuse_an_unknown_preset_before_running(tmp_path):
    proc = averages("--preset", "nope", "--out", tmp_path / "out")
    assert proc.returncode == 2 and proc.stderr.startswith("error: unknown preset 'nope'")
    assert len(proc.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_averages_refuse_a_budget_with_no_copy_to_average_before_running(tmp_path):
    proc = averages("--env", "CartPole-v1", "--steps", 1500, "--out", tmp_path / "out")
    assert proc.returncode == 2 and proc.stderr.startswith("error: --steps 1,500: the averages need a copy")
    assert len(proc.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()
