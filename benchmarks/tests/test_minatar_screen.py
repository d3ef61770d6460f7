"""The screen that chooses the `minatar` preset: its candidates file, bad input in one line, the report and the
resumption with a fake worker (fast), and a tiny real screen and its rerun (slow)."""

import json
import math
import subprocess
from typing import Any

import pytest

from benchmarks import minatar_scores as scores, minatar_screen as screen
from benchmarks.common import ROOT
from benchmarks.tests.cli import run_benchmark
from tfdqn import DQNConfig
from tfdqn.envs.minatar import GAMES
from tfdqn.experiments import stats
from tfdqn.presets import MINATAR_PAPER

pytest.importorskip("minatar", reason="the minatar extra is not installed (pip install 'tfdqn[minatar]')")

CANDIDATES = ROOT / "benchmarks" / "configs" / "minatar_candidates.json"


def write(path, data):
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_the_candidates_file_is_a_small_argued_set_over_the_papers_dqn():
    data = json.loads(CANDIDATES.read_text())
    checked = screen.read_candidates(CANDIDATES, None, list(GAMES))  # every config validates on every game
    assert checked.baseline == "paper" and checked.fields["paper"] == {} and 5 <= len(checked.fields) <= 7
    assert all(len(why) > 40 for why in checked.why.values()) and "Revisiting Rainbow" in data["description"]
    assert screen.config_for_game("Breakout", {}) == DQNConfig(env_id="MinAtar/Breakout-v0", **MINATAR_PAPER)
    assert all(f.get("train_freq", 1) in (1, 2, 4) for f in checked.fields.values())


BAD = {
    "unknown field": (
        {"baseline": "a", "candidates": {"a": {"fields": {"lerning_rate": 1e-3}}}},
        [],
        "'learning_rate'",
    ),
    "bad value": ({"baseline": "a", "candidates": {"a": {"fields": {"train_freq": 0}}}}, [], "train_freq"),
    "empty file": ("", [], "not valid JSON"),
    "no candidates": ({"baseline": "a", "candidates": {}}, [], "no candidates"),
    "fields not nested": ({"baseline": "a", "candidates": {"a": {"train_freq": 4}}}, [], '"fields"'),
    "missing baseline": ({"candidates": {"a": {"fields": {}}}}, [], "name the baseline"),
    "baseline not a candidate": ({"candidates": {"a": {"fields": {}}}}, ["--baseline", "b"], "'b' is not a candidate"),
    "unknown game": ({"baseline": "a", "candidates": {"a": {"fields": {}}}}, ["--games", "Pong"], "invalid choice"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_and_status_2(tmp_path, case):
    data, flags, says = BAD[case]
    path = write(tmp_path / "candidates.json", data)
    proc = run_benchmark("minatar_screen", "--candidates", path, *flags, "--out", tmp_path / "out")
    assert proc.returncode == 2 and proc.stderr.startswith("error: "), proc.stderr[-2000:]
    assert len(proc.stderr.strip().splitlines()) == 1 and says in proc.stderr
    assert not (tmp_path / "out").exists()


def test_probability_of_improvement_keeps_the_games_both_have():
    point, (lo, hi) = scores.probability_of_improvement(
        {"g": [1.0, 2.0], "h": [5.0]}, {"g": [0.0, 3.0], "h": [1.0]}, 500
    )
    assert point == pytest.approx((0.5 + 1.0) / 2) and lo <= point <= hi
    assert scores.probability_of_improvement({"g": [1.0], "h": [1.0]}, {"g": [1.0], "h": [math.nan]})[0] == 0.5
    assert math.isnan(scores.probability_of_improvement({"g": [1.0]}, {"h": [1.0]})[0])


def fake_worker(calls):
    """A stand-in for `subprocess.run` of the worker: writes a record whose returns grow with train_freq."""

    def run(argv, **kwargs):
        args = dict(zip(argv[4::2], argv[5::2], strict=False))  # python -m benchmarks.minatar_runs candidate --k v
        fields, frames = json.loads(args["--fields"]), int(args["--frames"])
        calls.append((int(args["--seed"]), args["--game"], fields))
        ends = list(range(100, frames + 1, 100))
        record = {"returns": [float(fields.get("train_freq", 1))] * len(ends), "end_frames": ends}
        record.update(env_steps=frames, train_seconds=frames / 2000, train_cpu_seconds=frames / 2500)
        record.update(system="candidate", game=args["--game"])
        record.update(seed=int(args["--seed"]), frames=frames)
        write(ROOT / args["--out"], record)
        return subprocess.CompletedProcess(argv, 0, "", "")

    return run


def test_a_screen_interleaves_its_runs_reports_them_and_a_rerun_keeps_them(tmp_path, monkeypatch, capsys):
    calls: list[tuple[int, str, dict[str, Any]]] = []
    monkeypatch.setattr(subprocess, "run", fake_worker(calls))
    monkeypatch.setattr(scores, "random_score", lambda game, episodes: 0.0)
    bootstrap = stats.stratified_bootstrap_ci  # 200 resamples, not 10,000: the report is rewritten 16 times here
    monkeypatch.setattr(stats, "stratified_bootstrap_ci", lambda *a, **k: bootstrap(*a, **{**k, "resamples": 200}))
    data: dict[str, Any] = {
        "baseline": "a",
        "candidates": {"a": {"why": "ref", "fields": {}}, "b": {"fields": {"train_freq": 4}}},
    }
    path = write(tmp_path / "candidates.json", data)
    argv = [
        "--candidates",
        path,
        "--games",
        "Breakout",
        "Freeway",
        "--seeds",
        "2",
        "--frames",
        "2000",
        "--workers",
        "1",
    ]
    argv += ["--out", tmp_path / "out"]
    assert screen.main([str(a) for a in argv]) == 0
    assert [(seed, game, f.get("train_freq")) for seed, game, f in calls] == [
        (s, g, c) for s in (0, 1) for g in ("Breakout", "Freeway") for c in (None, 4)
    ]  # seed by seed, game by game, candidate by candidate
    report = (tmp_path / "out" / "report.md").read_text()
    assert "Command: `python -m benchmarks.minatar_screen --candidates" in report and "8 of 8 runs" in report
    assert "| b | 4 |" in report and "1.00 [1.00, 1.00]" in report  # b beats a on every game and seed
    # 2,000 env steps/s of wall time, 2,500 of CPU time: a 2M-frame run takes 13.3 minutes of a core
    assert "| 2,000 [2,000, 2,000] | 2,500 [2,500, 2,500] | 13.3 (meets) |" in report
    assert "| Freeway | 2 | 1.0 [1.0, 1.0] |" in report and "## The paper's DQN" in report
    capsys.readouterr()
    # a rerun keeps every finished run; a candidate whose fields change runs again, alone
    data["candidates"]["b"]["fields"]["n_step"] = 3
    write(path, data)
    calls.clear()
    assert screen.main([str(a) for a in argv]) == 0
    assert [f for _, _, f in calls] == [{"train_freq": 4, "n_step": 3}] * 4
    assert len(list((tmp_path / "out" / "runs").glob("*.json"))) == 12


@pytest.mark.slow  # two real workers and their rerun (~30 s on a busy machine); the parts are tested above
def test_a_tiny_real_screen_writes_its_report_and_a_rerun_keeps_its_runs(tmp_path):
    data = {"baseline": "a", "candidates": {"a": {"fields": {}}, "b": {"fields": {"train_freq": 4}}}}
    path = write(tmp_path / "candidates.json", data)
    flags = ["--candidates", path, "--games", "Breakout", "--seeds", 1, "--frames", 3000, "--random-episodes", 2]
    proc = run_benchmark("minatar_screen", *flags, "--out", tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = (tmp_path / "report.md").read_text()
    assert "2 of 2 runs" in report and "P(better than a)" in report and "| Breakout | 1 |" in report
    runs = sorted((tmp_path / "runs").glob("*_Breakout_0_3000_*.json"))
    assert [p.name.split("_")[0] for p in runs] == ["a", "b"]
    record = json.loads(runs[1].read_text())
    assert record["env_steps"] == 3000 and record["config"]["train_freq"] == 4 and "greedy_best" not in record
    stamps = [p.stat().st_mtime_ns for p in runs]
    again = run_benchmark("minatar_screen", *flags, "--out", tmp_path, timeout=600)
    assert again.returncode == 0 and "env steps/s" not in again.stderr
    assert [p.stat().st_mtime_ns for p in runs] == stamps
