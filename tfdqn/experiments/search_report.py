"""A search's report: trials ranked by the objective, the parameter importances, the sweep's table of every run
(`search.json`, `search.md`), and the winner as a config file (`best_config.json`, which `tfdqn train --config`
reads) and as a preset entry to paste into `tfdqn/presets.py` (`best_preset.py`).
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

from tfdqn.config import DQNConfig
from tfdqn.experiments.report import render, summarize, write_report
from tfdqn.fileio import atomic_write, write_json
from tfdqn.presets import config_for_env

OBJECTIVE = (
    "median over seeds of env steps to the first evaluation >= threshold (unsolved or pruned = the budget); "
    "lower is better, ties to the higher median best score"
)


def trial_rows(study: Any, runs: dict[str, dict[str, Any]], budget: int) -> list[dict[str, Any]]:
    """Every trial of the study with runs: finished ones first, by objective, then by median best score."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        name = t.user_attrs.get("config")
        rs = [r for r in runs.values() if r.get("config") == name]
        done = [r for r in rs if r["status"] in ("ok", "stopped")]
        if name is None or not done:
            continue
        value = statistics.median(
            budget if r["status"] != "ok" or r.get("solved_step") is None else r["solved_step"] for r in done
        )
        best = [r["best_score"] for r in rs if r["status"] == "ok"]
        rows.append(
            {
                "config": name,
                "state": t.state.name.lower(),
                "fields": t.user_attrs.get("overrides", {}),
                "objective": value,
                "runs": len(rs),
                "pruned_at": max(t.intermediate_values) if t.state.name == "PRUNED" and t.intermediate_values else None,
                "median_best_score": statistics.median(best) if best else None,
            }
        )
    return sorted(rows, key=lambda r: (r["state"] != "complete", rank_key(r["objective"], r["median_best_score"])))


def rank_key(objective: float, median_best_score: float | None) -> tuple[float, float]:
    """A finished trial's place in the ranking: fewer env steps first, ties to the higher median best score (a
    trial without one last; a median best of exactly 0 is a score, as FrozenLake's can be)."""
    return (objective, math.inf if median_best_score is None else -median_best_score)


def write_search(
    out: Path,
    result: dict[str, Any],
    study: Any,
    runs: dict[str, dict[str, Any]],
    note: str | None = None,
    final: bool = False,
) -> None:
    """Rewrite the search's files from the study and the runs so far (importances only when `final`)."""
    from tfdqn.experiments.study import import_optuna, importances

    protocol = result["plan"]["protocol"]
    records = sorted(runs.values(), key=lambda r: r["key"])
    configs = {
        t.user_attrs["config"]: t.user_attrs.get("overrides", {})
        for t in study.get_trials(deepcopy=False)
        if "config" in t.user_attrs
    }
    result.update(
        runs=records,
        configs=configs,
        note=note,
        ranking=trial_rows(study, runs, protocol["steps"]),
        states={s: sum(t.state.name.lower() == s for t in study.trials) for s in ("complete", "pruned", "fail")},
        repeated={t.user_attrs["config"]: t.user_attrs["same_as"] for t in study.trials if "same_as" in t.user_attrs},
        summary=summarize(records, configs, protocol["steps"]),
    )
    if final:
        result["importances"] = importances(import_optuna(), study)
    winner = next((r for r in result["ranking"] if r["state"] == "complete"), None)
    if winner is not None:
        config = config_for_env(protocol["env_id"], protocol["preset"], **winner["fields"]).to_dict()
        config.pop("seed")
        write_json(out / "best_config.json", config)
        text = preset_snippet(config, winner, out, result)

        def write_snippet(tmp: str) -> None:
            Path(tmp).write_text(text, encoding="utf-8")

        atomic_write(out / "best_preset.py", write_snippet)
    write_report(out, result, "search", render_search)


def preset_snippet(config: dict[str, Any], winner: dict[str, Any], out: Path, result: dict[str, Any]) -> str:
    """The winner as an entry of `tfdqn.presets.PRESETS`: its fields that differ from `DQNConfig()`'s defaults."""
    env_id = config["env_id"]
    defaults = DQNConfig(env_id=env_id).to_dict()
    fields = {k: v for k, v in config.items() if k != "env_id" and v != defaults[k]}
    body = ", ".join(f"{k!r}: {_literal(v)}" for k, v in sorted(fields.items()))
    name = env_id.split("-")[0].lower()
    return (
        f"# The winner of a tfdqn search ({result['command']}, {result['date']}): trial {winner['config']}, median "
        f"{winner['objective']:,.0f} env steps to the threshold over seeds {result['seeds']}.\n"
        "# Adopt it only once it beats the general defaults on seeds it was not chosen on.\n"
        f"{name!r}: Preset(\n"
        f"    ({env_id!r},),\n"
        f"    {{{body}}},\n"
        f"    {str(out / 'search.md')!r},\n"
        "),\n"
    )


def _literal(value: Any) -> str:
    """A Python literal for a config value (lists as tuples, as the presets spell them)."""
    if isinstance(value, list):
        return "(" + ", ".join(_literal(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


def render_search(result: dict[str, Any]) -> str:
    """The search's Markdown: the ranking and the importances, then the sweep table of every run."""
    p = result["plan"]
    pruner = p["pruner"]
    milestones = ", ".join(f"{m:,}" for m in p["milestones"])
    lines = [
        f"# Search: {p['sampler']} over {', '.join(p['space'])} ({len(result['configs'])} of {p['trials']} trials x "
        f"{len(result['seeds'])} seeds)",
        "",
        f"Objective: {result['objective']}. Pruner: {pruner}"
        + (
            f" (eta {p['eta']:g}, shortfall to the threshold at env-step milestones {milestones})"
            if pruner
            in (
                "halving",
                "hyperband",
            )
            else ""
        )
        + f". Trials: {', '.join(f'{n} {s}' for s, n in result['states'].items())}"
        + (
            f" ({len(result['repeated'])} drew the fields of an earlier trial and took its score without running: "
            + ", ".join(f"{k} = {v}" for k, v in result["repeated"].items())
            + ")."
            if result["repeated"]
            else "."
        ),
        "",
        "| rank | trial | state | objective (env steps) | median best | runs | pruned at | fields |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for i, r in enumerate(result.get("ranking", []), 1):
        lines.append(
            f"| {i} | {r['config']} | {r['state']} | {r['objective']:,.0f} | "
            f"{'-' if r['median_best_score'] is None else format(r['median_best_score'], '.1f')} | {r['runs']} | "
            f"{'-' if r['pruned_at'] is None else format(r['pruned_at'], ',')} | `{json.dumps(r['fields'])}` |"
        )
    imp = result.get("importances")
    lines += ["", "Parameter importances (PED-ANOVA over finished trials): "]
    lines[-1] += ", ".join(f"{k} {v:.2f}" for k, v in imp.items()) if imp else "too few finished trials to say."
    sweep_like = {**result, "plan": {**p, "configs": result["configs"]}}
    return "\n".join(lines) + "\n\n" + render(sweep_like).split("\n", 2)[2]
