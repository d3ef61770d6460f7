"""The classic suite's plumbing: the aggregate statistics on hand-worked examples, the tasks' protocol against
Gymnasium's and RL-Zoo's numbers, its refusals, the report on made-up runs, and a smoke run at a tiny budget."""

import json
import subprocess
import sys
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from benchmarks import aggregate, classic
from benchmarks.common import ROOT
from benchmarks.launch import thread_env
from benchmarks.summary import summarize
from benchmarks.tasks import TASKS
from benchmarks.tests.fakes import fake_run
from tfdqn.experiments import stats

ZOO_BUDGETS = {"CartPole-v1": 50_000, "Acrobot-v1": 100_000, "MountainCar-v0": 120_000, "LunarLander-v3": 100_000}
"""rl-zoo3's hyperparams/dqn.yml n_timesteps for each task."""


def run_classic(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.classic", *map(str, args)],
        capture_output=True,
        text=True,
        env=thread_env(),
        timeout=timeout,
        cwd=ROOT,
    )


def test_iqm_normalisation_and_probability_of_improvement_by_hand():
    assert aggregate.aggregate_iqm({"a": [1, 2, 3, 4], "b": [5, 6, 7, 8]}) == 4.5  # mean of 3, 4, 5, 6
    assert aggregate.normalise(-100.0, random=-500.0, threshold=-100.0) == 1.0
    assert aggregate.normalise(-300.0, random=-500.0, threshold=-100.0) == 0.5
    # task A: (1>0) 1, (1>2) 0, (2>0) 1, (2=2) 1/2 -> 5/8; task B: (3=3) 1/2, (3<4) 0, twice -> 1/4
    x, y = {"A": [1, 2], "B": [3, 3]}, {"A": [0, 2], "B": [3, 4]}
    assert aggregate.probability_of_improvement(x, y) == pytest.approx((5 / 8 + 1 / 4) / 2)
    assert aggregate.probability_of_improvement(y, x) == pytest.approx(1 - (5 / 8 + 1 / 4) / 2)


def test_the_bootstrap_is_stratified_by_task():
    # every resample keeps two runs of each task: the pooled IQM is always that of [0, 0, 1, 1]
    ci = stats.stratified_bootstrap_ci
    assert ci(aggregate.aggregate_iqm, {"a": [0, 0], "b": [1, 1]}, resamples=200) == (0.5, 0.5)
    lo, hi = ci(aggregate.aggregate_iqm, {"a": list(range(10))}, resamples=500)
    assert lo < aggregate.aggregate_iqm({"a": list(range(10))}) < hi


def test_random_play_is_reproducible_from_its_seed():
    score = aggregate.random_score("CartPole-v1", 3, seed=3)
    assert score == aggregate.random_score("CartPole-v1", 3, seed=3) and 5 <= score <= 100


def test_probability_of_improvement_is_the_mann_whitney_statistic_per_task():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    x = {t: rng.integers(0, 5, 7).tolist() for t in "abc"}
    y = {t: rng.integers(0, 5, 6).tolist() for t in "abc"}
    expected = np.mean([stats.mannwhitneyu(x[t], y[t]).statistic / (7 * 6) for t in "abc"])
    assert aggregate.probability_of_improvement(x, y) == pytest.approx(expected)


@pytest.mark.parametrize("env_id", classic.ENVS)
def test_each_task_uses_gymnasiums_threshold_and_the_zoos_budget(env_id):
    assert TASKS[env_id]["threshold"] == gym.spec(env_id).reward_threshold
    assert TASKS[env_id]["budget"] == ZOO_BUDGETS[env_id]


def test_a_task_without_zoo_settings_is_one_line(tmp_path):
    proc = run_classic("--envs", "Pendulum-v1", "--out", tmp_path / "out")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "error: RL-Zoo has no DQN settings for Pendulum-v1 here; known: " + ", ".join(classic.ENVS)
    ]
    assert not (tmp_path / "out").exists()


def test_the_report_aggregates_made_up_runs():
    runs = []
    for env_id, good, bad in (("CartPole-v1", 500.0, 200.0), ("Acrobot-v1", -80.0, -300.0)):
        for seed in range(3):
            for system, final in (("tfdqn_default", good), ("sb3_zoo", bad)):
                runs.append({**fake_run(system, seed, 2000, final, final, 500.0), "env_id": env_id})
    result: dict[str, Any] = {
        "command": "x",
        "date": "d",
        "envs": ["CartPole-v1", "Acrobot-v1"],
        "systems": list(classic.SYSTEMS),
        "seeds": [0, 1, 2],
        "budgets": {"CartPole-v1": 2000, "Acrobot-v1": 2000},
        "random_scores": {"CartPole-v1": 20.0, "Acrobot-v1": -500.0},
        "runs": runs,
    }
    result["summary"] = {
        e: summarize([r for r in runs if r["env_id"] == e], TASKS[e]["threshold"]) for e in result["envs"]
    }
    agg = classic.across(result)
    assert agg["iqm"]["tfdqn_default"][0] == pytest.approx(np.mean([480 / 455, 420 / 400]))
    assert agg["p_improvement"] == [1.0, 1.0, 1.0]
    result["across"] = agg
    text = classic.render(result)
    assert "## Acrobot-v1: threshold -100" in text and "P(tfdqn run > SB3 run): 1.00 [1.00, 1.00]" in text


@pytest.mark.slow  # a whole benchmark's smoke run (tens of seconds); its parts are tested in the default run
def test_a_tiny_run_of_the_suite_writes_its_report(tmp_path):
    out = tmp_path / "out"
    proc = run_classic(
        "--envs", "CartPole-v1", "--systems", "tfdqn_default", "--seeds", 1, "--steps", 300, "--workers", 0,
        "--random-episodes", 3, "--out", out, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads((out / "classic.json").read_text())
    assert [r["env_steps"] for r in result["runs"]] == [300]
    assert "## CartPole-v1: threshold 475" in (out / "classic.md").read_text()


def test_a_rerun_keeps_the_runs_an_earlier_one_finished(tmp_path):
    # the finished runs of a stopped suite (OUT/runs/<key>/record.json) are reported, not run again
    from tfdqn.experiments.engine import write_record

    # the suite refuses SB3 runs without the bench extra, finished or not (a fresh venv of the README has none)
    pytest.importorskip("torch", reason="the suite's SB3 side needs requirements-bench.txt")
    pytest.importorskip("stable_baselines3", reason="the suite's SB3 side needs requirements-bench.txt")

    out = tmp_path / "out"
    for system, solved in (("tfdqn_default", 200), ("sb3_zoo", None)):
        run = {
            "status": "ok", "env_id": "CartPole-v1", "system": system, "seed": 0, "solved_step": solved,
            "solved_train_seconds": 1.0 if solved else None, "env_steps": 300, "train_seconds": 2.0,
            "train_steps_per_s": 150.0, "import_seconds": 1.0, "process_seconds": 4.0,
            "best_100": {"mean": 480.0, "std": 1.0}, "final_100": {"mean": 490.0 if solved else 20.0, "std": 1.0},
        }  # fmt: skip
        key = f"CartPole-v1_{system}_0_300_{classic.settings_digest('CartPole-v1', system)}"
        write_record(out / "runs" / key, run)
    proc = run_classic(
        "--envs", "CartPole-v1", "--seeds", 1, "--steps", 300, "--workers", 1, "--random-episodes", 3,
        "--out", out, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads((out / "classic.json").read_text())
    assert sorted(r["system"] for r in result["runs"]) == ["sb3_zoo", "tfdqn_default"]
    assert "2 run(s) so far" in (out / "classic.md").read_text()


def test_a_changed_preset_gives_its_runs_new_keys(monkeypatch):
    # a rerun after a preset changed must run tfdqn again, not keep runs of the old settings
    before = classic.settings_digest("MountainCar-v0", "tfdqn_default")
    assert before == classic.settings_digest("MountainCar-v0", "tfdqn_default")
    assert before != classic.settings_digest("MountainCar-v0", "sb3_zoo")
    import tfdqn.presets as presets

    monkeypatch.setitem(presets.PRESETS, "mountaincar", presets.Preset(("MountainCar-v0",), {"gamma": 0.98}))
    assert classic.settings_digest("MountainCar-v0", "tfdqn_default") != before


def test_a_field_added_later_keeps_the_keys_at_its_old_behaviour(monkeypatch):
    # a DQNConfig field added after runs finished leaves their keys alone at the value that behaves as before;
    # any other value of it is other settings
    import tfdqn.presets as presets
    from benchmarks.common import ADDED_LATER

    before = classic.settings_digest("MountainCar-v0", "tfdqn_default")
    overrides = dict(presets.PRESETS["mountaincar"].fields)
    for name, old in ADDED_LATER.items():
        monkeypatch.setitem(
            presets.PRESETS, "mountaincar", presets.Preset(("MountainCar-v0",), {**overrides, name: old})
        )
        assert classic.settings_digest("MountainCar-v0", "tfdqn_default") == before
        monkeypatch.setitem(presets.PRESETS, "mountaincar", presets.Preset(("MountainCar-v0",), {**overrides, name: 7}))
        assert classic.settings_digest("MountainCar-v0", "tfdqn_default") != before
