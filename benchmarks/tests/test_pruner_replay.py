"""The pruner replay's reading of a search and its accounting, on a made-up unpruned search (the real figures
come from a real search's runs)."""

import json

import pytest

from benchmarks import pruner_replay
from tfdqn.errors import ConfigError

BUDGET, EVERY = 9000, 1000


def _run(trial, seed, solve_at):
    """A run whose evaluations climb to the threshold (1.0) at `solve_at` (None: stay at 0 to the budget)."""
    end = BUDGET if solve_at is None else solve_at
    progress = [{"step": s, "mean": 1.0 if s == solve_at else 0.1 * s / end} for s in range(EVERY, end + 1, EVERY)]
    return {"config": trial, "seed": seed, "key": f"{trial}__seed{seed}", "status": "ok", "solved_step": solve_at,
            "env_steps": end, "train_seconds": end / 100, "progress": progress}  # fmt: skip


def _search(tmp_path, pruner="none", solves=None):
    solves = solves or {"t00": 3000, "t01": 2000, "t02": 5000, "t03": None, "t04": None, "t05": None}
    runs = [_run(t, s, at) for t, at in solves.items() for s in (0, 1, 2)]
    plan = {"pruner": pruner, "eta": 3.0, "milestones": [1000, 3000], "seeds": [0, 1, 2],
            "protocol": {"env_id": "Fake-v0", "steps": BUDGET, "threshold": 1.0}}  # fmt: skip
    (tmp_path / "search.json").write_text(json.dumps({"plan": plan, "runs": runs}))
    return tmp_path


def test_a_pruned_search_or_an_unfinished_one_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="not a search's result"):
        pruner_replay.read_search(tmp_path)
    with pytest.raises(ConfigError, match="replay a search run with --pruner none"):
        pruner_replay.read_search(_search(tmp_path, pruner="halving"))
    (tmp_path / "search.json").write_text(json.dumps({"plan": {"pruner": "none", "seeds": [0, 1]}, "runs": []}))
    with pytest.raises(ConfigError, match="no trial whose 2 seeds all ran"):
        pruner_replay.read_search(tmp_path)


def test_each_pruner_keeps_the_winner_here_and_charges_pruned_runs_up_to_the_prune(tmp_path):
    plan, trials = pruner_replay.read_search(_search(tmp_path))
    none = pruner_replay.unpruned(trials, BUDGET)
    assert none["pruned"] == 0 and none["winner"] == "t01" and none["winner_value"] == 2000
    assert none["env_steps"] == 3 * (3000 + 2000 + 5000 + 3 * BUDGET)
    halving = pruner_replay.replay(plan, trials, "halving")
    fates = {r["trial"]: r for r in halving["trials"]}
    assert halving["winner"] == "t01" and fates["t01"]["pruned_at"] is None
    assert any(fates[t]["pruned_at"] is not None for t in ("t03", "t04", "t05"))
    for r in halving["trials"]:
        if r["pruned_at"] is not None:  # every seed ran to the milestone, not further
            assert r["env_steps"] == 3 * r["pruned_at"]
    assert halving["env_steps"] < none["env_steps"]


def test_the_report_names_every_pruner_and_the_winners_fate(tmp_path):
    folder = _search(tmp_path)
    assert pruner_replay.main([str(folder)]) == 0
    report = (folder / "pruners" / "pruners.md").read_text()
    for name in ("none", "halving", "hyperband", "wilcoxon"):
        assert f"| {name} |" in report
    result = json.loads((folder / "pruners" / "pruners.json").read_text())
    assert result["top"][0] == "t01" and [a["pruner"] for a in result["arms"]] == ["none", *pruner_replay.PRUNERS]
