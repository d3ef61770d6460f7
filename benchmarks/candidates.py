"""Running candidate configs side by side: every (candidate, seed, environment) as a worker process
(`python -m benchmarks.systems tfdqn_default ...`) through Ray tasks (`tfdqn.experiments.sweep`), in the order
given, the report rewritten after every run. The screens and the Rainbow ablation both run this way."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import atomic_write_text
from benchmarks.launch import worker_argv
from tfdqn.experiments.engine import run_specs
from tfdqn.experiments.plan import RunSpec
from tfdqn.fileio import write_json

Job = tuple[str, int, str, int, Sequence[str]]
"""(candidate, seed, env_id, steps, extra worker flags)."""


def run_candidates(
    result: dict[str, Any],
    jobs: list[Job],
    jobs_at_once: int,
    json_path: Path,
    md_path: Path,
    render_fn: Callable[[dict[str, Any]], str],
) -> None:
    """Run `jobs` as Ray tasks, in this order so every candidate meets the same load, appending each record to
    `result["runs"]` as it finishes and rewriting `json_path` and `md_path` (`render_fn(result)`) after every
    run; a failed run stops the screen."""
    t0 = time.perf_counter()
    width = max([12, *(len(name) + 1 for name, *_ in jobs)])

    def add(record: dict, _all: list) -> None:
        if record["status"] != "ok":
            raise RuntimeError(f"{record['key']} failed: {record.get('error')}")
        result["runs"].append(record)
        result["duration_seconds"] = time.perf_counter() - t0
        print(
            f"{record['candidate']:{width}s} {record['env_id']:15s} seed {record['seed']}: solved at "
            f"{record['solved_step']}, best {record['best_100']['mean']:.1f}, final "
            f"{record['final_100']['mean']:.1f}, {record['train_steps_per_s']:.0f} steps/s",
            flush=True,
        )
        write_json(json_path, result)
        atomic_write_text(md_path, render_fn(result))

    specs = [
        RunSpec(
            f"{name}_{env_id}_{seed}",
            worker_argv("tfdqn_default", seed, steps, env_id, "{run_dir}/run.json", *flags),
            {"candidate": name},
            "run.json",
        )
        for name, seed, env_id, steps, flags in jobs
    ]
    with tempfile.TemporaryDirectory() as tmp:
        run_specs(specs, Path(tmp), num_cpus=jobs_at_once, resume=False, on_record=add)
