"""Many runs at once: a grid of `DQNConfig` overrides x seeds as Ray tasks, gathered into one table.

One run is one fresh process with one TensorFlow/BLAS thread (the fastest setting for these networks, and
what a serial run does, so a seed gives the same result either way): `python -m tfdqn.experiments.worker`,
the single-run listeners and evaluation protocol. Each run is a Ray task (`num_cpus=1` by default) that
launches that process in the run's own folder and returns its record (`tfdqn.experiments.engine`). Ray is
embedded by default (`ray.init()` on this machine's cores, stopped at the end); `address=` or `RAY_ADDRESS`
joins a cluster, where every node needs tfdqn importable (installed, or shipped with `ship_code=True`, which
sends the working directory as Ray's `runtime_env` `working_dir`).

`sweep` writes `<out>/sweep.json` and `<out>/sweep.md` (per run, and per config medians with 95% intervals)
after every finished run; rerunning into the folder resumes. `tfdqn.experiments.search` adds a
hyperparameter search on Optuna (trials asked as it goes, hopeless ones pruned) on the same engine.
"""

from __future__ import annotations

import datetime
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tfdqn.experiments.cluster import require_ray
from tfdqn.experiments.engine import read_record, run_specs
from tfdqn.experiments.errors import SweepError, SweepInterrupted
from tfdqn.experiments.plan import RunSpec, SweepProtocol, check_configs, check_folder, check_seeds, run_key
from tfdqn.experiments.report import describe_best, summarize, write_report
from tfdqn.experiments.tracking import SweepTracking, worker_tracking


def sweep(
    configs: dict[str, dict[str, Any]],
    seeds: Sequence[int],
    out: str | os.PathLike[str],
    protocol: SweepProtocol = SweepProtocol(),
    *,
    address: str | None = None,
    num_cpus: int | None = None,
    cpus_per_run: float = 1,
    ship_code: bool = False,
    command: str | None = None,
    tracking: SweepTracking | None = None,
    progress_every: float = 15.0,
) -> dict[str, Any]:
    """Train every config (DQNConfig overrides on the environment's preset) with every seed, one Ray task per
    run, and write `out/sweep.json` and `out/sweep.md` (per run; per config the median steps to the threshold,
    best and final score with 95% intervals); return the sweep's result (the content of sweep.json).

    Bad input (an unknown field, no seeds, a folder holding another sweep, no Ray) raises before Ray starts.
    """
    out = Path(out)
    seeds = check_seeds(seeds)
    check_configs(configs, protocol.env_id, protocol.preset)
    protocol = protocol.resolved()
    plan = {"kind": "sweep", "protocol": protocol.saved(), "configs": configs}
    check_folder(out, plan)
    if cpus_per_run <= 0:
        raise SweepError(f"cpus_per_run={cpus_per_run} must be positive")
    require_ray("sweeps")
    tracked = worker_tracking(tracking, out, configs)
    specs = [
        RunSpec(
            run_key(name, seed),
            protocol.argv(overrides, seed) + tracked(run_key(name, seed)),
            {"config": name, "seed": seed},
        )
        for seed in seeds
        for name, overrides in configs.items()
    ]  # seed-major: configs interleaved
    result: dict[str, Any] = {
        "plan": plan,
        "seeds": seeds,
        "command": command or "tfdqn.experiments.sweep.sweep(...)",
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "runs": [],
        "summary": [],
        "complete": False,
    }
    t0 = time.perf_counter()

    def write(records: list[dict[str, Any]], note: str | None = None) -> None:
        result.update(
            runs=records,
            summary=summarize(records, configs, protocol.steps),
            duration_seconds=time.perf_counter() - t0,
            note=note,
        )
        write_report(out, result)

    out.mkdir(parents=True, exist_ok=True)
    try:
        records = run_specs(
            specs,
            out,
            address=address,
            num_cpus=num_cpus,
            cpus_per_run=cpus_per_run,
            ship_code=ship_code,
            on_record=lambda _r, rs: write(rs),
            describe_best=describe_best,
            progress_every=progress_every,
        )
    except SweepInterrupted as exc:
        done = [r for s in specs if (r := read_record(out / "runs" / s.key)) is not None]
        write(done, f"partial: {exc}")
        raise
    result["complete"] = len(records) == len(specs)
    write(records)
    return result
