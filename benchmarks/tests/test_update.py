"""The training-call benchmark runs and prints its table (its figures come from a real run, not from here)."""

from benchmarks.update import main


def test_the_update_benchmark_prints_before_and_now(capsys):
    assert main(["--networks", "minatar", "--repeats", "1", "--calls", "2"]) == 0
    out = capsys.readouterr().out
    assert "| MinAtar paper net" in out and "before / now" in out and "Command: `python -m benchmarks.update" in out
