"""Hyperparameter search on the sweep's machinery: random or grid search over named DQNConfig fields,
scored by a stated objective, with ASHA-style halving of hopeless trials at env-step milestones.

- A **trial** is one config (the environment's preset + the sampled fields) run with every seed; each
  (trial, seed) is one run of `tfdqn.experiments.sweep` (a Ray task, its own folder, the single-run protocol with a
  confirmed stop at the threshold).
- **Objective** (lower is better): the median over the trial's seeds of env steps to the first greedy
  evaluation >= the threshold, an unsolved (or stopped) run counted as the budget; ties go to the higher
  median best score.
- **Halving** (asynchronous successive halving, Li et al. 2020, as Ray Tune's ASHA): at each milestone
  (default budget/eta^2 and budget/eta, on evaluation steps), once every seed of a trial has reached it (or
  ended), the trial's rung value is the median over seeds of the best evaluation mean so far; the trial goes
  on only if that value is in the top 1/eta of the values recorded at that milestone so far (the first
  `eta` trials at a milestone always go on: too few to rank). Stopped runs end at their next evaluation.

Ray Tune is not used: its extra would add pandas, pyarrow and tensorboardX (~255 MB on top of Ray's ~242 MB,
measured) for a rule that takes ~60 lines here, and Tune's trial model (a function reporting per iteration)
would replace the sweep's one-process-per-run workers.
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import json
import math
import os
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tfdqn.errors import ConfigError
from tfdqn.experiments.sweep import (
    Protocol,
    RunSpec,
    SweepError,
    SweepInterrupted,
    check_configs,
    check_folder,
    check_seeds,
    read_record,
    run_key,
    run_specs,
    summarize,
    write_report,
)

KINDS = ("uniform", "log_uniform", "int", "log_int")
"""Ranges a field may take: {"uniform": [lo, hi]}, {"log_uniform": [lo, hi]}, {"int": [lo, hi]} (inclusive),
{"log_int": [lo, hi]}; or a list of choices."""


# ----- the space --------------------------------------------------------------------------------------
def check_space(space: dict[str, Any], method: str) -> None:
    """Every field is a DQNConfig field with a list of choices or a {kind: [low, high]} range; grid search
    needs lists. A ConfigError names the first bad field."""
    from tfdqn.config import DQNConfig

    names = {f.name for f in dataclasses.fields(DQNConfig)} - {"seed", "env_id"}
    if not space:
        raise SweepError("the search space is empty: name at least one DQNConfig field")
    for field, spec in space.items():
        if field not in names:
            raise ConfigError(f"search space: {field!r} is not a DQNConfig field (seed and env_id are the sweep's)")
        if isinstance(spec, list):
            if not spec:
                raise SweepError(f"search space: {field!r} has an empty list of choices")
            continue
        if method == "grid":
            raise SweepError(f"search space: grid search needs a list of values for {field!r}, not {spec!r}")
        if not (isinstance(spec, dict) and len(spec) == 1 and next(iter(spec)) in KINDS):
            raise SweepError(
                f"search space: {field!r} must be a list of choices or one of "
                f"{{{', '.join(KINDS)}: [low, high]}}, not {spec!r}"
            )
        kind, bounds = next(iter(spec.items()))
        if (
            not isinstance(bounds, list)
            or len(bounds) != 2
            or not all(isinstance(b, (int, float)) for b in bounds)
            or not bounds[0] <= bounds[1]
            or (kind.startswith("log") and bounds[0] <= 0)
        ):
            raise SweepError(
                f"search space: {field!r}: {kind} needs [low, high] with low <= high"
                + (" and low > 0" if kind.startswith("log") else "")
            )


def sample(space: dict[str, Any], method: str = "random", trials: int = 12, seed: int = 0) -> dict[str, dict[str, Any]]:
    """The trials' configs, named t00, t01, ...: every combination (grid) or `trials` random draws."""
    import numpy as np

    if method == "grid":
        fields = list(space)
        combos = [dict(zip(fields, values)) for values in itertools.product(*(space[f] for f in fields))]
    elif method == "random":
        rng = np.random.default_rng(seed)
        combos = [{field: _draw(spec, rng) for field, spec in space.items()} for _ in range(trials)]
    else:
        raise SweepError(f"search method {method!r} must be 'random' or 'grid'")
    width = len(str(len(combos) - 1))
    return {f"t{i:0{max(2, width)}d}": c for i, c in enumerate(combos)}


def _draw(spec: Any, rng: Any) -> Any:
    if isinstance(spec, list):
        return spec[int(rng.integers(len(spec)))]
    kind, (lo, hi) = next(iter(spec.items()))
    if kind == "uniform":
        return float(rng.uniform(lo, hi))
    if kind == "log_uniform":
        return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
    if kind == "int":
        return int(rng.integers(lo, hi + 1))
    return int(min(hi, max(lo, round(math.exp(rng.uniform(math.log(lo), math.log(hi)))))))  # log_int


def milestones_for(steps: int, eta: float, eval_every: int) -> list[int]:
    """budget/eta^k for k = 2, 1 rounded up to evaluation steps, below the budget and distinct."""
    out = []
    for k in (2, 1):
        m = math.ceil(steps / eta**k / eval_every) * eval_every
        if 0 < m < steps and m not in out:
            out.append(m)
    return out


# ----- the halving rule (lives in the sweep's Board actor) --------------------------------------------
class Halving:
    """Asynchronous successive halving over env-step milestones, per trial (a group of seed runs)."""

    def __init__(self, milestones: Sequence[int], eta: float, runs_per_trial: int):
        self.milestones, self.eta, self.runs_per_trial = sorted(milestones), eta, runs_per_trial
        self.points: dict[str, dict[str, list[tuple[int, float]]]] = {}
        self.ended: dict[str, set[str]] = {}
        self.rungs: dict[int, dict[str, float]] = {m: {} for m in self.milestones}
        self.stopped: dict[str, int] = {}

    def alive(self, trial: str | None) -> bool:
        return trial not in self.stopped

    def report(self, trial: str, run: str, point: dict[str, Any]) -> bool:
        self.points.setdefault(trial, {}).setdefault(run, []).append((int(point["step"]), float(point["mean"])))
        self._decide(trial)
        return self.alive(trial)

    def finished(self, trial: str, run: str) -> None:
        self.ended.setdefault(trial, set()).add(run)
        self.points.setdefault(trial, {}).setdefault(run, [])
        self._decide(trial)

    def _decide(self, trial: str) -> None:
        runs = self.points.get(trial, {})
        ended = self.ended.get(trial, set())
        for m in self.milestones:
            if trial in self.rungs[m] or trial in self.stopped:
                continue
            if len(runs) < self.runs_per_trial or not all(
                r in ended or (pts and pts[-1][0] >= m) for r, pts in runs.items()
            ):
                return  # not every seed has reached m yet
            value = statistics.median(max((v for s, v in pts if s <= m), default=-math.inf) for pts in runs.values())
            recorded = list(self.rungs[m].values())
            self.rungs[m][trial] = value
            if len(recorded) >= self.eta:
                ranked = sorted(recorded + [value], reverse=True)
                cutoff = ranked[max(1, int(len(ranked) / self.eta)) - 1]
                if value < cutoff:
                    self.stopped[trial] = m
                    return

    def summary(self) -> str:
        rungs = ", ".join(f"{len(v)} at {m:,}" for m, v in self.rungs.items())
        return f"halving: {len(self.stopped)} trial(s) stopped; rung values recorded: {rungs}"

    def state(self) -> dict[str, Any]:
        return {
            "milestones": self.milestones,
            "eta": self.eta,
            "stopped": self.stopped,
            "rungs": {str(m): v for m, v in self.rungs.items()},
        }


# ----- the search --------------------------------------------------------------------------------------
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
    out: str | os.PathLike,
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
        milestones = milestones_for(protocol.steps, eta, protocol.eval_every)
    bad = [m for m in milestones if not 0 < m < protocol.steps]
    if bad:
        raise SweepError(f"milestone {bad[0]} is not inside the budget (0, {protocol.steps})")
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
    rule = Halving(milestones, eta, len(seeds)) if halving else None
    specs = [
        RunSpec(run_key(name, seed), protocol.argv(overrides, seed), {"config": name, "seed": seed}, group=name)
        for name, overrides in configs.items()
        for seed in seeds
    ]  # trial-major
    result = {
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
            ranking=rank(records, configs, protocol.steps),
            halving=None if rule is None else rule.state(),
            summary=summarize(records, configs, protocol.steps),
        )
        if result["ranking"]:
            from tfdqn.fileio import write_json

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
    from tfdqn.experiments.sweep import render

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
