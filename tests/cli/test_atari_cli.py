"""`tfdqn atari`: without ale-py, or with a bad --sticky-actions or game id, one line and status 2, writing nothing;
its --help states the same protocol as its module docstring."""

import pytest
from helpers import one_error_line, tfdqn_cli

from tfdqn.commands import atari, command_parser

NO_ALE = "import sys\nsys.modules['ale_py'] = None"
"""A preamble under which ale-py looks uninstalled, whether or not it is."""
PROTOCOL = (
    "sticky actions 0.25 (ALE v5's default; --sticky-actions)",
    "up to 30 no-op starts",
    "frame skip 4 (the max of the last 2 frames)",
    "84x84 greyscale",
    "FIRE pressed at the start of every life in games that have it",
    "the last 4 frames stacked",
    "an episode is a whole game",
    "the learner sees a terminal at every life lost (the game goes on)",
    "rewards clipped to their sign",
)


def test_without_ale_py_one_line_naming_what_to_install(tmp_path):
    proc = tfdqn_cli("atari", "--steps", 10, "--out", tmp_path / "out", preamble=NO_ALE, cwd=tmp_path)
    one_error_line(proc, "Atari needs ale-py, which is not installed: pip install -r requirements-atari.txt")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--sticky-actions", "1.5"], "1.5 is not a probability in [0, 1]"),
        (["--sticky-actions", "often"], "'often' is not a number"),
        (["--env", "Pong"], "'Pong' is not an Atari id of the form ALE/<Game>-v<N>"),
    ],
)
def test_bad_flags_are_one_line(tmp_path, args, message):
    proc = tfdqn_cli("atari", "--steps", 10, "--out", tmp_path / "out", *args, preamble=NO_ALE, cwd=tmp_path)
    one_error_line(proc, message)
    assert list(tmp_path.iterdir()) == []


def test_help_and_docstring_state_the_same_protocol():
    help_text = " ".join(command_parser("atari").format_help().split())
    doc = " ".join(atari.__doc__.split())
    for setting in PROTOCOL:
        assert setting in help_text and setting in doc, setting
    assert "raw score" in help_text and "raw score" in doc
