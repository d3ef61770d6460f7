"""The export and policy benchmarks' reports: --write puts the Markdown and JSON under --out, naming the command
that produced them, and refuses an --out that cannot be written before measuring. (The measurements themselves:
`python -m benchmarks.export`, `python -m benchmarks.policy`.)"""

import json
import os

import pytest

from benchmarks import export, policy
from tfdqn.errors import OutputDirError


def fake_export_times(model, formats, repeats):
    return {f: {kind: [1.0 + 0.1 * r for r in range(repeats)] for kind in export.SERIES} for f in formats}


def fake_policy_times(blocks):
    names = ("MLP 64x64", "MLP 256x256")
    return {name: {kind: [5.0 + i for i in range(blocks)] for kind in policy.CALLS} for name in names}


def test_export_writes_its_report_naming_the_command(tmp_path, monkeypatch):
    monkeypatch.setattr(export, "measure", fake_export_times)
    argv = ["--repeats", "3", "--formats", "litert", "onnx", "--write", "--out", str(tmp_path)]
    assert export.main(argv) == 0
    text = (tmp_path / "export.md").read_text()
    assert f"Produced by `python -m benchmarks.export {' '.join(argv)}`" in text
    assert "| litert | 1.10 [1.00, 1.20] (met) |" in text and "| onnx |" in text
    result = json.loads((tmp_path / "export.json").read_text())
    assert result["command"] == f"python -m benchmarks.export {' '.join(argv)}"
    assert result["summary"]["onnx"]["command"]["median"] == pytest.approx(1.1)
    assert export.render(result) == text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.json", "export.md"]


def test_policy_writes_its_report_naming_the_command(tmp_path, monkeypatch):
    monkeypatch.setattr(policy, "measure", fake_policy_times)
    argv = ["--blocks", "3", "--write", "--out", str(tmp_path)]
    assert policy.main(argv) == 0
    text = (tmp_path / "policy.md").read_text()
    assert f"Produced by `python -m benchmarks.policy {' '.join(argv)}`" in text
    assert "| MLP 64x64 | 6.0 [5.0, 7.0] |" in text
    assert "policy(obs), MLP 64x64: 6.0 µs per call, target < 20 µs: met" in text
    result = json.loads((tmp_path / "policy.json").read_text())
    assert result["command"] == f"python -m benchmarks.policy {' '.join(argv)}" and policy.render(result) == text


@pytest.mark.parametrize("module", [export, policy])
def test_an_out_that_cannot_be_written_is_refused_before_measuring(module, tmp_path, monkeypatch):
    def measure(*args):
        raise AssertionError("measured")

    monkeypatch.setattr(module, "measure", measure)
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputDirError, match="is an existing file, not a directory"):
        module.main(["--write", "--out", str(tmp_path / "file")])


def test_a_model_that_is_not_a_file_is_refused_before_measuring(tmp_path, monkeypatch, capsys):
    def measure(*args):
        raise AssertionError("measured")

    monkeypatch.setattr(export, "measure", measure)
    with pytest.raises(SystemExit) as exit_info:
        export.main(["--model", str(tmp_path / "missing.keras")])
    assert exit_info.value.code == 2 and "missing.keras is not a file" in capsys.readouterr().err


def test_the_report_names_a_model_inside_the_repository_by_its_relative_path(tmp_path, monkeypatch):
    monkeypatch.setattr(export, "measure", fake_export_times)
    monkeypatch.chdir(tmp_path)  # a relative --model is the caller's, wherever the command runs from
    model = os.path.relpath(export.ROOT / "results" / "cartpole" / "best.keras", tmp_path)
    assert export.main(["--model", model, "--write", "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "export.json").read_text())["model"] == "results/cartpole/best.keras"
