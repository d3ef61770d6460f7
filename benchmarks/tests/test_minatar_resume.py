"""A stopped MinAtar benchmark resumes its tfdqn runs: the worker's bookkeeping over attempts, the drivers leaving a
stopped run's folder to it and saying which runs were resumed (fast, with fakes), and a real run killed after its
first saved state, then rerun, against an uninterrupted one (slow)."""

import json
import subprocess
import sys
import time

import pytest

from benchmarks import minatar, minatar_runs as runs, minatar_screen as screen
from benchmarks.common import ROOT
from benchmarks.launch import thread_env
from tfdqn.training.resume import StateError

pytest.importorskip("minatar", reason="the minatar extra is not installed (pip install 'tfdqn[minatar]')")


def episode(frame, ret, completed=True):
    return {"completed": completed, "return": ret, "step": frame}


def test_attempts_carry_episodes_and_sum_seconds_over_a_resume(monkeypatch):
    clock = {"cpu": 10.0, "wall": 100.0}
    monkeypatch.setattr(runs.time, "process_time", lambda: clock["cpu"])
    monkeypatch.setattr(runs.time, "perf_counter", lambda: clock["wall"])
    first = runs.Attempts()
    first.on_train_begin({})
    first.on_episode_end(0, episode(40, 1.0))
    first.on_episode_end(1, episode(90, 2.0))
    clock.update(cpu=15.0, wall=108.0)  # the state is saved here; the process is killed later
    saved = json.loads(json.dumps(first.get_state()))  # as trainer.json holds it
    first.on_episode_end(2, episode(130, 9.0))  # lost with the attempt: the resumed one plays it again

    second = runs.Attempts()
    second.set_state(saved)
    second.resumed_from.append(100)
    clock.update(cpu=50.0, wall=500.0)
    second.on_train_begin({"step": 100})
    second.on_episode_end(2, episode(130, 3.0))
    second.on_episode_end(3, episode(150, 4.0, completed=False))  # cut by the end of training: not a score
    clock.update(cpu=53.0, wall=504.0)
    state = second.get_state()
    assert state["returns"] == [1.0, 2.0, 3.0] and state["end_frames"] == [40, 90, 130]
    assert state["cpu_seconds"] == 5.0 + 3.0 and state["wall_seconds"] == 8.0 + 4.0
    assert state["resumed_from"] == [100] and (second.earlier_cpu, second.earlier_wall) == (5.0, 8.0)


def test_the_run_folder_sits_beside_the_record_and_a_finished_run_drops_its_state(tmp_path):
    record = tmp_path / "runs" / "tfdqn_Breakout_0_2000000_100_abcd1234.json"
    folder = runs.run_folder(record)
    assert folder == tmp_path / "runs" / "tfdqn_Breakout_0_2000000_100_abcd1234"
    (folder / "state" / "checkpoint-000000001000").mkdir(parents=True)
    (folder / "best.keras").write_text("kept")
    runs.discard_state(folder)
    assert not (folder / "state").exists() and (folder / "best.keras").exists()
    (folder / "best.keras").unlink()
    (folder / "state").mkdir()
    runs.discard_state(folder)
    assert not folder.exists()  # nothing else in it: gone
    runs.discard_state(folder)  # and nothing to do


def test_a_damaged_state_is_refused_in_one_line_naming_what_to_remove(tmp_path):
    state = tmp_path / "run" / "state"
    state.mkdir(parents=True)
    (state / "latest").write_text("{not json")
    with pytest.raises(StateError, match=rf"latest is damaged; remove {state} to run it again from its first frame"):
        runs.resume(None, state, runs.Attempts())  # type: ignore[arg-type]  # refused before the trainer is touched
    runs.resume(None, tmp_path / "none" / "state", runs.Attempts())  # type: ignore[arg-type]  # no state: not touched


def test_the_worker_refuses_a_bad_state_period_in_one_line(capsys):
    args = ["candidate", "--game", "Breakout", "--seed", "0", "--frames", "10", "--out", "x.json"]
    with pytest.raises(SystemExit) as exit_:
        runs.main([*args, "--state-every", "0"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and len(err.strip().splitlines()) == 1 and "--state-every" in err


def fake_resuming_worker(calls):
    """A stand-in for `subprocess.run` of the worker: checks a stopped run's state is still there, writes a
    record of a run resumed from it."""

    def run(argv, **kwargs):
        args = dict(zip(argv[4::2], argv[5::2], strict=False))  # python -m benchmarks.minatar_runs SYSTEM --k v
        out = ROOT / args["--out"]
        calls.append((args["--state-every"], (runs.run_folder(out) / "state" / "latest").is_file()))
        frames = int(args["--frames"])
        record = {"returns": [1.0, 2.0], "end_frames": [frames // 2, frames], "env_steps": frames}
        record.update(train_seconds=frames / 1000, train_cpu_seconds=frames / 1250, attempts=2, resumed_from=[3000])
        record.update(system=argv[3], game=args["--game"], seed=int(args["--seed"]), frames=frames)
        out.write_text(json.dumps(record))
        return subprocess.CompletedProcess(argv, 0, "", "")

    return run


def test_a_rerun_leaves_a_stopped_runs_state_to_the_worker_and_the_report_says_it_resumed(
    tmp_path, monkeypatch, capsys
):
    calls: list[tuple[str, bool]] = []
    monkeypatch.setattr(subprocess, "run", fake_resuming_worker(calls))
    digest = minatar.settings_digest("tfdqn_equal", "Breakout")
    stopped = tmp_path / "runs" / f"tfdqn_equal_Breakout_0_6000_0_{digest}" / "state"
    stopped.mkdir(parents=True)
    (stopped / "latest").write_text("{}")  # what a stopped run left: its folder, no record
    record = minatar.run_one("tfdqn_equal", "Breakout", 0, 6000, 0, tmp_path, state_every=3000)
    assert calls == [("3000", True)]  # found there by the worker, with the period given
    assert "tfdqn_equal Breakout seed 0: 1,000 env steps/s (resumed at frame 3,000)" in capsys.readouterr().err
    text = minatar.report([record], {"Breakout": 0.0}, [6000], "cmd")
    assert "Resumed: 1 of 1 runs" in text and "tfdqn_equal Breakout seed 0 (resumed at frame 3,000)" in text
    assert "| Breakout | 1 | 1.5 [1.5, 1.5] | 1,000 [1,000, 1,000] |" in text  # seconds summed by the worker
    assert "Resumed" not in minatar.report([{**record, "resumed_from": []}], {"Breakout": 0.0}, [6000], "cmd")


def test_the_screen_passes_the_state_period_and_names_resumed_candidates(tmp_path, monkeypatch, capsys):
    calls: list[tuple[str, bool]] = []
    monkeypatch.setattr(subprocess, "run", fake_resuming_worker(calls))
    record = screen.run_candidate("paper", {}, "Breakout", 1, 4000, tmp_path, state_every=2000)
    assert calls == [("2000", False)] and record["candidate"] == "paper"
    candidates = screen.Candidates(tmp_path / "c.json", {"paper": {}}, {"paper": "the baseline"}, "paper")
    meta = {"command": "cmd", "planned": 1, "load": ""}
    text = screen.report([record], candidates, {"Breakout": 0.0}, [4000], meta)
    assert "Resumed: 1 of 1 runs" in text and "paper Breakout seed 1 (resumed at frame 3,000)" in text
    assert "| 1,000 [1,000, 1,000] | 1,250 [1,250, 1,250] |" in text  # env steps/s of summed wall and CPU seconds


def worker(system, out, frames, state_every, *extra):
    argv = [sys.executable, "-m", "benchmarks.minatar_runs", system, "--game", "Breakout", "--seed", "1"]
    argv += ["--frames", str(frames), "--state-every", str(state_every), *map(str, extra), "--out", str(out)]
    return argv


def run_worker(argv):
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=thread_env(), timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


RAINBOW = {"train_freq": 4, "optimizer": "adam", "learning_rate": 1e-4, "double_dqn": True, "dueling": True}
RAINBOW.update(n_step=3, distributional=True, num_atoms=51, v_min=-100.0, v_max=100.0, prioritized=True)
CASES = {  # system, frames, state period, worker flags: each saves its first state once learning has begun
    "candidate, Rainbow's parts": ("candidate", 8000, 3000, ["--eval-episodes", 0, "--fields", json.dumps(
        {**RAINBOW, "learning_starts": 500, "buffer_size": 5000}
    )]),
    "tfdqn's preset, with evaluations": ("tfdqn", 9000, 6000, ["--eval-episodes", 3]),
}  # fmt: skip


@pytest.mark.slow  # three tiny runs in fresh processes (~1 minute)
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_run_killed_after_its_first_saved_state_resumes_to_the_uninterrupted_record(tmp_path, case):
    system, frames, every, flags = CASES[case]
    whole = tmp_path / "whole" / "run.json"
    whole.parent.mkdir()
    run_worker(worker(system, whole, frames, every, *flags))
    stopped = tmp_path / "stopped" / "run.json"
    stopped.parent.mkdir()
    latest = runs.run_folder(stopped) / "state" / "latest"
    proc = subprocess.Popen(worker(system, stopped, frames, every, *flags), cwd=ROOT, env=thread_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        while not latest.exists() and proc.poll() is None:
            time.sleep(0.02)
    finally:
        proc.kill()
        proc.wait()
    assert latest.exists() and not stopped.exists(), "the worker ended before its first state was saved"
    again = run_worker(worker(system, stopped, frames, every, *flags))
    assert f"resuming from frame {every:,}" in again.stderr
    a, b = json.loads(whole.read_text()), json.loads(stopped.read_text())
    assert (a["attempts"], a["resumed_from"], b["attempts"], b["resumed_from"]) == (1, [], 2, [every])
    assert len(a["returns"]) > 100 and (b["returns"], b["end_frames"]) == (a["returns"], a["end_frames"])
    assert (b["env_steps"], b["updates"]) == (a["env_steps"], a["updates"]) == (frames, b["updates"])
    assert b.get("greedy_best") == a.get("greedy_best") and b.get("greedy_final") == a.get("greedy_final")
    assert b["train_cpu_seconds"] > 0 and not (runs.run_folder(stopped) / "state").exists()
