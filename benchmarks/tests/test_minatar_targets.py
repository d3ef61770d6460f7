"""The MinAtar report's targets, judged from made-up run records: a game met, missed and undecided against the
paper's 5M reading (mean over seeds), the count over games, the IQM at 1M against the paper's at 2M, the minutes
of a 2M-frame run, the equal-settings pair's IQM difference and paired speed ratio, nothing judged in an interim
report or on one seed, speeds by machine, `--report-only`, and a worker's failure stopping the benchmark."""

import json

import pytest

from benchmarks import minatar, minatar_targets as targets
from benchmarks.common import host
from benchmarks.minatar import report
from tfdqn.envs.minatar import GAMES

RANDOM = dict.fromkeys(GAMES, 0.0)


def run(game, seed, score, system="tfdqn", frames=2_000_000, seconds=600.0, **extra):
    """A record whose last 100 episodes (ending between 1.5M and 2M frames) all return `score`, and whose
    earlier 100 (ending by 1M) return half of it."""
    ends = [1_000_000 * (i + 1) // 100 for i in range(100)] + [1_500_000 + 5_000 * i for i in range(100)]
    returns = [score / 2] * 100 + [score] * 100
    return dict(system=system, game=game, seed=seed, returns=returns, end_frames=ends, env_steps=frames,
                train_seconds=seconds, train_cpu_seconds=seconds, **extra)  # fmt: skip


def preset_runs(scores_by_game, **extra):
    return [
        run(g, s, v, greedy_best=v, greedy_final=v, **extra)
        for g, vs in scores_by_game.items()
        for s, v in enumerate(vs)
    ]


SCORES = {
    "Asterix": [10, 20, 21],
    "Breakout": [5, 6, 7],
    "Freeway": [60, 61, 62],
    "Seaquest": [30, 31, 32],
    "SpaceInvaders": [50, 52, 54],
}
HOST = {"cpu": "Xeon", "mhz": 2100, "cores": 2, "boot": "cccc3333"}


def test_each_game_is_judged_against_the_papers_5m_reading_by_its_interval():
    text = "\n".join(targets.preset_lines(preset_runs(SCORES, host=HOST), RANDOM))
    assert "| Asterix | 3 | 17.0 [" in text and "| 17 | undecided |" in text
    assert "| Breakout | 3 | 6.0 [5.0, 7.0] | 10 | missed |" in text and "| Freeway | 3 | 61.0" in text
    assert "| 20 (before minatar 1.0.11's oxygen fix) | met |" in text
    assert "on 4 of 5 games: **undecided** (met on 3, missed on 1)" in text
    assert "Seeds: 3 a game, not 5: the issue's 3 where time is short." in text
    assert "Normalised IQM at 1,000,000 frames" in text
    assert "| Xeon, 2 cores (boot cccc3333) | 15 | Asterix | 10.0 [10.0, 10.0] | 10.0 | met |" in text


def test_the_count_over_games_is_met_or_missed_once_it_is_settled():
    assert targets.count_verdict(["met"] * 4 + ["missed"], 0.8) == "met"
    assert targets.count_verdict(["met"] * 3 + ["missed"] * 2, 0.8) == "missed"
    assert targets.count_verdict(["met", "met", "undecided"], 0.8) == "undecided"  # 3 games: all 3 needed
    assert targets.count_verdict(["met", "interim"], 0.8) == "interim"


def test_an_interim_report_too_few_seeds_or_games_judge_nothing():
    interim = "\n".join(targets.preset_lines(preset_runs(SCORES), RANDOM, complete=False))
    assert "Interim" in interim and "| Freeway | 3 | 61.0 [60.0, 62.0] | 50 | interim |" in interim
    assert "**met**" not in interim and "**missed**" not in interim
    two = {g: v[:2] for g, v in SCORES.items()}  # the issue asks 5 seeds, 3 where time is short
    assert "| Freeway | 2 | 60.5 [60.0, 61.0] | 50 | too few seeds |" in "\n".join(
        targets.preset_lines(preset_runs(two), RANDOM)
    )
    some = "\n".join(targets.preset_lines(preset_runs({"Freeway": [60, 61, 62]}), RANDOM))
    assert "of some only" in some and "| Freeway | 3 | 61.0 [60.0, 62.0] | 50 | not all five games |" in some
    assert "**not all five games**" in some and "**met**" not in some


def test_the_papers_iqm_is_taken_on_the_games_that_ran():
    text = "\n".join(targets.preset_lines(preset_runs({"Breakout": [10, 10]}), RANDOM))
    # Breakout alone: the paper's 2M reading 9.7 over its 5M reading 10 (random play 0)
    assert "against the paper's DQN at 2,000,000 0.97" in text


def test_runs_short_of_2m_frames_are_not_judged():
    runs = [run("Breakout", 0, 5.0, frames=6_000)]
    assert "Not judged" in targets.preset_lines(runs, RANDOM)[-1]


def test_the_greedy_table_is_per_game():
    text = "\n".join(targets.greedy_lines(preset_runs({"Breakout": [4, 8]})))
    assert "| Breakout | 2 | 6.0 [4.0, 8.0] | 6.0 [4.0, 8.0] |" in text


def test_equal_settings_compare_the_iqm_and_the_paired_speed():
    runs = [run(g, s, 10.0, system=sys_, seconds=100.0 if sys_ == "tfdqn_equal" else 300.0)
            for g in GAMES for s in (0, 1) for sys_ in ("tfdqn_equal", "sb3_equal")]  # fmt: skip
    text = "\n".join(targets.equal_lines(runs, RANDOM, 2_000_000))
    assert "difference +0.00 [+0.00, +0.00]" in text and "tfdqn at least SB3's: **met**." in text
    assert "median 3.00 [3.00, 3.00] over 10 pairs; at least 2x: **met**" in text
    assert targets.equal_lines([r for r in runs if r["system"] == "sb3_equal"], RANDOM, 2_000_000) == []


def test_a_partial_report_counts_its_finished_runs():
    text = report(preset_runs({"Breakout": [4]}), RANDOM, [1_000_000, 2_000_000], "python -m benchmarks.minatar", 10)
    assert "1 of 10 runs finished (an interim report)." in text and "### Targets: tfdqn's preset" in text


def test_a_failed_run_stops_the_benchmark_before_the_queued_runs_start(monkeypatch, tmp_path):
    started = []

    def fail(system, game, seed, *rest):
        started.append((game, seed))
        raise RuntimeError(f"{game} failed")

    monkeypatch.setattr(minatar, "run_one", fail)
    monkeypatch.setattr(minatar.scores, "random_score", lambda game, episodes: 0.0)
    with pytest.raises(RuntimeError, match="failed"):
        minatar.main(["--seeds", "3", "--frames", "1000", "--jobs", "1", "--out", str(tmp_path)])
    assert len(started) < 15  # 5 games x 3 seeds planned; the first failure cancels the queue


FAST = {"cpu": "Xeon", "mhz": 3000, "cores": 2, "boot": "aaaa1111"}
SLOW = {"cpu": "Xeon", "mhz": 2100, "cores": 2, "boot": "bbbb2222"}


def test_this_machine_is_named_by_cpu_cores_and_boot():
    h = host()
    assert set(h) == {"cpu", "mhz", "cores", "boot"} and h["cpu"] and h["cores"] >= 1 and len(h["boot"]) <= 8


def test_speeds_and_minutes_are_given_per_machine():
    runs = [run(g, s, 5, seconds=600.0 + 60 * s, host=FAST) for g in ("Breakout", "Freeway") for s in range(3)]
    runs += [run("Breakout", s, 5, seconds=1500.0, host=SLOW) for s in range(3)]
    runs.append(run("Freeway", 0, 50, seconds=900.0))  # a record from before machines were recorded
    text = "\n".join(targets.machine_lines(runs))
    assert "| Xeon, 2 cores (boot aaaa1111) | 6 | tfdqn 3,030 |" in text  # wall time, as the speed ratio
    assert "| not recorded | 1 | tfdqn 2,222 |" in text
    minutes = "\n".join(targets.minutes_lines(runs, complete=True))
    assert "| Xeon, 2 cores (boot aaaa1111) | 6 | Breakout | 11.0 [10.0, 12.0] | 12.0 | met |" in minutes
    assert "| Xeon, 2 cores (boot bbbb2222) | 3 | Breakout | 25.0 [25.0, 25.0] | 25.0 | missed |" in minutes
    assert "| not recorded | 1 | Freeway | 15.0 [15.0, 15.0] | 15.0 | machine unknown |" in minutes


def test_the_speed_ratio_pairs_runs_of_one_machine_only():
    pair = [run("Breakout", 0, 5, system="tfdqn_equal", seconds=100.0, host=FAST)]
    pair.append(run("Breakout", 0, 5, system="sb3_equal", seconds=300.0, host=FAST))
    apart = [run("Breakout", 1, 5, system="tfdqn_equal", seconds=100.0, host=FAST)]
    apart.append(run("Breakout", 1, 5, system="sb3_equal", seconds=300.0, host=SLOW))  # rerun elsewhere
    text = "\n".join(targets.equal_lines(pair + apart, RANDOM, 2_000_000))
    assert "median 3.00 [3.00, 3.00] over 1 pairs" in text


def test_report_only_renders_the_finished_runs_and_starts_none(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(minatar.scores, "random_score", lambda game, episodes: 0.0)
    monkeypatch.setattr(minatar, "run_one", lambda *a: pytest.fail("--report-only started a run"))
    argv = ["--games", "Breakout", "--seeds", "2", "--frames", "2000000", "--out", str(tmp_path)]
    assert minatar.main([*argv, "--report-only"]) == 2  # nothing finished yet
    assert "no finished run" in capsys.readouterr().err
    path = minatar.record_path("tfdqn", "Breakout", 0, 2_000_000, 100, tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(run("Breakout", 0, 5, host=FAST)))
    assert minatar.main([*argv, "--report-only"]) == 0
    text = (tmp_path / "report.md").read_text()
    assert "1 of 2 runs finished (an interim report)." in text and "--report-only" not in text
    assert "| Breakout | 1 |" in text and "boot aaaa1111" in text
