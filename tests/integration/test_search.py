"""tfdqn.experiments.search on Optuna and a local Ray (2 CPUs, started once for this module): fake workers whose
evaluations depend on the trial's fields, so a search's ranking, pruning and resume are known in seconds."""

from __future__ import annotations

import ast
import dataclasses
import math

import pytest
from search_fakes import PROTOCOL, fake_specs

from tfdqn.config import DQNConfig, read_config_file
from tfdqn.experiments import search as se
from tfdqn.experiments.errors import SweepError
from tfdqn.experiments.milestones import Milestones, check_milestones, milestones_for
from tfdqn.experiments.search import objective
from tfdqn.experiments.space import check_space

pytest.importorskip("optuna")


@pytest.fixture
def fakes(monkeypatch):
    monkeypatch.setattr(se, "trial_specs", fake_specs)


def trials_of(out) -> list:
    import optuna

    return optuna.load_study(study_name="search", storage=f"sqlite:///{out / 'study.db'}").trials


def test_a_tpe_search_ranks_its_trials_and_writes_the_winner(local_ray, fakes, tmp_path):
    space = {"gamma": [0.9, 0.95, 0.99], "batch_size": [32, 64]}
    result = se.search(space, [0, 1], tmp_path, PROTOCOL, trials=5, pruner="none")
    trials = trials_of(tmp_path)
    assert len(trials) == 5 and [t.number for t in trials] == list(range(5))
    assert all(t.state.name == "COMPLETE" for t in trials)
    best = result["ranking"][0]
    solve = {0.99: 300, 0.95: 600}
    assert best["objective"] == min(solve.get(t.params["gamma"], 1000) for t in trials)
    assert best["objective"] == min(t.value for t in trials)
    config = DQNConfig.from_dict(read_config_file(tmp_path / "best_config.json"))
    assert config.gamma == best["fields"]["gamma"] and config.batch_size == best["fields"]["batch_size"]
    snippet = (tmp_path / "best_preset.py").read_text()
    ast.parse("PRESETS = {\n" + snippet + "}")
    assert f"'gamma': {best['fields']['gamma']}" in snippet or best["fields"]["gamma"] == DQNConfig().gamma
    assert set(result["importances"]) == {"gamma", "batch_size"}
    text = (tmp_path / "search.md").read_text()
    assert "Parameter importances (PED-ANOVA" in text and "| 1 | " + best["config"] in text


def test_a_trial_drawing_a_finished_trials_fields_takes_its_score_without_running(local_ray, fakes, tmp_path):
    result = se.search({"gamma": [0.95, 0.99]}, [0], tmp_path, PROTOCOL, trials=6, pruner="none")
    trials = trials_of(tmp_path)
    assert len(trials) == 6 and all(t.state.name == "COMPLETE" for t in trials)
    firsts = {}
    for t in trials:
        firsts.setdefault(t.params["gamma"], t)
        assert t.value == firsts[t.params["gamma"]].value
    # a trial drawing the fields of one still running runs too (nothing to copy yet); the rest are not run
    assert len(result["runs"]) < 6 and len(result["repeated"]) == 6 - len(result["runs"]) > 0
    assert "took its score without running" in (tmp_path / "search.md").read_text()


def test_halving_prunes_a_hopeless_trial_and_its_runs_stop(local_ray, fakes, tmp_path):
    # a grid runs in its lists' order: 0.99 and 0.95 reach the 200-step rung first with a smaller shortfall, then
    # 0.9 arrives below the top half (eta 2) and is pruned there: its run stops long before 1000 steps
    space = {"gamma": [0.99, 0.95, 0.9]}
    result = se.search(space, [0], tmp_path, PROTOCOL, sampler="grid", eta=2, milestones=[200])
    states = {r["fields"]["gamma"]: r for r in result["ranking"]}
    order = [t.params["gamma"] for t in trials_of(tmp_path)]
    assert order == [0.99, 0.95, 0.9]
    assert states[0.9]["state"] == "pruned" and states[0.9]["pruned_at"] == 200
    run = next(r for r in result["runs"] if r["config"] == states[0.9]["config"])
    assert run["status"] == "stopped" and len(run["progress"]) < 10  # the driver looks once a second
    assert states[0.99]["state"] == "complete" and result["ranking"][0]["fields"]["gamma"] == 0.99


def test_halving_prunes_a_trial_at_the_second_rung_of_the_default_milestones(local_ray, monkeypatch, tmp_path):
    # 3,000 steps, eta 3: milestones 400 and 1,200, Optuna's rungs (the old default, 400 and 1,000, never reached
    # the second rung at 1,200). gamma 0.95 runs first and solves at 600; 0.5 holds a mean of 80 from the start:
    # best at 400 (shortfall 20 against 33), hopeless at 1,200 (20 against 0), so it is pruned there
    flat = (
        "import json, sys, time\n"
        "for step in range(100, 3001, 100):\n"
        "    time.sleep(0.5 if step == 100 else 0.15)\n"
        "    print('@tfdqn-progress', json.dumps({'step': step, 'mean': 80.0}), flush=True)\n"
        "json.dump({'solved_step': None, 'best_score': 80.0, 'final_score': 80.0, 'env_steps': 3000},"
        " open(sys.argv[1] + '/result.json', 'w'))\n"
    )

    def specs(name, overrides, seeds, protocol, tracked=None):
        runs = fake_specs(name, overrides, seeds, protocol, tracked)
        if overrides["gamma"] != 0.5:
            return runs
        return [dataclasses.replace(r, argv=("{python}", "-c", flat, "{run_dir}")) for r in runs]

    monkeypatch.setattr(se, "trial_specs", specs)
    protocol = dataclasses.replace(PROTOCOL, steps=3000)
    result = se.search({"gamma": [0.95, 0.5]}, [0], tmp_path, protocol, sampler="grid", eta=3)
    assert result["plan"]["milestones"] == [400, 1200]
    states = {r["fields"]["gamma"]: r for r in result["ranking"]}
    assert states[0.95]["state"] == "complete"
    assert states[0.5]["state"] == "pruned" and states[0.5]["pruned_at"] == 1200
    run = next(r for r in result["runs"] if r["config"] == states[0.5]["config"])
    assert run["status"] == "stopped" and run["progress"][-1]["step"] < 3000


def test_a_stopped_search_resumes_without_losing_or_repeating_a_trial(local_ray, fakes, monkeypatch, tmp_path):
    space = {"gamma": [0.9, 0.95, 0.99], "batch_size": {"log_int": [16, 256]}}
    record = se._Driver.record
    seen: list[str] = []

    def interrupt_at_the_third(self, rec, then=lambda: None):
        record(self, rec, then)
        seen.append(rec["key"])
        if len(seen) == 3:
            raise KeyboardInterrupt  # what Ctrl-C raises in the driver

    monkeypatch.setattr(se._Driver, "record", interrupt_at_the_third)
    with pytest.raises(se.SweepInterrupted):
        se.search(space, [0, 1], tmp_path, PROTOCOL, trials=4, sample_seed=3)
    before = {t.number: (t.state.name, t.params) for t in trials_of(tmp_path)}
    assert any(state == "RUNNING" for state, _ in before.values())
    kept = {p.parent.name: p.stat().st_mtime_ns for p in (tmp_path / "runs").glob("*/record.json")}
    assert set(seen) <= set(kept) and len(kept) >= 3
    monkeypatch.setattr(se._Driver, "record", record)
    result = se.search(space, [0, 1], tmp_path, PROTOCOL, trials=4, sample_seed=3)
    after = trials_of(tmp_path)
    assert [t.number for t in after] == [0, 1, 2, 3] and all(t.state.name != "RUNNING" for t in after)
    for number, (_, params) in before.items():
        assert params.items() <= after[number].params.items()  # a trial asked before the stop kept its fields
    asked_after = [t.params for t in after if t.number not in before]
    assert asked_after and all(p != q for p in asked_after for _, q in before.values())  # a fresh stream, not
    # the first trials' draws again (the seeded sampler restarted with the study)
    ran = {t.user_attrs["config"] for t in after if "same_as" not in t.user_attrs}
    assert sorted(r["key"] for r in result["runs"]) == sorted(f"{n}__seed{s}" for n in ran for s in (0, 1))
    resumed = {r["key"] for r in result["runs"] if r.get("resumed")}
    assert resumed == set(kept)
    for key, stamp in kept.items():
        assert (tmp_path / "runs" / key / "record.json").stat().st_mtime_ns == stamp  # not run again


def test_a_folder_of_another_search_is_refused_before_ray_starts(tmp_path):
    se_args = ({"gamma": [0.9, 0.99]}, [0], tmp_path, PROTOCOL)
    from tfdqn.experiments.study import import_optuna, open_study

    optuna = import_optuna()
    open_study(optuna, tmp_path, {"kind": "search", "space": {"tau": [1.0]}}, None, None)
    with pytest.raises(SweepError, match="holds another search .*differs in: "):
        se.search(*se_args)
    (tmp_path / "study.db").write_bytes(b"not a database")
    with pytest.raises(SweepError, match="is not an Optuna study"):
        se.search(*se_args)


# ----- pure parts ----------------------------------------------------------------------------------------
def test_milestone_values_wait_for_every_seed_and_count_an_early_end_as_minus_infinity():
    rule = Milestones([200, 400], threshold=100.0, runs_per_trial=2)
    assert rule.report("a", "a0", {"step": 200, "mean": 30.0}) and rule.drain() == []  # one seed: not yet
    rule.report("a", "a1", {"step": 200, "mean": 50.0})
    assert rule.drain() == [("a", 200, 60.0)]  # shortfall: 100 - median(30, 50)
    rule.report("a", "a0", {"step": 400, "mean": 90.0})
    rule.finished("a", "a1")  # ended at 200: its best so far stays
    assert rule.drain() == [("a", 400, 100.0 - 70.0)]
    rule.finished("b", "b0")
    rule.finished("b", "b1")  # both ended without an evaluation
    assert rule.drain() == [("b", 200, math.inf), ("b", 400, math.inf)]
    rule.stop("a", 400)
    assert not rule.alive("a") and not rule.report("a", "a0", {"step": 500, "mean": 1.0}) and rule.alive("b")


def test_search_space_checks_and_the_objective():
    check_space({"learning_rate": {"log_uniform": [1e-4, 1e-2]}, "batch_size": [64, 128]}, "tpe")
    with pytest.raises(SweepError, match="grid search needs a list"):
        check_space({"gamma": {"uniform": [0.9, 0.99]}}, "grid")
    with pytest.raises(SweepError, match="low > 0"):
        check_space({"learning_rate": {"log_uniform": [0, 1e-2]}}, "tpe")
    with pytest.raises(SweepError, match="must be an integer >= 2"):
        se.search({"gamma": [0.9]}, [0], "unused", PROTOCOL, eta=2.5)
    with pytest.raises(SweepError, match="wilcoxon pruner never prunes with 3 seed"):
        se.search({"gamma": [0.9]}, [0, 1, 2], "unused", PROTOCOL, pruner="wilcoxon")
    assert milestones_for(50_000, 3, 1_000) == [6_000, 18_000]  # Optuna's rungs: 6,000 * 3^k
    assert milestones_for(1_000, 2, 100) == [300, 600]
    assert check_milestones([18_000, 6_000], 50_000, 3, "hyperband") == [6_000, 18_000]
    assert check_milestones([5_000], 50_000, 3, "halving") == [5_000]  # a series may stop early
    assert check_milestones([6_000, 17_000], 50_000, 3, "wilcoxon") == [6_000, 17_000]  # unused there
    for off in ([6_000, 17_000], [2_000, 18_000], [6_000, 54_000 - 1]):  # off the rungs, or one skipped
        with pytest.raises(SweepError, match="do not suit the halving pruner: .* e.g. "):
            check_milestones(off, 60_000, 3, "halving")
    records = [{"status": "ok", "solved_step": 4000}, {"status": "stopped"}, {"status": "ok", "solved_step": None}]
    assert objective(records, 50_000) == 50_000 and objective(records[:1], 50_000) == 4000


def test_list_choices_of_lists_are_suggested_and_decoded():
    import optuna

    from tfdqn.experiments.study import suggest

    study = optuna.create_study()
    values = [suggest(study.ask(), {"hidden_sizes": [[32, 32], [64]], "double_dqn": [True, False]}) for _ in range(8)]
    assert {tuple(v["hidden_sizes"]) for v in values} <= {(32, 32), (64,)}
    assert all(isinstance(v["double_dqn"], bool) for v in values)


def test_wilcoxon_prunes_a_trial_whose_seeds_lose_to_the_best_ones(local_ray, fakes, monkeypatch, tmp_path):
    pytest.importorskip("scipy")
    monkeypatch.setenv("FAKE_SLEEP", "0.2")
    # gamma 0.99 solves every seed at 300 steps; 0.9 none (1000 each): after four of its seeds the signed-rank
    # test is sure enough (p < 0.1)
    result = se.search({"gamma": [0.99, 0.9]}, [0, 1, 2, 3, 4], tmp_path, PROTOCOL, sampler="grid", pruner="wilcoxon")
    bad = next(r for r in result["ranking"] if r["fields"]["gamma"] == 0.9)
    assert bad["state"] == "pruned"
    statuses = sorted(r["status"] for r in result["runs"] if r["config"] == bad["config"])
    # pruned once four seeds had lost (three are never enough: p >= 0.125); the fifth stops unless it was ending
    assert statuses.count("ok") >= 4 and len(statuses) == 5, statuses


def test_a_sampler_seed_optuna_cannot_take_is_refused_before_ray_starts(tmp_path):
    with pytest.raises(SweepError, match=r"sampler's seed must be in \[0, 2\*\*32\), not 4294967296"):
        se.search({"gamma": [0.9, 0.99]}, [0], tmp_path, PROTOCOL, sample_seed=2**32)
    assert not (tmp_path / "study.db").exists()


def test_the_ranking_counts_a_median_best_of_zero_as_a_score():
    from tfdqn.experiments.search_report import rank_key

    ranked = sorted([(5.0, None), (5.0, 0.0), (5.0, -1.0), (4.0, None)], key=lambda t: rank_key(*t))
    assert ranked == [(4.0, None), (5.0, 0.0), (5.0, -1.0), (5.0, None)]
