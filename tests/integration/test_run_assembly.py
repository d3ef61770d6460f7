"""`tfdqn.training.run.assemble` refuses what it can before it builds anything (a listener given twice, an `out`
that cannot be written), hands the protocol's evaluation cap to every evaluation it sets up, and returns the
lines to say at the start (`Run.notes`) without printing them."""

import pytest
from helpers import Recorder

from tfdqn import DQNConfig, Listener
from tfdqn.errors import ArgumentError, OutputDirError
from tfdqn.listeners.evaluation import PeriodicEvaluation, StopOnReward
from tfdqn.training import run as run_module
from tfdqn.training.protocol import Protocol

CONFIG = DQNConfig(env_id="CliffWalking-v1", hidden_sizes=(8,), jit_compile=False)


@pytest.fixture
def built(monkeypatch):
    """The names of what `assemble` built: each maker records its call, then does its work."""
    calls = []

    def recording(name, make):
        def wrapper(*args, **kwargs):
            calls.append(name)
            return make(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(run_module, "make_vec_env", recording("env", run_module.make_vec_env))
    from_spaces = run_module.DQNAgent.from_spaces
    monkeypatch.setattr(run_module.DQNAgent, "from_spaces", recording("agent", from_spaces))
    return calls


def test_a_listener_given_twice_is_refused_before_the_env_or_the_agent_is_built(built):
    class Mine(Listener):
        def on_episode_end(self, episode, logs=None):
            pass

    mine = Mine()
    with pytest.raises(ArgumentError, match="Mine.*given twice"):
        run_module.assemble(CONFIG, listeners=[mine, Recorder.make(), mine])
    assert built == []


def test_an_out_that_cannot_be_written_is_refused_before_anything_is_built(built, tmp_path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("mine")
    with pytest.raises(OutputDirError, match="is a file"):
        run_module.assemble(CONFIG, blocker / "run", Protocol())
    assert built == [] and blocker.read_text() == "mine"


def test_the_protocols_cap_reaches_every_evaluation_and_is_noted_not_printed(built, tmp_path, capsys):
    run = run_module.assemble(CONFIG, tmp_path, Protocol(eval_max_steps=25, threshold=-20.0))
    run.env.close()
    assert built == ["env", "agent"]
    evaluations = [x for x in run.trainer.listeners if isinstance(x, (PeriodicEvaluation, StopOnReward))]
    assert len(evaluations) == 2 and all(x.eval_env.max_steps == 25 for x in evaluations)
    assert run.eval_max_steps == 25
    assert run.notes == [
        "stops at the first evaluation >= -20 (the threshold given), confirmed on 100 fresh episodes",
        "CliffWalking-v1 has no time limit: evaluation episodes are cut at 25 steps (--eval-max-steps)",
    ]
    assert capsys.readouterr() == ("", "")  # the command layer decides what to show


def test_a_run_without_a_protocol_has_no_notes(built):
    run = run_module.assemble(CONFIG)
    run.env.close()
    assert run.notes == []
