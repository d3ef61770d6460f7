"""The `tfdqn` command: every subcommand's --help, and bad input as one line with status 2."""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import one_error_line, tfdqn_cli

from tfdqn.commands import build_parser, command_names

ROOT = Path(__file__).resolve().parents[2]
ENV = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}


def test_commands_are_the_modules():
    assert {"train", "evaluate", "frozenlake", "pixels", "atari", "sweep", "search"} <= set(command_names())


@pytest.mark.parametrize("args", [[], ["train"], ["evaluate"], ["frozenlake"], ["pixels"], ["atari"]])
def test_help_exits_0_fast_and_lists_the_flags(args):
    proc = tfdqn_cli(*args, "--help", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "usage: tfdqn" in proc.stdout
    assert "tensorflow" not in proc.stderr.lower()  # --help does not load TensorFlow


def test_every_flag_says_its_default():
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, parser in sub.choices.items():
        for action in parser._actions:
            if not action.option_strings or action.help in (None, argparse.SUPPRESS) or action.nargs == 0:
                continue  # positionals, --help, --version and on/off switches (off unless given)
            assert "default" in action.help, f"tfdqn {name} {action.option_strings[0]}: {action.help}"


def test_misspelt_field_names_closest(tmp_path):
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"lerning_rate": 1e-3}))
    one_error_line(
        tfdqn_cli("train", "--config", config, "--out", tmp_path), "'lerning_rate' (did you mean 'learning_rate'?)"
    )
    toml = tmp_path / "bad.toml"
    toml.write_text("hiden_sizes = [8]\n")
    one_error_line(
        tfdqn_cli("train", "--config", toml, "--out", tmp_path), "'hiden_sizes' (did you mean 'hidden_sizes'?)"
    )


@pytest.mark.parametrize(
    "args,message",
    [
        (["nosuchcommand"], "invalid choice: 'nosuchcommand'"),
        (["train", "--env", "NoSuchEnv-v0"], "NoSuchEnv-v0"),
        (["train", "--env", "Pendulum-v1"], "Discrete action space"),
        (["train", "--env", "tfdqn-test/TextObs-v0"], "Text space"),
        (["train", "--steps", "0"], "not a positive integer"),
        (["evaluate", "missing.keras"], "does not exist"),
    ],
)
def test_bad_input_is_one_line_and_status_2(tmp_path, args, message):
    extra = ["--out", tmp_path] if args[0] == "train" else []
    if "tfdqn-test/TextObs-v0" in args:  # registered in a module the subprocess imports first
        plugin = tmp_path / "textobs.py"
        plugin.write_text(
            "import gymnasium as gym\n"
            "class TextObs(gym.Env):\n"
            "    observation_space = gym.spaces.Text(4)\n"
            "    action_space = gym.spaces.Discrete(2)\n"
            "gym.register('tfdqn-test/TextObs-v0', entry_point=TextObs)\n"
        )
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys, textobs; from tfdqn.commands import main; main(sys.argv[1:])",
                *map(str, args),
                *map(str, extra),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
            env={**ENV, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ENV['PYTHONPATH']}"},
        )
    else:
        proc = tfdqn_cli(*args, *extra)
    one_error_line(proc, message)


def test_model_that_does_not_match_the_environment(tmp_path):
    import gymnasium as gym

    import tfdqn
    from tfdqn.commands import evaluate  # noqa: F401  (light)

    path = tfdqn.DQNAgent.from_spaces(
        gym.spaces.Discrete(16), gym.spaces.Discrete(4), tfdqn.DQNConfig(hidden_sizes=(8,))
    ).save(tmp_path / "lake.keras")
    one_error_line(
        tfdqn_cli("evaluate", path, "--env", "FrozenLake8x8-v1", "--episodes", 1), "one-hot encodes 16 categories"
    )
    one_error_line(tfdqn_cli("evaluate", path, "--env", "CartPole-v1", "--episodes", 1), "Q-values")
