"""The pruner replay's reading of a search and its simulation, on a made-up unpruned search (the real figures
come from a real search's runs)."""

import json

import pytest

from benchmarks import pruner_replay
from tfdqn.errors import ConfigError

BUDGET, EVERY = 9000, 1000


def _run(trial, seed, solve_at):
    """A run whose evaluations climb to the threshold (1.0) at `solve_at` (None: stay low to the budget); one env
    step takes 0.01 s after 1 s of start-up."""
    end = BUDGET if solve_at is None else solve_at
    progress = [{"step": s, "mean": 1.0 if s == solve_at else 0.1 * s / end} for s in range(EVERY, end + 1, EVERY)]
    return {"config": trial, "seed": seed, "key": f"{trial}__seed{seed}", "status": "ok", "solved_step": solve_at,
            "env_steps": end, "train_seconds": end / 100, "wall_seconds": end / 100 + 1,
            "best_score": max(p["mean"] for p in progress), "progress": progress}  # fmt: skip


SOLVES = {"t00": 3000, "t01": 2000, "t02": 5000, "t03": None, "t04": None, "t05": None}


def _search(tmp_path, pruner="none", solves=SOLVES, seeds=(0, 1, 2)):
    runs = [_run(t, s, at) for t, at in solves.items() for s in seeds]
    plan = {"pruner": pruner, "eta": 3.0, "milestones": [1000, 3000], "seeds": list(seeds),
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


def test_unpruned_the_simulation_is_the_search_as_it_ran(tmp_path):
    plan, trials, repeated = pruner_replay.read_search(_search(tmp_path))
    none = pruner_replay.simulate(plan, trials, repeated, "none", slots=1)
    assert none["pruned"] == 0 and none["winner"] == "t01" and none["winner_value"] == 2000
    steps = 3 * (3000 + 2000 + 5000 + 3 * BUDGET)
    assert none["env_steps"] == steps
    assert none["wall_seconds"] == pytest.approx(steps / 100 + 18)  # one slot: every run after the other
    assert pruner_replay.simulate(plan, trials, repeated, "none", slots=3)["wall_seconds"] == pytest.approx(
        none["wall_seconds"] / 3
    )  # three slots: a trial's three seeds side by side


def test_halving_stops_a_pruned_trials_runs_at_their_next_evaluation(tmp_path):
    plan, trials, repeated = pruner_replay.read_search(_search(tmp_path))
    none = pruner_replay.simulate(plan, trials, repeated, "none", slots=3)
    halving = pruner_replay.simulate(plan, trials, repeated, "halving", slots=3)
    fates = {r["trial"]: r for r in halving["trials"]}
    assert halving["winner"] == "t01" and fates["t01"]["pruned_at"] is None
    pruned = [r for r in halving["trials"] if r["pruned_at"] is not None]
    assert {"t03", "t04", "t05"} & {r["trial"] for r in pruned}
    for r in pruned:  # the value at a milestone comes once all three seeds reach it; each runs one evaluation on
        assert r["env_steps"] == 3 * (r["pruned_at"] + EVERY)
    assert halving["env_steps"] < none["env_steps"] and halving["wall_seconds"] < none["wall_seconds"]


def test_wilcoxon_prunes_on_finished_seeds_and_its_queued_seeds_never_start(tmp_path):
    solves = {"t00": 2000, "t01": None}
    plan, trials, repeated = pruner_replay.read_search(_search(tmp_path, solves=solves, seeds=range(6)))
    wilcoxon = pruner_replay.simulate(plan, trials, repeated, "wilcoxon", slots=1)
    loser = next(r for r in wilcoxon["trials"] if r["trial"] == "t01")
    assert loser["pruned_at"] is not None and loser["pruned_at"] < 5
    assert loser["env_steps"] == (loser["pruned_at"] + 1) * BUDGET  # the seeds after the pruning one: not run


def test_the_report_names_every_pruner_and_the_winners_fate(tmp_path):
    folder = _search(tmp_path)
    assert pruner_replay.main([str(folder)]) == 0
    report = (folder / "pruners" / "pruners.md").read_text()
    for name in pruner_replay.PRUNERS:
        assert f"| {name} |" in report
    assert "With 3 seeds the Wilcoxon pruner cannot prune" in report
    wilcoxon = next(a for a in json.loads((folder / "pruners" / "pruners.json").read_text())["arms"]
                    if a["pruner"] == "wilcoxon")  # fmt: skip
    assert wilcoxon["pruned"] == 0  # it sees each seed's result only, never the milestones' values
    result = json.loads((folder / "pruners" / "pruners.json").read_text())
    assert result["top"][0] == "t01" and [a["pruner"] for a in result["arms"]] == list(pruner_replay.PRUNERS)
