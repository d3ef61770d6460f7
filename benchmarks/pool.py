"""Pool one config's runs from several benchmark and screen reports, and compare pooled configs seed by seed.

`python -m benchmarks.pool --env LunarLander-v3
--group preset results/benchmark/screen/lunarlander_round10_seeds30.json:held_decay_layer_norm
results/benchmark/lunarlander.json:tfdqn_default
--group sb3 results/benchmark/lunarlander.json:sb3_zoo results/benchmark/lunarlander_defaults/lunarlander.json:sb3_zoo
--out results/benchmark/pooled/NAME.json` (the `lunarlander` preset's screen and suite runs; SB3's in two suites)

Ten seeds cannot tell a rate of 8/10 from 7/10 (Wilson [0.49, 0.94]); the same config run on other seeds in
other reports can narrow it. Each `--group LABEL FILE:NAME ...` takes the runs of NAME (a screen's candidate or
a suite's system: tfdqn_default, sb3_zoo, ...) on `--env` from each report JSON, and refuses to pool runs that
are not one experiment: one step budget, the same recorded config in every run but its seed (a tfdqn field
added since a run was recorded counts at its default, `benchmarks.summary.complete_config`), no seed twice.
The report (OUT.json and OUT.md) has the screen report's table per group (`benchmarks.screen.render_table`: solved,
steps to the threshold, best and final on 100 episodes, with 95% intervals), each group's median greedy evaluation
at every tenth of the budget (where along it the config learns), each source's command and date and,
for the first group against each other, the seeds both ran: finals and bests at the threshold held by both, by
one only, by neither, with an exact McNemar p (two-sided) on the seeds where they differ.

Pooled runs come from different runs of the machine, and the code may have changed between them in ways a config
does not record (the sources' commands and dates say when each ran): rates and steps pool fairly (a run's env
steps do not depend on its load), env steps/s do not, and a paired comparison is only as side by side as its
sources.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import screen
from benchmarks.common import atomic_write_text, command_line
from benchmarks.curves import curves, render_curves
from benchmarks.summary import complete_config
from benchmarks.tasks import TASKS
from tfdqn.cli import ArgumentParser, run_main
from tfdqn.errors import ConfigError
from tfdqn.experiments import stats
from tfdqn.fileio import write_json

NEEDED = (
    "seed",
    "env_id",
    "step_budget",
    "config",
    "solved_step",
    "best_100",
    "final_100",
    "evaluations",
    "train_steps_per_s",
)
"""What a run must have recorded to be pooled (a learning system's run in a suite or screen report)."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(description="Pool one config's runs from several reports; compare pooled configs by seed.")
    p.add_argument("--env", required=True, choices=tuple(TASKS), help="the environment whose runs to pool")
    p.add_argument(
        "--group",
        nargs="+",
        action="append",
        required=True,
        metavar=("LABEL", "FILE:NAME"),
        help="a label, then report JSONs with the candidate or system to take from each",
    )
    p.add_argument("--out", type=Path, required=True, help="OUT.json; OUT.md is written beside it")
    return p.parse_args(argv)


def read_report(path: Path) -> dict[str, Any]:
    """A report JSON with a list of runs, or a ConfigError naming what is wrong with it."""
    if not path.is_file():
        raise ConfigError(f"{path}: no such report JSON")
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable report JSON ({exc})") from None
    if not isinstance(report, dict) or not isinstance(report.get("runs"), list):
        raise ConfigError(f"{path}: not a suite or screen report (no list of runs)")
    return report


def run_name(run: dict[str, Any]) -> str:
    """What a selector's NAME matches: a screen run's candidate, else a suite run's system."""
    return str(run.get("candidate") or run.get("system"))


def select(source: str, env_id: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The runs of NAME on `env_id` in FILE for a `FILE:NAME` selector, and the report's command and date."""
    file, sep, name = source.rpartition(":")
    if not sep or not file or not name:
        raise ConfigError(f"{source!r}: give FILE:NAME, e.g. results/benchmark/lunarlander.json:tfdqn_default")
    report = read_report(Path(file))
    named = [r for r in report["runs"] if isinstance(r, dict) and run_name(r) == name]
    if not named:
        names = sorted({run_name(r) for r in report["runs"] if isinstance(r, dict)})
        raise ConfigError(f"{file} has no runs of {name!r} (it has: {', '.join(names) or 'none'})")
    chosen = [r for r in named if r.get("env_id") == env_id]
    if not chosen:
        raise ConfigError(
            f"{file}: {name!r} has no runs on {env_id} (it ran "
            f"{', '.join(sorted({str(r.get('env_id')) for r in named}))})"
        )
    for r in chosen:
        missing = [
            k
            for k in NEEDED
            if k not in r or (k == "config" and not r[k]) or (k == "evaluations" and not isinstance(r[k], list))
        ]
        if missing:
            raise ConfigError(
                f"{file}: {name!r} seed {r.get('seed')} did not record {', '.join(missing)}; "
                "only learning runs with a recorded config can be pooled"
            )
    return chosen, {"source": source, "command": report.get("command"), "date": report.get("date")}


def pool(label: str, sources: list[str], env_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One group's runs, relabelled `label`, after checking they are one experiment on distinct seeds; and
    where each source came from."""
    runs: list[dict[str, Any]] = []
    origins = []
    for source in sources:
        chosen, origin = select(source, env_id)
        runs += [{**r, "candidate": label, "source": source} for r in chosen]
        origins.append(origin)

    def recorded(run: dict[str, Any]) -> dict[str, Any]:  # what must match: the config but its seed
        return {k: v for k, v in complete_config(run).items() if k != "seed"}

    first = runs[0]
    want = recorded(first)
    for r in runs[1:]:
        if r["step_budget"] != first["step_budget"]:
            raise ConfigError(
                f"group {label!r}: {r['source']} ran {r['step_budget']:,} env steps, {first['source']} "
                f"{first['step_budget']:,}; pool only one experiment"
            )
        got = recorded(r)
        if got != want:
            diff = sorted(k for k in want.keys() | got.keys() if want.get(k) != got.get(k))
            raise ConfigError(
                f"group {label!r}: {r['source']} (seed {r['seed']}) and {first['source']} (seed "
                f"{first['seed']}) recorded different configs ({', '.join(diff)}); pool only one config"
            )
    by_seed: dict[int, list[str]] = {}
    for r in runs:
        by_seed.setdefault(r["seed"], []).append(r["source"])
    twice = {s: where for s, where in sorted(by_seed.items()) if len(where) > 1}
    if twice:
        raise ConfigError(
            f"group {label!r}: " + "; ".join(f"seed {s} is in {' and '.join(where)}" for s, where in twice.items())
        )
    return sorted(runs, key=lambda r: r["seed"]), origins


def paired(a: list[dict[str, Any]], b: list[dict[str, Any]], threshold: float) -> dict[str, Any]:
    """On the seeds both groups ran: how many finals and bests reached `threshold` in both, one or neither
    ("only_first": in `a`'s run only), with the exact McNemar p (None when no seed is shared)."""
    by_seed = {r["seed"]: r for r in b}
    common = [(r, by_seed[r["seed"]]) for r in a if r["seed"] in by_seed]

    def holds(run: dict[str, Any], what: str) -> bool:
        return run[what] is not None and run[what]["mean"] >= threshold

    out: dict[str, Any] = {"seeds": [x["seed"] for x, _ in common]}
    for what in ("final_100", "best_100"):
        held = [(holds(x, what), holds(y, what)) for x, y in common]
        only_a, only_b = sum(p and not q for p, q in held), sum(q and not p for p, q in held)
        out[what] = {
            "both": sum(p and q for p, q in held),
            "only_first": only_a,
            "only_second": only_b,
            "neither": sum(not p and not q for p, q in held),
            "mcnemar_p": stats.mcnemar_exact(only_a, only_b) if common else None,
        }
    return out


def render(result: dict[str, Any]) -> str:
    """The screen table over the pooled groups, each group's sources, then the paired comparisons."""
    lines = [
        "# Pooled runs",
        "",
        f"`{result['command']}`, {result['date']}; {len(result['runs'])} runs of "
        f"{result['env_id']}, each group one recorded config on distinct seeds.",
        "",
        screen.INTERVALS_NOTE,
        "",
        *screen.render_table(result["runs"]),
        "",
        *render_curves(result),
        "",
        "Pooled from (within a group the recorded configs are the same but for the seed):",
        "",
    ]
    for label, origins in result["groups"].items():
        lines.append(f"- **{label}**:")
        lines += [f"  - `{o['source']}`: `{o['command']}`, {o['date']}" for o in origins]
    labels = list(result["groups"])
    if result["paired"]:
        lines += [
            "",
            f"Seed by seed, {labels[0]} against each other group on the seeds both ran (>= "
            f"{result['threshold']:g} on 100 episodes; McNemar: exact two-sided binomial test on the seeds "
            "where exactly one of the two held):",
            "",
            f"| against | seeds | policy | both | only {labels[0]} | only the other | neither | McNemar p |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for other, cmp in result["paired"].items():
            for what, name in (("final_100", "final"), ("best_100", "best")):
                c = cmp[what]
                p = "-" if c["mcnemar_p"] is None else format(c["mcnemar_p"], ".3f")
                lines.append(
                    f"| {other} | {len(cmp['seeds'])} | {name} | {c['both']} | {c['only_first']} | "
                    f"{c['only_second']} | {c['neither']} | {p} |"
                )
    lines += [
        "",
        "Rates and steps pool fairly across reports (a run's env steps do not depend on the machine's "
        "load); env steps/s do not, code may have changed between sources in ways a config does not "
        "record, and a paired comparison is only as side by side as its sources.",
    ]
    return "\n".join(lines) + "\n"


def check_groups(groups: list[list[str]], out: Path) -> None:
    """Bad arguments, before any report is read: one line naming the problem."""
    if out.suffix != ".json":
        raise ConfigError(f"--out {out}: name the report's .json (its .md is written beside it)")
    for group in groups:
        label = group[0]
        if ":" in label or Path(label).exists():
            raise ConfigError(f"--group {label}: a group starts with its label, then its FILE:NAME selectors")
        if len(group) < 2:
            raise ConfigError(f"--group {label}: name at least one FILE:NAME after the label")
    labels = [g[0] for g in groups]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"--group labels must differ: {', '.join(labels)}")


def main(argv: list[str] | None = None) -> int:
    """Pool the groups, compare them, write OUT.json and OUT.md and print the report."""
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    args = parse_args(argv)
    check_groups(args.group, args.out)
    pooled = {g[0]: pool(g[0], g[1:], args.env) for g in args.group}
    budgets = {label: runs[0]["step_budget"] for label, (runs, _) in pooled.items()}
    if len(set(budgets.values())) > 1:
        ran = ", ".join(f"{label}: {b:,}" for label, b in budgets.items())
        raise ConfigError(f"groups ran different step budgets ({ran}); compare runs of one budget")
    threshold = TASKS[args.env]["threshold"]
    first, *others = pooled
    result = {
        "command": command_line("pool", argv),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "env_id": args.env,
        "threshold": threshold,
        "step_budget": budgets[first],
        "groups": {label: origins for label, (_, origins) in pooled.items()},
        "runs": [r for runs, _ in pooled.values() for r in runs],
        "paired": {o: paired(pooled[first][0], pooled[o][0], threshold) for o in others},
        "curves": curves({label: runs for label, (runs, _) in pooled.items()}, budgets[first], threshold),
    }
    text = render(result)  # before writing anything: a report that cannot render leaves no files
    write_json(args.out, result)
    atomic_write_text(args.out.with_suffix(".md"), text)
    print(text)
    return 0


if __name__ == "__main__":
    run_main(main)
