"""Screen reports: intervals, the late figure, merged rounds; every stored screen report rerenders identically."""

import json
import shutil
import subprocess
import sys

import pytest

from benchmarks import screen as sc
from benchmarks.common import ROOT
from benchmarks.launch import thread_env
from benchmarks.tests.fakes import fake_run


def test_screen_reports_give_intervals_and_merge_rounds(tmp_path):
    def screen(seeds, command):
        runs = [
            {
                **fake_run(
                    "tfdqn_default", s, 1000 * (s + 1) if s != 1 else None, 500.0, 500.0 if s % 2 else 100.0, 900.0
                ),
                "env_id": "CartPole-v1",
                "candidate": "C",
                "max_loss": 1.0,
            }
            for s in seeds
        ]
        return {
            "command": command,
            "date": "d",
            "candidates": {"C": {"gamma": 0.98}},
            "runs": runs,
            "duration_seconds": 60.0,
        }

    (tmp_path / "a.json").write_text(json.dumps(screen([0, 1, 2], "first")))
    (tmp_path / "b.json").write_text(json.dumps(screen([3, 4], "second")))
    sc.merge(tmp_path / "ab.json", [tmp_path / "a.json", tmp_path / "b.json"])
    merged = json.loads((tmp_path / "ab.json").read_text())
    assert [r["seed"] for r in merged["runs"]] == [0, 1, 2, 3, 4] and merged["command"].startswith("first + second")
    (row,) = sc.summarize(merged["runs"])
    assert row["solved_steps"] == [1000, None, 3000, 4000, 5000] and row["median_solved_step"] == 4000
    assert row["final_ge"] == 2 and row["ci_final_rate"] == pytest.approx((0.1176, 0.7693), abs=1e-3)
    text = (tmp_path / "ab.md").read_text()
    assert "| C | CartPole-v1 | 0, 1, 2, 3, 4 | 4/5 |" in text and "2/5 [0.12, 0.77]" in text
    assert "4,000 [1,000, not solved]" in text
    # every run's two evaluations (100 and 480) average 290: the late-evaluation column, per seed and its median
    assert row["late_mean"] == [290.0] * 5 and "290.0, 290.0, 290.0, 290.0, 290.0 | 290.0 [290.0, 290.0]" in text
    merged["runs"][0]["evaluations"] = []  # a run without evaluations: shown as "-", left out of the median
    (row,) = sc.summarize(merged["runs"])
    assert row["median_late_mean"] == 290.0 and "| -, 290.0, 290.0, 290.0, 290.0 | 290.0 [290.0, 290.0] |" in sc.render(
        merged
    )
    assert "env steps per run" not in sc.render(merged)  # a screen run with --steps says so beside its command
    assert "; 200,000 env steps per run, not the task's budget." in sc.render({**merged, "step_budget": 200_000})
    for name in ("a", "b"):  # two screens run with the same --steps merge into one that says so
        (tmp_path / f"{name}.json").write_text(json.dumps({**screen([0], name), "step_budget": 200_000}))
    sc.merge(tmp_path / "ab.json", [tmp_path / "a.json", tmp_path / "b.json"])
    assert json.loads((tmp_path / "ab.json").read_text())["step_budget"] == 200_000


def test_stored_screen_and_ablation_reports_rerender_byte_identical(tmp_path):
    """Under their old names from the repository root, into a copy: nothing under results/ may change."""
    stored = ROOT / "results" / "benchmark"
    screens = sorted(p for p in (stored / "screen").glob("*.json") if "candidates" in json.loads(p.read_text()))
    shutil.copytree(stored / "screen", tmp_path / "screen")
    for name in ("rainbow.json", "rainbow_act.json"):
        shutil.copy(stored / name, tmp_path / name)
    commands = [
        ["scripts/screen_configs.py", "--rerender", *(str(tmp_path / "screen" / p.name) for p in screens)],
        ["scripts/benchmark_rainbow.py", "--what", "report", "--out", str(tmp_path)],
    ]
    for argv in commands:
        proc = subprocess.run(
            [sys.executable, *argv], capture_output=True, text=True, env=thread_env(), timeout=300, cwd=ROOT
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
    assert screens
    for p in screens:
        md = p.with_suffix(".md")
        assert (tmp_path / "screen" / md.name).read_text() == md.read_text(), md.name
    assert (tmp_path / "rainbow.md").read_text() == (stored / "rainbow.md").read_text()
