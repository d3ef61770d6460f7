"""Pool one config's runs from several benchmark and screen reports, and compare pooled configs seed by seed.

`python scripts/pool_runs.py --group preset screen/a.json:held_decay_layer_norm lunarlander.json:tfdqn_default
--group sb3 lunarlander.json:sb3_zoo other/lunarlander.json:sb3_zoo --out results/benchmark/pooled/NAME.json`

Ten seeds cannot tell a rate of 8/10 from 7/10 (Wilson [0.49, 0.94]); the same config run on other seeds in
other reports can narrow it. Each `--group LABEL FILE:NAME ...` takes the runs of NAME (a screen's candidate or
a suite's system: tfdqn_default, sb3_zoo, ...) from each report JSON, and refuses to pool runs that are not the
same experiment: one environment and step budget, the same config in every run but its seed, no seed twice.
The report (OUT.json and OUT.md) has the screen report's table per group (`screen_configs.render_table`: solved, steps
to the threshold, best and final on 100 episodes, with 95% intervals) and, for the first group against each
other, the seeds both ran: finals and bests at the threshold held by both, by one only, by neither, with an
exact McNemar p (two-sided) on the seeds where they differ.

Pooled runs come from different runs of the machine: rates and steps pool fairly (a run's env steps do not
depend on its load), train seconds do not, and the paired comparison is only as side by side as its sources.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

from tfdqn.cli import ArgumentParser, run_main  # noqa: E402
from tfdqn.errors import ConfigError  # noqa: E402

import benchmark_systems as bs  # noqa: E402
import screen_configs  # noqa: E402

IGNORED_FIELDS = ("seed",)  # the only config field pooled runs may differ in


def parse_args(argv: list[str] | None = None):
    p = ArgumentParser(description="Pool one config's runs from several reports; compare pooled configs by seed.")
    p.add_argument("--group", nargs="+", action="append", required=True, metavar=("LABEL", "FILE:NAME"),
                   help="a label, then report JSONs with the candidate or system to take from each")
    p.add_argument("--out", type=Path, required=True, help="OUT.json; OUT.md is written beside it")
    return p.parse_args(argv)


def select(source: str) -> list[dict[str, Any]]:
    """The runs of NAME in FILE for a `FILE:NAME` selector (NAME: a run's candidate, or else its system)."""
    file, sep, name = source.rpartition(":")
    if not sep or not file or not name:
        raise ConfigError(f"{source!r}: give FILE:NAME, e.g. results/benchmark/lunarlander.json:tfdqn_default")
    path = Path(file)
    if not path.is_file():
        raise ConfigError(f"{file}: no such report JSON")
    runs = json.loads(path.read_text(encoding="utf-8")).get("runs") or []
    chosen = [r for r in runs if r.get("candidate", r.get("system")) == name]
    if not chosen:
        names = sorted({str(r.get("candidate", r.get("system"))) for r in runs})
        raise ConfigError(f"{file} has no runs of {name!r} (it has: {', '.join(names) or 'none'})")
    return chosen


def _config(run: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in (run.get("config") or {}).items() if k not in IGNORED_FIELDS}


def pool(label: str, sources: list[str]) -> list[dict[str, Any]]:
    """One group's runs, relabelled `label`, after checking they are one experiment on distinct seeds."""
    runs: list[dict[str, Any]] = []
    for source in sources:
        runs += [{**r, "candidate": label, "source": source} for r in select(source)]
    first = runs[0]
    for r in runs[1:]:
        for key in ("env_id", "step_budget"):
            if r.get(key) != first.get(key):
                raise ConfigError(f"group {label!r}: {r['source']} ran {key} {r.get(key)!r}, {first['source']} "
                                  f"{first.get(key)!r}; pool only one experiment")
        a, b = _config(first), _config(r)
        if a != b:
            diff = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
            raise ConfigError(f"group {label!r}: {r['source']} (seed {r['seed']}) and {first['source']} (seed "
                              f"{first['seed']}) ran different configs ({', '.join(diff)}); pool only one config")
    seeds = [r["seed"] for r in runs]
    twice = sorted({s for s in seeds if seeds.count(s) > 1})
    if twice:
        raise ConfigError(f"group {label!r}: seed(s) {', '.join(map(str, twice))} appear twice")
    return sorted(runs, key=lambda r: r["seed"])


def paired(a: list[dict[str, Any]], b: list[dict[str, Any]], threshold: float) -> dict[str, Any]:
    """On the seeds both groups ran: how many finals and bests reached `threshold` in both, one or neither."""
    from tfdqn.stats import mcnemar_exact

    by_seed = {r["seed"]: r for r in b}
    common = [(r, by_seed[r["seed"]]) for r in a if r["seed"] in by_seed]
    out: dict[str, Any] = {"seeds": [x["seed"] for x, _ in common]}
    def holds(run: dict[str, Any], what: str) -> bool:
        return run.get(what) is not None and run[what]["mean"] >= threshold

    for what in ("final_100", "best_100"):
        held = [(holds(x, what), holds(y, what)) for x, y in common]
        only_a, only_b = sum(p and not q for p, q in held), sum(q and not p for p, q in held)
        out[what] = {"both": sum(p and q for p, q in held), "only_first": only_a, "only_second": only_b,
                     "neither": sum(not p and not q for p, q in held), "mcnemar_p": mcnemar_exact(only_a, only_b)}
    return out


def render(result: dict[str, Any]) -> str:
    """The screen table over the pooled groups, each group's sources, then the paired comparisons."""
    lines = ["# Pooled runs", "", f"`{result['command']}`, {result['date']}; {len(result['runs'])} runs of "
             f"{result['env_id']}, each group one config on distinct seeds.", "",
             "Intervals are 95%: bootstrap over seeds for the median (an unsolved seed counts as worse than any "
             "solve), Wilson for the rates.", "", *screen_configs.render_table(result["runs"]),
             "", "Pooled from (each group is one config; only its seed differs run to run):", ""]
    for label, sources in result["candidates"].items():
        lines.append(f"- **{label}**: " + "; ".join(f"`{s}`" for s in sources))
    labels = list(result["candidates"])
    if result["paired"]:
        lines += ["", f"Seed by seed, {labels[0]} against each other group on the seeds both ran (>= "
                      f"{result['threshold']:g} on 100 episodes; McNemar: exact two-sided binomial test on the seeds "
                      "where exactly one of the two held):", "",
                  "| against | seeds | policy | both | only the first | only the other | neither | McNemar p |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for other, cmp in result["paired"].items():
            seeds = cmp["seeds"]
            for what, name in (("final_100", "final"), ("best_100", "best")):
                c = cmp[what]
                lines.append(f"| {other} | {len(seeds)} | {name} | {c['both']} | {c['only_first']} | "
                             f"{c['only_second']} | {c['neither']} | "
                             f"{'-' if not seeds else format(c['mcnemar_p'], '.3f')} |")
    lines += ["", "Rates and steps pool fairly across reports (a run's env steps do not depend on the machine's "
                  "load); env steps/s do not, and a paired comparison is only as side by side as its sources."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for group in args.group:
        if len(group) < 2:
            raise ConfigError(f"--group {group[0]}: name at least one FILE:NAME after the label")
    labels = [g[0] for g in args.group]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"--group labels must differ: {', '.join(labels)}")
    groups = {g[0]: pool(g[0], g[1:]) for g in args.group}
    envs = {r["env_id"] for runs in groups.values() for r in runs}
    if len(envs) != 1:
        raise ConfigError(f"the groups ran different environments ({', '.join(sorted(envs))}); pool one at a time")
    env_id = envs.pop()
    threshold = bs.TASKS[env_id]["threshold"]
    first, *others = labels
    result = {"command": "python scripts/pool_runs.py " + " ".join(sys.argv[1:] if argv is None else map(str, argv)),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "env_id": env_id, "threshold": threshold,
              "candidates": {g[0]: g[1:] for g in args.group},
              "runs": [r for runs in groups.values() for r in runs],
              "paired": {o: paired(groups[first], groups[o], threshold) for o in others}}
    from benchmark import atomic_write_text
    from tfdqn.fileio import write_json

    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result)
    text = render(result)
    atomic_write_text(args.out.with_suffix(".md"), text)
    print(text)
    return 0


if __name__ == "__main__":
    run_main(main)
