"""Redoing the greedy evaluations of MinAtar preset runs recorded under the old 1,000-step cap: each stale record's
best.keras and last.keras are evaluated again as the run did (its episodes, its seeds) under today's cap, what they
were is kept, current records are left alone, missing models are refused before anything runs, and the report
says which runs were redone."""

import json

import gymnasium as gym
import pytest

from benchmarks import minatar_greedy, minatar_targets as targets
from tfdqn import DQNAgent, config_for_env
from tfdqn.dqn.evaluation import evaluate_model
from tfdqn.envs import minatar
from tfdqn.errors import ArgumentError
from tfdqn.training.protocol import FINAL_SEED_OFFSET

pytest.importorskip("minatar", reason="the minatar extra is not installed (pip install 'tfdqn[minatar]')")


def finished_run(runs, name, game, seed, **record):
    """A record at runs/NAME.json and, in runs/NAME/, an untrained best.keras and last.keras with a summary.json
    saying the run's final evaluation took 2 episodes."""
    folder = runs / name
    folder.mkdir(parents=True)
    env_id = f"MinAtar/{game}-v0"
    minatar.ensure_registered(env_id)
    env = gym.make(env_id)
    for file in ("best.keras", "last.keras"):
        agent = DQNAgent.from_spaces(env.observation_space, env.action_space, config_for_env(env_id, seed=seed))
        agent.save(folder / file)
    (folder / "summary.json").write_text(json.dumps({"best_keras_evaluation": {"episodes": 2}}))
    path = runs / f"{name}.json"
    path.write_text(json.dumps({"system": "tfdqn", "game": game, "seed": seed, "config": {"seed": seed}, **record}))
    return path


def test_a_run_cut_at_1000_steps_is_evaluated_again_whole_and_a_current_one_is_left(tmp_path):
    runs = tmp_path / "runs"
    old = finished_run(runs, "tfdqn_Freeway_3", "Freeway", 3, greedy_best=1.0, greedy_final=2.0)
    current = {"greedy_best": 5.0, "greedy_final": 6.0, "greedy_step_cap": minatar.EPISODE_CAP}
    new = finished_run(runs, "tfdqn_Breakout_3", "Breakout", 3, **current)
    (runs / "sb3_equal_Freeway_3.json").write_text(json.dumps({"system": "sb3_equal", "game": "Freeway", "seed": 3}))
    before = new.read_text()
    assert minatar_greedy.main(["--out", str(tmp_path)]) == 0
    record = json.loads(old.read_text())
    seed = 3 + FINAL_SEED_OFFSET
    best = evaluate_model(runs / "tfdqn_Freeway_3" / "best.keras", "MinAtar/Freeway-v0", 2, seed)
    final = evaluate_model(runs / "tfdqn_Freeway_3" / "last.keras", "MinAtar/Freeway-v0", 2, seed)
    assert record["greedy_best"] == best.mean and record["greedy_final"] == final.mean
    assert record["greedy_step_cap"] == 10_000
    assert record["greedy_before"] == {"greedy_best": 1.0, "greedy_final": 2.0, "greedy_step_cap": 1_000}
    assert record["greedy_redone_by"] == f"python -m benchmarks.minatar_greedy --out {tmp_path}"
    assert new.read_text() == before
    text = "\n".join(targets.greedy_lines([record, json.loads(new.read_text())]))
    assert "Greedy episodes are cut at 10,000 steps. 1 run was evaluated again" in text
    assert "their own evaluations had cut them at 1,000 steps" in text


def test_models_are_found_in_another_folder_and_missing_ones_refused_first(tmp_path):
    elsewhere = tmp_path / "elsewhere" / "runs"
    finished_run(elsewhere, "tfdqn_Asterix_4", "Asterix", 4, greedy_best=1.0, greedy_final=1.0)
    runs = tmp_path / "out" / "runs"
    runs.mkdir(parents=True)
    record = json.loads((elsewhere / "tfdqn_Asterix_4.json").read_text())
    (runs / "tfdqn_Asterix_4.json").write_text(json.dumps(record))
    (runs / "tfdqn_Seaquest_4.json").write_text(json.dumps({**record, "game": "Seaquest"}))
    with pytest.raises(
        ArgumentError, match=r"no finished run folder \(best.keras, last.keras, summary.json\) for tfdqn_Seaquest_4 "
    ):
        minatar_greedy.main(["--out", str(tmp_path / "out"), "--models", str(elsewhere)])
    assert "greedy_before" not in json.loads((runs / "tfdqn_Asterix_4.json").read_text())  # nothing ran
    (runs / "tfdqn_Seaquest_4.json").unlink()
    assert minatar_greedy.main(["--out", str(tmp_path / "out"), "--models", str(elsewhere)]) == 0
    assert json.loads((runs / "tfdqn_Asterix_4.json").read_text())["greedy_step_cap"] == 10_000
    with pytest.raises(ArgumentError, match="no run records in"):
        minatar_greedy.main(["--out", str(tmp_path / "none")])


def test_the_report_names_each_cap_while_old_records_are_not_yet_redone():
    old = {"game": "Freeway", "greedy_best": 20.0, "greedy_final": 20.0}
    new = {"game": "Freeway", "greedy_best": 60.0, "greedy_final": 50.0, "greedy_step_cap": 10_000}
    assert targets.cap_lines([old, new]) == ["", "Greedy episodes are cut at 1,000 or 10,000 steps."]
    assert minatar_greedy.stale(old) and not minatar_greedy.stale(new)
    assert not minatar_greedy.stale({"game": "Freeway"})  # an equal-settings run: no greedy evaluation
