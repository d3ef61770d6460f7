"""The short Atari run's report, read from a made-up run folder: returns per window of steps beside random play,
whether it learns (and when too few games say nothing), the evaluations; one line when ale-py is missing; a
tiny real run when it is installed."""

import importlib.util
import json

import pytest

from benchmarks import atari_short


def fake_run(folder, returns_by_step, evaluations=((500, -20.0),)):
    folder.mkdir(parents=True)
    best = {"episodes": 10, "mean_return": -15.0, "std_return": 2.0}
    summary = {"env_id": "tfdqn/ALE-Pong-v5", "seed": 0, "env_steps": 1000, "gradient_steps": 200,
               "train_seconds": 10.0, "best_keras_evaluation": best}  # fmt: skip
    (folder / "summary.json").write_text(json.dumps(summary))
    lines = ["episode,step,return"] + [f"{i},{s},{r}" for i, (s, r) in enumerate(returns_by_step)]
    (folder / "metrics.csv").write_text("\n".join(lines) + "\n")
    ev = ["step,kind,episodes,mean_return,std_return"] + [f"{s},periodic,5,{m},1.0" for s, m in evaluations]
    (folder / "evaluations.csv").write_text("\n".join(ev) + "\n")
    config = folder / "config.json"
    config.write_text(json.dumps({"learning_starts": 10}))
    return config


def test_the_report_says_the_run_learns_when_the_last_window_is_above_random_play(tmp_path):
    games = [(100 + i, -21.0) for i in range(6)] + [(600 + i, -12.0 + i % 2) for i in range(6)]
    config = fake_run(tmp_path / "run", games)
    text = atari_short.report(tmp_path / "run", config, 1000, 2, [-21.0, -20.0] * 3, "cmd", "")
    assert "| 0 - 500 | 6 | -21.0 [-21.0, -21.0] |" in text and "| 500 - 1,000 | 6 | -11.5" in text
    assert (
        "**learns: yes**" in text
        and "| 500 | 5 | -20.0 (1.0) |" in text
        and "best.keras on 10 fresh games: -15.0" in text
    )
    worse = atari_short.report(tmp_path / "run", config, 1000, 2, [-5.0] * 6, "cmd", "")
    assert "**learns: not shown**" in worse


def test_too_few_games_are_not_judged(tmp_path):
    config = fake_run(tmp_path / "run", [(900, 5.0)])
    text = atari_short.report(tmp_path / "run", config, 1000, 2, [-21.0] * 10, "cmd", "")
    assert "learns: not judged (fewer than 5 games)" in text


def test_a_missing_ale_py_is_one_line_and_status_2(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ale_py" else real(name, *a))
    assert atari_short.main(["--steps", "10"]) == 2
    assert capsys.readouterr().err.strip() == atari_short.ALE_LINE


@pytest.mark.slow  # a real run of 1,200 agent steps (~25 s)
def test_a_tiny_real_run_writes_its_report(tmp_path):
    pytest.importorskip("ale_py", reason="the atari extra is not installed")
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps({"learning_starts": 200, "buffer_size": 2000, "epsilon_decay_steps": 500}))
    args = ["--steps", 1200, "--config", config, "--eval-every", 600, "--eval-episodes", 1, "--final-episodes", 1,
            "--eval-max-steps", 300, "--random-episodes", 2, "--windows", 3, "--out", tmp_path / "out"]  # fmt: skip
    assert atari_short.main([str(a) for a in args]) == 0
    text = (tmp_path / "out" / "report.md").read_text()
    assert "# A short tfdqn/ALE-Pong-v5 run" in text and "learns: not judged" in text
    assert (tmp_path / "out" / "run" / "best.keras").exists()
