"""The loop-revisions benchmark: its verdict, its refusal of a bad revision, and a --quick run end to end."""

import json

import pytest

from benchmarks.loop_revisions import summarize
from benchmarks.tests.cli import run_benchmark


def pairs(before, after, work_after=None):
    """Fake measured pairs: steps/s per side, the same work on both sides unless `work_after` says otherwise."""
    return [
        {"before": {"steps_per_s": b, "work": [1, 2]}, "after": {"steps_per_s": a, "work": work_after or [1, 2]}}
        for b, a in zip(before, after)
    ]


def s_verdict(before, after):
    return summarize(pairs(before, after))["verdict"]


def loop_revisions(*args, timeout=60):
    return run_benchmark("loop_revisions", *args, timeout=timeout)


def test_a_ratio_interval_containing_1_is_unchanged_within_noise():
    s = summarize(pairs([100, 200, 300, 400, 500], [99, 202, 297, 404, 500]))
    assert s["ratio"]["ci"][0] <= 1 <= s["ratio"]["ci"][1]
    assert s["verdict"] == "unchanged within noise" and s["same_work"]
    assert s["before"]["median"] == 300 and s["after"]["median"] == 297


def test_a_ratio_interval_within_3_percent_is_unchanged_even_if_it_excludes_1():
    s = summarize(pairs([100] * 5, [98, 98.5, 99, 99.2, 99.5]))
    assert s["ratio"]["ci"][1] < 1 and s["verdict"] == "unchanged within noise"


def test_a_ratio_interval_below_0_97_and_1_is_slower_and_a_wide_one_says_so():
    assert s_verdict([100] * 5, [90, 91, 92, 93, 94]).startswith("slower")
    assert s_verdict([100] * 5, [110, 111, 112, 113, 114]).startswith("faster")
    assert "more pairs" in s_verdict([100] * 3, [80, 100, 120])
    assert not summarize(pairs([100], [100], work_after=[1, 3]))["same_work"]


def test_an_unknown_revision_is_refused_in_one_line_before_measuring(tmp_path):
    proc = loop_revisions("--before", "no-such-rev", "--write", "--out", tmp_path / "out")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == "error: --before/--after 'no-such-rev' is not a commit of this checkout"
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # four fresh TensorFlow processes of 2,000 steps each: about two minutes on a busy 2-core machine
def test_a_quick_run_measures_both_trees_and_writes_its_report(tmp_path):
    proc = loop_revisions("--quick", "--write", "--out", tmp_path, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((tmp_path / "loop_revisions.json").read_text())
    assert result["pairs"] == len(result["pairs_measured"]) == 2 and result["steps"] == 2000
    assert result["summary"]["same_work"]  # the changes under test change no training
    assert [p["order"] for p in result["pairs_measured"]] == [["before", "after"], ["after", "before"]]
    assert result["trees"]["before"]["label"].startswith("commit ")
    report = (tmp_path / "loop_revisions.md").read_text()
    assert "`python -m benchmarks.loop_revisions --quick --write --out " in report
    assert "| after / before within pairs |" in report and "Verdict: **" in report
    assert report in proc.stdout
