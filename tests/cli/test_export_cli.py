"""`tfdqn export`: one line on success; an unknown format, a file that is not a model, a missing extra or an
output path that cannot be written (the model itself included) is one line on stderr with status 2, and nothing
is left behind or changed."""

import importlib.util
import subprocess
import sys

import pytest
from helpers import CLI_ENV, ROOT, one_error_line, tfdqn_cli

MODEL = ROOT / "results" / "cartpole" / "best.keras"


@pytest.fixture
def folder(tmp_path):
    """A folder holding a copy of the trained CartPole model as best.keras."""
    (tmp_path / "best.keras").write_bytes(MODEL.read_bytes())
    return tmp_path


def test_export_writes_beside_the_model_by_default_and_says_where(folder):
    proc = tfdqn_cli("export", folder / "best.keras", "--format", "litert")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == f"exported {folder / 'best.keras'} as litert to {folder / 'best.tflite'}"
    assert sorted(p.name for p in folder.iterdir()) == ["best.keras", "best.tflite"]


@pytest.mark.skipif(importlib.util.find_spec("tf2onnx") is None, reason="pip install 'tfdqn[export]'")
def test_export_onnx_to_a_new_folder(folder):
    out = folder / "serve" / "cartpole.onnx"
    proc = tfdqn_cli("export", folder / "best.keras", "--format", "onnx", "--out", out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert [p.name for p in out.parent.iterdir()] == ["cartpole.onnx"]


def test_unknown_format(folder):
    proc = tfdqn_cli("export", folder / "best.keras", "--format", "tflite")
    one_error_line(proc, "argument --format: invalid choice: 'tflite' (choose from 'saved_model', 'onnx', 'litert')")


def test_a_file_that_is_not_a_model(folder):
    (folder / "notes.keras").write_text("not a model")
    proc = tfdqn_cli("export", folder / "notes.keras", "--format", "saved_model")
    one_error_line(proc, "is not a .keras archive (not a zip file)")
    assert sorted(p.name for p in folder.iterdir()) == ["best.keras", "notes.keras"]


@pytest.mark.parametrize(
    ("out", "format", "message"),
    [
        ("best.keras/q.onnx", "onnx", "its folder {folder}/best.keras is an existing file, not a directory"),
        (".", "litert", "{folder} is a directory, not a file"),
        ("notes.txt", "saved_model", "is an existing file; a SavedModel is a folder"),
        (".", "saved_model", "is a folder holding other files; a SavedModel would replace it"),
        ("best.keras", "onnx", "--out {folder}/best.keras is the model being exported: choose another path"),
        ("link.keras", "litert", "--out {folder}/link.keras is the model being exported: choose another path"),
        ("./sub/../best.keras", "litert", "/sub/../best.keras is the model being exported: choose another path"),
    ],
)
def test_an_output_path_that_cannot_be_written(folder, out, format, message):
    (folder / "notes.txt").write_text("keep me")
    (folder / "link.keras").symlink_to(folder / "best.keras")
    (folder / "sub").mkdir()
    proc = tfdqn_cli("export", folder / "best.keras", "--format", format, "--out", folder / out)
    one_error_line(proc, message.format(folder=folder))
    assert sorted(p.name for p in folder.iterdir()) == ["best.keras", "link.keras", "notes.txt", "sub"]
    assert (folder / "best.keras").read_bytes() == MODEL.read_bytes() and not any((folder / "sub").iterdir())


def test_a_missing_extra_names_what_to_install(folder):
    code = (
        "import sys; sys.modules['tf2onnx'] = None\n"  # as if it were not installed
        "from tfdqn.commands import main; main(sys.argv[1:])"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "export", str(folder / "best.keras"), "--format", "onnx"],
        capture_output=True,
        text=True,
        timeout=300,
        env=CLI_ENV,
        cwd=ROOT,
    )
    one_error_line(proc, "--format onnx needs tf2onnx, which is not installed: pip install 'tfdqn[export]'")
    assert [p.name for p in folder.iterdir()] == ["best.keras"]
