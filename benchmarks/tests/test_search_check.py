"""The search check's reading of a search, its seed rule and its verdict, on made-up results (the real check runs
sweeps; its figures come from a real run)."""

import json

import pytest

from benchmarks import search_check
from tfdqn.errors import ConfigError


def _search(tmp_path, ranking):
    plan = {"protocol": {"env_id": "CliffWalking-v1", "preset": None, "steps": 1000, "threshold": -13.0}}
    (tmp_path / "search.json").write_text(json.dumps({"plan": plan, "ranking": ranking, "seeds": [0, 1, 2]}))
    return tmp_path


def test_the_winner_is_the_best_complete_trial_and_a_folder_without_one_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="not a search's result"):
        search_check.read_search(tmp_path)
    _search(tmp_path, [{"config": "t01", "state": "pruned", "fields": {}}])
    with pytest.raises(ConfigError, match="no finished trial yet"):
        search_check.read_search(tmp_path)
    _search(tmp_path, [{"config": "t03", "state": "complete", "fields": {"gamma": 0.9}}])
    plan, winner, seeds = search_check.read_search(tmp_path)
    assert winner["fields"] == {"gamma": 0.9} and seeds == [0, 1, 2] and plan["protocol"]["steps"] == 1000


def test_the_check_runs_on_fresh_seeds_only():
    assert search_check.fresh_seeds(["100-102", "7"], [0, 1, 2]) == [100, 101, 102, 7]
    with pytest.raises(ConfigError, match=r"seeds \[1, 2\] were the search's own"):
        search_check.fresh_seeds(["1-4"], [0, 1, 2])


def test_the_verdict_counts_unsolved_as_the_budget_and_needs_the_interval_below_one():
    def runs(name, steps):
        return [{"config": name, "status": "ok", "solved_step": s} for s in steps]

    result = {"runs": runs("defaults", [500, 600, None, 700, 800]) + runs("winner", [100, 150, 200, 120, 130])}
    v = search_check.verdict(result, budget=1000)
    assert v["steps"]["defaults"] == [500, 600, 1000, 700, 800]
    assert v["ratio"][0] == pytest.approx(130 / 700) and v["beats_defaults"]
    assert v["p_sooner"][0] == 1.0
    same = {"runs": runs("defaults", [500, 600, 700]) + runs("winner", [600, 500, 700])}
    assert not search_check.verdict(same, budget=1000)["beats_defaults"]
