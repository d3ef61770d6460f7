"""`tfdqn train`/`evaluate` refuse bad output paths, damaged training state, unknown environment modules, bad
evaluation caps and a resume onto a folder that cannot be written with one line on stderr and status 2, before
TensorFlow loads and without writing anything; a disk that fills up mid-run ends it in one line, keeping the last
good checkpoint; `module:Env-v0` ids work as `gym.make` takes them; the threshold a run stops at, and where
evaluation episodes are cut, are said at its start."""

import errno
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import one_error_line, refusing_writes_in, tfdqn_cli

from tfdqn.cli import run_main
from tfdqn.errors import OutputDirError
from tfdqn.fileio import check_out_dir
from tfdqn.training.resume import StateError, check_training_state, read_state_step

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--no-gif", "--no-live-plot", "--eval-every", 200, "--eval-episodes", 2, "--final-episodes", 2]
PLUGIN = (
    "import gymnasium as gym\n"
    "gym.register('ShortPole-v0', entry_point='gymnasium.envs.classic_control.cartpole:CartPoleEnv',\n"
    "             max_episode_steps=50, reward_threshold=40.0)\n"
    "gym.register('NoGoalPole-v0', entry_point='gymnasium.envs.classic_control.cartpole:CartPoleEnv',\n"
    "             max_episode_steps=50)\n"
)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes (to show a refusal wrote nothing)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    """A folder holding `shortpole.py`, a module that registers two environments when imported."""
    folder = tmp_path_factory.mktemp("plugin")
    (folder / "shortpole.py").write_text(PLUGIN)
    return folder


@pytest.fixture(scope="module")
def finished_run(plugin):
    """A finished 300-step run (with its state/) through a `module:Env-v0` id: it works as gym.make takes it."""
    out = plugin / "run"
    proc = tfdqn_cli("train", "--env", "shortpole:ShortPole-v0", "--out", out, "--steps", 300, *TINY, pythonpath=plugin)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "stops at the first evaluation >= 40 (shortpole:ShortPole-v0's reward_threshold)" in proc.stderr
    assert (out / "summary.json").exists() and read_state_step(out / "state") == 300
    return out


def test_out_naming_an_existing_file(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    one_error_line(tfdqn_cli("train", "--out", target, "--steps", 10), "--out")
    one_error_line(tfdqn_cli("train", "--out", target, "--steps", 10), "is an existing file")
    assert target.read_text() == "mine"


def test_out_under_a_file(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    one_error_line(tfdqn_cli("train", "--out", target / "run", "--steps", 10), f"{target} is a file")
    assert snapshot(tmp_path) == {"notes.txt": b"mine"}


def test_out_that_refuses_a_probe_file_is_refused(tmp_path, monkeypatch):
    # root writes through permission bits and no read-only mount is at hand: a refused probe stands in for one
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("tfdqn.fileio.tempfile.mkstemp", refuse)
    with pytest.raises(OutputDirError, match="cannot be written: .*Permission denied"):
        check_out_dir(tmp_path / "a" / "b")
    assert list(tmp_path.iterdir()) == []


def test_writable_out_leaves_no_probe(tmp_path):
    check_out_dir(tmp_path / "new" / "run")
    check_out_dir(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_env_module_that_does_not_exist(tmp_path):
    out = tmp_path / "out"
    one_error_line(
        tfdqn_cli("train", "--env", "nosuchmodule:ShortPole-v0", "--out", out, "--steps", 10),
        "cannot import module 'nosuchmodule'",
    )
    assert not out.exists()


def test_env_module_without_the_id(plugin, tmp_path):
    out = tmp_path / "out"
    proc = tfdqn_cli("train", "--env", "shortpole:Missing-v0", "--out", out, "--steps", 10, pythonpath=plugin)
    one_error_line(proc, "Missing-v0")
    assert not out.exists()


def test_no_threshold_is_said_at_the_start(plugin, tmp_path):
    out = tmp_path / "out"
    proc = tfdqn_cli(
        "train", "--env", "shortpole:NoGoalPole-v0", "--out", out, "--steps", 100, *TINY, pythonpath=plugin
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if "threshold" in line]
    assert lines == [
        "no threshold: shortpole:NoGoalPole-v0 has no reward_threshold in its Gymnasium spec, so training runs the "
        "whole budget (pass --threshold to stop on a confirmed score)"
    ], proc.stderr


@pytest.mark.parametrize("damage", ["truncated", "zero length", "flipped bytes", "missing"])
def test_resume_from_a_damaged_arrays_npz(finished_run, tmp_path, damage):
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    arrays = next((run / "state").glob("checkpoint-*/arrays.npz"))
    data = bytearray(arrays.read_bytes())
    if damage == "truncated":
        arrays.write_bytes(data[: len(data) // 2])
    elif damage == "zero length":
        arrays.write_bytes(b"")
    elif damage == "flipped bytes":
        data[len(data) // 3] ^= 0xFF  # inside an array's data: its CRC no longer matches
        arrays.write_bytes(bytes(data))
    else:
        arrays.unlink()
    before = snapshot(run)
    proc = tfdqn_cli("train", "--resume", run, "--steps", 600)
    one_error_line(proc, f"{arrays} is damaged")
    assert snapshot(run) == before


# trainer.json edits that keep it valid JSON, each with what the refusal says after "<path> is damaged: "
META_DAMAGE = {
    "config renamed": (lambda m: m.update(configuration=m.pop("config")), "no 'config' key"),
    "no step": (lambda m: m.pop("step"), "no 'step' key"),
    "negative step": (lambda m: m.update(step=-5), "'step' is -5, not a non-negative integer"),
    "config a list": (lambda m: m.update(config=[]), "'config' is [], not an object"),
    "no num_envs": (lambda m: m.pop("num_envs"), "no 'num_envs' key"),  # read only when restoring the trainer
    "no env_id": (lambda m: m.pop("env_id"), "no 'env_id' key"),
}


@pytest.mark.parametrize("damage", list(META_DAMAGE))
def test_resume_from_a_trainer_json_missing_a_key(finished_run, tmp_path, damage):
    # the finished run's state stands in for a periodic checkpoint: both are written by the same function
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    trainer_json = next((run / "state").glob("checkpoint-*/trainer.json"))
    meta = json.loads(trainer_json.read_text())
    edit, reason = META_DAMAGE[damage]
    edit(meta)
    trainer_json.write_text(json.dumps(meta))
    with pytest.raises(StateError, match=re.escape(f"{trainer_json} is damaged: {reason}")):
        read_state_step(run / "state")
    before = snapshot(run)
    one_error_line(tfdqn_cli("train", "--resume", run, "--steps", 600), f"{trainer_json} is damaged: {reason}")
    assert snapshot(run) == before


def test_resume_from_a_trainer_json_that_is_not_an_object(finished_run, tmp_path):
    state = tmp_path / "state"
    shutil.copytree(finished_run / "state", state)
    trainer_json = next(state.glob("checkpoint-*/trainer.json"))
    trainer_json.write_text("[1, 2]")
    with pytest.raises(StateError, match=re.escape(f"{trainer_json} is damaged: it holds list, not an object")):
        check_training_state(state)


def test_a_byte_flipped_anywhere_is_refused_or_harmless(finished_run, tmp_path):
    state = tmp_path / "state"
    shutil.copytree(finished_run / "state", state)
    arrays = next(state.glob("checkpoint-*/arrays.npz"))
    original = arrays.read_bytes()
    n = len(original)
    positions = sorted({*range(0, 200), *range(0, n, max(1, n // 300)), *range(n - 600, n)})
    for i in positions:
        data = bytearray(original)
        data[i] ^= 0xFF
        arrays.write_bytes(bytes(data))
        try:
            check_training_state(state)
        except StateError as exc:
            assert str(arrays) in str(exc)
            continue
        with np.load(arrays, allow_pickle=False) as loaded:  # passed the check: it reads back whole
            assert {k: loaded[k].shape for k in loaded.files}


@pytest.mark.parametrize("steps", [300, 200])
def test_resume_at_or_past_the_budget_says_so_and_trains_nothing(finished_run, steps):
    before = snapshot(finished_run)
    proc = tfdqn_cli("train", "--resume", finished_run, "--steps", steps)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr.strip() == f"nothing to do: the saved run is at step 300 of --steps {steps}"
    assert snapshot(finished_run) == before


def test_evaluate_gif_that_cannot_be_written(finished_run, tmp_path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("mine")
    model = finished_run / "best.keras"
    one_error_line(tfdqn_cli("evaluate", model, "--gif", blocker / "x.gif", "--episodes", 1), "is an existing file")
    one_error_line(tfdqn_cli("evaluate", model, "--gif", tmp_path, "--episodes", 1), "is a directory")
    assert snapshot(tmp_path) == {"notes.txt": b"mine"}


@pytest.mark.parametrize("value", ["0", "-3", "2.5", "many"])
def test_a_bad_evaluation_cap_is_refused(tmp_path, value):
    out = tmp_path / "out"
    one_error_line(tfdqn_cli("train", "--eval-max-steps", value, "--out", out), "--eval-max-steps")
    one_error_line(tfdqn_cli("evaluate", out / "best.keras", "--max-steps", value), "--max-steps")
    assert not out.exists()


def test_an_environment_without_a_time_limit_is_evaluated_up_to_a_stated_cap(tmp_path):
    # CliffWalking-v1 has no time limit: an untrained policy circles, so every greedy episode runs to the cap
    out = tmp_path / "cliff"
    flags = ["--eval-every", 100, "--eval-episodes", 1, "--final-episodes", 1, "--no-gif", "--no-live-plot"]
    proc = tfdqn_cli("train", "--env", "CliffWalking-v1", "--out", out, "--steps", 200, *flags)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = "CliffWalking-v1 has no time limit: evaluation episodes are cut at 1,000 steps (--eval-max-steps)"
    assert line in proc.stderr.splitlines()
    assert "Warning" not in proc.stderr  # the cut was said at the start, not warned about at each evaluation
    assert json.loads((out / "summary.json").read_text())["eval_max_steps"] == 1_000


# from the second state save on, the disk is full: the save leaves half a checkpoint folder and raises ENOSPC
DISK_FULL_AFTER_ONE_SAVE = """
import errno, os
from tfdqn.cli import prepare_process
prepare_process()  # as the command would, before TensorFlow loads
from pathlib import Path
import tfdqn.training.trainer as trainer_module
_save, _calls = trainer_module.save_training_state, []
def _full(trainer, directory):
    _calls.append(trainer.step)
    if len(_calls) == 1:
        return _save(trainer, directory)
    tmp = Path(directory) / f".checkpoint-{trainer.step:012d}.tmp-{os.getpid()}"
    tmp.mkdir(exist_ok=True)
    (tmp / "arrays.npz").write_bytes(b"PK\\x03\\x04 half")
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
trainer_module.save_training_state = _full
"""


@pytest.mark.parametrize("where", ["run", "state"])
def test_resume_onto_a_read_only_folder_is_refused_before_training(finished_run, tmp_path, where):
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    folder = run if where == "run" else run / "state"
    before, read_only = snapshot(run), refusing_writes_in(folder, "OSError(30, 'Read-only file system')")
    proc = tfdqn_cli("train", "--resume", run, "--steps", 600, preamble=read_only)
    one_error_line(proc, f"--resume {folder} cannot be written: {folder}: Read-only file system")
    assert snapshot(run) == before


def test_a_full_disk_mid_run_ends_it_in_one_line_keeping_the_last_good_checkpoint(tmp_path):
    out = tmp_path / "run"
    args = ["train", "--out", out, "--steps", 400, "--state-every", 100, *TINY]
    proc = tfdqn_cli(*args, preamble=DISK_FULL_AFTER_ONE_SAVE)
    kept = out / "state" / "checkpoint-000000000100"
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error")]
    assert (
        errors
        == [proc.stderr.splitlines()[-1]]
        == [
            f"error: cannot write the files in {out}: No space left on device: run stopped at step 200; last good "
            f"state: {kept} (resume with --resume {out})"
        ]
    )
    assert check_training_state(out / "state") == kept and read_state_step(out / "state") == 100


def test_a_disk_error_outside_training_is_one_line(capsys):
    def write_config():
        raise OSError(errno.ENOSPC, "No space left on device", "/runs/x/config.json")

    with pytest.raises(SystemExit) as info:
        run_main(write_config)
    assert info.value.code == 2
    assert capsys.readouterr().err == "error: cannot write /runs/x/config.json: No space left on device\n"

    def a_bug():
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", "internal.json")

    with pytest.raises(FileNotFoundError):  # not the user's disk: a traceback, as for any bug
        run_main(a_bug)
