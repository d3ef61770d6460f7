"""The plan of a sweep: what every run shares (`SweepProtocol`), one run's worker command (`RunSpec`), and the checks
that refuse bad input before Ray starts (configs, seeds, a folder holding another plan).

A plan is saved in `<out>/sweep.json` (or `search.json`) as `{"kind", "protocol": asdict(SweepProtocol), ...}`;
rerunning into the folder compares plans, so these field names are a file format: keep them.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tfdqn.envs.make import reward_threshold
from tfdqn.errors import ConfigError
from tfdqn.experiments.errors import SweepError
from tfdqn.presets import NO_PRESET, budget_for_env, config_for_env

WORKER_MODULE = "tfdqn.experiments.worker"
"""The module every DQN run of a sweep runs as (`python -m tfdqn.experiments.worker`)."""
PROGRESS_TAG = "@tfdqn-progress"
"""A worker prints each periodic evaluation as one stdout line `PROGRESS_TAG {"step": ..., "mean": ...}`."""


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: the worker command and what the table groups it by.

    `argv` is run in a fresh process with one thread; "{python}" in it becomes the node's Python and
    "{run_dir}" the run's folder. The worker writes `result_file` (JSON) into the run's folder; its content
    becomes the run's record, beside `info` (e.g. {"config": name, "seed": s}) and the task's own fields
    (status, error, wall_seconds, progress).
    """

    key: str
    argv: tuple[str, ...]
    info: dict[str, Any] = dataclasses.field(default_factory=dict)
    result_file: str = "result.json"
    group: str | None = None  # runs of one search trial share a group (halving decides per group)


@dataclasses.dataclass(frozen=True)
class SweepProtocol:
    """What every run of a sweep shares: environment, preset, budget and the evaluation protocol."""

    env_id: str = "CartPole-v1"
    preset: str | None = "auto"  # "auto" (the environment's own), None (= "none": the plain defaults) or a name
    steps: int | None = None  # default: the budget the environment's config was measured with
    threshold: float | None = None  # default: the environment's reward_threshold
    eval_every: int = 1_000
    eval_episodes: int = 20
    confirm_episodes: int = 100
    final_episodes: int = 100
    stop_on_reward: bool = True  # as a single run: stop at a confirmed threshold
    deterministic: bool = False
    eval_max_steps: int | None = None  # where greedy episodes are cut (None: the environment's own limit)

    def __post_init__(self) -> None:
        if self.preset == NO_PRESET:  # one spelling in a saved plan, so a folder resumes whichever was given
            object.__setattr__(self, "preset", None)

    def resolved(self) -> SweepProtocol:
        """The protocol with the environment's budget and reward threshold filled in where none was given."""
        return dataclasses.replace(
            self,
            steps=self.steps or budget_for_env(self.env_id),
            threshold=self.threshold if self.threshold is not None else reward_threshold(self.env_id),
        )

    def saved(self) -> dict[str, Any]:
        """The protocol as a folder's plan records it (a folder resumes only under the same protocol); the
        evaluation cap only when set, so folders written before it existed still resume."""
        fields = dataclasses.asdict(self)
        if fields["eval_max_steps"] is None:
            del fields["eval_max_steps"]
        return fields

    @property
    def budget(self) -> int:
        """The env-step budget of every run (`steps`, or the environment's when none was given)."""
        return self.steps or budget_for_env(self.env_id)

    def argv(self, overrides: dict[str, Any], seed: int) -> tuple[str, ...]:
        """The worker command of one run."""
        argv = [
            "{python}",
            "-m",
            WORKER_MODULE,
            "--out",
            "{run_dir}",
            "--env",
            self.env_id,
            "--preset",
            "none" if self.preset is None else self.preset,
            "--overrides",
            json.dumps(overrides),
            "--seed",
            str(seed),
            "--steps",
            str(self.steps),
            "--eval-every",
            str(self.eval_every),
            "--eval-episodes",
            str(self.eval_episodes),
            "--confirm-episodes",
            str(self.confirm_episodes),
            "--final-episodes",
            str(self.final_episodes),
        ]
        if self.threshold is not None:
            argv += ["--threshold", repr(float(self.threshold))]
        if self.eval_max_steps is not None:
            argv += ["--eval-max-steps", str(self.eval_max_steps)]
        return tuple(
            argv
            + (["--no-stop"] if not self.stop_on_reward else [])
            + (["--deterministic"] if self.deterministic else [])
        )


def run_key(name: str, seed: int) -> str:
    """A run's folder name: the config's name made file-safe, then the seed."""
    safe = re.sub(r"[^A-Za-z0-9._=+-]+", "_", name).strip("_")[:80] or "config"
    return f"{safe}__seed{seed}"


def check_configs(configs: dict[str, dict[str, Any]], env_id: str, preset: str | None) -> None:
    """Every config's overrides build a valid DQNConfig for `env_id`; else a ConfigError naming the config."""
    if not configs:
        raise SweepError("the sweep has no configs: give a grid (--set FIELD=V1,V2 or a file)")
    for name, overrides in configs.items():
        if not isinstance(overrides, dict):
            raise SweepError(f"config {name!r} must be an object of DQNConfig fields, not {overrides!r}")
        if "seed" in overrides or "env_id" in overrides:
            raise SweepError(
                f"config {name!r} sets {'seed' if 'seed' in overrides else 'env_id'}: the sweep's "
                "seeds and environment set those"
            )
        try:
            config_for_env(env_id, preset, **overrides)
        except ConfigError as exc:
            raise ConfigError(f"config {name!r}: {exc}") from None


def check_seeds(seeds: Sequence[int]) -> list[int]:
    """The seeds as a list: at least one, each a non-negative integer, none twice; else a `SweepError`."""
    seeds = list(seeds)
    if not seeds:
        raise SweepError("the seed list is empty: give at least one seed")
    bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, int) or s < 0]
    if bad:
        raise SweepError(f"seeds must be non-negative integers, not {bad[0]!r}")
    if len(set(seeds)) != len(seeds):
        raise SweepError(f"seed {next(s for s in seeds if seeds.count(s) > 1)} is listed twice")
    return seeds


def check_folder(out: Path, plan: dict[str, Any], what: str = "sweep") -> None:
    """`out` must be empty, new, or hold this same plan (a resume); another plan's results are an error."""
    manifest = out / f"{what}.json"
    if manifest.is_file():
        try:
            old = json.loads(manifest.read_text(encoding="utf-8")).get("plan")
        except ValueError:
            raise SweepError(f"{manifest} is not valid JSON: choose another folder") from None
        if old != json.loads(json.dumps(plan)):
            changed = sorted(k for k in set(old or {}) | set(plan) if (old or {}).get(k) != plan.get(k))
            raise SweepError(
                f"{out} holds another {what}'s results (it differs in: {', '.join(changed)}): choose "
                "another folder, or rerun that one to resume it"
            )
    elif (out / "runs").is_dir() and any((out / "runs").iterdir()):
        raise SweepError(f"{out}/runs holds runs but no {what}.json: choose another folder")
