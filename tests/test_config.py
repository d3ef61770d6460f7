import json

import pytest

from tfdqn import ConfigError, DQNConfig

INVALID = [
    ("gamma", 0.0), ("gamma", 1.5), ("gamma", float("nan")), ("learning_rate", 0.0), ("learning_rate", -1e-3),
    ("batch_size", 0), ("buffer_size", 0), ("epsilon_start", 1.5), ("epsilon_end", -0.1), ("tau", 0.0),
    ("tau", 2.0), ("train_freq", 0), ("gradient_steps", 0), ("target_update_interval", 0),
    ("learning_starts", -1), ("num_envs", 0), ("seed", -1), ("loss", "l1"), ("exploration", "cosine"),
    ("hidden_sizes", ()), ("hidden_sizes", (64, 0)), ("max_grad_norm", 0.0), ("epsilon_decay_steps", 0),
    ("epsilon_decay_rate", 0.0), ("epsilon_multiplier", 0.0), ("env_id", ""), ("double_dqn", "yes"),
    ("batch_size", 2.5), ("jit_compile", 1),
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
    with pytest.raises(Exception):
        DQNConfig().gamma = 0.5
