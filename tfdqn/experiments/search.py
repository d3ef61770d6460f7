"""Hyperparameter search on the sweep's machinery: random or grid search over named DQNConfig fields,
scored by a stated objective, with ASHA-style halving of hopeless trials at env-step milestones.

- A **trial** is one config (the environment's preset + the sampled fields, `tfdqn.experiments.space`) run
  with every seed; each (trial, seed) is one run of the sweep's engine (a Ray task, its own folder, the
  single-run protocol with a confirmed stop at the threshold).
- **Objective** (lower is better): the median over the trial's seeds of env steps to the first greedy
  evaluation >= the threshold, an unsolved (or stopped) run counted as the budget; ties go to the higher
  median best score.
- **Halving** (`tfdqn.experiments.halving`): at each milestone (default budget/eta^2 and budget/eta, on
  evaluation steps) a trial goes on only if its median best evaluation so far is in the top 1/eta.

Ray Tune is not used: its extra would add pandas, pyarrow and tensorboardX (~255 MB on top of Ray's ~242 MB,
measured) for a rule that takes ~60 lines here, and Tune's trial model (a function reporting per iteration)
would replace the sweep's one-process-per-run workers.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import os
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tfdqn.experiments.cluster import require_ray
from tfdqn.experiments.engine import read_record, run_specs
from tfdqn.experiments.errors import SweepError, SweepInterrupted
from tfdqn.experiments.halving import Halving, milestones_for
from tfdqn.experiments.plan import Protocol, RunSpec, check_configs, check_folder, check_seeds, run_key
from tfdqn.experiments.report import render, summarize, write_report
from tfdqn.experiments.space import check_space, sample
from tfdqn.experiments.tracking import Tracking, worker_tracking
from tfdqn.fileio import write_json


def objective(records: list[dict[str, Any]], budget: int) -> float | None:
    """Median over a trial's runs of env steps to the threshold, unsolved or stopped counted as the budget."""
    values = [
        budget if r["status"] != "ok" or r.get("solved_step") is None else r["solved_step"]
        for r in records
        if r["status"] in ("ok", "stopped")
    ]
    return statistics.median(values) if values else None


def search(
    space: dict[str, Any],
    seeds: Sequence[int],
    out: str | os.PathLike[str],
    protocol: Protocol = Protocol(),
    *,
    method: str = "random",
    trials: int = 12,
    sample_seed: int = 0,
    eta: float = 3.0,
    milestones: Sequence[int] | None = None,
    halving: bool = True,
    address: str | None = None,
    num_cpus: int | None = None,
    cpus_per_run: float = 1,
    ship_code: bool = False,
    command: str | None = None,
    tracking: Tracking | None = None,
) -> dict[str, Any]:
    """Run the search into `out` (search.json and search.md: trials ranked by the objective, with each config's
    medians and 95% intervals; best_config.json: the winner's fields, for `train_cartpole.py --config`).
    Rerunning into the same folder resumes (finished runs are kept)."""
    out = Path(out)
    seeds = check_seeds(seeds)
    check_space(space, method)
    if eta <= 1:
        raise SweepError(f"eta={eta} must be > 1")
    configs = sample(space, method, trials, sample_seed)
    check_configs(configs, protocol.env_id, protocol.preset)
    protocol = protocol.resolved()
    if not protocol.stop_on_reward:
        raise SweepError("a search scores env steps to the threshold: runs stop on a confirmed solve")
    if milestones is None:
        milestones = milestones_for(protocol.budget, eta, protocol.eval_every)
    bad = [m for m in milestones if not 0 < m < protocol.budget]
    if bad:
        raise SweepError(f"milestone {bad[0]} is not inside the budget (0, {protocol.budget})")
    plan = {
        "kind": "search",
        "protocol": dataclasses.asdict(protocol),
        "space": space,
        "method": method,
        "trials": trials,
        "sample_seed": sample_seed,
        "eta": eta,
        "milestones": list(milestones),
        "halving": halving,
    }
    check_folder(out, plan, "search")
    require_ray("searches")
    rule = Halving(milestones, eta, len(seeds)) if halving else None
    tracked = worker_tracking(tracking, out, configs)
    specs = [
        RunSpec(
            run_key(name, seed),
            protocol.argv(overrides, seed) + tracked(run_key(name, seed)),
            {"config": name, "seed": seed},
            group=name,
        )
        for name, overrides in configs.items()
        for seed in seeds
    ]  # trial-major
    result: dict[str, Any] = {
        "plan": plan,
        "seeds": seeds,
        "configs": configs,
        "command": command or "tfdqn.experiments.search.search(...)",
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "objective": "median over seeds of env steps to the first evaluation >= threshold (unsolved or "
        "stopped = the budget); lower is better, ties to the higher median best score",
    }

    def write(records: list[dict[str, Any]], note: str | None = None) -> None:
        result.update(
            runs=records,
            note=note,
            ranking=rank(records, configs, protocol.budget),
            halving=None if rule is None else rule.state(),
            summary=summarize(records, configs, protocol.steps),
        )
        if result["ranking"]:
            write_json(out / "best_config.json", configs[result["ranking"][0]["config"]])
        write_report(out, result, "search", render_search)

    out.mkdir(parents=True, exist_ok=True)
    try:
        records = run_specs(
            specs,
            out,
            address=address,
            num_cpus=num_cpus,
            cpus_per_run=cpus_per_run,
            ship_code=ship_code,
            rule=rule,
            on_record=lambda _r, rs: write(rs),
        )
    except SweepInterrupted as exc:
        write([r for s in specs if (r := read_record(out / "runs" / s.key)) is not None], f"partial: {exc}")
        raise
    write(records)
    return result


def rank(records: list[dict[str, Any]], configs: dict[str, dict[str, Any]], budget: int) -> list[dict[str, Any]]:
    """Trials by objective (lower first), then by median best score (higher first)."""
    rows = []
    for name, fields in configs.items():
        rs = [r for r in records if r.get("config") == name]
        value = objective(rs, budget)
        if value is None:
            continue
        best = [r["best_score"] for r in rs if r["status"] == "ok"]
        stopped = [r for r in rs if r["status"] == "stopped"]
        rows.append(
            {
                "config": name,
                "fields": fields,
                "objective": value,
                "runs": len(rs),
                "stopped_at": min((r.get("stopped_at") or 0 for r in stopped), default=None),
                "median_best_score": statistics.median(best) if best else None,
            }
        )
    return sorted(rows, key=lambda r: (r["objective"], -(r["median_best_score"] or -math.inf)))


def render_search(result: dict[str, Any]) -> str:
    """The search's Markdown: the ranking, then the sweep table of every trial."""
    p = result["plan"]
    lines = [
        f"# Search: {p['method']} over {', '.join(p['space'])} ({len(result['configs'])} trials x "
        f"{len(result['seeds'])} seeds)",
        "",
        f"Objective: {result['objective']}. Halving: "
        + (
            f"eta {p['eta']:g} at env-step milestones {', '.join(f'{m:,}' for m in p['milestones'])}."
            if p["halving"]
            else "off."
        ),
        "",
        "| rank | trial | objective (env steps) | median best | runs | stopped at | fields |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for i, r in enumerate(result.get("ranking", []), 1):
        lines.append(
            f"| {i} | {r['config']} | {r['objective']:,.0f} | "
            f"{'-' if r['median_best_score'] is None else format(r['median_best_score'], '.1f')} | "
            f"{r['runs']} | {'-' if r['stopped_at'] is None else format(r['stopped_at'], ',')} | "
            f"`{json.dumps(r['fields'])}` |"
        )
    sweep_like = {**result, "plan": {**p, "configs": result["configs"]}}
    return "\n".join(lines) + "\n\n" + render(sweep_like).split("\n", 2)[2]
