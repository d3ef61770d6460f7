"""Fast tests of the cartpole side-by-side benchmark's plumbing (no torch or Stable-Baselines3 needed)."""

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import benchmark_systems as bs  # noqa: E402

from tfdqn.errors import ConfigError  # noqa: E402


def test_missing_extras_are_named_without_importing_them():
    def no_torch(name):
        if name == "torch":
            return None
        raise ImportError(name)

    assert bs.missing_extras(no_torch) == ["torch", "stable-baselines3"]
    assert bs.missing_extras(lambda name: object()) == []


def test_cartpole_suite_without_extras_exits_2_with_one_line(tmp_path):
    # A sitecustomize that makes torch and stable_baselines3 look absent, in a fresh interpreter.
    (tmp_path / "sitecustomize.py").write_text(
        "import importlib.util\n"
        "_real = importlib.util.find_spec\n"
        "def _find_spec(name, package=None):\n"
        "    if name.split('.')[0] in ('torch', 'stable_baselines3'):\n"
        "        return None\n"
        "    return _real(name, package)\n"
        "importlib.util.find_spec = _find_spec\n"
    )
    env = {**bs.thread_env(), "PYTHONPATH": os.pathsep.join((str(tmp_path), os.environ["PYTHONPATH"]))}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "benchmark.py"), "--suite", "cartpole", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [bs.EXTRAS_MESSAGE]
    assert not (tmp_path / "out").exists()


def test_band_interpolates_and_carries_forward():
    curves = [([1, 2, 3], [0, 10, 20]), ([1, 2, 3], [10, 20, 30]), ([1, 3], [20, 40])]
    med, lo, hi = bs.band(curves, [1, 2, 3])
    assert med.tolist() == [10, 20, 30]
    assert lo.tolist() == [5, 15, 25] and hi.tolist() == [15, 25, 35]
    # step function: NaN before a curve's first point, its last value carried past its end
    med, _, _ = bs.band([([1.0, 2.0], [5.0, 7.0]), ([0.5], [1.0])], [0.0, 0.7, 1.5, 10.0], carry_forward=True)
    assert math.isnan(med[0]) and math.isnan(med[1])
    assert med[2:].tolist() == [3.0, 4.0]
    # interpolation: NaN outside a curve's range
    med, _, _ = bs.band([([0, 2], [0, 2]), ([0, 1], [0, 1])], [0.5, 1.5])
    assert med[0] == 0.5 and math.isnan(med[1])


def _run(system, seed, solved_step, best, final, sps, evals=((1000, 100.0), (2000, 480.0))):
    return {
        "system": system,
        "seed": seed,
        "env_steps": 2000,
        "train_seconds": 2000 / sps,
        "eval_seconds": 0.5,
        "train_steps_per_s": sps,
        "process_seconds": 9.0,
        "import_seconds": 3.0,
        "wall_seconds": 9.5,
        "evaluations": [
            {"step": s, "mean": m, "std": 1.0, "train_seconds": s / sps, "total_seconds": s / sps + 0.1}
            for s, m in evals
        ],
        "solved_step": solved_step,
        "solved_train_seconds": None if solved_step is None else solved_step / sps,
        "best_eval_step": 2000,
        "best_eval_mean": 480.0,
        "best_100": {"mean": best, "std": 2.0},
        "final_100": {"mean": final, "std": 3.0},
        "stop_on_reward": {"step": 2000, "mean": 490.0},
        "confirmations": [],
    }


def _fake_result():
    runs = []
    for seed in range(3):
        runs.append(_run("tfdqn_default", seed, 2000, 500.0, 300.0, 1500.0))
        runs.append(
            _run(
                "sb3_zoo",
                seed,
                None if seed else 2000,
                400.0 + seed * 50,
                200.0,
                500.0,
                evals=((1000, 50.0), (2000, 200.0)),
            )
        )
        runs.append(_run("tfdqn_zoo", seed, 2000, 480.0, 480.0, 1200.0))
    runs.append(
        {
            "system": "tutorial",
            "seed": 0,
            "env_steps": 300,
            "train_seconds": 60.0,
            "train_steps_per_s": 5.0,
            "process_seconds": 65.0,
            "import_seconds": 3.0,
        }
    )
    result = {
        "command": "python scripts/benchmark.py --suite cartpole --seeds 3",
        "date": "2026-01-01 00:00 UTC",
        "seeds_requested": 3,
        "seeds_done": 3,
        "step_budget": 2000,
        "tutorial_steps": 300,
        "runs": runs,
        "duration_seconds": 120.0,
        "machine": "2 CPU cores",
        "settings_notes": ["a note"],
    }
    result["summary"] = bs.summarize(runs)
    return result


def test_summary_and_targets_on_a_tiny_fake_result():
    result = _fake_result()
    s = result["summary"]
    assert s["tfdqn_default"]["median_solved_step"] == 2000 and s["tfdqn_default"]["best_ge_threshold"] == 3
    assert s["sb3_zoo"]["solved"] == 1 and s["sb3_zoo"]["median_solved_step"] is None  # 2 of 3 unsolved
    assert s["sb3_zoo"]["best_ge_threshold"] == 1  # 400, 450, 500
    assert s["tutorial"]["median_train_steps_per_s"] == 5.0
    assert s["tfdqn_default"]["ci_best_rate"][0] == pytest.approx(0.4385, abs=1e-3)  # Wilson, 3 of 3
    rows = {name: (ok, verdict) for name, ok, verdict, _ in bs.targets(s)}
    assert rows["equal settings: tfdqn train-only env steps/s >= 2x SB3's"][0] is True  # 1200 / 500
    # 2,000 steps in every seed: the median's interval is the point, well inside 8,000
    assert rows["defaults: median env steps to the first evaluation >= 475 <= 8,000"] == (True, "met")
    # 3 of 3 seeds is not evidence of a 100% rate: the interval leaves it undecided
    assert rows["defaults: best.keras >= 475 on 100 fresh episodes in 10/10 seeds"] == (True, "undecided")
    # final 300 in every seed: missed on the seeds, and the interval [0, 0.56] says missed
    final = next(v for k, v in rows.items() if k.startswith("defaults: final policy"))
    assert final == (False, "missed")
    # SB3 unsolved in 2 of 3 seeds: its median is "not solved", so tfdqn (1.3 s everywhere) is faster on these
    # seeds; even resamples where SB3's median is its one solve (4 s) give 0.33x: the interval says met
    ok, verdict = rows["defaults: median train-only seconds to solve <= 0.5x SB3 RL-Zoo's"]
    assert ok is True and verdict == "met"


def test_lunarlander_targets_use_its_threshold():
    runs = []
    for seed in range(4):
        runs.append(_run("tfdqn_default", seed, 20_000, 250.0, 210.0 if seed else 100.0, 600.0))
        runs.append(_run("sb3_zoo", seed, 40_000, 230.0, 150.0, 500.0))
    s = bs.summarize(runs, threshold=200.0)
    assert s["tfdqn_default"]["final_ge_threshold"] == 3 and s["sb3_zoo"]["best_ge_threshold"] == 4
    rows = {name: (ok, verdict) for name, ok, verdict, _ in bs.targets(s, "LunarLander-v3")}
    assert rows["defaults: best.keras >= 200 on 100 fresh episodes in >= 8/10 seeds"][0] is True
    assert rows["defaults: final policy >= 200 in >= 7/10 seeds"][0] is True  # 3 of 4 >= ceil(2.8)
    assert rows["defaults: median env steps to the first evaluation >= 200 below SB3 RL-Zoo's"] == (True, "met")
    text = bs.render_report(
        {
            "command": "c",
            "env_id": "LunarLander-v3",
            "date": "d",
            "seeds_requested": 4,
            "seeds_done": 4,
            "step_budget": 100_000,
            "tutorial_steps": 0,
            "runs": runs,
            "summary": s,
            "duration_seconds": 60.0,
            "machine": "m",
            "jobs": 2,
            "curves_file": "lunarlander_curves.png",
        }
    )
    assert "# LunarLander-v3: tfdqn vs Stable-Baselines3" in text and "2 at a time" in text
    assert "lunarlander_curves.png" in text and "best >= 200" in text
    # "late": the mean of each run's last 10 evaluations, its median over seeds in the summary
    assert s["tfdqn_default"]["late_mean"] == [290.0] * 4 and s["tfdqn_default"]["median_late_mean"] == 290.0
    assert "| late |" in text and "last 10 greedy evaluations" in text and "| 290.0 [290.0, 290.0] |" in text


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--suite", "lunarlander", "--preset", "cartpole"],
            "error: preset 'cartpole' is for CartPole-v1, not LunarLander-v3",
        ),
        (["--suite", "cartpole", "--preset", "rainbo"], "error: unknown preset 'rainbo' (did you mean 'rainbow'?)"),
        (["--suite", "loop", "--preset", "rainbow"], "error: --preset is for the side-by-side suites"),
        (["--suite", "loop", "--preset", "none"], "error: --preset is for the side-by-side suites"),
    ],
)
def test_suite_preset_is_checked_before_anything_runs(tmp_path, argv, message):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "benchmark.py"), *argv, "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=bs.thread_env(),
        timeout=120,
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith(message)
    assert not (tmp_path / "out").exists()


def test_a_suite_run_with_a_preset_is_labelled_with_it(tmp_path):
    result = {**_fake_result(), "preset": "rainbow"}
    text = bs.render_report(result)
    assert "| tfdqn, --preset rainbow |" in text and "### tfdqn, --preset rainbow" in text
    assert bs.SYSTEMS["tfdqn_default"] not in text
    assert bs.worker_argv("tfdqn_default", 3, 100, "LunarLander-v3", "o.json", "--preset", "rainbow")[-2:] == (
        "--preset",
        "rainbow",
    )


def test_report_renders_every_system_and_the_targets(tmp_path):
    text = bs.render_report(_fake_result())
    for label in bs.SYSTEMS.values():
        assert label in text
    assert "| equal settings: tfdqn train-only env steps/s >= 2x SB3's | **yes** | " in text and "2.40x" in text
    assert "tfdqn is 300x faster" in text
    assert "python scripts/benchmark.py --suite cartpole --seeds 3" in text
    pytest.importorskip("matplotlib")
    bs.plot_curves(_fake_result()["runs"], tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 10_000


def test_sb3_equivalent_config_is_a_valid_tfdqn_config():
    from tfdqn.config import DQNConfig

    config = DQNConfig(**bs.tfdqn_sb3_settings(50_000))
    assert (config.train_freq, config.gradient_steps, config.epsilon_decay_steps) == (256, 128, 8_000)
    assert config.hidden_sizes == (256, 256)
    config = DQNConfig(**bs.tfdqn_sb3_settings(100_000, "LunarLander-v3"))
    assert (config.train_freq, config.gradient_steps, config.epsilon_decay_steps) == (4, 4, 12_000)
    assert (config.learning_starts, config.target_update_interval, config.epsilon_end) == (0, 250, 0.1)


def test_tfdqn_worker_takes_preset_none_as_the_plain_defaults(tmp_path):
    import json

    out = tmp_path / "run.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "benchmark_systems.py"),
            "tfdqn_default",
            "--seed",
            "0",
            "--steps",
            "300",
            "--out",
            str(out),
            "--preset",
            "none",
        ],
        capture_output=True,
        text=True,
        env=bs.thread_env(),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    config = json.loads(out.read_text())["config"]
    assert (config["hidden_sizes"], config["gamma"]) == ([256, 256], 0.99)  # not the cartpole preset's 64x64, 0.98


def test_sb3_worker_runs_a_few_steps(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("stable_baselines3")
    out = tmp_path / "run.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "benchmark_systems.py"),
            "sb3_zoo",
            "--seed",
            "0",
            "--steps",
            "1200",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=bs.thread_env(),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    import json

    run = json.loads(out.read_text())
    assert run["evaluations"][0]["step"] == 1000 and run["best_100"]["episodes"] == 100
    assert np.isfinite(run["train_steps_per_s"])


def test_loop_and_vector_reports_render_new_and_older_results():
    import benchmark

    loop = {
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
    old = benchmark.report_loop(loop)
    assert "batch 64" in old and "without XLA" not in old and "**0.82**" in old
    new = benchmark.report_loop({**loop, "batch_size": 128, "hidden_sizes": [32, 32], "t_update_without_xla_ms": 2.5})
    assert "batch 128, 32x32" in new and "| 2.500 ms (2.5x) |" in new
    parts = benchmark.report_loop({**loop, "hidden_sizes": [32, 32], "parts": ["3-step returns", "C51"]})
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
    undecided = benchmark.report_loop({**loop, **split})
    assert "| 4.000 ms/step (1.000 ms per gradient step) |" in undecided and "900.0 µs/step" in undecided
    assert "0.92 [0.85, 0.95] (0.85, 0.92, 0.95): goal 0.9 undecided" in undecided and "interleaved" in undecided
    assert "goal 0.9 met" in benchmark.report_loop({**loop, **split, "ci_ratio": (0.9, 0.95)})
    assert "goal 0.9 missed" in benchmark.report_loop({**loop, **split, "ci_ratio": (0.8, 0.89)})
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
    vector = {
        "repeats": 3,
        "throughput": {f"{m}/{n}": 100.0 * n for m in ("collect", "train") for n in (1, 4, 8, 16)},
        "solve": {"1": solve, "8": solve},
        "updates_per_step": 4,
        "collect_8_over_1": 8.0,
    }
    text = benchmark.report_vector({**vector, "raw_rates": {}})
    assert "round-robin" in text and "older runs" not in text and "**8.0x**" in text
    assert "older runs" in benchmark.report_vector(vector)


def test_screen_reports_give_intervals_and_merge_rounds(tmp_path):
    import json

    import screen_configs as sc

    def screen(seeds, command):
        runs = [
            {
                **_run("tfdqn_default", s, 1000 * (s + 1) if s != 1 else None, 500.0, 500.0 if s % 2 else 100.0, 900.0),
                "env_id": "CartPole-v1",
                "candidate": "C",
                "max_loss": 1.0,
            }
            for s in seeds
        ]
        return {
            "command": command,
            "date": "d",
            "candidates": {"C": {"gamma": 0.98}},
            "runs": runs,
            "duration_seconds": 60.0,
        }

    (tmp_path / "a.json").write_text(json.dumps(screen([0, 1, 2], "first")))
    (tmp_path / "b.json").write_text(json.dumps(screen([3, 4], "second")))
    sc.merge(tmp_path / "ab.json", [tmp_path / "a.json", tmp_path / "b.json"])
    merged = json.loads((tmp_path / "ab.json").read_text())
    assert [r["seed"] for r in merged["runs"]] == [0, 1, 2, 3, 4] and merged["command"].startswith("first + second")
    (row,) = sc.summarize(merged["runs"])
    assert row["solved_steps"] == [1000, None, 3000, 4000, 5000] and row["median_solved_step"] == 4000
    assert row["final_ge"] == 2 and row["ci_final_rate"] == pytest.approx((0.1176, 0.7693), abs=1e-3)
    text = (tmp_path / "ab.md").read_text()
    assert "| C | CartPole-v1 | 0, 1, 2, 3, 4 | 4/5 |" in text and "2/5 [0.12, 0.77]" in text
    assert "4,000 [1,000, not solved]" in text
    # every run's two evaluations (100 and 480) average 290: the late-evaluation column, per seed and its median
    assert row["late_mean"] == [290.0] * 5 and "290.0, 290.0, 290.0, 290.0, 290.0 | 290.0 [290.0, 290.0]" in text
    merged["runs"][0]["evaluations"] = []  # a run without evaluations: shown as "-", left out of the median
    (row,) = sc.summarize(merged["runs"])
    assert row["median_late_mean"] == 290.0 and "| -, 290.0, 290.0, 290.0, 290.0 | 290.0 [290.0, 290.0] |" in sc.render(
        merged
    )
    assert "env steps per run" not in sc.render(merged)  # a screen run with --steps says so beside its command
    assert "; 200,000 env steps per run, not the task's budget." in sc.render({**merged, "step_budget": 200_000})
    for name in ("a", "b"):  # two screens run with the same --steps merge into one that says so
        (tmp_path / f"{name}.json").write_text(json.dumps({**screen([0], name), "step_budget": 200_000}))
    sc.merge(tmp_path / "ab.json", [tmp_path / "a.json", tmp_path / "b.json"])
    assert json.loads((tmp_path / "ab.json").read_text())["step_budget"] == 200_000


def _pool_report(
    path,
    name,
    seeds,
    finals,
    config=None,
    key="candidate",
    env_id="CartPole-v1",
    budget=50_000,
    bests=None,
    extra_runs=(),
):
    import json

    runs = [
        {
            **_run("tfdqn_default", s, 1000, b, f, 900.0),
            "env_id": env_id,
            key: name,
            "max_loss": 1.0,
            "step_budget": budget,
            "config": {"seed": s, "gamma": 0.98, **(config or {})},
        }
        for s, f, b in zip(seeds, finals, bests or [500.0] * len(seeds))
    ]
    path.write_text(json.dumps({"command": f"make {path.name}", "date": "d", "runs": runs + list(extra_runs)}))
    return f"{path}:{name}"


def test_pool_runs_pools_one_config_and_compares_groups_seed_by_seed(tmp_path):
    import json

    import pool_runs

    a = _pool_report(tmp_path / "screen.json", "C", [0, 1, 2], [500.0, 100.0, 480.0])
    lunar = {
        **_run("tfdqn_default", 9, 1000, 1.0, 1.0, 900.0),
        "env_id": "LunarLander-v3",
        "system": "tfdqn_default",
        "step_budget": 100_000,
        "config": {"seed": 9},
    }  # another env's run in the same report: left out
    b = _pool_report(tmp_path / "suite.json", "tfdqn_default", [3, 4], [500.0, 500.0], key="system", extra_runs=[lunar])
    other = _pool_report(
        tmp_path / "other:x.json",
        "D",
        [0, 1, 2, 3, 7],
        [100.0, 500.0, 100.0, 500.0, 1.0],
        config={"gamma": 0.9},
        bests=[100.0, 500.0, 500.0, 500.0, 1.0],
    )  # ':' in a path is fine
    out = tmp_path / "pooled" / "p.json"
    assert (
        pool_runs.main(["--env", "CartPole-v1", "--group", "mine", a, b, "--group", "theirs", other, "--out", str(out)])
        == 0
    )
    result = json.loads(out.read_text())
    assert [r["seed"] for r in result["runs"] if r["candidate"] == "mine"] == [0, 1, 2, 3, 4]
    text = out.with_suffix(".md").read_text()
    assert "| mine | CartPole-v1 | 0, 1, 2, 3, 4 | 5/5 |" in text and "4/5 [0.38, 0.96]" in text
    assert "`make suite.json`, d" in text  # each source's command and date
    cmp = result["paired"]["theirs"]  # seeds 0-3: mine holds finals on 0, 2, 3; theirs on 1, 3
    assert cmp["seeds"] == [0, 1, 2, 3]
    final, best = cmp["final_100"], cmp["best_100"]
    assert (final["both"], final["only_first"], final["only_second"], final["neither"]) == (1, 2, 1, 0)
    assert final["mcnemar_p"] == pytest.approx(1.0)
    assert (best["both"], best["only_first"], best["only_second"], best["neither"]) == (3, 1, 0, 0)
    assert "| theirs | 4 | final | 1 | 2 | 1 | 0 | 1.000 |" in text and "| only mine | only the other |" in text
    # no shared seed: no p
    alone = _pool_report(tmp_path / "alone.json", "E", [8], [1.0])
    assert pool_runs.main(["--env", "CartPole-v1", "--group", "mine", a, "--group", "e", alone, "--out", str(out)]) == 0
    assert json.loads(out.read_text())["paired"]["e"]["final_100"]["mcnemar_p"] is None
    assert "| e | 0 | final | 0 | 0 | 0 | 0 | - |" in out.with_suffix(".md").read_text()


def test_pool_runs_counts_a_field_added_since_at_its_default(tmp_path):
    import pool_runs

    from tfdqn import DQNConfig

    a = _pool_report(tmp_path / "old.json", "C", [0], [500.0])  # recorded before layer_norm existed
    b = _pool_report(tmp_path / "new.json", "C", [1], [500.0], config={"layer_norm": DQNConfig().layer_norm})
    assert pool_runs.main(["--env", "CartPole-v1", "--group", "g", a, b, "--out", str(tmp_path / "p.json")]) == 0
    c = _pool_report(tmp_path / "norm.json", "C", [2], [500.0], config={"layer_norm": not DQNConfig().layer_norm})
    with pytest.raises(ConfigError, match=r"recorded different configs \(layer_norm\)"):
        pool_runs.main(["--env", "CartPole-v1", "--group", "g", a, c, "--out", str(tmp_path / "p.json")])


@pytest.mark.parametrize(
    "case, message",
    [
        ("other_config", "recorded different configs (gamma)"),
        ("other_budget", "ran 100,000 env steps"),
        ("seed_twice", "seed 0 is in"),
        ("unknown_name", "has no runs of 'nope' (it has: C)"),
        ("other_env", "'C' has no runs on LunarLander-v3"),
        ("no_name", "give FILE:NAME"),
        ("no_config", "did not record config"),
        ("not_json", "not a readable report JSON"),
        ("label_forgotten", "a group starts with its label"),
        ("groups_other_budgets", "groups ran different step budgets (g: 50,000, h: 100,000)"),
        ("no_evaluations", "did not record evaluations"),
    ],
)
def test_pool_runs_refuses_what_is_not_one_experiment(tmp_path, case, message):
    import json

    import pool_runs

    a = _pool_report(tmp_path / "a.json", "C", [0, 1], [500.0, 500.0])
    env = "CartPole-v1"
    group = ["g", a]
    if case == "other_config":
        group.append(_pool_report(tmp_path / "b.json", "C", [2], [1.0], config={"gamma": 0.9}))
    elif case == "other_budget":
        group.append(_pool_report(tmp_path / "b.json", "C", [2], [1.0], budget=100_000))
    elif case == "seed_twice":
        group.append(_pool_report(tmp_path / "b.json", "C", [0], [1.0]))
    elif case == "unknown_name":
        group.append(f"{tmp_path / 'a.json'}:nope")
    elif case == "other_env":
        env = "LunarLander-v3"
    elif case == "no_name":
        group.append(str(tmp_path / "a.json"))
    elif case == "no_config":
        group.append(_pool_report(tmp_path / "b.json", "C", [2], [1.0]))
        (tmp_path / "b.json").write_text(
            (tmp_path / "b.json").read_text().replace('"config": {"seed": 2, "gamma": 0.98}', '"config": {}')
        )
    elif case == "not_json":
        (tmp_path / "b.json").write_text("{not json")
        group.append(f"{tmp_path / 'b.json'}:C")
    elif case == "label_forgotten":
        group = [a, _pool_report(tmp_path / "b.json", "C", [2], [1.0])]
    elif case == "groups_other_budgets":  # each group one budget, but not the same one: no curves or pairs across
        group += ["--group", "h", _pool_report(tmp_path / "b.json", "C", [2], [1.0], budget=100_000)]
    elif case == "no_evaluations":
        group.append(_pool_report(tmp_path / "b.json", "C", [2], [1.0]))
        report = json.loads((tmp_path / "b.json").read_text())
        report["runs"][0]["evaluations"] = None
        (tmp_path / "b.json").write_text(json.dumps(report))
    with pytest.raises(ConfigError, match=re.escape(message)):
        pool_runs.main(["--env", env, "--group", *group, "--out", str(tmp_path / "p.json")])
    assert not (tmp_path / "p.json").exists()


def test_pool_runs_command_prints_one_line_and_exits_2(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "pool_runs.py"),
            "--env",
            "CartPole-v1",
            "--group",
            "g",
            f"{tmp_path / 'missing.json'}:C",
            "--out",
            str(tmp_path / "p.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0, proc.stderr
    assert "missing.json: no such report JSON" in proc.stderr


def test_rerender_describes_the_config_tfdqns_runs_recorded():
    import benchmark

    from tfdqn import config_for_env

    recorded = config_for_env("LunarLander-v3", "none").replace(layer_norm=True, seed=3).to_dict()
    del recorded["initializer"]  # a field added after the run: counted at its default
    result = {
        "env_id": "LunarLander-v3",
        "step_budget": 100_000,
        "settings_notes": ["tfdqn defaults (as the run called them then): [1] MLP, stale.", "SB3 ..."],
        "runs": [
            {"system": "sb3_zoo", "config": {"learning_rate": 1.0}},
            {"system": "tfdqn_default", "config": {**recorded, "removed_since": 1}},
        ],
    }
    benchmark._describe_recorded_config(bs, result)
    note = result["settings_notes"][0]
    assert note.startswith("tfdqn defaults (as the run called them then): [256, 256] MLP with a LayerNormalization")
    assert "lr 0.00063, " in note and result["settings_notes"][1] == "SB3 ..."


def test_settings_notes_name_the_loss_the_update_uses():
    import benchmark

    from tfdqn import config_for_env

    c51 = benchmark._settings_notes(bs, 50_000, "CartPole-v1", config=config_for_env("CartPole-v1"))[0]
    plain = benchmark._settings_notes(bs, 100_000, "LunarLander-v3", config=config_for_env("LunarLander-v3"))[0]
    assert "cross-entropy loss" in c51 and "huber loss" not in c51  # C51's loss, whatever `loss` says
    assert "huber loss" in plain and "cross-entropy" not in plain


def test_max_loss_is_none_where_no_run_recorded_one():
    assert bs.max_loss([{"max_loss": None}, {}]) is None  # SB3 records no loss: not a made-up 0.0
    assert bs.max_loss([{"max_loss": 2.5}, {"max_loss": None}, {"max_loss": 4.0}]) == 4.0


def test_pool_runs_curves_take_each_runs_last_evaluation_at_or_before_each_tenth():
    import pool_runs

    early = _run("tfdqn_default", 0, 1000, 500.0, 500.0, 900.0, evals=((1000, 10.0), (3000, 480.0), (10_000, 490.0)))
    late = _run("tfdqn_default", 1, None, 1.0, 1.0, 900.0, evals=((2000, 20.0), (4000, 30.0)))
    (rows,) = pool_runs.curves({"g": [early, late]}, 10_000, 475.0).values()
    assert [r["step"] for r in rows] == list(range(1000, 10_001, 1000))
    assert rows[0] == {"step": 1000, "n": 1, "median": 10.0, "ci": [10.0, 10.0], "at_threshold": 0}  # late: none yet
    assert (rows[2]["n"], rows[2]["median"], rows[2]["at_threshold"]) == (2, 250.0, 1)  # 480 (step 3,000) and 20
    assert (rows[8]["median"], rows[9]["median"], rows[9]["at_threshold"]) == (255.0, 260.0, 1)  # 480|490 and 30
    result = {
        "env_id": "CartPole-v1",
        "threshold": 475.0,
        "curves": {"g": rows, "h": pool_runs.curves({"h": [late]}, 10_000, 475.0)["h"]},
    }
    text = "\n".join(pool_runs.render_curves(result))
    assert "(20 episodes every 1,000 env steps)" in text and "| g: median [95%] | g: >= 475 | h: median [95%] |" in text
    assert (
        "| 1,000 | 10 [10, 10] | 0/1 | - | - |" in text
        and "| 3,000 | 250 [20, 480] | 1/2 | 20 [20, 20] | 0/1 |" in text
    )
