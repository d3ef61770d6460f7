"""The determinism benchmark: how it compares gradients, and a --quick run end to end."""

import json

import numpy as np
import pytest

from benchmarks.determinism import changed_by_determinism, max_diff, sha
from benchmarks.tests.cli import run_benchmark


def test_gradients_compare_by_their_bytes_and_say_how_far_apart_they_are():
    a = [np.ones((2, 3), np.float32), np.zeros(4, np.float32)]
    b = [a[0].copy(), np.array([0, 0, 1e-7, 0], np.float32)]
    assert sha(a) == sha([x.copy() for x in a]) != sha(b)
    assert sha([np.zeros(4, np.float32)]) != sha([np.zeros((2, 2), np.float32)])  # same bytes, another shape
    assert sha([np.array([0.0], np.float32)]) != sha([np.array([-0.0], np.float32)])  # equal values, other bits
    assert max_diff(a, a) == 0 and max_diff(a, b) == pytest.approx(1e-7)
    assert max_diff(a, [a[0]]) is None and max_diff(a, [a[1], a[0]]) is None  # other shapes


def test_op_determinism_is_judged_against_the_twin_alike_but_without_it():
    cases = [
        {"name": f"{t} {x} {d}", "threads": t, "xla": x, "deterministic": d, "digest": digest}
        for t, x, d, digest in [(1, 0, 0, "a"), (1, 0, 1, "a"), (2, 0, 0, "b"), (2, 0, 1, "c"), (2, 1, 1, "d")]
    ]
    assert changed_by_determinism(cases) == ["2 0 1"]  # (2, 1, 1) has no twin: nothing to judge


@pytest.mark.slow  # 4 fresh TensorFlow processes (2 training runs, 2 gradient variants): 27 s on an idle 2-core machine
def test_a_quick_run_compares_its_cases_and_writes_its_report(tmp_path):
    proc = run_benchmark("determinism", "--quick", "--write", "--out", tmp_path, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((tmp_path / "determinism.json").read_text())
    assert result["command"] == f"python -m benchmarks.determinism --quick --write --out {tmp_path}"
    assert result["machine"]["cpu"] and result["machine"]["tensorflow"]
    train, grads = result["training"], result["gradients"]
    assert [(c["threads"], c["deterministic"]) for c in train] == [(1, False), (2, True)]
    assert [(c["threads"], c["xla"], c["deterministic"]) for c in grads] == [(1, 0, 0), (2, 1, 1)]
    assert train[0]["identical"] and grads[0]["identical"]  # the reference matches itself
    assert train[0]["episodes"] > 5 and grads[1]["repeats_identical"] and grads[1]["same_start"]
    assert result["identical"] == all(c["identical"] for c in train + grads)
    report = (tmp_path / "determinism.md").read_text()
    assert result["command"] in report and result["machine"]["cpu"] in report
