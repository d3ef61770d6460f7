"""The optional extras (`video`: moviepy, `tracking`: MLflow, `export`: tf2onnx and onnx): a flag that needs one
that is not installed is one line naming what to install, status 2, before TensorFlow loads and before anything
is written; so is an MLflow store that cannot be used."""

import importlib.util

import pytest
from helpers import one_error_line, tfdqn_cli

HIDDEN = ("moviepy", "mlflow", "tf2onnx", "onnx")
HIDE = "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in HIDDEN)
"""A sitecustomize that makes the extras' packages look uninstalled (what `import` finds then)."""
VIDEO = "needs moviepy, which is not installed: pip install 'tfdqn[video]'"
TRACKING = "needs mlflow, which is not installed: pip install 'tfdqn[tracking]'"
EXPORT = "needs tf2onnx and onnx, which are not installed: pip install 'tfdqn[export]'"


@pytest.fixture(scope="module")
def without_extras(tmp_path_factory):
    folder = tmp_path_factory.mktemp("no-extras")
    (folder / "sitecustomize.py").write_text(HIDE)
    return folder


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--video"], f"--video {VIDEO}"),
        (["train", "--video", "3", "--mlflow"], f"--video {VIDEO}"),
        (["train", "--mlflow", "sqlite:///x.db"], f"MLflow tracking {TRACKING}"),
        (["evaluate", "model.keras", "--video", "episode.mp4"], f"--video {VIDEO}"),
        (["export", "model.keras", "--format", "onnx"], f"--format onnx {EXPORT}"),
    ],
)
def test_a_missing_extra_is_one_line_naming_what_to_install(tmp_path, without_extras, args, message):
    proc = tfdqn_cli(
        *args, *(["--out", tmp_path / "out"] if args[0] == "train" else []), cwd=tmp_path, pythonpath=without_extras
    )
    one_error_line(proc, message)
    assert list(tmp_path.iterdir()) == []  # no run folder, no video, no store


def test_a_sweep_without_mlflow_says_so_before_ray_starts(tmp_path, without_extras):
    pytest.importorskip("ray")
    proc = tfdqn_cli(
        "sweep", "--set", "gamma=0.9", "--mlflow", "--out", tmp_path / "out", cwd=tmp_path, pythonpath=without_extras
    )
    one_error_line(proc, f"MLflow tracking {TRACKING}")


@pytest.mark.skipif(importlib.util.find_spec("mlflow") is None, reason="the tracking extra is not installed")
def test_a_tracking_store_that_cannot_be_used_is_one_line(tmp_path):
    proc = tfdqn_cli("train", "--mlflow", "bogus://nowhere", "--out", tmp_path / "out", cwd=tmp_path)
    one_error_line(proc, "MLflow tracking store bogus://nowhere:")
    assert not (tmp_path / "out").exists()
