"""Fake search workers: each seed of a trial prints evaluations that depend on the trial's gamma, so a search's
ranking, pruning and resume are known in seconds. `python tests/search_fakes.py search ...` is `tfdqn search`
with these workers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

if __name__ == "__main__":  # run as a script: this checkout's tfdqn, not an installed one
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tfdqn.experiments.plan import RunSpec, SweepProtocol, run_key  # noqa: E402

PROTOCOL = SweepProtocol(
    steps=1000, threshold=100.0, eval_every=100, eval_episodes=2, confirm_episodes=2, final_episodes=2
)
"""The fakes report an evaluation every 100 env steps up to 1000; 100 counts as solved."""
FLAGS = ["--steps", "1000", "--threshold", "100", "--eval-every", "100"]
"""The same protocol as command-line flags."""


def fake_specs(name: str, overrides: dict, seeds: list[int], protocol: SweepProtocol, tracked=None) -> list[RunSpec]:
    """Each seed a fake worker: gamma 0.99 solves at 300 steps, 0.95 at 600, anything else never, slowly."""
    gamma = overrides.get("gamma", 0.9)
    solve_at = {0.99: 300, 0.95: 600}.get(gamma)
    sleep = float(os.environ.get("FAKE_SLEEP", 0.0 if solve_at else 0.5))
    code = (
        "import json, sys, time\n"
        f"solve_at, sleep = {solve_at}, {sleep}\n"
        "best = 0.0\n"
        "for step in range(100, (solve_at or 1000) + 1, 100):\n"
        "    time.sleep(sleep)\n"
        "    mean = 100.0 * step / solve_at if solve_at else 5.0\n"
        "    best = max(best, mean)\n"
        "    print('@tfdqn-progress', json.dumps({'step': step, 'mean': mean}), flush=True)\n"
        "json.dump({'solved_step': solve_at, 'best_score': best, 'final_score': best, 'env_steps': solve_at or 1000},"
        " open(sys.argv[1] + '/result.json', 'w'))\n"
    )
    return [
        RunSpec(run_key(name, s), ("{python}", "-c", code, "{run_dir}"), {"config": name, "seed": s}, group=name)
        for s in seeds
    ]


if __name__ == "__main__":
    from tfdqn.commands import main
    from tfdqn.experiments import search

    search.trial_specs = fake_specs
    main()
