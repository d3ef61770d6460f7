"""A search's Optuna study: kept in SQLite in the search's folder (`<out>/study.db`, so a stopped search resumes),
its sampler (TPE, random or grid), its pruner (successive halving, Hyperband, Wilcoxon or none) and the
parameter importances of its report.

Optuna is part of the `experiments` extra and imported only inside these functions: the plans, tables and
statistics of this subpackage work without it.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import json
import logging
import math
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from tfdqn.experiments.errors import INSTALL_HINT, SweepError

STUDY_FILE = "study.db"
STUDY_NAME = "search"
SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("halving", "hyperband", "wilcoxon", "none")
"""Successive halving and Hyperband rank trials by their shortfall at env-step milestones
(`tfdqn.experiments.milestones`); Wilcoxon compares a trial's seeds, one by one as they finish, with the best
trial's (a signed-rank test; needs SciPy); none runs every trial to its end."""


def import_optuna() -> ModuleType:
    """The `optuna` module (quiet: warnings only), or a `SweepError` saying how to install it."""
    try:
        optuna = importlib.import_module("optuna")
    except ImportError:
        raise SweepError(f"searches need Optuna, which is not installed: {INSTALL_HINT}") from None
    optuna.logging.set_verbosity(logging.WARNING)
    return optuna


WILCOXON_MIN_SEEDS = 4
"""Seeds the Wilcoxon pruner needs to ever prune: with 3, a signed-rank test's smallest one-sided p-value is 1/8,
above its threshold 0.1."""


def check_choices(sampler: str, pruner: str, eta: float, seeds: int = WILCOXON_MIN_SEEDS) -> None:
    """A known sampler and pruner, an integer eta >= 2 (Optuna's reduction factor), SciPy and enough seeds for
    Wilcoxon."""
    if sampler not in SAMPLERS:
        raise SweepError(f"sampler {sampler!r} must be one of {', '.join(SAMPLERS)}")
    if pruner not in PRUNERS:
        raise SweepError(f"pruner {pruner!r} must be one of {', '.join(PRUNERS)}")
    if not (eta >= 2 and float(eta).is_integer()):
        raise SweepError(f"eta={eta:g} must be an integer >= 2 (the pruner's reduction factor)")
    if pruner == "wilcoxon" and seeds < WILCOXON_MIN_SEEDS:
        raise SweepError(
            f"the wilcoxon pruner never prunes with {seeds} seed(s) (a signed-rank test over fewer than "
            f"{WILCOXON_MIN_SEEDS} cannot reach p < 0.1): give at least {WILCOXON_MIN_SEEDS} seeds or another pruner"
        )
    if pruner == "wilcoxon" and importlib.util.find_spec("scipy") is None:
        raise SweepError("the wilcoxon pruner needs SciPy, which is not installed: pip install scipy")


def encode(choices: list[Any]) -> list[Any]:
    """A list of choices as Optuna categories: as they are when all are None, bool, int, float or str, else JSON."""
    plain = all(c is None or isinstance(c, (bool, int, float, str)) for c in choices)
    return list(choices) if plain else [json.dumps(c) for c in choices]


def suggest(trial: Any, space: dict[str, Any]) -> dict[str, Any]:
    """The trial's value of every field of `space` (a value it already has is kept: a resumed trial)."""
    out: dict[str, Any] = {}
    for field, spec in space.items():
        if isinstance(spec, list):
            value = trial.suggest_categorical(field, encode(spec))
            out[field] = value if encode(spec) == spec else json.loads(value)
            continue
        kind, (lo, hi) = next(iter(spec.items()))
        if kind in ("uniform", "log_uniform"):
            out[field] = trial.suggest_float(field, lo, hi, log=kind == "log_uniform")
        else:
            out[field] = trial.suggest_int(field, int(lo), int(hi), log=kind == "log_int")
    return out


def grid_size(space: dict[str, Any]) -> int:
    """How many configs a grid over `space` (lists only) has."""
    return math.prod(len(v) for v in space.values())


def make_sampler(optuna: ModuleType, name: str, seed: int, resumed_at: int = 0) -> Any:
    """The study's sampler: TPE (Optuna's default) or random. A grid is random sampling with every combination
    enqueued first (`enqueue_grid`): Optuna's GridSampler stops the study itself, which only `optimize` allows.
    A study resumed holding `resumed_at` trials samples from a stream of its own (`resumed_seed`): with `seed`
    again, a resumed search would draw the fields of its first trials again."""
    if resumed_at:
        seed = resumed_seed(seed, resumed_at)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    return optuna.samplers.RandomSampler(seed=seed)


def resumed_seed(seed: int, trials: int) -> int:
    """The sampler's seed for a search resumed with `trials` trials in its study: the same for the same resume
    point (a rerun is reproducible), and a stream apart from `seed`'s and from other resume points'."""
    return int(np.random.SeedSequence([seed, trials]).generate_state(1)[0])


def enqueue_grid(study: Any, space: dict[str, Any]) -> None:
    """Every combination of the grid's lists as a waiting trial of a new study, in `itertools.product` order."""
    if study.get_trials(deepcopy=False):
        return  # a resumed study has them already
    fields = list(space)
    for values in itertools.product(*(encode(space[f]) for f in fields)):
        study.enqueue_trial(dict(zip(fields, values)))


def make_pruner(optuna: ModuleType, name: str, milestones: list[int], budget: int, eta: float) -> Any:
    """The study's pruner. Halving and Hyperband compare trials at rungs `milestones[0] * eta^k` only, which are
    the milestones (`tfdqn.experiments.milestones.check_milestones`)."""
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=milestones[0], reduction_factor=int(eta))
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=milestones[0], max_resource=budget, reduction_factor=int(eta)
        )
    if name == "wilcoxon":
        with warnings.catch_warnings():  # "experimental" since Optuna 3.6: chosen knowingly
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.pruners.WilcoxonPruner(p_threshold=0.1, n_startup_steps=2)
    return optuna.pruners.NopPruner()


def open_study(optuna: ModuleType, out: Path, plan: dict[str, Any], sampler: Any, pruner: Any) -> Any:
    """The search's study in `out/study.db`: created with the plan, or loaded when it holds this same plan; a
    storage holding another search (or no search) is a `SweepError` naming what differs."""
    path = out / STUDY_FILE
    url = f"sqlite:///{path.resolve()}"
    saved = json.loads(json.dumps(plan))
    if path.exists():
        try:
            names = optuna.study.get_all_study_names(storage=url)
        except Exception:  # noqa: BLE001 (not a database, or not Optuna's)
            raise SweepError(f"{path} is not an Optuna study: choose another folder") from None
        if STUDY_NAME not in names:
            raise SweepError(f"{path} holds another study ({', '.join(names) or 'none'}): choose another folder")
        old = optuna.load_study(study_name=STUDY_NAME, storage=url).user_attrs.get("plan")
        if old != saved:
            changed = sorted(k for k in set(old or {}) | set(saved) if (old or {}).get(k) != saved.get(k))
            raise SweepError(
                f"{path} holds another search (it differs in: {', '.join(changed)}): choose another folder, "
                "or rerun that search to resume it"
            )
    out.mkdir(parents=True, exist_ok=True)
    study = optuna.create_study(
        storage=url, study_name=STUDY_NAME, direction="minimize", sampler=sampler, pruner=pruner, load_if_exists=True
    )
    if "plan" not in study.user_attrs:
        study.set_user_attr("plan", saved)
    return study


def importances(optuna: ModuleType, study: Any) -> dict[str, float] | None:
    """Each field's share of the objective's variation over finished trials (PED-ANOVA, Optuna's default), or
    None when there are too few trials (or fields with a single value) to say."""
    finished = [t for t in study.trials if t.state.name == "COMPLETE"]
    if len(finished) < 2:
        return None
    try:
        with warnings.catch_warnings():  # PED-ANOVA warns when too few trials separate: the numbers say so
            warnings.simplefilter("ignore")
            return {k: float(v) for k, v in optuna.importance.get_param_importances(study).items()}
    except (ValueError, RuntimeError, ZeroDivisionError):
        return None
