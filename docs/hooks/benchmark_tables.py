"""MkDocs hook: the docs' results tables, rendered from the JSON under results/ at build time.

No figure in these tables is typed by hand. A page asks for a table with a line of its own,
`<!-- table: NAME -->`, which `on_page_markdown` replaces with `TABLES[NAME]()`; an unknown name fails the build.
`python docs/hooks/benchmark_tables.py NAME` prints one table; `headline` is the README's results table, which
`--readme` writes between the README's markers and tests/integration/test_docs.py checks is up to date.

Medians and rates are recomputed from each report's runs with the package's own statistics
(`tfdqn.experiments.stats`: percentile bootstrap over seeds with a fixed generator, Wilson intervals), as the
report scripts compute them, so a table here and the report's own .md give the same figures.
"""

from __future__ import annotations

import json
import math
import re
import statistics
import sys
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "results"
BENCH = RESULTS / "benchmark"
if str(ROOT) not in sys.path:  # `mkdocs serve` from a checkout where tfdqn is not pip-installed
    sys.path.insert(0, str(ROOT))

from tfdqn.experiments import stats  # noqa: E402  (after the checkout is on the path)

PLACEHOLDER = re.compile(r"^<!-- table: ([a-z0-9-]+) -->$", re.M)
LATE_EVALUATIONS = 10  # "late": a run's mean over its last 10 greedy evaluations
SUITE_SYSTEMS = {
    "tfdqn_default": "tfdqn, the training command's config",
    "sb3_zoo": "SB3 DQN, RL-Zoo settings",
    "tfdqn_zoo": "tfdqn with RL-Zoo's settings",
    "tutorial": "tutorial-style Keras loop (throughput only)",
}

Row = list[str]


# ----- reading and formatting ---------------------------------------------------------------------------
@cache
def load(relative: str) -> dict[str, Any]:
    """A results JSON, by its path under results/."""
    return json.loads((RESULTS / relative).read_text(encoding="utf-8"))


def link(relative: str, text: str | None = None) -> str:
    """A link to a file under results/ (its .md report when there is one), relative to the repository root: right
    in the README and in the top-level docs pages, where `on_files` puts results/ beside them."""
    path = RESULTS / relative
    target = path.with_suffix(".md") if path.suffix == ".json" and path.with_suffix(".md").exists() else path
    rel = target.relative_to(ROOT).as_posix()
    return f"[{text or rel.removeprefix('results/')}]({rel})"


def table(header: Iterable[str], rows: Iterable[Row]) -> str:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def num(x: float | None, fmt: str = ",.0f", none: str = "not solved") -> str:
    return none if x is None or (isinstance(x, float) and math.isinf(x)) else format(x, fmt)


def ci(interval: Iterable[float], fmt: str = ",.0f") -> str:
    return stats.fmt_interval(tuple(interval), fmt)


def rate(k: int, n: int) -> str:
    lo, hi = stats.wilson_ci(k, n)
    return f"{k}/{n} [{lo:.2f}, {hi:.2f}]"


def seed_text(seeds: list[int]) -> str:
    """`0-9`, or `0-4, 20-24` for runs of consecutive seeds."""
    parts, start = [], None
    for i, s in enumerate(seeds):
        start = s if start is None else start
        if i + 1 == len(seeds) or seeds[i + 1] != s + 1:
            parts.append(f"{start}" if start == s else f"{start}-{s}")
            start = None
    return ", ".join(parts)


# ----- a group of runs: seeds, solves, best and final policies, late evaluations ----------------------------
def late_mean(run: dict[str, Any]) -> float:
    means = [e["mean"] for e in run.get("evaluations") or []][-LATE_EVALUATIONS:]
    return statistics.fmean(means) if means else math.nan


def group(runs: list[dict[str, Any]], threshold: float) -> dict[str, Any]:
    """What the reports print for one config's runs (one per seed)."""
    runs = sorted(runs, key=lambda r: r["seed"])
    steps = [r["solved_step"] for r in runs]
    late = [v for v in map(late_mean, runs) if not math.isnan(v)]
    losses = [r["max_loss"] for r in runs if r.get("max_loss") is not None]
    return {
        "n": len(runs),
        "seeds": [r["seed"] for r in runs],
        "solved": sum(s is not None for s in steps),
        "steps": stats.median(steps),
        "ci_steps": stats.bootstrap_ci(steps),
        "best": sum(r["best_100"]["mean"] >= threshold for r in runs),
        "final": sum(r["final_100"]["mean"] >= threshold for r in runs),
        "late": stats.median(late) if late else math.nan,
        "ci_late": stats.bootstrap_ci(late),
        "steps_per_s": statistics.median(r["train_steps_per_s"] for r in runs),
        "max_loss": max(losses) if losses else None,
    }


def runs_of(relative: str, name: str) -> list[dict[str, Any]]:
    """The runs of one system (a suite's `system`) or candidate (a screen's or pool's `candidate`) in a report."""
    runs = load(relative)["runs"]
    key = "candidate" if any("candidate" in r for r in runs) else "system"
    chosen = [r for r in runs if r.get(key) == name and r.get("status", "ok") == "ok"]
    if not chosen:
        raise KeyError(f"no runs named {name!r} in results/{relative}")
    return chosen


def group_row(label: str, g: dict[str, Any], *extra: str, steps_per_s: bool = False) -> Row:
    late = "-" if math.isnan(g["late"]) else f"{g['late']:,.1f} {ci(g['ci_late'], ',.1f')}"
    row = [
        label,
        seed_text(g["seeds"]),
        *extra,
        f"{g['solved']}/{g['n']}",
        f"{num(g['steps'])} {ci(g['ci_steps'])}",
        rate(g["best"], g["n"]),
        f"**{rate(g['final'], g['n'])}**",
        late,
    ]
    return row + [f"{g['steps_per_s']:,.0f}"] if steps_per_s else row


def group_header(threshold: str, *extra: str, steps_per_s: bool = False) -> list[str]:
    head = ["config", "seeds", *extra, "solved", f"median env steps to {threshold} [95%]"]
    head += [f"best >= {threshold} [95%]", f"**final >= {threshold}** [95%]", "late, median [95%]"]
    return head + ["env steps/s"] if steps_per_s else head


# ----- the side-by-side suites ---------------------------------------------------------------------------
def suite_table(relative: str, threshold: float) -> str:
    summary = load(relative)["summary"]
    rows = []
    for system, label in SUITE_SYSTEMS.items():
        s = summary.get(system)
        if s is None:
            continue
        if "runs" in s and "solved" not in s:  # the tutorial loop: throughput only
            rows.append([label, "-", "-", "-", f"{s['median_train_steps_per_s']:,.1f}"] + ["-"] * 4)
            continue
        n = s["runs"]
        rows.append(
            [
                label,
                f"{s['solved']}/{n}",
                f"{num(s['median_solved_step'])} {ci(s['ci_solved_step'])}",
                f"{num(s['median_solved_seconds'], ',.1f')} {ci(s['ci_solved_seconds'], ',.1f')}",
                f"{s['median_train_steps_per_s']:,.0f}",
                rate(s["best_ge_threshold"], n),
                f"**{rate(s['final_ge_threshold'], n)}**",
                f"{s['median_final_100']:,.1f} {ci(s['ci_final_100'], ',.1f')}",
                f"{s['median_late_mean']:,.1f} {ci(s['ci_late_mean'], ',.1f')}",
            ]
        )
    t = f"{threshold:g}"
    head = ["system", "solved", f"median env steps to {t} [95%]", "median train-only s to solve [95%]"]
    head += ["train-only env steps/s", f"best >= {t} [95%]", f"**final >= {t}** [95%]"]
    head += ["final policy, median [95%]", "late, median [95%]"]
    return suite_caption(relative) + "\n\n" + table(head, rows)


def suite_caption(relative: str) -> str:
    d = load(relative)
    seeds = f"seeds {d['first_seed']}-{d['first_seed'] + d['seeds_done'] - 1}"
    return f"{link(relative)}: {d['env_id']}, {seeds}, {d['step_budget']:,} env steps per run, run {d['date']}."


def ratio_row(name: str, a: dict[str, Any], b: dict[str, Any], what: str, limit: float) -> Row:
    """A "median of a <= limit x median of b" target: the ratio of medians and its bootstrap interval."""
    values, median, fmt = {
        "step": ("solved_steps", "median_solved_step", ",.0f"),
        "seconds": ("solved_seconds", "median_solved_seconds", ",.1f"),
    }[what]
    interval = stats.ratio_ci(a[values], b[values])
    ratio = a[median] / b[median]
    figures = f"{num(a[median], fmt)} vs {num(b[median], fmt)}: {ratio:.2f}x, interval {ci(interval, '.2f')}"
    return [name, "yes" if ratio <= limit else "no", stats.verdict(interval, limit, "lower"), figures]


def rate_row(name: str, k: int, n: int, fraction: float, note: str = "") -> Row:
    interval = stats.wilson_ci(k, n)
    return [name, "yes" if k / n >= fraction else "no", stats.verdict(interval, fraction, "higher"), rate(k, n) + note]


def cartpole_targets() -> str:
    s = load("benchmark/cartpole.json")["summary"]
    t, sb, zoo = s["tfdqn_default"], s["sb3_zoo"], s["tfdqn_zoo"]
    speed = zoo["median_train_steps_per_s"] / sb["median_train_steps_per_s"]
    facing = zoo["ci_train_steps_per_s"][0] / sb["ci_train_steps_per_s"][1]  # the intervals' facing ends
    far = zoo["ci_train_steps_per_s"][1] / sb["ci_train_steps_per_s"][0]
    rows = [
        ratio_row("equal settings: tfdqn within 1.25x SB3's median env steps to solve", zoo, sb, "step", 1.25),
        [
            "tfdqn's config: median env steps to solve <= 8,000",
            "yes" if t["median_solved_step"] <= 8000 else "no",
            stats.verdict(tuple(t["ci_solved_step"]), 8000, "lower"),
            f"{num(t['median_solved_step'])} {ci(t['ci_solved_step'])}",
        ],
        [
            "every seed solved within 20,000 env steps",
            "yes" if t["max_solved_step"] <= 20000 else "no",
            "-",
            f"the slowest seed at {t['max_solved_step']:,}",
        ],
        rate_row("best.keras >= 475 on 100 fresh episodes in 10/10", t["best_ge_threshold"], t["runs"], 1.0),
        rate_row(
            "final policy >= 475 in >= 9/10",
            t["final_ge_threshold"],
            t["runs"],
            0.9,
            f"; SB3 {sb['final_ge_threshold']}/{sb['runs']}",
        ),
        ratio_row("median train-only seconds to solve <= 0.5x SB3's", t, sb, "seconds", 0.5),
        [
            "equal settings: train-only env steps/s >= 2x SB3's",
            "yes" if speed >= 2 else "no",
            "met" if facing >= 2 else "missed" if far < 2 else "undecided",
            f"{speed:.2f}x ({zoo['median_train_steps_per_s']:,.0f} vs {sb['median_train_steps_per_s']:,.0f}; "
            f"the intervals' facing ends {facing:.2f}x)",
        ],
    ]
    return table(["target", "on these seeds", "95% interval", "figures"], rows)


def lunarlander_targets() -> str:
    s = load("benchmark/lunarlander.json")["summary"]
    t, sb = s["tfdqn_default"], s["sb3_zoo"]
    rows = [
        rate_row("best.keras >= 200 on 100 fresh episodes in >= 8/10", t["best_ge_threshold"], t["runs"], 0.8),
        rate_row(
            "final policy >= 200 in >= 7/10",
            t["final_ge_threshold"],
            t["runs"],
            0.7,
            f"; SB3 {sb['final_ge_threshold']}/{sb['runs']}",
        ),
        ratio_row("median env steps to solve below SB3's (same run)", t, sb, "step", 1.0),
    ]
    return table(["target", "on these seeds", "95% interval", "figures"], rows)


# ----- LunarLander: the preset's evidence over many seeds ---------------------------------------------------
LUNAR_ROWS: list[tuple[str, str, str]] = [
    ("**the `lunarlander` preset, pooled**", "benchmark/pooled/lunarlander_preset.json", "preset"),
    ("the preset, pooled after its adoption", "benchmark/pooled/lunarlander_preset_40_59.json", "preset_40_59"),
    ("the preset, suite beside SB3", "benchmark/lunarlander.json", "tfdqn_default"),
    ("the preset, its adoption screen", "benchmark/screen/lunarlander_round10_seeds30.json", "held_decay_layer_norm"),
    ("the preset, screen", "benchmark/screen/lunarlander_round10_seeds50.json", "held_decay_layer_norm"),
    ("the schedule alone (the preset before)", "benchmark/lunarlander_schedule/lunarlander.json", "tfdqn_default"),
    ("the schedule alone (chosen on these seeds)", "benchmark/screen/lunarlander_round9.json", "held_decay"),
    ("the general defaults", "benchmark/screen/lunarlander_round6_seeds30.json", "general_defaults"),
    ("the general defaults", "benchmark/lunarlander_defaults/lunarlander.json", "tfdqn_default"),
    ("the general defaults", "benchmark/screen/lunarlander_round6.json", "general_defaults"),
    ("the full Rainbow (before the schedule)", "benchmark/lunarlander_rainbow/lunarlander.json", "tfdqn_default"),
    ("**SB3 DQN, RL-Zoo settings, pooled**", "benchmark/pooled/lunarlander_preset.json", "sb3"),
    ("SB3 DQN, RL-Zoo settings", "benchmark/lunarlander.json", "sb3_zoo"),
]


def lunarlander_evidence() -> str:
    rows = []
    for label, relative, name in LUNAR_ROWS:
        g = group(runs_of(relative, name), 200.0)
        rows.append(group_row(label, g, link(relative)))
    return table(group_header("200", "report"), rows)


def lunarlander_curves() -> str:
    d = load("benchmark/pooled/lunarlander_preset.json")
    names = list(d["curves"])
    head = ["env steps"] + [f"{n}: median [95%]" for n in names] + [f"{n}: >= 200" for n in names]
    rows = []
    for i, point in enumerate(d["curves"][names[0]]):
        cells = [f"{point['step']:,}"]
        cells += [f"{d['curves'][n][i]['median']:,.0f} {ci(d['curves'][n][i]['ci'])}" for n in names]
        cells += [f"{d['curves'][n][i]['at_threshold']}/{d['curves'][n][i]['n']}" for n in names]
        rows.append(cells)
    return table(head, rows)


# ----- Rainbow's parts -----------------------------------------------------------------------------------
def rainbow_table(env_id: str, threshold: float) -> str:
    runs = [r for r in load("benchmark/rainbow.json")["runs"] if r["env_id"] == env_id]
    rows = []
    for name in dict.fromkeys(r["candidate"] for r in runs):
        g = group([r for r in runs if r["candidate"] == name], threshold)
        rows.append(group_row(name, g, steps_per_s=True))
    return table(group_header(f"{threshold:g}", steps_per_s=True), rows)


def rainbow_act() -> str:
    rows_in = load("benchmark/rainbow_act.json")["rows"]
    plain = rows_in["defaults"]["act_us"]
    rows = [
        [
            name,
            f"{r['forward_us']:.1f}",
            f"{r['act_us']:.1f}",
            f"{r['act_us'] / plain:.2f}x",
            "yes" if r["numpy"] else "no",
        ]
        for name, r in rows_in.items()
    ]
    return table(["part", "forward µs", "`agent.act` µs", "act vs plain", "NumPy path"], rows)


# ----- the loop, memory, vector environments, Ray workers -------------------------------------------------
LOOP_REPORTS = ["loop.json", "loop_rerun/loop.json", "loop_rerun2/loop.json", "loop_rerun3/loop.json"]


def loop_table() -> str:
    rows = []
    for relative in LOOP_REPORTS:
        d = load(f"benchmark/{relative}")
        interval = tuple(d["ci_ratio"])
        rows.append(
            [
                link(f"benchmark/{relative}"),
                str(d["repeats"]),
                f"{d['t_update_ms']:.3f} ({d['t_update_without_xla_ms']:.3f})",
                f"{d['t_env_and_act_us']:.0f}",
                f"{d['floor_ms_per_step']:.3f}",
                f"{d['achieved_steps_per_s']:,.0f}",
                f"{d['achieved_over_ceiling']:.2f}",
                f"{d['median_ratio']:.2f} {ci(interval, '.2f')}: {stats.verdict(interval, 0.9, 'higher')}",
                f"{d['in_loop_rest_us_per_step']:.0f}",
            ]
        )
    head = ["report", "repeats", "gradient step ms, XLA (without)", "env step + act µs", "floor ms per env step"]
    head += ["Trainer env steps/s", "of the floor, medians", "per repeat, median [95%]: goal 0.9"]
    return table(head + ["rest of the loop, µs per env step"], rows)


def memory_table() -> str:
    d = load("benchmark/memory.json")
    row = [
        f"{d['steps']:,}",
        f"{d['rss_20k_mib']:.1f}",
        f"{d['max_rss_after_20k_mib']:.1f}",
        f"{d['growth_from_20k']:+.1%}",
        f"{d['replay_buffer_mib']:.1f}",
    ]
    head = ["env steps", "resident MiB at 20,000", "largest after", "growth (goal within 10%)", "replay arrays MiB"]
    return table(head, [row])


def vector_table() -> str:
    d = load("benchmark/vector.json")
    t = d["throughput"]
    rows = [
        [
            str(n),
            f"{t[f'collect/{n}']:,.0f}",
            f"{t[f'collect/{n}'] / t['collect/1']:.1f}x",
            f"{t[f'train/{n}']:,.0f}",
            f"{t[f'train/{n}'] / t['train/1']:.2f}x",
        ]
        for n in sorted({int(k.split("/")[1]) for k in t})
    ]
    head = ["num_envs", "collection only, env steps/s", "vs 1 env", "with learning (4 gradient steps per env step)"]
    return table(head + ["vs 1 env"], rows)


def workers_table() -> str:
    d = load("benchmark/workers.json")
    rows = [
        [
            str(i),
            s["mode"],
            f"{s['suite_wall_seconds']:.0f}",
            f"{s['median_wall_seconds']:.1f}",
            f"{s['load'][0]:.1f} -> {s['load'][1]:.1f}",
        ]
        for i, s in enumerate(d["suites"], 1)
    ]
    note = (
        f"\n\nParallel over serial, per round: {', '.join(f'{r:.2f}x' for r in d['ratios'])} (goal 0.6x); "
        f"per-seed results identical serial and parallel: {'yes' if d['identical'] else 'no'} "
        f"({d['identical_seeds']}/{d['seeds']} seeds). {link('benchmark/workers.json')}"
    )
    return table(["order", "mode", "suite wall s", "median run wall s", "load before -> after"], rows) + note


# ----- single runs and the exact checks -----------------------------------------------------------------
RUNS = ["cartpole", "lunarlander", "pixel_cartpole", "pixel_cartpole_nstep_c51"]


def runs_table() -> str:
    rows = []
    for name in RUNS:
        s = load(f"{name}/summary.json")
        best = s["best_keras_evaluation"]
        first = s.get("first_evaluation_at_threshold_step")
        rows.append(
            [
                link(f"{name}/summary.json", f"{name}/"),
                s["env_id"],
                str(s["seed"]),
                f"{s['env_steps']:,}",
                "-" if first is None else f"{first:,}",
                f"{best['mean_return']:.1f} ± {best['std_return']:.1f} ({best['episodes']} episodes)",
                f"{s['train_seconds']:,.0f}",
            ]
        )
    head = ["folder", "environment", "seed", "env steps", "first evaluation at the threshold"]
    return table(head + ["best.keras on fresh episodes", "train s"], rows)


def frozenlake_dqn_table() -> str:
    d = load("frozenlake_dqn/summary.json")
    rows = [
        [
            str(r["seed"]),
            f"{r['last']['learned_success_probability']:.4f}",
            f"{r['best']['learned_success_probability']:.4f}",
            f"{r['optimal_success_probability']:.4f}",
            f"{r['last']['max_abs_q_error']:.3f}",
            f"{r['best_keras_1000_episodes']:.3f}",
        ]
        for r in d["runs"]
    ]
    head = ["seed", "last.keras: exact success", "best.keras: exact success", "optimum (gamma 0.99)"]
    return table(head + ["max \\|Q - Q*\\| (last)", "best.keras, 1,000 sampled episodes"], rows)


def frozenlake_tabular_table() -> str:
    rows = []
    for folder in sorted((RESULTS / "frozenlake").iterdir()):
        s = load(f"frozenlake/{folder.name}/summary.json")
        rows.append(
            [
                folder.name,
                str(s["seed"]),
                f"{s['learned_success_probability']:.4f}",
                f"{s['optimal_success_probability']:.4f}",
                f"{s['best_success_probability_any_policy']:.4f}",
                f"{s['optimal_success_probability'] - s['learned_success_probability']:+.4f}",
                f"{s['max_abs_q_error']:.3f}",
                f"{s['train_seconds']:.1f}",
            ]
        )
    head = ["map", "seed", "learned: exact success", "Q*'s greedy policy", "best within the time limit", "gap"]
    return table(head + ["max \\|Q - Q*\\|", "train s"], rows)


# ----- every screen report, for the lab journal ---------------------------------------------------------
THRESHOLDS = {"CartPole-v1": 475.0, "LunarLander-v3": 200.0}


def screens_table() -> str:
    rows = []
    paths = sorted((BENCH / "screen").glob("*.json"))
    for path in sorted(paths, key=lambda p: load(p.relative_to(RESULTS).as_posix())["date"]):  # in the order run
        relative = path.relative_to(RESULTS).as_posix()
        d = load(relative)
        runs = [r for r in d["runs"] if r.get("status", "ok") == "ok"]
        for name in dict.fromkeys(r["candidate"] for r in runs):
            for env_id in dict.fromkeys(r["env_id"] for r in runs if r["candidate"] == name):
                rs = [r for r in runs if r["candidate"] == name and r["env_id"] == env_id]
                g = group(rs, THRESHOLDS[env_id])
                rows.append(
                    [
                        link(relative, path.stem),
                        d["date"].split(",")[0][:10],
                        f"`{name}`",
                        env_id,
                        seed_text(g["seeds"]),
                        f"{g['solved']}/{g['n']}",
                        f"{num(g['steps'])} {ci(g['ci_steps'])}",
                        f"{g['best']}/{g['n']}",
                        f"{g['final']}/{g['n']}",
                    ]
                )
    head = ["report", "run", "candidate", "env", "seeds", "solved", "median steps to solve [95%]", "best", "final"]
    return table(head, rows)


# ----- the README's headline table ----------------------------------------------------------------------
def headline() -> str:
    """The README's results table (links relative to the repository root)."""
    cp = load("benchmark/cartpole.json")["summary"]
    ll = load("benchmark/lunarlander.json")["summary"]
    pool = {n: group(runs_of("benchmark/pooled/lunarlander_preset.json", n), 200.0) for n in ("preset", "sb3")}
    t, sb, lt, lsb = cp["tfdqn_default"], cp["sb3_zoo"], ll["tfdqn_default"], ll["sb3_zoo"]
    seconds = t["median_solved_seconds"] / sb["median_solved_seconds"]
    seconds_ci = stats.ratio_ci(t["solved_seconds"], sb["solved_seconds"])
    cartpole, lunar = "[cartpole](results/benchmark/cartpole.md)", "[lunarlander](results/benchmark/lunarlander.md)"
    rows = [
        [
            "CartPole: median steps to solve",
            f"{num(t['median_solved_step'])} {ci(t['ci_solved_step'])}",
            f"{num(sb['median_solved_step'])} {ci(sb['ci_solved_step'])}",
            f"{t['runs']} / {sb['runs']}",
            cartpole,
        ],
        [
            "CartPole: train-only seconds to solve",
            f"{t['median_solved_seconds']:.1f} ({seconds:.2f}x, {ci(seconds_ci, '.2f')})",
            f"{sb['median_solved_seconds']:.1f}",
            f"{t['runs']} / {sb['runs']}",
            cartpole,
        ],
        [
            "CartPole: final >= 475 at 50k",
            f"{t['final_ge_threshold']}/{t['runs']}",
            f"{sb['final_ge_threshold']}/{sb['runs']}",
            f"{t['runs']} / {sb['runs']}",
            cartpole,
        ],
        [
            "LunarLander: median steps to 200",
            f"{num(lt['median_solved_step'])} {ci(lt['ci_solved_step'])}",
            f"{num(lsb['median_solved_step'])} {ci(lsb['ci_solved_step'])}",
            f"{lt['runs']} / {lsb['runs']}",
            lunar,
        ],
        [
            "LunarLander: final >= 200 at 100k",
            rate(pool["preset"]["final"], pool["preset"]["n"]),
            rate(pool["sb3"]["final"], pool["sb3"]["n"]),
            f"{pool['preset']['n']} / {pool['sb3']['n']}",
            "[pooled](results/benchmark/pooled/lunarlander_preset.md)",
        ],
    ]
    return table(["measure", "tfdqn, its preset", "SB3 DQN, RL-Zoo", "seeds", "report"], rows)


def classic_targets() -> str:
    """Issue 30's targets on the classic suite (tfdqn beside SB3 with RL-Zoo's settings), from its report's JSON."""
    d = load("benchmark/classic/classic.json")
    rows: list[Row] = []
    for env_id in d["envs"]:
        t, sb = d["summary"][env_id]["tfdqn_default"], d["summary"][env_id]["sb3_zoo"]
        rows.append(ratio_row(f"{env_id}: median env steps to the threshold <= 0.5x SB3's", t, sb, "step", 0.5))
        note = f"; SB3 {sb['final_ge_threshold']}/{sb['runs']}"
        rows.append(
            rate_row(
                f"{env_id}: final policy at the threshold in >= 9/10", t["final_ge_threshold"], t["runs"], 0.9, note
            )
        )
    iqm, sb_iqm = d["across"]["iqm"]["tfdqn_default"], d["across"]["iqm"]["sb3_zoo"]
    clear = iqm[1] > sb_iqm[2]
    rows.append(
        [
            "IQM of normalised final scores above SB3's, the intervals apart",
            "yes" if iqm[0] > sb_iqm[0] else "no",
            "met" if clear else "missed" if iqm[2] < sb_iqm[1] else "undecided",
            f"{iqm[0]:.2f} {ci(iqm[1:], '.2f')} vs {sb_iqm[0]:.2f} {ci(sb_iqm[1:], '.2f')}",
        ]
    )
    p = d["across"]["p_improvement"]
    rows.append(
        [
            "P(a tfdqn run beats an SB3 run) >= 0.75",
            "yes" if p[0] >= 0.75 else "no",
            stats.verdict((p[1], p[2]), 0.75, "higher"),
            f"{p[0]:.2f} {ci(p[1:], '.2f')}",
        ]
    )
    return table(["target", "on these seeds", "95% interval", "figures"], rows)


TABLES: dict[str, Callable[[], str]] = {
    "cartpole-suite": lambda: suite_table("benchmark/cartpole.json", 475.0),
    "cartpole-targets": cartpole_targets,
    "lunarlander-suite": lambda: suite_table("benchmark/lunarlander.json", 200.0),
    "lunarlander-targets": lunarlander_targets,
    "lunarlander-evidence": lunarlander_evidence,
    "lunarlander-curves": lunarlander_curves,
    "classic-targets": classic_targets,
    "rainbow-act": rainbow_act,
    "rainbow-cartpole": lambda: rainbow_table("CartPole-v1", 475.0),
    "rainbow-lunarlander": lambda: rainbow_table("LunarLander-v3", 200.0),
    "loop": loop_table,
    "memory": memory_table,
    "vector": vector_table,
    "workers": workers_table,
    "runs": runs_table,
    "frozenlake-dqn": frozenlake_dqn_table,
    "frozenlake-tabular": frozenlake_tabular_table,
    "screens": screens_table,
    "headline": headline,
}


def fill(markdown: str) -> str:
    """`markdown` with every `<!-- table: NAME -->` line replaced by its table (a KeyError names an unknown one)."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in TABLES:
            raise KeyError(f"unknown table {name!r}; tables: {', '.join(TABLES)}")
        return TABLES[name]()

    return PLACEHOLDER.sub(one, markdown)


def on_files(files: Any, config: Any) -> Any:
    """MkDocs hook: the reports, figures and raw JSON under results/ become part of the site (as `results/...`), so
    the docs link to them and show their figures; nothing is copied into docs/."""
    from mkdocs.structure.files import File  # only inside a MkDocs build

    for path in sorted(RESULTS.rglob("*")):
        if path.suffix in (".md", ".png", ".gif", ".json") and not any(p.startswith(".") for p in path.parts):
            uri = path.relative_to(ROOT).as_posix()
            files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """MkDocs hook: fill the page's tables."""
    return fill(markdown)


README_BLOCK = re.compile(r"(<!-- headline-table -->\n).*?(<!-- /headline-table -->)", re.S)


def write_readme() -> bool:
    """Put the headline table between the README's `<!-- headline-table -->` markers; True if it changed."""
    path = ROOT / "README.md"
    text = path.read_text(encoding="utf-8")
    new = README_BLOCK.sub(lambda m: m.group(1) + headline() + "\n" + m.group(2), text, count=1)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    # `python docs/hooks/benchmark_tables.py [NAME ...]` prints tables; `--readme` refreshes the README's.
    if sys.argv[1:] == ["--readme"]:
        print("README.md updated" if write_readme() else "README.md already up to date")
    else:
        for name in sys.argv[1:] or ["headline"]:
            print(TABLES[name]())
