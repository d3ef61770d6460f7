"""The search-cost benchmark's plumbing: its refusal of a space that is not a grid, its report on made-up
searches, and the old tree it takes from git. (The searches themselves: `python -m benchmarks.search_cost`.)"""

import json
import subprocess
import sys

import pytest

from benchmarks import search_cost
from benchmarks.common import ROOT
from benchmarks.launch import thread_env
from tfdqn.experiments.errors import SweepError


def test_a_space_that_is_not_a_grid_is_one_line(tmp_path):
    space = tmp_path / "space.json"
    space.write_text(json.dumps({"gamma": {"uniform": [0.9, 0.99]}}))
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.search_cost", str(space), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, env=thread_env(), timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [
        "error: the space must give a non-empty list for every field (every arm runs its grid)"
    ]
    assert not (tmp_path / "out").exists()


def test_the_report_compares_every_arm_with_the_old_search():
    def search(arm, wall):
        return {"arm": arm, "wall_seconds": wall, "started": 8, "stopped": 2, "env_steps": 9000,
                "winner": {"gamma": 0.99}, "objective": 1500.0}  # fmt: skip

    result = {
        "command": "x", "date": "d", "baseline": "b3a49e1", "seeds": ["0", "1"], "trials": 4, "repeats": 2,
        "arms": [search_cost.OLD, "halving", "none"], "load": [1.0, 1.0],
        "searches": [search(search_cost.OLD, 100), search("halving", 80), search(search_cost.OLD, 120),
                     search("halving", 100)],
    }  # fmt: skip
    text = search_cost.render(result)
    # paired: 80/100 and 100/120 in the same repeats
    assert "| halving | 80, 100 | 0.82x | 0.82x [0.80, 0.83] (2) | 8 | 2 | 9,000 |" in text and "| none |" not in text
    assert "| old halving | 100, 120 | 1.00x | - |" in text
    assert search_cost._paired([80.0], [100.0, 120.0]) == "0.80x [0.80, 0.80] (1)"  # a repeat in progress


def test_the_old_search_comes_from_git(tmp_path):
    tree = search_cost.baseline_tree(search_cost.BASELINE, tmp_path)
    assert (tree / "tfdqn" / "experiments" / "halving.py").is_file()


def test_an_arm_the_seeds_cannot_serve_is_refused_before_any_search(monkeypatch, tmp_path):
    ran = []
    monkeypatch.setattr(search_cost, "run_arm", lambda *a, **k: ran.append(a))
    space = tmp_path / "space.json"
    space.write_text(json.dumps({"gamma": [0.9, 0.99]}))
    with pytest.raises(SweepError, match="wilcoxon pruner never prunes with 3 seed"):
        search_cost.main([str(space), "--seeds", "0-2", "--pruners", "halving", "wilcoxon", "--no-old"])
    assert not ran
