"""tfdqn.experiments (the sweep and its engine) on a local Ray (2 CPUs, started once for this module, shut
down after), and the commands without Ray."""

from __future__ import annotations

import csv
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tfdqn.errors import ConfigError
from tfdqn.experiments import sweep as sw
from tfdqn.experiments.cluster import worker_env
from tfdqn.experiments.engine import read_record, run_specs, write_record
from tfdqn.experiments.errors import RayNotInstalled, SweepError, SweepInterrupted
from tfdqn.experiments.grid import expand_grid, parse_set, read_configs
from tfdqn.experiments.plan import RunSpec, SweepProtocol, run_key
from tfdqn.experiments.process import spawn, stop_tree
from tfdqn.experiments.report import write_report

ROOT = Path(__file__).resolve().parents[2]
TINY = SweepProtocol(steps=400, threshold=20.0, eval_every=200, eval_episodes=2, confirm_episodes=2, final_episodes=2)
"""Short real runs: 400 env steps (before learning starts: no gradient step), evaluations at 200 and 400."""


def script(code: str) -> tuple[str, ...]:
    """A fake worker: Python code run with RUN_DIR as sys.argv[1]."""
    return ("{python}", "-c", code, "{run_dir}")


def writes(value: int, sleep: float = 0.0) -> tuple[str, ...]:
    return script(
        f"import json, sys, time; time.sleep({sleep}); "
        f"open(sys.argv[1] + '/result.json', 'w').write(json.dumps({{'value': {value}}}))"
    )


# ----- a real 2-config x 2-seed sweep ------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_sweep(local_ray, tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    configs = {"lr_low": {"learning_rate": 1e-3}, "lr_high": {"learning_rate": 3e-3, "hidden_sizes": [32, 32]}}
    result = sw.sweep(configs, [0, 1], out, TINY, progress_every=1e9)
    return out, configs, result


def test_sweep_runs_every_config_and_seed_in_its_own_folder(real_sweep):
    out, configs, result = real_sweep
    assert result["complete"] and len(result["runs"]) == 4
    assert {(r["config"], r["seed"]) for r in result["runs"]} == {(c, s) for c in configs for s in (0, 1)}
    for r in result["runs"]:
        assert r["status"] == "ok", r.get("error")
        run_dir = out / "runs" / r["key"]
        for name in ("best.keras", "metrics.csv", "evaluations.csv", "summary.json", "config.json", "record.json"):
            assert (run_dir / name).is_file(), name
        config = json.loads((run_dir / "config.json").read_text())
        assert config["seed"] == r["seed"]
        assert config["learning_rate"] == configs[r["config"]]["learning_rate"]


def test_the_table_agrees_with_the_runs_own_files(real_sweep):
    out, configs, result = real_sweep
    saved = json.loads((out / "sweep.json").read_text())
    assert saved["runs"] == json.loads(json.dumps(result["runs"]))
    for r in saved["runs"]:
        run_dir = out / "runs" / r["key"]
        summary = json.loads((run_dir / "summary.json").read_text())
        assert r["best_score"] == summary["best_keras_evaluation"]["mean_return"]
        assert r["env_steps"] == summary["env_steps"]
        with open(run_dir / "evaluations.csv", newline="") as f:
            periodic = [row for row in csv.DictReader(f) if row["kind"] == "periodic"]
        first = next((int(row["step"]) for row in periodic if float(row["mean_return"]) >= 20.0), None)
        assert r["solved_step"] == first
    for row in saved["summary"]:
        rs = [r for r in saved["runs"] if r["config"] == row["config"]]
        assert row["median_best_score"] == pytest.approx(statistics.median(r["best_score"] for r in rs))
        assert row["median_final_score"] == pytest.approx(statistics.median(r["final_score"] for r in rs))
        assert row["solved"] == sum(r["solved_step"] is not None for r in rs)
        lo, hi = row["ci_best_score"]
        assert lo <= row["median_best_score"] <= hi
    table = (out / "sweep.md").read_text()
    for row in saved["summary"]:
        assert f"| {row['config']} | 2 | 0 | {row['solved']}/2" in table


def test_rerunning_the_same_sweep_skips_finished_runs(real_sweep, capsys):
    out, configs, _ = real_sweep
    stamps = {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*/best.keras")}
    t0 = time.perf_counter()
    again = sw.sweep(configs, [0, 1], out, TINY)
    assert time.perf_counter() - t0 < 10  # nothing ran
    assert all(r.get("resumed") for r in again["runs"]) and len(again["runs"]) == 4
    assert {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*/best.keras")} == stamps
    assert "4 finished run(s)" in capsys.readouterr().err


def test_a_folder_holding_another_sweep_is_refused(real_sweep):
    out, configs, _ = real_sweep
    with pytest.raises(SweepError, match="another sweep"):
        sw.sweep({"other": {"gamma": 0.9}}, [0], out, TINY)


# ----- the engine: failures, cancellation, resume --------------------------------------------------------
def test_a_run_that_raises_is_recorded_and_the_others_go_on(local_ray, tmp_path):
    specs = [
        RunSpec("ok0", writes(0), {"seed": 0}),
        RunSpec("bad", script("raise SystemExit('error: the environment exploded')"), {"seed": 1}),
        RunSpec("ok2", writes(2), {"seed": 2}),
    ]
    records = run_specs(specs, tmp_path, progress_every=1e9)
    assert [r["status"] for r in records] == ["ok", "failed", "ok"]
    assert records[1]["error"] == "error: the environment exploded" and records[1]["exit_code"] == 1
    assert [records[0]["value"], records[2]["value"]] == [0, 2]
    assert json.loads((tmp_path / "runs" / "bad" / "record.json").read_text())["status"] == "failed"
    # resume: the finished runs are kept, the failed one is run again
    specs[1] = RunSpec("bad", writes(1), {"seed": 1})
    again = run_specs(specs, tmp_path, progress_every=1e9)
    assert [r.get("resumed", False) for r in again] == [True, False, True] and again[1]["value"] == 1


TREE = (
    "import os, subprocess, sys, time\n"
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
    "open(sys.argv[1] + '/pids.tmp', 'w').write(f'{os.getpid()} {child.pid}')\n"
    "os.replace(sys.argv[1] + '/pids.tmp', sys.argv[1] + '/pids')\n"
    "time.sleep(120)"
)
"""A slow worker with a child of its own (a process tree), writing both pids to RUN_DIR/pids."""


def test_ctrl_c_cancels_outstanding_runs_and_keeps_finished_ones(local_ray, tmp_path):
    specs = [RunSpec("fast", writes(7), {"seed": 0})] + [
        RunSpec(f"slow{i}", script(TREE), {"seed": i + 1}) for i in range(3)
    ]
    pids_file = tmp_path / "runs" / "slow0" / "pids"

    def interrupt_after_first(record, records):
        deadline = time.time() + 30
        while not pids_file.exists() and time.time() < deadline:
            time.sleep(0.2)
        raise KeyboardInterrupt  # what Ctrl-C raises in the driver

    t0 = time.perf_counter()
    with pytest.raises(SweepInterrupted, match="1 of 4 runs finished") as info:
        run_specs(specs, tmp_path, on_record=interrupt_after_first, progress_every=1e9)
    assert info.value.exit_code == 130 and time.perf_counter() - t0 < 60
    # the driver returns only once every cancelled run's process tree is gone: no waiting here
    pids = [int(p) for p in pids_file.read_text().split()]
    assert len(pids) == 2 and not [p for p in pids if _alive(p)], "a cancelled run's process tree was left running"
    assert read_record(tmp_path / "runs" / "fast")["value"] == 7
    assert not (tmp_path / "runs" / "slow0" / "record.json").exists()
    assert not (tmp_path / "runs" / "slow2" / "record.json").exists()


def test_stopping_a_run_kills_its_tree_even_if_it_ignores_sigterm(tmp_path):
    code = (
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "child = subprocess.Popen([sys.executable, '-c', "
        "'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(120)"
    )
    with open(tmp_path / "err.log", "w") as err:
        proc = spawn([sys.executable, "-c", code], stderr=err, env=worker_env(), cwd=str(tmp_path))
        child = int(proc.stdout.readline())
        t0 = time.perf_counter()
        stop_tree(proc, grace=0.5)
    assert 0.5 <= time.perf_counter() - t0 < 10
    assert proc.returncode == -9 and not _alive(proc.pid) and not _alive(child)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead too
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_interrupted_sweep_writes_the_partial_table(monkeypatch, tmp_path):
    def fake_run_specs(specs, out, **kwargs):
        record = {
            "key": specs[0].key,
            **specs[0].info,
            "status": "ok",
            "solved_step": 200,
            "best_score": 30.0,
            "final_score": 25.0,
            "env_steps": 200,
            "wall_seconds": 1.0,
        }
        write_record(out / "runs" / specs[0].key, record)
        raise SweepInterrupted("interrupted: 1 of 4 runs finished and kept, 3 cancelled")

    monkeypatch.setattr(sw, "run_specs", fake_run_specs)
    with pytest.raises(SweepInterrupted):
        sw.sweep({"a": {}, "b": {"gamma": 0.9}}, [0, 1], tmp_path, TINY)
    saved = json.loads((tmp_path / "sweep.json").read_text())
    assert len(saved["runs"]) == 1 and not saved["complete"]
    table = (tmp_path / "sweep.md").read_text()
    assert "partial: interrupted" in table and "| a | 0 | ok | 200 | 30.0 | 25.0 |" in table


# ----- pure parts ----------------------------------------------------------------------------------------
def test_grid_flags_and_files(tmp_path):
    assert parse_set(["hidden_sizes=[64,64],[256,256]", "double_dqn=true,false"]) == {
        "hidden_sizes": [[64, 64], [256, 256]],
        "double_dqn": [True, False],
    }
    configs = expand_grid({"gamma": [0.9, 0.99], "tau": [1.0]})
    assert list(configs) == ["gamma=0.9,tau=1.0", "gamma=0.99,tau=1.0"]
    (tmp_path / "g.json").write_text(json.dumps({"grid": {"gamma": [0.9]}, "configs": {"base": {}}}))
    assert read_configs(tmp_path / "g.json") == {"base": {}, "gamma=0.9": {"gamma": 0.9}}
    assert run_key("hidden_sizes=[64, 64]", 3) == "hidden_sizes=_64_64__seed3"


def test_bad_input_is_a_clear_error_before_ray_starts(tmp_path):
    with pytest.raises(ConfigError, match="config 'x': unknown DQNConfig field.*learnin_rate"):
        sw.sweep({"x": {"learnin_rate": 1e-3}}, [0], tmp_path, TINY)
    with pytest.raises(SweepError, match="seed list is empty"):
        sw.sweep({"x": {}}, [], tmp_path, TINY)
    with pytest.raises(SweepError, match="sets seed"):
        sw.sweep({"x": {"seed": 3}}, [0], tmp_path, TINY)
    with pytest.raises(SweepError, match="listed twice"):
        sw.sweep({"x": {}}, [1, 1], tmp_path, TINY)
    assert not (tmp_path / "sweep.json").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--set", "learnin_rate=1e-3"],
            "error: config 'learnin_rate=0.001': unknown DQNConfig field 'learnin_rate' "
            "(did you mean 'learning_rate'?)",
        ),
        (["--seeds", "0-x"], "error: seed '0-x' is not an integer or a range like 0-9"),
        (["--address", "127.0.0.1:9"], "error: cannot reach the Ray cluster at 127.0.0.1:9"),
    ],
)
def test_the_command_prints_one_line_and_exits_2(tmp_path, args, message):
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "sweep.py"), *args, "--out", str(tmp_path / "s")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert time.perf_counter() - t0 < 30
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), lines


def test_a_folder_with_another_sweeps_results_exits_2(tmp_path):
    write_report(
        tmp_path,
        {
            "plan": {"kind": "sweep", "configs": {"a": {}}, "protocol": {}},
            "runs": [],
            "seeds": [0],
            "summary": [],
            "command": "x",
            "date": "d",
        },
        renderer=lambda r: "",
    )
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "sweep.py"), "--set", "gamma=0.9", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "holds another sweep's results" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_protocol_spells_no_preset_one_way_so_saved_plans_match():
    assert SweepProtocol(preset="none") == SweepProtocol(preset=None)
    argv = SweepProtocol(preset="none").argv({}, 0)
    assert argv[argv.index("--preset") + 1] == "none"


def test_the_evaluation_cap_reaches_every_run_and_older_folders_still_resume():
    # sweep/search --eval-max-steps N: each worker cuts its greedy episodes at N; a plan without the cap
    # is recorded as before the field existed, so folders written then still resume
    capped = SweepProtocol(env_id="CliffWalking-v1", eval_max_steps=50)
    argv = capped.argv({}, 0)
    assert argv[argv.index("--eval-max-steps") + 1] == "50"
    assert capped.saved()["eval_max_steps"] == 50
    assert "--eval-max-steps" not in SweepProtocol().argv({}, 0) and "eval_max_steps" not in SweepProtocol().saved()
    from tfdqn.cli import ArgumentParser
    from tfdqn.commands._ray_flags import protocol_of
    from tfdqn.commands.search import add_arguments

    parser = ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["space.json", "--env", "CliffWalking-v1", "--threshold", "-13", "--eval-max-steps", "50"])
    assert protocol_of(args, True).eval_max_steps == 50


# ----- Ray is optional ------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["sweep", "search"])
def test_the_commands_without_ray_say_what_to_install_and_exit_2(tmp_path, command):
    space = tmp_path / "space.json"
    space.write_text(json.dumps({"gamma": [0.9, 0.99]}))
    args = {"sweep": ["--set", "gamma=0.9"], "search": [str(space)]}[command]
    no_ray = "import sys; sys.modules['ray'] = None; from tfdqn.commands import main; main()"
    proc = subprocess.run(
        [sys.executable, "-c", no_ray, command, *args, "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines == [f'error: tfdqn {command} need Ray, which is not installed: pip install "tfdqn[experiments]"']
    assert not (tmp_path / "out").exists()


def test_the_library_without_ray_raises_before_writing_anything(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` finds when Ray is not installed
    with pytest.raises(RayNotInstalled, match=r'pip install "tfdqn\[experiments\]"'):
        sw.sweep({"a": {}}, [0], tmp_path / "out", TINY)
    assert not (tmp_path / "out").exists()


def test_the_core_package_never_imports_the_experiments():
    allowed = {ROOT / "tfdqn" / "commands" / f"{name}.py" for name in ("sweep", "search", "_ray_flags")}
    pattern = re.compile(
        r"^\s*(from\s+tfdqn\.experiments|import\s+tfdqn\.experiments|from\s+tfdqn\s+import\s+experiments)", re.M
    )
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "tfdqn").rglob("*.py")
        if "experiments" not in path.relative_to(ROOT / "tfdqn").parts[:1]
        and path not in allowed
        and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
