"""Hyperparameter search on Optuna over the sweep's machinery: an Optuna study asks for trials (TPE by default,
random or grid), each trial's seeds run as Ray tasks, and a pruner stops hopeless trials early.

- A **trial** is one config (the environment's preset + the sampled fields, `tfdqn.experiments.space`) run
  with every seed; each (trial, seed) is one run of the sweep's engine (a Ray task, its own folder, the
  single-run protocol with a confirmed stop at the threshold).
- **Objective** (lower is better): the median over the trial's seeds of env steps to the first greedy
  evaluation >= the threshold, an unsolved run counted as the budget; ties in the report go to the higher
  median best score.
- **Pruning** (`tfdqn.experiments.study.PRUNERS`): successive halving or Hyperband on the trial's shortfall at
  env-step milestones, which must be its rungs m, m*eta, ... (`tfdqn.experiments.milestones`; default from
  budget/eta^2 on evaluation steps), or Wilcoxon on its seeds as they finish. A pruned trial's runs end at their
  next evaluation.
- **Resume**: the study lives in `<out>/study.db` (SQLite) and each run in `<out>/runs/`; rerunning the same
  search there finishes the trials that were running (their finished seeds kept) and asks only the rest.

Optuna, not Ray Tune: Tune's extra adds ~255 MB (pandas, pyarrow, tensorboardX) and its trial model would
replace the sweep's one-process-per-run workers; Optuna adds ~40 MB and only decides.
"""

from __future__ import annotations

import datetime
import os
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tfdqn.experiments.cluster import import_ray, require_ray
from tfdqn.experiments.engine import read_record, run_specs
from tfdqn.experiments.errors import SweepError, SweepInterrupted
from tfdqn.experiments.milestones import AT_MILESTONES, Milestones, check_milestones, milestones_for
from tfdqn.experiments.plan import RunSpec, SweepProtocol, check_configs, check_folder, check_seeds, run_key
from tfdqn.experiments.search_report import OBJECTIVE, write_search
from tfdqn.experiments.space import check_space, extremes
from tfdqn.experiments.study import (
    check_choices,
    enqueue_grid,
    grid_size,
    import_optuna,
    make_pruner,
    make_sampler,
    open_study,
    suggest,
)
from tfdqn.experiments.tracking import SweepTracking, Tracked, no_tracking, worker_tracking


def objective(records: list[dict[str, Any]], budget: int) -> float | None:
    """Median over a trial's runs of env steps to the threshold, unsolved or stopped counted as the budget."""
    values = [
        budget if r["status"] != "ok" or r.get("solved_step") is None else r["solved_step"]
        for r in records
        if r["status"] in ("ok", "stopped")
    ]
    return statistics.median(values) if values else None


def trial_specs(
    name: str, overrides: dict, seeds: list[int], protocol: SweepProtocol, tracked: Tracked
) -> list[RunSpec]:
    """One trial's runs, a seed each (with their MLflow/TensorBoard flags from `tracked`)."""
    keys = {s: run_key(name, s) for s in seeds}
    argv = {s: protocol.argv(overrides, s) + tracked(k) for s, k in keys.items()}
    return [RunSpec(k, argv[s], {"config": name, "seed": s}, group=name) for s, k in keys.items()]


def search(
    space: dict[str, Any],
    seeds: Sequence[int],
    out: str | os.PathLike[str],
    protocol: SweepProtocol = SweepProtocol(),
    *,
    sampler: str = "tpe",
    pruner: str = "halving",
    trials: int = 12,
    sample_seed: int = 0,
    eta: float = 3.0,
    milestones: Sequence[int] | None = None,
    address: str | None = None,
    num_cpus: int | None = None,
    cpus_per_run: float = 1,
    ship_code: bool = False,
    command: str | None = None,
    tracking: SweepTracking | None = None,
) -> dict[str, Any]:
    """Run the search into `out` (study.db: the Optuna study; search.json and search.md: trials ranked by the
    objective, parameter importances; best_config.json, for `--config`, and best_preset.py: the winner).
    Rerunning into the same folder resumes: no finished run is run again, no trial is lost or asked twice."""
    out = Path(out)
    seeds = check_seeds(seeds)
    check_space(space, sampler)
    check_choices(sampler, pruner, eta, len(seeds))
    check_configs(extremes(space), protocol.env_id, protocol.preset)
    protocol = protocol.resolved()
    if not protocol.stop_on_reward:
        raise SweepError("a search scores env steps to the threshold: runs stop on a confirmed solve")
    if protocol.threshold is None:
        raise SweepError(f"{protocol.env_id} has no reward threshold: give the solved score (--threshold)")
    budget, threshold = protocol.budget, float(protocol.threshold)
    if not 0 <= sample_seed < 2**32:  # Optuna's samplers take no other
        raise SweepError(f"the sampler's seed must be in [0, 2**32), not {sample_seed}")
    if milestones is None:
        milestones = milestones_for(budget, eta, protocol.eval_every)
    milestones = check_milestones(milestones, budget, eta, pruner)
    trials = grid_size(space) if sampler == "grid" else trials
    plan = {
        "kind": "search",
        "protocol": protocol.saved(),
        "space": space,
        "sampler": sampler,
        "pruner": pruner,
        "trials": trials,
        "sample_seed": sample_seed,
        "eta": eta,
        "milestones": milestones,
        "seeds": seeds,
    }
    check_folder(out, plan, "search")
    require_ray("searches")
    optuna = import_optuna()
    study = open_study(
        optuna,
        out,
        plan,
        make_sampler(optuna, sampler, sample_seed),
        make_pruner(optuna, pruner, milestones, budget, eta),
    )
    if held := len(study.get_trials(deepcopy=False)):  # resumed: not the first trials' draws again
        study.sampler = make_sampler(optuna, sampler, sample_seed, resumed_at=held)
    if sampler == "grid":
        enqueue_grid(study, space)
    result: dict[str, Any] = {
        "plan": plan,
        "seeds": seeds,
        "command": command or "tfdqn.experiments.search.search(...)",
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "objective": OBJECTIVE,
    }
    rule = Milestones(milestones if pruner in AT_MILESTONES else [], threshold, len(seeds))
    driver = _Driver(optuna, study, space, seeds, protocol, trials, pruner == "wilcoxon", out)
    driver.tracked = worker_tracking(tracking, out, {"space": dict.fromkeys(space)})
    try:
        run_specs(
            [],
            out,
            address=address,
            num_cpus=num_cpus,
            cpus_per_run=cpus_per_run,
            ship_code=ship_code,
            rule=rule,
            feed=driver.feed,
            on_tick=driver.tick,
            on_record=lambda record, _all: driver.record(record, lambda: write_search(out, result, study, driver.runs)),
        )
    except SweepInterrupted as exc:
        write_search(out, result, study, driver.runs, f"partial: {exc}", final=True)
        raise
    write_search(out, result, study, driver.runs, final=True)
    return result


class _Driver:
    """The search's side of the engine: asks the study for trials, reports their values to the pruner, tells
    the study each trial's end, and tells the board (once it exists) which trials are pruned."""

    def __init__(
        self,
        optuna: Any,
        study: Any,
        space: dict[str, Any],
        seeds: list[int],
        protocol: SweepProtocol,
        trials: int,
        per_seed: bool,
        out: Path,
    ) -> None:
        self.optuna, self.study, self.space, self.seeds, self.protocol = optuna, study, space, seeds, protocol
        self.trials, self.per_seed = trials, per_seed
        self.live: dict[str, Any] = {}  # trial name -> optuna Trial, asked and not yet told
        self.reported: dict[str, set[int]] = {}  # trial name -> steps reported to the study
        self.runs: dict[str, dict[str, Any]] = {}  # run key -> record
        self.pruned: dict[str, int] = {}
        self.unsent: list[tuple[str, Any]] = []  # for the board: ("stop", (name, step)), ("replay", record)
        self.board: Any = None
        self.tracked: Tracked = no_tracking  # each run's tracking flags (`worker_tracking`)
        state = optuna.trial.TrialState
        self.complete = state.COMPLETE
        everything = study.get_trials(deepcopy=False)
        self.resumed = [t for t in everything if t.state == state.RUNNING]
        for t in everything:  # the runs of trials a stopped search finished, for the report
            name = t.user_attrs.get("config")
            if t.state not in (state.RUNNING, state.WAITING) and name is not None:
                for seed in seeds:
                    found = read_record(out / "runs" / run_key(name, seed))
                    if found is not None:
                        self.runs[found["key"]] = {**found, "resumed": True}
        self.asked = sum(t.state != state.WAITING for t in everything)  # a grid's trials wait until asked

    def feed(self) -> list[RunSpec]:
        """The next trial's runs: a trial left running by a stopped search first, then a new one. A new trial
        with the fields of a finished one is scored as that one was (same seeds, same protocol), not run again."""
        while True:
            if self.resumed:
                frozen = self.resumed.pop(0)
                trial = self.optuna.trial.Trial(self.study, frozen._trial_id)
                reported = set(frozen.intermediate_values)
            elif self.asked < self.trials:
                trial, reported = self.study.ask(), set()
                self.asked += 1
            else:
                return []
            name = f"t{trial.number:02d}"
            overrides = suggest(trial, self.space)
            trial.set_user_attr("config", name)
            trial.set_user_attr("overrides", overrides)
            same = next(
                (t for t in self.study.get_trials(deepcopy=False, states=[self.complete]) if t.params == trial.params),
                None,
            )
            if same is None:
                self.live[name], self.reported[name] = trial, reported
                return trial_specs(name, overrides, self.seeds, self.protocol, self.tracked)
            trial.set_user_attr("same_as", same.user_attrs.get("config"))
            self.study.tell(trial, same.value)

    def record(self, record: dict[str, Any], then: Callable[[], None] = lambda: None) -> None:
        """A run ended (or was found finished): its trial is told once every seed has ended; then `then`."""
        self.runs[record["key"]] = record
        try:
            self._record(record)
        finally:
            then()

    def _record(self, record: dict[str, Any]) -> None:
        name = str(record.get("config"))
        trial = self.live.get(name)
        if trial is None:
            return
        if record.get("resumed"):  # a seed finished before the search stopped: the board sees its evaluations
            self.unsent.append(("replay", record))
        if record["status"] == "stopped":
            self._prune(name, int(record.get("stopped_at") or 0))
        elif self.per_seed and record["status"] == "ok":
            solved = record.get("solved_step")
            self._report(name, self.protocol.budget if solved is None else solved, int(record["seed"]))
        self._send()
        mine = [r for r in self.runs.values() if r.get("config") == name]
        if len(mine) < len(self.seeds):
            return
        del self.live[name]
        value = objective(mine, self.protocol.budget)
        state = self.optuna.trial.TrialState
        if name in self.pruned:
            self.study.tell(trial, state=state.PRUNED)
        elif value is None:
            self.study.tell(trial, state=state.FAIL)
        else:
            self.study.tell(trial, value)

    def tick(self, board: Any) -> None:
        """Every second: what the board has not heard yet goes to it, the values it gathered to the pruner."""
        self.board = board
        self._send()
        for name, step, value in import_ray().get(board.drain.remote()):
            self._report(name, value, step)
        self._send()

    def _report(self, name: str, value: float, step: int) -> None:
        """Report one value of trial `name` (once per step) and ask the pruner."""
        trial = self.live.get(name)
        if trial is None or name in self.pruned:
            return
        if step not in self.reported[name]:
            trial.report(value, step)
            self.reported[name].add(step)
        if trial.should_prune():
            self._prune(name, step)

    def _prune(self, name: str, step: int) -> None:
        """Trial `name` is pruned at `step`: the board stops its runs."""
        if name not in self.pruned:
            self.pruned[name] = step
            self.unsent.append(("stop", (name, step)))

    def _send(self) -> None:
        """Tell the board what it has not heard (in order, and waited for: no queued run of a pruned trial starts)."""
        if self.board is None or not self.unsent:
            return
        refs = []
        for kind, item in self.unsent:
            if kind == "stop":
                refs.append(self.board.stop.remote(*item))
                continue
            for point in item.get("progress", []):
                refs.append(self.board.report.remote(item["key"], item["config"], point))
            refs.append(self.board.finished.remote(item["key"], item["config"]))
        self.unsent = []
        import_ray().get(refs)
