"""`tfdqn train --env MinAtar/...` refuses an unknown game, a missing minatar package and a preset of another
family with one line on stderr and status 2, writing nothing."""

import pytest
from helpers import one_error_line, tfdqn_cli


@pytest.mark.parametrize(
    "args, message",
    [
        (["--env", "MinAtar/Pong-v1"], "'MinAtar/Pong-v1' is not a MinAtar game"),
        (["--env", "CartPole-v1", "--preset", "minatar"], "preset 'minatar' is for MinAtar/Asterix-v0"),
        (["--env", "MinAtar/Breakout-v1", "--preset", "cartpole"], "preset 'cartpole' is for CartPole-v1"),
    ],
    ids=["unknown-game", "minatar-preset-on-cartpole", "cartpole-preset-on-minatar"],
)
def test_bad_minatar_input_is_one_line(args, message, tmp_path):
    out = tmp_path / "out"
    one_error_line(tfdqn_cli("train", *args, "--steps", 10, "--out", out), message)
    assert not out.exists()


def test_a_missing_minatar_package_is_one_line_naming_it(tmp_path):
    hidden = tmp_path / "hide"
    (hidden / "minatar").mkdir(parents=True)
    (hidden / "minatar" / "__init__.py").write_text("raise ImportError(\"No module named 'minatar'\")\n")
    out = tmp_path / "out"
    proc = tfdqn_cli("train", "--env", "MinAtar/Breakout-v1", "--steps", 10, "--out", out, pythonpath=hidden)
    one_error_line(proc, "pip install 'tfdqn[minatar]'")
    assert not out.exists()
