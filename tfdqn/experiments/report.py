"""A sweep's table: per config the solved rate and the medians over seeds with 95% intervals (`summarize`), its
Markdown (`render`), and both files written atomically (`write_report`: `<out>/sweep.json`, `<out>/sweep.md`).

The JSON is a file format (sweeps are resumed and reports rerendered from it): keep its keys.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tfdqn.experiments import stats
from tfdqn.fileio import atomic_write, write_json

Records = list[dict[str, Any]]


def describe_best(records: Records) -> str:
    """The finished run that reached the threshold soonest (else the best score): one phrase."""
    ok = [r for r in records if r["status"] == "ok"]
    if not ok:
        return ""
    r = min(ok, key=lambda r: (r.get("solved_step") is None, r.get("solved_step") or 0, -(r.get("best_score") or 0)))
    solved = f"solved at {r['solved_step']:,} steps" if r.get("solved_step") is not None else "not solved"
    return f"{r.get('config')} seed {r.get('seed')} {solved}, best {r.get('best_score', math.nan):.1f}"


def summarize(records: Records, configs: dict[str, dict[str, Any]], budget: int | None = None) -> Records:
    """Per config: runs, failures, solved k/n with a Wilson interval, and the medians (95% bootstrap intervals
    over seeds) of env steps to the threshold (unsolved = worse than any solve), best and final score."""
    rows = []
    for name in configs:
        rs = [r for r in records if r.get("config") == name]
        ok = [r for r in rs if r["status"] == "ok"]
        steps = [r.get("solved_step") for r in ok]
        solved = sum(s is not None for s in steps)
        row: dict[str, Any] = {
            "config": name,
            "overrides": configs[name],
            "runs": len(rs),
            "ok": len(ok),
            "failed": sum(r["status"] == "failed" for r in rs),
            "stopped": sum(r["status"] == "stopped" for r in rs),
            "seeds": [r.get("seed") for r in ok],
            "solved": solved,
            "solved_rate_ci": list(stats.wilson_ci(solved, len(ok))),
        }
        for field, values in (
            ("solved_step", steps),
            ("best_score", [r["best_score"] for r in ok]),
            ("final_score", [r["final_score"] for r in ok]),
            ("wall_seconds", [r["wall_seconds"] for r in ok]),
        ):
            row[f"median_{field}"] = _finite(stats.median(values)) if values else None
            row[f"ci_{field}"] = [_finite(v) for v in stats.bootstrap_ci(values)] if values else None
        if budget is not None:  # the search objective: unsolved counts as the budget
            row["median_steps_unsolved_as_budget"] = (
                stats.median([budget if s is None else s for s in steps]) if steps else None
            )
        rows.append(row)
    return rows


def _finite(v: float | None) -> float | None:
    """JSON-safe: inf (not solved) and nan (no data) become None."""
    return None if v is None or math.isinf(v) or math.isnan(v) else v


def write_report(
    out: Path, result: dict[str, Any], name: str = "sweep", renderer: Callable[[dict[str, Any]], str] | None = None
) -> None:
    """`out/<name>.json` and `out/<name>.md` (`renderer`, default `render`), atomically."""
    write_json(out / f"{name}.json", result)
    text = (renderer or render)(result)

    def write_markdown(tmp: str) -> None:
        Path(tmp).write_text(text, encoding="utf-8")

    atomic_write(out / f"{name}.md", write_markdown)


def _num(v: Any, fmt: str = ",.0f", none: str = "-") -> str:
    """`v` formatted, or `none` for a missing value."""
    return none if v is None else format(v, fmt)


def _interval(ci: Sequence[Any] | None, fmt: str = ",.0f", none: str = "not solved") -> str:
    """`[lo, hi]`, a missing bound shown as `none`; "" without an interval."""
    if not ci:
        return ""
    return "[" + ", ".join(none if v is None else format(v, fmt) for v in ci) + "]"


def render(result: dict[str, Any]) -> str:
    """The Markdown table of a sweep: per config (medians with 95% intervals), then per run."""
    p = result["plan"]["protocol"]
    th = p["threshold"]
    lines = [
        f"# Sweep: {p['env_id']}, {len(result['plan']['configs'])} config(s) x {len(result['seeds'])} seed(s)",
        "",
        f"`{result['command']}`, {result['date']}; {len(result['runs'])} run(s) recorded"
        + (f", {result['duration_seconds'] / 60:.1f} min" if result.get("duration_seconds") else "")
        + ".",
        "",
    ]
    if result.get("note"):
        lines += [f"**{result['note']}**", ""]
    lines += [
        f"Each run: `python -m tfdqn.experiments.worker` in a fresh one-thread process (a Ray task), preset "
        f"{p['preset']!r} + the config's fields, budget {p['steps']:,} env steps, greedy evaluation of "
        f"{p['eval_episodes']} episodes every {p['eval_every']:,} env steps; **solved** = first evaluation >= "
        f"{_num(th, 'g')}"
        + ("; training stops at a confirmed solve" if p["stop_on_reward"] else "; no early stop")
        + f"; best (best.keras) and final policy on the same {p['final_episodes']} fresh episodes.",
        "",
        "Medians over seeds with 95% percentile-bootstrap intervals (an unsolved run counts as worse than any "
        "solve); Wilson interval for the solved rate.",
        "",
        "| config | runs | failed | solved [95%] | env steps to threshold [95%] | best [95%] | final [95%] | wall s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in result["summary"]:
        lo, hi = s["solved_rate_ci"]
        steps = "not solved" if s["median_solved_step"] is None and s["ok"] else _num(s["median_solved_step"])
        lines.append(
            f"| {s['config']} | {s['runs']} | {s['failed']} | {s['solved']}/{s['ok']} [{lo:.2f}, {hi:.2f}] | "
            f"{steps} {_interval(s['ci_solved_step'])} | {_num(s['median_best_score'], '.1f')} "
            f"{_interval(s['ci_best_score'], '.1f', '-')} | {_num(s['median_final_score'], '.1f')} "
            f"{_interval(s['ci_final_score'], '.1f', '-')} | {_num(s['median_wall_seconds'], '.1f')} |"
        )
    lines += [
        "",
        "## Runs",
        "",
        "| config | seed | status | env steps to threshold | best | final | env steps | wall s | error |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in sorted(result["runs"], key=lambda r: (str(r.get("config")), r.get("seed", 0))):
        lines.append(
            f"| {r.get('config')} | {r.get('seed')} | {r['status']}{' (resumed)' if r.get('resumed') else ''} "
            f"| {_num(r.get('solved_step'), ',.0f', 'not solved' if r['status'] == 'ok' else '-')} | "
            f"{_num(r.get('best_score'), '.1f')} | {_num(r.get('final_score'), '.1f')} | "
            f"{_num(r.get('env_steps'))} | {_num(r.get('wall_seconds'), '.1f')} | "
            f"{(r.get('error') or '').replace('|', '/')[:200]} |"
        )
    lines += ["", "Configs:", ""] + [f"- **{k}**: `{json.dumps(v)}`" for k, v in result["plan"]["configs"].items()]
    return "\n".join(lines) + "\n"
