import dataclasses
import json

import pytest

from tfdqn import ConfigError, DQNConfig

INVALID = [
    ("gamma", 0.0),
    ("gamma", 1.5),
    ("gamma", float("nan")),
    ("learning_rate", 0.0),
    ("learning_rate", -1e-3),
    ("batch_size", 0),
    ("buffer_size", 0),
    ("epsilon_start", 1.5),
    ("epsilon_end", -0.1),
    ("tau", 0.0),
    ("tau", 2.0),
    ("train_freq", 0),
    ("gradient_steps", 0),
    ("target_update_interval", 0),
    ("learning_starts", -1),
    ("num_envs", 0),
    ("seed", -1),
    ("loss", "l1"),
    ("exploration", "cosine"),
    ("hidden_sizes", ()),
    ("hidden_sizes", (64, 0)),
    ("max_grad_norm", 0.0),
    ("epsilon_decay_steps", 0),
    ("epsilon_decay_rate", 0.0),
    ("epsilon_multiplier", 0.0),
    ("env_id", ""),
    ("double_dqn", "yes"),
    ("batch_size", 2.5),
    ("jit_compile", 1),
]


@pytest.mark.parametrize("field,value", INVALID)
def test_invalid_value_names_field_and_value(field, value):
    with pytest.raises(ValueError) as err:
        DQNConfig(**{field: value})
    assert isinstance(err.value, ConfigError)
    assert f"DQNConfig.{field}" in str(err.value)
    if field != "hidden_sizes":
        assert repr(value) in str(err.value) or str(value) in str(err.value)


def test_batch_larger_than_buffer():
    with pytest.raises(ConfigError, match="batch_size=128.*buffer_size=100"):
        DQNConfig(batch_size=128, buffer_size=100)


def test_epsilon_end_above_start():
    with pytest.raises(ConfigError, match="epsilon_end"):
        DQNConfig(epsilon_start=0.1, epsilon_end=0.5)


def test_json_round_trip():
    config = DQNConfig(hidden_sizes=(32, 16), gamma=0.9, double_dqn=True, max_grad_norm=None, seed=7)
    again = DQNConfig.from_json(config.to_json())
    assert again == config
    assert json.loads(config.to_json())["hidden_sizes"] == [32, 16]


def test_from_dict_rejects_unknown_field():
    with pytest.raises(ConfigError, match="unknown DQNConfig field.*gama"):
        DQNConfig.from_dict({"gama": 0.9})


def test_from_json_rejects_bad_json():
    with pytest.raises(ConfigError, match="not valid JSON"):
        DQNConfig.from_json("{gamma: 0.9")


def test_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DQNConfig().gamma = 0.5


def test_numpy_scalars_become_python_numbers():
    import numpy as np

    config = DQNConfig(seed=np.int64(3), gamma=np.float32(0.5), batch_size=np.int32(8))
    assert type(config.seed) is int and type(config.batch_size) is int and config.gamma == 0.5
    assert DQNConfig.from_json(config.to_json()) == config


@pytest.mark.parametrize(
    "text,message",
    [(None, "does not exist"), ("{not json", "is not valid JSON"), ("[1, 2]", "must hold a JSON object")],
)
def test_read_config_file_errors_name_the_file(tmp_path, text, message):
    from tfdqn.config import read_config_file

    path = tmp_path / "c.json"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ConfigError, match=message) as err:
        read_config_file(path)
    assert str(path) in str(err.value)


def test_read_config_file_returns_only_the_fields_given(tmp_path):
    from tfdqn.config import read_config_file

    path = tmp_path / "c.json"
    path.write_text(json.dumps({"gamma": 0.9}))
    assert read_config_file(path) == {"gamma": 0.9}
    assert DQNConfig.from_dict(read_config_file(path)) == DQNConfig(gamma=0.9)
