"""`tfdqn search`: bad input is one line and status 2 before Ray starts, and a search stopped by Ctrl-C resumes
when run again, with no trial lost or asked twice (fake workers: tests/search_fakes.py)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import CLI_ENV, one_error_line, tfdqn_cli
from search_fakes import FLAGS

optuna = pytest.importorskip("optuna")
pytest.importorskip("ray")

FAKES = Path(__file__).resolve().parents[1] / "search_fakes.py"


def space_file(tmp_path: Path, space: dict) -> Path:
    path = tmp_path / "space.json"
    path.write_text(json.dumps(space))
    return path


@pytest.mark.parametrize(
    "space, message",
    [
        ({"lr": [1e-3]}, "unknown DQNConfig field 'lr'"),
        ({"gamma": []}, "search space: 'gamma' has an empty list of choices"),
        ({}, "the search space is empty"),
        ({"gamma": {"uniform": [0.99, 0.9]}}, "'gamma': uniform needs [low, high] with low <= high"),
    ],
)
def test_a_bad_space_is_one_line(tmp_path, space, message):
    proc = tfdqn_cli("search", space_file(tmp_path, space), "--out", tmp_path / "out", timeout=60)
    one_error_line(proc, message)
    assert not (tmp_path / "out").exists()


def test_an_environment_without_a_threshold_needs_one(tmp_path):
    proc = tfdqn_cli("search", space_file(tmp_path, {"gamma": [0.9]}), "--env", "CliffWalking-v1", "--out", tmp_path)
    one_error_line(proc, "CliffWalking-v1 has no reward threshold: give the solved score (--threshold)")


def test_a_storage_of_another_search_is_one_line(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    study = optuna.create_study(study_name="search", storage=f"sqlite:///{out / 'study.db'}")
    study.set_user_attr("plan", {"kind": "search", "space": {"tau": [1.0]}})
    proc = tfdqn_cli("search", space_file(tmp_path, {"gamma": [0.9]}), "--out", out, timeout=60)
    one_error_line(proc, "holds another search (it differs in: ")
    other = tmp_path / "other"
    other.mkdir()
    optuna.create_study(study_name="elsewhere", storage=f"sqlite:///{other / 'study.db'}")
    proc = tfdqn_cli("search", space_file(tmp_path, {"gamma": [0.9]}), "--out", other, timeout=60)
    one_error_line(proc, "holds another study (elsewhere)")


@pytest.mark.slow  # a search interrupted and resumed through Ray (~18 s)
def test_ctrl_c_then_rerun_loses_and_repeats_no_trial(tmp_path):
    out = tmp_path / "out"
    space = space_file(tmp_path, {"gamma": [0.9, 0.95, 0.99], "batch_size": [32, 64, 128]})
    argv = [sys.executable, str(FAKES), "search", str(space), "--trials", "4", "--seeds", "0", "1", *FLAGS]
    argv += ["--num-cpus", "2", "--out", str(out)]
    env = {**CLI_ENV, "FAKE_SLEEP": "0.15"}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 90
    while len(list(out.glob("runs/*/record.json"))) < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=90)
    assert proc.returncode == 130, err[-2000:]
    study = optuna.load_study(study_name="search", storage=f"sqlite:///{out / 'study.db'}")
    before = {t.number: t.params for t in study.trials}
    kept = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("runs/*/record.json")}
    assert len(before) < 4 or any(t.state.name == "RUNNING" for t in study.trials)
    again = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180)
    assert again.returncode == 0, again.stderr[-2000:]
    trials = optuna.load_study(study_name="search", storage=f"sqlite:///{out / 'study.db'}").trials
    assert [t.number for t in trials] == list(range(4))
    assert all(t.state.name in ("COMPLETE", "PRUNED") for t in trials), [t.state for t in trials]
    # a trial keeps the fields it had (one stopped between two of its fields' draws gets the rest on resume)
    assert all(params.items() <= trials[n].params.items() for n, params in before.items())
    saved = json.loads((out / "search.json").read_text())
    runs = saved["runs"]
    assert saved["command"].startswith(f"tfdqn search {space} --trials 4")  # the subcommand named once
    ran = [t.number for t in trials if "same_as" not in t.user_attrs]  # the others repeat a finished trial's fields
    assert sorted(r["key"] for r in runs) == sorted(f"t{n:02d}__seed{s}" for n in ran for s in (0, 1))
    now = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("runs/*/record.json")}
    assert {k: now[k] for k in kept} == kept  # no finished run ran again
    assert "| 1 | " in again.stdout and (out / "best_config.json").is_file()


def test_without_optuna_the_search_says_what_to_install(tmp_path):
    code = "import sys; sys.modules['optuna'] = None; from tfdqn.commands import main; main()"
    space = space_file(tmp_path, {"gamma": [0.9]})
    proc = subprocess.run(
        [sys.executable, "-c", code, "search", str(space), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=60, env=CLI_ENV,
    )  # fmt: skip
    one_error_line(proc, 'searches need Optuna, which is not installed: pip install "tfdqn[experiments]"')
    assert not (tmp_path / "out").exists()


def test_milestones_off_the_pruners_rungs_are_one_line(tmp_path):
    # a 50,000-step budget, eta 3: halving compares trials at 6,000 and 18,000 only, never at 17,000
    space = space_file(tmp_path, {"gamma": [0.9, 0.99]})
    proc = tfdqn_cli("search", space, "--milestones", "6000", "17000", "--out", tmp_path / "out", timeout=60)
    one_error_line(proc, "milestones 6000 17000 do not suit the halving pruner: it compares trials only at m, ")
    assert "e.g. 6000 18000;" in proc.stderr and not (tmp_path / "out").exists()


def test_the_old_spellings_method_and_no_halving_still_work(tmp_path):
    # the search itself replaced by one printing what it was given: the flags as the command passes them on
    preamble = (
        "import sys, tfdqn.experiments.search as s\n"
        "def given(*args, **kw):\n"
        "    print(kw['sampler'], kw['pruner'], kw['milestones'])\n"
        "    sys.exit(0)\n"
        "s.search = given"
    )
    space = space_file(tmp_path, {"gamma": [0.9, 0.99]})
    old = tfdqn_cli("search", space, "--method", "grid", "--no-halving", "--out", tmp_path, preamble=preamble)
    assert old.returncode == 0 and old.stdout.split() == ["grid", "none", "None"], old.stderr[-2000:]
    new = tfdqn_cli("search", space, "--milestones", "300", "900", "--out", tmp_path, preamble=preamble)
    assert new.stdout.split() == ["tpe", "halving", "[300,", "900]"], new.stderr[-2000:]
