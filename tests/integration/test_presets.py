"""Presets: the config the training command uses per environment, and the errors for bad names."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tfdqn import PRESETS, ConfigError, DQNConfig, config_for_env, preset_for_env
from tfdqn.presets import preset_fields

ROOT = Path(__file__).resolve().parents[2]


def test_every_preset_builds_a_valid_config_for_its_environments():
    for name, preset in PRESETS.items():
        if preset.command is not None:  # a command's defaults: valid fields, not a --preset of tfdqn train
            DQNConfig.from_dict(dict(preset.fields))
            with pytest.raises(ConfigError, match=f"the defaults of `tfdqn {preset.command}`"):
                config_for_env("CartPole-v1", name)
            continue
        for env_id in preset.env_ids:
            config = config_for_env(env_id, name)
            assert config.env_id == env_id
            for field, value in preset.fields.items():
                got = getattr(config, field)
                assert (list(got) if isinstance(got, tuple) else got) == (
                    list(value) if isinstance(value, (list, tuple)) else value
                )


def test_auto_picks_the_environments_preset_and_none_keeps_the_defaults():
    for name, preset in PRESETS.items():
        assert preset.evidence, name  # every preset says where its evidence is
        if preset.env_ids:
            assert preset_for_env(preset.env_ids[0]) == name
    assert preset_for_env("Acrobot-v1") is None
    assert config_for_env("Acrobot-v1") == DQNConfig(env_id="Acrobot-v1")
    assert config_for_env("CartPole-v1", None, seed=3) == DQNConfig(seed=3)


def test_none_is_the_one_spelling_of_no_preset_everywhere():
    from tfdqn.presets import NO_PRESET, resolve_preset

    assert NO_PRESET == "none" and preset_fields("none", "LunarLander-v3") == {}
    assert (
        config_for_env("LunarLander-v3", "none")
        == config_for_env("LunarLander-v3", None)
        == DQNConfig(env_id="LunarLander-v3")
    )
    assert [resolve_preset("LunarLander-v3", p) for p in ("auto", "none", None, "rainbow")] == [
        "lunarlander",
        None,
        None,
        "rainbow",
    ]
    assert resolve_preset("Acrobot-v1") is None


def test_fields_override_the_preset():
    assert config_for_env("CartPole-v1", seed=4, batch_size=32).batch_size == 32
    assert config_for_env("CartPole-v1").hidden_sizes == (64, 64)  # the preset's


def test_lunarlander_preset_is_the_defaults_with_a_held_learning_rate_decay_and_layer_norm():
    preset, plain = config_for_env("LunarLander-v3").to_dict(), config_for_env("LunarLander-v3", None).to_dict()
    changed = {k for k in preset if preset[k] != plain[k]}
    assert (
        {"layer_norm", "learning_rate_final"}
        <= changed
        <= {"learning_rate_final", "learning_rate_decay_start", "learning_rate_decay_steps", "layer_norm"}
    )
    c = config_for_env("LunarLander-v3")  # held until env step 50,000, then 0 at the 100,000-step budget
    assert c.learning_starts + c.learning_rate_decay_start == 50_000
    assert c.learning_starts + c.learning_rate_decay_start + c.learning_rate_decay_steps == 100_000


def test_a_run_longer_than_the_decay_says_when_the_rate_reaches_its_final_value():
    from tfdqn.commands.train import decay_note

    lunar = config_for_env("LunarLander-v3")
    assert decay_note(lunar, 100_000) is None and decay_note(config_for_env("Acrobot-v1"), 10**6) is None
    assert decay_note(config_for_env("CartPole-v1"), 50_000) is None  # its own budget, though its rate is 0 from 26,000
    assert decay_note(config_for_env("CartPole-v1"), 60_000).startswith(
        "note: the learning rate decays to 0 by env step 26,000"
    )
    assert decay_note(lunar, 300_000) == (
        "note: the learning rate decays to 0 by env step 100,000 of this "
        "300,000-step run (learning_rate_decay_start/_steps in --config to change it)"
    )


def test_rainbow_on_lunarlander_stacks_on_its_preset():
    rainbow = config_for_env("LunarLander-v3", "rainbow")
    assert rainbow.distributional and rainbow.learning_rate_decay_start == 49_000 and rainbow.learning_rate_final == 0


def test_unknown_preset_names_the_closest():
    with pytest.raises(ConfigError, match="unknown preset 'cartpol'.*did you mean 'cartpole'"):
        preset_fields("cartpol", "CartPole-v1")


def test_preset_for_another_environment_is_refused():
    other = next(name for name, p in PRESETS.items() if p.env_ids and "Acrobot-v1" not in p.env_ids)
    with pytest.raises(ConfigError, match=f"preset '{other}' is for"):
        config_for_env("Acrobot-v1", other)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--preset", "nope"], "error: unknown preset 'nope'"),
        (
            ["--env", "Acrobot-v1", "--preset", "cartpole"],
            "error: preset 'cartpole' is for CartPole-v1, not Acrobot-v1",
        ),
    ],
)
def test_bad_preset_through_the_script_is_one_line_and_status_2(tmp_path, args, message):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_cartpole.py"), *args, "--out", str(tmp_path), "--steps", "10"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), proc.stderr


def test_missing_box2d_is_one_line_naming_the_package(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(
        "import builtins\n_real = builtins.__import__\n"
        "def _imp(name, *a, **k):\n"
        "    if name.split('.')[0] == 'Box2D':\n"
        "        raise ImportError('No module named Box2D')\n"
        "    return _real(name, *a, **k)\n"
        "builtins.__import__ = _imp\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((str(tmp_path), os.environ["PYTHONPATH"]))}
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "train_cartpole.py"),
            "--env",
            "LunarLander-v3",
            "--out",
            str(tmp_path / "out"),
            "--steps",
            "10",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert (
        lines[-1] == "error: LunarLander-v3 needs a package that is not installed: pip install box2d==2.3.10 "
        "(listed in requirements.txt)"
    ), proc.stderr
    assert len([line for line in lines if line.startswith("error")]) == 1


def _train(tmp_path, *args):
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "train_cartpole.py"),
            *args,
            "--out",
            str(tmp_path),
            "--no-gif",
            "--no-live-plot",
            "--eval-every",
            "200",
            "--eval-episodes",
            "1",
            "--final-episodes",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


def test_lunarlander_trains_with_its_gymnasium_threshold_and_says_which_config(tmp_path):
    import json

    proc = _train(tmp_path, "--env", "LunarLander-v3", "--steps", "300")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "config for LunarLander-v3: DQNConfig defaults + preset 'lunarlander'" in proc.stderr
    assert "note: the learning rate" not in proc.stderr  # a 300-step run ends long before the decay
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["threshold"] == 200.0 and summary["env_id"] == "LunarLander-v3"
    assert json.loads((tmp_path / "config.json").read_text())["hidden_sizes"] == [256, 256]


def test_cartpole_gets_its_preset_and_acrobot_its_own_threshold(tmp_path):
    import json

    proc = _train(tmp_path / "cp", "--steps", "200", "--no-stop")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "config for CartPole-v1: DQNConfig defaults + preset 'cartpole'" in proc.stderr
    assert json.loads((tmp_path / "cp" / "config.json").read_text())["gamma"] == 0.98
    proc = _train(tmp_path / "ac", "--env", "Acrobot-v1", "--steps", "200", "--preset", "none")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads((tmp_path / "ac" / "summary.json").read_text())["threshold"] == -100.0
