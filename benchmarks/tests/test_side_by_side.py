"""The side-by-side suites' plumbing: extras, summaries, targets, the report and its settings lines."""

import math
import os
import subprocess
import sys
from typing import Any

import pytest

from benchmarks import side_by_side
from benchmarks.common import ROOT
from benchmarks.launch import thread_env, worker_argv
from benchmarks.report import plot_curves, render_report
from benchmarks.summary import band, max_loss, summarize
from benchmarks.targets import targets
from benchmarks.tasks import EXTRAS_MESSAGE, SYSTEMS, missing_extras, tfdqn_sb3_settings
from benchmarks.tests.fakes import fake_result, fake_run
from tfdqn import DQNConfig, config_for_env


def suite(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.suite", *map(str, args)],
        capture_output=True,
        text=True,
        env=env or thread_env(),
        timeout=120,
        cwd=ROOT,
    )


def test_missing_extras_are_named_without_importing_them():
    def no_torch(name):
        if name == "torch":
            return None
        raise ImportError(name)

    assert missing_extras(no_torch) == ["torch", "stable-baselines3"]
    assert missing_extras(lambda name: object()) == []


def test_cartpole_suite_without_extras_exits_2_with_one_line(tmp_path):
    # A sitecustomize that makes torch and stable_baselines3 look absent, in a fresh interpreter.
    (tmp_path / "sitecustomize.py").write_text(
        "import importlib.util\n"
        "_real = importlib.util.find_spec\n"
        "def _find_spec(name, package=None):\n"
        "    if name.split('.')[0] in ('torch', 'stable_baselines3'):\n"
        "        return None\n"
        "    return _real(name, package)\n"
        "importlib.util.find_spec = _find_spec\n"
    )
    env = {**thread_env(), "PYTHONPATH": os.pathsep.join((str(tmp_path), os.environ["PYTHONPATH"]))}
    proc = suite("--suite", "cartpole", "--out", tmp_path / "out", env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [EXTRAS_MESSAGE]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--suite", "lunarlander", "--preset", "cartpole"],
            "error: preset 'cartpole' is for CartPole-v1, not LunarLander-v3",
        ),
        (["--suite", "cartpole", "--preset", "rainbo"], "error: unknown preset 'rainbo' (did you mean 'rainbow'?)"),
        (["--suite", "loop", "--preset", "rainbow"], "error: --preset is for the side-by-side suites"),
        (["--suite", "loop", "--preset", "none"], "error: --preset is for the side-by-side suites"),
    ],
)
def test_suite_preset_is_checked_before_anything_runs(tmp_path, argv, message):
    proc = suite(*argv, "--out", tmp_path / "out")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith(message)
    assert not (tmp_path / "out").exists()


def test_band_interpolates_and_carries_forward():
    curves: list[tuple[list[float], list[float]]] = [
        ([1, 2, 3], [0, 10, 20]),
        ([1, 2, 3], [10, 20, 30]),
        ([1, 3], [20, 40]),
    ]
    med, lo, hi = band(curves, [1, 2, 3])
    assert med.tolist() == [10, 20, 30]
    assert lo.tolist() == [5, 15, 25] and hi.tolist() == [15, 25, 35]
    # step function: NaN before a curve's first point, its last value carried past its end
    med, _, _ = band([([1.0, 2.0], [5.0, 7.0]), ([0.5], [1.0])], [0.0, 0.7, 1.5, 10.0], carry_forward=True)
    assert math.isnan(med[0]) and math.isnan(med[1])
    assert med[2:].tolist() == [3.0, 4.0]
    # interpolation: NaN outside a curve's range
    med, _, _ = band([([0, 2], [0, 2]), ([0, 1], [0, 1])], [0.5, 1.5])
    assert med[0] == 0.5 and math.isnan(med[1])


def test_summary_and_targets_on_a_tiny_fake_result():
    result = fake_result()
    s = result["summary"]
    assert s["tfdqn_default"]["median_solved_step"] == 2000 and s["tfdqn_default"]["best_ge_threshold"] == 3
    assert s["sb3_zoo"]["solved"] == 1 and s["sb3_zoo"]["median_solved_step"] is None  # 2 of 3 unsolved
    assert s["sb3_zoo"]["best_ge_threshold"] == 1  # 400, 450, 500
    assert s["tutorial"]["median_train_steps_per_s"] == 5.0
    assert s["tfdqn_default"]["ci_best_rate"][0] == pytest.approx(0.4385, abs=1e-3)  # Wilson, 3 of 3
    rows = {name: (ok, verdict) for name, ok, verdict, _ in targets(s)}
    assert rows["equal settings: tfdqn train-only env steps/s >= 2x SB3's"][0] is True  # 1200 / 500
    # 2,000 steps in every seed: the median's interval is the point, well inside 8,000
    assert rows["defaults: median env steps to the first evaluation >= 475 <= 8,000"] == (True, "met")
    # 3 of 3 seeds is not evidence of a 100% rate: the interval leaves it undecided
    assert rows["defaults: best.keras >= 475 on 100 fresh episodes in 10/10 seeds"] == (True, "undecided")
    # final 300 in every seed: missed on the seeds, and the interval [0, 0.56] says missed
    final = next(v for k, v in rows.items() if k.startswith("defaults: final policy"))
    assert final == (False, "missed")
    # SB3 unsolved in 2 of 3 seeds: its median is "not solved", so tfdqn (1.3 s everywhere) is faster on these
    # seeds; even resamples where SB3's median is its one solve (4 s) give 0.33x: the interval says met
    ok, verdict = rows["defaults: median train-only seconds to solve <= 0.5x SB3 RL-Zoo's"]
    assert ok is True and verdict == "met"


def test_lunarlander_targets_use_its_threshold():
    runs = []
    for seed in range(4):
        runs.append(fake_run("tfdqn_default", seed, 20_000, 250.0, 210.0 if seed else 100.0, 600.0))
        runs.append(fake_run("sb3_zoo", seed, 40_000, 230.0, 150.0, 500.0))
    s = summarize(runs, threshold=200.0)
    assert s["tfdqn_default"]["final_ge_threshold"] == 3 and s["sb3_zoo"]["best_ge_threshold"] == 4
    rows = {name: (ok, verdict) for name, ok, verdict, _ in targets(s, "LunarLander-v3")}
    assert rows["defaults: best.keras >= 200 on 100 fresh episodes in >= 8/10 seeds"][0] is True
    assert rows["defaults: final policy >= 200 in >= 7/10 seeds"][0] is True  # 3 of 4 >= ceil(2.8)
    assert rows["defaults: median env steps to the first evaluation >= 200 below SB3 RL-Zoo's"] == (True, "met")
    text = render_report(
        {
            "command": "c",
            "env_id": "LunarLander-v3",
            "date": "d",
            "seeds_requested": 4,
            "seeds_done": 4,
            "step_budget": 100_000,
            "tutorial_steps": 0,
            "runs": runs,
            "summary": s,
            "duration_seconds": 60.0,
            "machine": "m",
            "jobs": 2,
            "curves_file": "lunarlander_curves.png",
        }
    )
    assert "# LunarLander-v3: tfdqn vs Stable-Baselines3" in text and "2 at a time" in text
    assert "lunarlander_curves.png" in text and "best >= 200" in text
    # "late": the mean of each run's last 10 evaluations, its median over seeds in the summary
    assert s["tfdqn_default"]["late_mean"] == [290.0] * 4 and s["tfdqn_default"]["median_late_mean"] == 290.0
    assert "| late |" in text and "last 10 greedy evaluations" in text and "| 290.0 [290.0, 290.0] |" in text


def test_a_suite_run_with_a_preset_is_labelled_with_it():
    text = render_report({**fake_result(), "preset": "rainbow"})
    assert "| tfdqn, --preset rainbow |" in text and "### tfdqn, --preset rainbow" in text
    assert SYSTEMS["tfdqn_default"] not in text
    argv = worker_argv("tfdqn_default", 3, 100, "LunarLander-v3", "o.json", "--preset", "rainbow")
    assert argv[:3] == ("{python}", "-m", "benchmarks.systems") and argv[-2:] == ("--preset", "rainbow")


def test_report_renders_every_system_and_the_targets(tmp_path):
    text = render_report(fake_result())
    for label in SYSTEMS.values():
        assert label in text
    assert "| equal settings: tfdqn train-only env steps/s >= 2x SB3's | **yes** | " in text and "2.40x" in text
    assert "tfdqn is 300x faster" in text
    assert "python -m benchmarks.suite --suite cartpole --seeds 3" in text
    plot_curves(fake_result()["runs"], tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 10_000


def test_sb3_equivalent_config_is_a_valid_tfdqn_config():
    config = DQNConfig(**tfdqn_sb3_settings(50_000))
    assert (config.train_freq, config.gradient_steps, config.epsilon_decay_steps) == (256, 128, 8_000)
    assert config.hidden_sizes == (256, 256)
    config = DQNConfig(**tfdqn_sb3_settings(100_000, "LunarLander-v3"))
    assert (config.train_freq, config.gradient_steps, config.epsilon_decay_steps) == (4, 4, 12_000)
    assert (config.learning_starts, config.target_update_interval, config.epsilon_end) == (0, 250, 0.1)


def test_rerender_describes_the_config_tfdqns_runs_recorded():
    recorded = config_for_env("LunarLander-v3", "none").replace(layer_norm=True, seed=3).to_dict()
    del recorded["initializer"]  # a field added after the run: counted at its default
    result: dict[str, Any] = {
        "env_id": "LunarLander-v3",
        "step_budget": 100_000,
        "settings_notes": ["tfdqn defaults (as the run called them then): [1] MLP, stale.", "SB3 ..."],
        "runs": [
            {"system": "sb3_zoo", "config": {"learning_rate": 1.0}},
            {"system": "tfdqn_default", "config": {**recorded, "removed_since": 1}},
        ],
    }
    side_by_side.describe_recorded_config(result)
    note = result["settings_notes"][0]
    assert note.startswith("tfdqn defaults (as the run called them then): [256, 256] MLP with a LayerNormalization")
    assert "lr 0.00063, " in note and result["settings_notes"][1] == "SB3 ..."


def test_settings_notes_name_the_loss_the_update_uses():
    c51 = side_by_side.settings_notes(50_000, "CartPole-v1", config=config_for_env("CartPole-v1"))[0]
    plain = side_by_side.settings_notes(100_000, "LunarLander-v3", config=config_for_env("LunarLander-v3"))[0]
    assert "cross-entropy loss" in c51 and "huber loss" not in c51  # C51's loss, whatever `loss` says
    assert "huber loss" in plain and "cross-entropy" not in plain


def test_max_loss_is_none_where_no_run_recorded_one():
    assert max_loss([{"max_loss": None}, {}]) is None  # SB3 records no loss: not a made-up 0.0
    assert max_loss([{"max_loss": 2.5}, {"max_loss": None}, {"max_loss": 4.0}]) == 4.0
