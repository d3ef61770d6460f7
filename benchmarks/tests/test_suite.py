"""The suite command: its flags, the in-process suites' reports (new results and older ones alike), and the
old entry point's name in the reports it writes."""

import json
import shutil
import subprocess
import sys

from benchmarks import loop, suite, vector
from benchmarks.common import ROOT, SCRIPT_ENV, command_line
from benchmarks.launch import thread_env


def test_suite_takes_workers_and_keeps_jobs_as_its_alias():
    assert suite.parse_args(["--suite", "solve", "--workers", "2"]).workers == 2
    assert suite.parse_args(["--jobs", "2"]).workers == 2
    assert suite.parse_args([]).workers is None  # default: serial, no Ray


def test_a_report_names_the_module_or_the_old_script_that_started_it(monkeypatch):
    monkeypatch.delenv(SCRIPT_ENV, raising=False)
    assert command_line("suite", ["--suite", "loop"]) == "python -m benchmarks.suite --suite loop"
    monkeypatch.setenv(SCRIPT_ENV, "suite:scripts/benchmark.py")
    assert command_line("suite", ["--suite", "loop"]) == "python scripts/benchmark.py --suite loop"
    assert command_line("rainbow", ["--seeds", 5]) == "python -m benchmarks.rainbow --seeds 5"  # another module's


def test_loop_and_vector_reports_render_new_and_older_results():
    r = {
        "t_update_ms": 1.0,
        "t_env_and_act_us": 100.0,
        "updates_per_step": 4,
        "gradient_steps_per_call": 128,
        "floor_ms_per_step": 4.1,
        "ceiling_steps_per_s": 243.9,
        "achieved_steps_per_s": 200.0,
        "achieved_over_ceiling": 0.82,
        "repeats": 3,
    }
    old = loop.report_loop(r)
    assert "batch 64" in old and "without XLA" not in old and "**0.82**" in old
    assert "`python scripts/benchmark.py --suite loop`" in old  # a result that did not record its command
    assert "`python -m benchmarks.suite --suite loop`" in loop.report_loop(
        {**r, "command": command_line("suite", ["--suite", "loop"])}
    )
    new = loop.report_loop({**r, "batch_size": 128, "hidden_sizes": [32, 32], "t_update_without_xla_ms": 2.5})
    assert "batch 128, 32x32" in new and "| 2.500 ms (2.5x) |" in new
    parts = loop.report_loop({**r, "hidden_sizes": [32, 32], "parts": ["3-step returns", "C51"]})
    assert "32x32, 3-step returns, C51, inside a 128-step" in parts and "goal >= 0.9" in parts
    split = {
        "in_loop_update_ms_per_step": 4.0,
        "in_loop_t_update_ms": 1.0,
        "in_loop_rest_us_per_step": 900.0,
        "in_loop_update_calls": 10,
        "ratio_per_repeat": [0.85, 0.92, 0.95],
        "median_ratio": 0.92,
        "ci_ratio": (0.85, 0.95),
    }
    undecided = loop.report_loop({**r, **split})
    assert "| 4.000 ms/step (1.000 ms per gradient step) |" in undecided and "900.0 µs/step" in undecided
    assert "0.92 [0.85, 0.95] (0.85, 0.92, 0.95): goal 0.9 undecided" in undecided and "interleaved" in undecided
    assert "goal 0.9 met" in loop.report_loop({**r, **split, "ci_ratio": (0.9, 0.95)})
    assert "goal 0.9 missed" in loop.report_loop({**r, **split, "ci_ratio": (0.8, 0.89)})
    assert "interleaved" not in old  # older results say nothing of how their repeats were ordered

    solve = {
        "seeds": 1,
        "step_budget": 100,
        "best_ge_475": 1,
        "median_first_solved_step": 50,
        "max_first_solved_step": 50,
        "solved_runs": 1,
        "median_train_seconds": 1.0,
        "median_wall_seconds": 2.0,
        "runs": [
            {
                "seed": 0,
                "first_solved_step": 50,
                "env_steps": 50,
                "best_score_100": 500.0,
                "train_seconds": 1.0,
                "wall_seconds": 2.0,
            }
        ],
    }
    v = {
        "repeats": 3,
        "throughput": {f"{m}/{n}": 100.0 * n for m in ("collect", "train") for n in (1, 4, 8, 16)},
        "solve": {"1": solve, "8": solve},
        "updates_per_step": 4,
        "collect_8_over_1": 8.0,
    }
    text = vector.report_vector({**v, "raw_rates": {}})
    assert "round-robin" in text and "older runs" not in text and "**8.0x**" in text
    assert "older runs" in vector.report_vector(v)


def test_the_old_entry_point_rerenders_stored_reports_byte_identical(tmp_path):
    """`python scripts/benchmark.py --rerender` from the repository root, on a copy of the stored results."""
    out = tmp_path / "benchmark"
    shutil.copytree(ROOT / "results" / "benchmark", out, ignore=shutil.ignore_patterns("*.png"))
    for name in ("loop", "solve", "vector", "memory", "lunarlander"):
        proc = subprocess.run(
            [sys.executable, "scripts/benchmark.py", "--suite", name, "--rerender", "--out", str(out)],
            capture_output=True,
            text=True,
            env=thread_env(),
            timeout=300,
            cwd=ROOT,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        for suffix in (".md", ".json"):
            stored = ROOT / "results" / "benchmark" / f"{name}{suffix}"
            if suffix == ".json":
                assert json.loads((out / stored.name).read_text()) == json.loads(stored.read_text()), name
            else:
                assert (out / stored.name).read_text() == stored.read_text(), name
