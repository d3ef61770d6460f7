"""Every command's output path is checked before anything expensive (TensorFlow, an environment, Ray): a path
naming an existing file, one under a file and one whose folder refuses to be written are each one line on
stderr and status 2, with nothing written."""

import os
from pathlib import Path

import pytest
from helpers import one_error_line, refusing_writes_in, tfdqn_cli

# each command with the arguments it needs besides the output path, and the flag that names that path
COMMANDS = {
    "train": (["train", "--steps", 10], "--out"),
    "pixels": (["pixels", "--steps", 10], "--out"),
    "atari": (["atari", "--steps", 10], "--out"),
    "sweep": (["sweep", "--set", "gamma=0.9,0.99"], "--out"),
    "search": (["search", "space.json"], "--out"),
    "frozenlake": (["frozenlake", "--episodes", 10, "--no-gif", "--no-live-plot"], "--out"),
}


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("command", list(COMMANDS))
def test_out_naming_an_existing_file(tmp_path, command):
    args, flag = COMMANDS[command]
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    one_error_line(tfdqn_cli(*args, flag, target), f"{flag} {target} is an existing file")
    assert target.read_text() == "mine" and files_under(tmp_path) == ["notes.txt"]


@pytest.mark.parametrize("command", list(COMMANDS))
def test_out_under_a_file(tmp_path, command):
    args, flag = COMMANDS[command]
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    one_error_line(tfdqn_cli(*args, flag, target / "run"), f"{target} is a file, not a directory")
    assert files_under(tmp_path) == ["notes.txt"]


@pytest.mark.parametrize("command", list(COMMANDS))
def test_out_in_a_folder_that_refuses_writes(tmp_path, command):
    args, flag = COMMANDS[command]
    proc = tfdqn_cli(*args, flag, tmp_path / "run", preamble=refusing_writes_in(tmp_path))
    one_error_line(proc, f"{flag} {tmp_path / 'run'} cannot be written: {tmp_path}: Permission denied")
    assert files_under(tmp_path) == []


def test_out_in_a_read_only_folder(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("permission bits do not stop this user (root): the injected refusal above stands in")
        one_error_line(tfdqn_cli("pixels", "--out", folder / "run"), "cannot be written")
        assert files_under(folder) == []
    finally:
        folder.chmod(0o755)


def test_evaluate_gif_in_a_folder_that_refuses_writes(tmp_path):
    gif = tmp_path / "x.gif"
    proc = tfdqn_cli("evaluate", "model.keras", "--gif", gif, preamble=refusing_writes_in(tmp_path))
    one_error_line(proc, f"--gif {gif}: its folder {tmp_path} cannot be written")
    assert files_under(tmp_path) == []
