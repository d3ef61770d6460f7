import subprocess
import sys
import zipfile

import gymnasium as gym
import numpy as np
import pytest

from tfdqn import (
    EnvError,
    ModelFileError,
    build_q_network,
    evaluate_model,
    load_q_network,
    make_env,
    make_vec_env,
    save_model,
)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "q.keras"
    net = build_q_network((4,), 2, (16, 16))
    save_model(net, path)
    return net, path


def test_round_trip_gives_identical_q_values(saved):
    net, path = saved
    loaded = load_q_network(path, n_actions=2)
    x = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)
    np.testing.assert_array_equal(net(x).numpy(), loaded(x).numpy())


def test_loads_with_plain_keras_without_tfdqn(saved):
    _, path = saved
    code = (
        "import sys, numpy as np, keras; m = keras.models.load_model(sys.argv[1]); "
        "q = m(np.zeros((3, 4), 'float32')); assert q.shape == (3, 2); "
        "assert not any(k.startswith('tfdqn') for k in sys.modules); print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("ok")


def test_save_is_atomic_and_needs_keras_suffix(saved, tmp_path):
    net, _ = saved
    with pytest.raises(ModelFileError, match="must end in .keras"):
        save_model(net, tmp_path / "model.h5")
    save_model(net, tmp_path / "m.keras")
    assert [p.name for p in tmp_path.iterdir()] == ["m.keras"]  # no temporary file left behind


def test_missing_empty_truncated_and_non_zip(saved, tmp_path):
    _, path = saved
    with pytest.raises(ModelFileError, match="does not exist"):
        load_q_network(tmp_path / "nope.keras")
    empty = tmp_path / "empty.keras"
    empty.write_bytes(b"")
    with pytest.raises(ModelFileError, match="is empty"):
        load_q_network(empty)
    text = tmp_path / "text.keras"
    text.write_text("not a model")
    with pytest.raises(ModelFileError, match="not a zip file"):
        load_q_network(text)
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ModelFileError):
        load_q_network(truncated)
    hollow = tmp_path / "hollow.keras"
    with zipfile.ZipFile(hollow, "w") as z:
        z.writestr("config.json", "{broken")
    with pytest.raises(ModelFileError, match="could not be loaded"):
        load_q_network(hollow)


def test_wrong_action_count_or_observation_shape(saved, tmp_path):
    _, path = saved
    with pytest.raises(ModelFileError, match="outputs 2 Q-values but the environment has 3 actions"):
        load_q_network(path, n_actions=3)
    with pytest.raises(ModelFileError, match="3 actions"):
        evaluate_model(path, "Acrobot-v1", episodes=1)  # Acrobot: 3 actions
    other = tmp_path / "six.keras"
    save_model(build_q_network((6,), 2, (8,)), other)
    with pytest.raises(ModelFileError, match=r"observations of shape \(6,\)"):
        evaluate_model(other, "CartPole-v1", episodes=1)


def test_evaluate_model_runs_greedy_episodes(saved):
    _, path = saved
    result = evaluate_model(path, "CartPole-v1", episodes=3, seed=1)
    assert len(result.returns) == 3 and result.mean > 0


def test_environment_errors():
    with pytest.raises(EnvError, match="NoSuchEnv-v0"):
        make_env("NoSuchEnv-v0")
    with pytest.raises(EnvError, match="Discrete action space"):
        make_env("Pendulum-v1")
    with pytest.raises(EnvError, match="vectorisation mode"):
        make_vec_env("CartPole-v1", 2, mode="threads")
    with pytest.raises(EnvError, match="Text space"):  # what tfdqn.envs.spaces cannot encode (see test_spaces.py)
        from tfdqn.envs.make import check_spaces

        check_spaces(gym.spaces.Text(3), gym.spaces.Discrete(2))
