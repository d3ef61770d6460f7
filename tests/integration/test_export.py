"""`tfdqn.export`: every kind of Q-network in every format gives Keras's Q-values (within 1e-5) on 1,000
observations in the runtime a user would run it in, and the same greedy returns over 20 seeded episodes; bad
input is refused before anything is written, and a failed export leaves nothing behind."""

import numpy as np
import pytest
import tensorflow as tf
from q_kinds import KINDS, TRAINED, greedy_returns, observations, save_kind

import tfdqn
from tfdqn.errors import OutputDirError
from tfdqn.extras import ExtraNotInstalled
from tfdqn.networks.export_formats import FORMATS, ExportError, require_tools
from tfdqn.networks.exporter import export

TOLERANCE = 1e-5
EXTRA = "the export extra is not installed: pip install 'tfdqn[export]' (requirements-dev.txt pins it)"


def runtime(format: str, path):
    """Q-values of a batch (float32 or uint8 observations) from the exported file, in the format's own runtime."""
    if format == "saved_model":
        loaded = tf.saved_model.load(str(path))
        return lambda x: loaded.serve(tf.constant(x)).numpy()
    if format == "onnx":
        ort = pytest.importorskip("onnxruntime", reason=EXTRA)
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return lambda x: session.run(None, {"observation": x})[0]
    litert = pytest.importorskip("ai_edge_litert.interpreter", reason=EXTRA)
    runner = litert.Interpreter(model_path=str(path)).get_signature_runner()
    return lambda x: runner(observation=x)["output_0"]


def skip_without_tools(format: str) -> None:
    try:
        require_tools(format)
    except ExtraNotInstalled:
        pytest.skip(EXTRA)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """kind -> (saved path, the Keras model, the Keras returns): built once per kind, on first use."""
    folder, cache = tmp_path_factory.mktemp("kinds"), {}

    def get(kind):
        if kind not in cache:
            path = save_kind(kind, folder)
            model = tfdqn.load_q_network(path)
            dtype = np.dtype(model.inputs[0].dtype)
            q_fn = tf.function(lambda x: model(x, training=False))
            cache[kind] = (path, model, greedy_returns(lambda x: q_fn(x).numpy(), kind, dtype))
        return cache[kind]

    return get


@pytest.mark.parametrize("format", list(FORMATS))
@pytest.mark.parametrize("kind", [*KINDS, *TRAINED])
def test_every_kind_exports_to_every_format_with_keras_q_values_and_returns(kind, format, models, tmp_path):
    skip_without_tools(format)
    path, model, keras_returns = models(kind)
    out = export(path, format, tmp_path / f"{kind}{FORMATS[format].suffix}")
    q_fn = runtime(format, out)
    x = observations(kind).astype(model.inputs[0].dtype)
    want, got = model(x, training=False).numpy(), q_fn(x)
    assert got.shape == want.shape == (1_000, model.outputs[0].shape[-1])
    np.testing.assert_allclose(got, want, rtol=TOLERANCE, atol=TOLERANCE)
    np.testing.assert_array_equal(greedy_returns(q_fn, kind, x.dtype), keras_returns)
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no temporary file or folder left


def test_default_path_beside_the_model_and_a_saved_model_replaced(models, tmp_path):
    path, _, _ = models("mlp")
    model_path = tmp_path / "best.keras"
    model_path.write_bytes(path.read_bytes())
    assert tfdqn.export(model_path, "litert") == tmp_path / "best.tflite"
    first = tfdqn.export(model_path, "saved_model")
    assert first == tmp_path / "best_saved_model" and (first / "saved_model.pb").is_file()
    assert tfdqn.export(model_path, "saved_model") == first  # an older SavedModel is replaced
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["best.keras", "best.tflite", "best_saved_model"]


def test_bad_input_is_refused_before_anything_is_written(models, tmp_path):
    path, model, _ = models("mlp")
    with pytest.raises(ExportError, match="unknown export format 'tflite': choose one of saved_model, onnx, litert"):
        export(path, "tflite", tmp_path / "q.tflite")
    with pytest.raises(OutputDirError, match="is a directory, not a file"):
        export(path, "litert", tmp_path)
    model_bytes = path.read_bytes()
    for format in FORMATS:  # the model itself: refused whatever the format, before the format's own checks
        with pytest.raises(ExportError, match=r"is the model being exported: choose another path$"):
            export(path, format, path)
    assert path.read_bytes() == model_bytes
    inside = tmp_path / "old_saved_model"  # a SavedModel folder the model was put in: replacing it would lose it
    inside.mkdir()
    (inside / "saved_model.pb").write_bytes(b"")
    (inside / "best.keras").write_bytes(model_bytes)
    with pytest.raises(ExportError, match="holds the model being exported; a SavedModel would replace it"):
        export(inside / "best.keras", "saved_model", inside)
    assert sorted(p.name for p in inside.iterdir()) == ["best.keras", "saved_model.pb"]
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(ExportError, match="holding other files; a SavedModel would replace it"):
        export(path, "saved_model", tmp_path)
    with pytest.raises(OutputDirError, match="notes.txt is an existing file, not a directory"):
        export(path, "litert", tmp_path / "notes.txt" / "q.tflite")
    with pytest.raises(ExportError, match="out is needed"):
        export(model, "litert")
    with pytest.raises(tfdqn.ModelFileError, match="not a .keras archive"):
        export(tmp_path / "notes.txt", "litert", tmp_path / "q.tflite")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "old_saved_model"]


def test_a_training_network_that_is_not_a_q_network_is_refused(tmp_path):
    agent = tfdqn.DQNAgent.from_spaces(
        *_cartpole_spaces(), tfdqn.DQNConfig(hidden_sizes=(8,), distributional=True, num_atoms=5)
    )
    with pytest.raises(ExportError, match=r"not a Q-network .* agent.export_model\(\)"):
        export(agent.q_network, "litert", tmp_path / "q.tflite")
    assert export(agent.export_model(), "litert", tmp_path / "q.tflite").is_file()


def test_missing_extra_is_one_line_naming_what_to_install(models, tmp_path, monkeypatch):
    path, _, _ = models("mlp")
    monkeypatch.setitem(__import__("sys").modules, "tf2onnx", None)  # as if it were not installed
    with pytest.raises(tfdqn.ExtraNotInstalled, match=r"--format onnx needs tf2onnx, which is not installed: pip"):
        export(path, "onnx", tmp_path / "q.onnx")
    assert not any(tmp_path.iterdir())
    assert tfdqn.ExtraNotInstalled is ExtraNotInstalled  # one class for every extra, video and tracking included


@pytest.mark.parametrize("format", ["litert", "saved_model"])
def test_a_failed_conversion_leaves_nothing_behind_and_keeps_the_old_file(format, models, tmp_path, monkeypatch):
    path, _, _ = models("mlp")
    out = export(path, format, tmp_path / f"q{FORMATS[format].suffix}")
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))

    def broken_export(self, filepath, **kwargs):
        with open(filepath if format == "litert" else f"{filepath}.partial", "wb") as f:
            f.write(b"half")
        raise RuntimeError("converter crashed\nmore detail")

    monkeypatch.setattr("keras.Model.export", broken_export)
    with pytest.raises(ExportError, match="export of 'q_network' failed: RuntimeError: converter crashed$"):
        export(path, format, out)
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == before


def _cartpole_spaces():
    import gymnasium as gym

    return gym.spaces.Box(-1.0, 1.0, (4,), np.float32), gym.spaces.Discrete(2)
