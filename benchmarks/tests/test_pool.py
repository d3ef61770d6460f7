"""Pooling one config's runs from several reports, comparing pooled groups seed by seed, and the curves."""

import json
import re
import subprocess
import sys

import pytest

from benchmarks import pool
from benchmarks.common import ROOT
from benchmarks.curves import curves, render_curves
from benchmarks.tests.fakes import fake_run, pool_report
from tfdqn import DQNConfig
from tfdqn.errors import ConfigError


def test_pool_pools_one_config_and_compares_groups_seed_by_seed(tmp_path):
    a = pool_report(tmp_path / "screen.json", "C", [0, 1, 2], [500.0, 100.0, 480.0])
    lunar = {
        **fake_run("tfdqn_default", 9, 1000, 1.0, 1.0, 900.0),
        "env_id": "LunarLander-v3",
        "system": "tfdqn_default",
        "step_budget": 100_000,
        "config": {"seed": 9},
    }  # another env's run in the same report: left out
    b = pool_report(tmp_path / "suite.json", "tfdqn_default", [3, 4], [500.0, 500.0], key="system", extra_runs=[lunar])
    other = pool_report(
        tmp_path / "other:x.json",
        "D",
        [0, 1, 2, 3, 7],
        [100.0, 500.0, 100.0, 500.0, 1.0],
        config={"gamma": 0.9},
        bests=[100.0, 500.0, 500.0, 500.0, 1.0],
    )  # ':' in a path is fine
    out = tmp_path / "pooled" / "p.json"
    assert (
        pool.main(["--env", "CartPole-v1", "--group", "mine", a, b, "--group", "theirs", other, "--out", str(out)]) == 0
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
    alone = pool_report(tmp_path / "alone.json", "E", [8], [1.0])
    assert pool.main(["--env", "CartPole-v1", "--group", "mine", a, "--group", "e", alone, "--out", str(out)]) == 0
    assert json.loads(out.read_text())["paired"]["e"]["final_100"]["mcnemar_p"] is None
    assert "| e | 0 | final | 0 | 0 | 0 | 0 | - |" in out.with_suffix(".md").read_text()


def test_pool_counts_a_field_added_since_at_its_default(tmp_path):
    a = pool_report(tmp_path / "old.json", "C", [0], [500.0])  # recorded before layer_norm existed
    b = pool_report(tmp_path / "new.json", "C", [1], [500.0], config={"layer_norm": DQNConfig().layer_norm})
    assert pool.main(["--env", "CartPole-v1", "--group", "g", a, b, "--out", str(tmp_path / "p.json")]) == 0
    c = pool_report(tmp_path / "norm.json", "C", [2], [500.0], config={"layer_norm": not DQNConfig().layer_norm})
    with pytest.raises(ConfigError, match=r"recorded different configs \(layer_norm\)"):
        pool.main(["--env", "CartPole-v1", "--group", "g", a, c, "--out", str(tmp_path / "p.json")])


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
def test_pool_refuses_what_is_not_one_experiment(tmp_path, case, message):
    a = pool_report(tmp_path / "a.json", "C", [0, 1], [500.0, 500.0])
    env = "CartPole-v1"
    group = ["g", a]
    if case == "other_config":
        group.append(pool_report(tmp_path / "b.json", "C", [2], [1.0], config={"gamma": 0.9}))
    elif case == "other_budget":
        group.append(pool_report(tmp_path / "b.json", "C", [2], [1.0], budget=100_000))
    elif case == "seed_twice":
        group.append(pool_report(tmp_path / "b.json", "C", [0], [1.0]))
    elif case == "unknown_name":
        group.append(f"{tmp_path / 'a.json'}:nope")
    elif case == "other_env":
        env = "LunarLander-v3"
    elif case == "no_name":
        group.append(str(tmp_path / "a.json"))
    elif case == "no_config":
        group.append(pool_report(tmp_path / "b.json", "C", [2], [1.0]))
        (tmp_path / "b.json").write_text(
            (tmp_path / "b.json").read_text().replace('"config": {"seed": 2, "gamma": 0.98}', '"config": {}')
        )
    elif case == "not_json":
        (tmp_path / "b.json").write_text("{not json")
        group.append(f"{tmp_path / 'b.json'}:C")
    elif case == "label_forgotten":
        group = [a, pool_report(tmp_path / "b.json", "C", [2], [1.0])]
    elif case == "groups_other_budgets":  # each group one budget, but not the same one: no curves or pairs across
        group += ["--group", "h", pool_report(tmp_path / "b.json", "C", [2], [1.0], budget=100_000)]
    elif case == "no_evaluations":
        group.append(pool_report(tmp_path / "b.json", "C", [2], [1.0]))
        report = json.loads((tmp_path / "b.json").read_text())
        report["runs"][0]["evaluations"] = None
        (tmp_path / "b.json").write_text(json.dumps(report))
    with pytest.raises(ConfigError, match=re.escape(message)):
        pool.main(["--env", env, "--group", *group, "--out", str(tmp_path / "p.json")])
    assert not (tmp_path / "p.json").exists()


def test_pool_command_prints_one_line_and_exits_2(tmp_path):
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


def test_pool_curves_take_each_runs_last_evaluation_at_or_before_each_tenth():
    early = fake_run(
        "tfdqn_default", 0, 1000, 500.0, 500.0, 900.0, evals=((1000, 10.0), (3000, 480.0), (10_000, 490.0))
    )
    late = fake_run("tfdqn_default", 1, None, 1.0, 1.0, 900.0, evals=((2000, 20.0), (4000, 30.0)))
    (rows,) = curves({"g": [early, late]}, 10_000, 475.0).values()
    assert [r["step"] for r in rows] == list(range(1000, 10_001, 1000))
    assert rows[0] == {"step": 1000, "n": 1, "median": 10.0, "ci": [10.0, 10.0], "at_threshold": 0}  # late: none yet
    assert (rows[2]["n"], rows[2]["median"], rows[2]["at_threshold"]) == (2, 250.0, 1)  # 480 (step 3,000) and 20
    assert (rows[8]["median"], rows[9]["median"], rows[9]["at_threshold"]) == (255.0, 260.0, 1)  # 480|490 and 30
    result = {
        "env_id": "CartPole-v1",
        "threshold": 475.0,
        "curves": {"g": rows, "h": curves({"h": [late]}, 10_000, 475.0)["h"]},
    }
    text = "\n".join(render_curves(result))
    assert "(20 episodes every 1,000 env steps)" in text and "| g: median [95%] | g: >= 475 | h: median [95%] |" in text
    assert (
        "| 1,000 | 10 [10, 10] | 0/1 | - | - |" in text
        and "| 3,000 | 250 [20, 480] | 1/2 | 20 [20, 20] | 0/1 |" in text
    )
