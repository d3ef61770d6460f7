"""Made-up runs and reports in the shape the workers record, for the report and pooling tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.summary import summarize


def fake_run(system, seed, solved_step, best, final, sps, evals=((1000, 100.0), (2000, 480.0))) -> dict[str, Any]:
    """One learning run as a worker records it."""
    return {
        "system": system,
        "seed": seed,
        "env_steps": 2000,
        "train_seconds": 2000 / sps,
        "eval_seconds": 0.5,
        "train_steps_per_s": sps,
        "process_seconds": 9.0,
        "import_seconds": 3.0,
        "wall_seconds": 9.5,
        "evaluations": [
            {"step": s, "mean": m, "std": 1.0, "train_seconds": s / sps, "total_seconds": s / sps + 0.1}
            for s, m in evals
        ],
        "solved_step": solved_step,
        "solved_train_seconds": None if solved_step is None else solved_step / sps,
        "best_eval_step": 2000,
        "best_eval_mean": 480.0,
        "best_100": {"mean": best, "std": 2.0},
        "final_100": {"mean": final, "std": 3.0},
        "stop_on_reward": {"step": 2000, "mean": 490.0},
        "confirmations": [],
    }


def fake_result() -> dict[str, Any]:
    """A three-seed CartPole side-by-side result with every system."""
    runs = []
    for seed in range(3):
        runs.append(fake_run("tfdqn_default", seed, 2000, 500.0, 300.0, 1500.0))
        runs.append(
            fake_run(
                "sb3_zoo",
                seed,
                None if seed else 2000,
                400.0 + seed * 50,
                200.0,
                500.0,
                evals=((1000, 50.0), (2000, 200.0)),
            )
        )
        runs.append(fake_run("tfdqn_zoo", seed, 2000, 480.0, 480.0, 1200.0))
    runs.append(
        {
            "system": "tutorial",
            "seed": 0,
            "env_steps": 300,
            "train_seconds": 60.0,
            "train_steps_per_s": 5.0,
            "process_seconds": 65.0,
            "import_seconds": 3.0,
        }
    )
    result = {
        "command": "python -m benchmarks.suite --suite cartpole --seeds 3",
        "date": "2026-01-01 00:00 UTC",
        "seeds_requested": 3,
        "seeds_done": 3,
        "step_budget": 2000,
        "tutorial_steps": 300,
        "runs": runs,
        "duration_seconds": 120.0,
        "machine": "2 CPU cores",
        "settings_notes": ["a note"],
    }
    result["summary"] = summarize(runs)
    return result


def pool_report(
    path: Path,
    name: str,
    seeds,
    finals,
    config=None,
    key="candidate",
    env_id="CartPole-v1",
    budget=50_000,
    bests=None,
    extra_runs=(),
) -> str:
    """Write a screen (key "candidate") or suite (key "system") report JSON; return its FILE:NAME selector."""
    runs = [
        {
            **fake_run("tfdqn_default", s, 1000, b, f, 900.0),
            "env_id": env_id,
            key: name,
            "max_loss": 1.0,
            "step_budget": budget,
            "config": {"seed": s, "gamma": 0.98, **(config or {})},
        }
        for s, f, b in zip(seeds, finals, bests or [500.0] * len(seeds))
    ]
    path.write_text(json.dumps({"command": f"make {path.name}", "date": "d", "runs": runs + list(extra_runs)}))
    return f"{path}:{name}"
