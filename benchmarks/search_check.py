"""Does a search's winner beat the general defaults on seeds it was not chosen on? (issue 30: a preset is adopted
only when it does.)

`python -m benchmarks.search_check SEARCH_DIR --seeds 100-109` reads the finished search in SEARCH_DIR (its plan:
environment, preset, budget, evaluation protocol; and its best trial's fields), then runs the winner and the
defaults (the search's base: the same preset with no overrides) on fresh seeds, as one `tfdqn sweep` into
SEARCH_DIR/check (interleaved seed by seed; a rerun resumes it), and writes `check.md` and `check.json` there:
per config the search's objective (env steps to the first greedy evaluation at the threshold, unsolved = the
budget) as a median with its 95% bootstrap interval, solves, best.keras and the final policy; the ratio of the
medians (winner / defaults) with its interval, and the probability that a winner's run solves sooner than a
defaults' run (ties count half). The winner "beats the defaults" only where the ratio's interval lies below 1.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path
from typing import Any

from benchmarks.aggregate import probability_of_improvement
from benchmarks.common import command_line, publish
from tfdqn.cli import ArgumentParser, positive_int, run_main
from tfdqn.errors import ConfigError
from tfdqn.experiments import stats

CONFIGS = ("defaults", "winner")


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command's flags."""
    p = ArgumentParser(prog="python -m benchmarks.search_check", description=__doc__.split("\n\n")[0])
    p.add_argument("search", type=Path, help="a finished search's folder (search.json)")
    p.add_argument("--seeds", nargs="+", default=["100-109"], help="fresh seeds: a list or ranges (default 100-109)")
    p.add_argument("--num-cpus", type=positive_int, default=None, help="cores of the local Ray (default: all)")
    return p.parse_args(argv)


def read_search(folder: Path) -> tuple[dict[str, Any], dict[str, Any], list[int]]:
    """The search's plan, its winner's fields and its seeds; one line when the folder holds no finished trial."""
    path = folder / "search.json"
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ConfigError(f"{path} is not a search's result: give the folder of a `tfdqn search`") from None
    winner = next((r for r in result.get("ranking", []) if r.get("state") == "complete"), None)
    if winner is None:
        raise ConfigError(f"{folder} has no finished trial yet: run (or resume) the search first")
    return result["plan"], winner, [int(s) for s in result["seeds"]]


def fresh_seeds(given: list[str], used: list[int]) -> list[int]:
    """The seeds asked for, none of which the search chose its winner on."""
    from tfdqn.commands._ray_flags import seeds_of

    seeds = seeds_of(argparse.Namespace(seeds=given))
    if overlap := sorted(set(seeds) & set(used)):
        raise ConfigError(f"seeds {overlap} were the search's own: check on fresh seeds")
    return seeds


def verdict(result: dict[str, Any], budget: int) -> dict[str, Any]:
    """Per config the objective's values (unsolved = the budget); the ratio winner / defaults and P(winner sooner)."""
    steps = {
        name: [budget if r.get("solved_step") is None else r["solved_step"] for r in result["runs"]
               if r.get("config") == name and r["status"] == "ok"]
        for name in CONFIGS
    }  # fmt: skip
    out: dict[str, Any] = {"steps": steps}
    if all(steps.values()):
        a, b = steps["winner"], steps["defaults"]
        out["ratio"] = [stats.median(a) / stats.median(b), *stats.ratio_ci(a, b)]
        sooner = {"task": [-x for x in a]}, {"task": [-x for x in b]}
        out["p_sooner"] = [probability_of_improvement(*sooner), *stats.stratified_bootstrap_ci(
            probability_of_improvement, *sooner)]  # fmt: skip
        out["beats_defaults"] = out["ratio"][2] < 1.0
    return out


def render(check: dict[str, Any]) -> str:
    """The Markdown report."""
    p, v = check["protocol"], check["verdict"]
    lines = [
        f"# Search check: the winner of {check['search']} beside the defaults on fresh seeds",
        "",
        f"Produced by `{check['command']}` on {check['date']}; {p['env_id']}, preset {p['preset'] or 'none'}, "
        f"budget {p['steps']:,} env steps, threshold {p['threshold']:g}, seeds {check['seeds'][0]}-"
        f"{check['seeds'][-1]} (the search chose on {check['search_seeds']}).",
        "",
        f"Winner ({check['winner']['config']}): `{json.dumps(check['winner']['fields'])}`",
        "",
        "| config | runs | solved | env steps to threshold, unsolved = budget [95%] | median best.keras | "
        "median final |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in check["summary"]:
        values = v["steps"].get(row["config"], [])
        cell = (
            f"{stats.median(values):,.0f} {stats.fmt_interval(stats.bootstrap_ci(values), ',.0f')}" if values else "-"
        )
        lines.append(
            f"| {row['config']} | {row['ok']} | {row['solved']}/{row['ok']} | {cell} | "
            f"{_num(row['median_best_score'])} | {_num(row['median_final_score'])} |"
        )
    if "ratio" in v:
        r, q = v["ratio"], v["p_sooner"]
        lines += [
            "",
            f"Winner / defaults, median env steps to threshold: {r[0]:.2f} [{r[1]:.2f}, {r[2]:.2f}]; "
            f"P(a winner run solves sooner than a defaults run): {q[0]:.2f} [{q[1]:.2f}, {q[2]:.2f}].",
            "",
            "Verdict: the winner "
            + ("beats the defaults (the ratio's interval lies below 1)." if v["beats_defaults"] else
               "does not beat the defaults on these seeds (the ratio's interval reaches 1)."),
        ]  # fmt: skip
    return "\n".join(lines) + "\n"


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def main(argv: list[str] | None = None) -> int:
    """Read the search, run the winner and the defaults on fresh seeds as one sweep, report the comparison."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    plan, winner, used = read_search(args.search)
    seeds = fresh_seeds(args.seeds, used)
    from tfdqn.experiments.plan import SweepProtocol
    from tfdqn.experiments.sweep import sweep

    protocol = SweepProtocol(**plan["protocol"])
    configs = {"defaults": {}, "winner": winner["fields"]}
    out = args.search / "check"
    result = sweep(configs, seeds, out, protocol, num_cpus=args.num_cpus, command=command_line("search_check", argv))
    check = {
        "command": command_line("search_check", argv),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "search": str(args.search),
        "search_seeds": used,
        "seeds": seeds,
        "protocol": plan["protocol"],
        "winner": winner,
        "summary": result["summary"],
        "verdict": verdict(result, int(plan["protocol"]["steps"])),
    }
    publish("check", check, render(check), out)
    return 0


if __name__ == "__main__":
    run_main(main)
