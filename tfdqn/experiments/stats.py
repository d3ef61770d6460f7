"""Statistics over seeds for benchmark reports: medians and rates with 95% intervals, and verdicts that
say "met" only where the interval supports it.

- Medians (and ratios of medians) get a percentile bootstrap interval: resample the seeds with replacement,
  recompute, take the 2.5% and 97.5% quantiles (rounded outward to bootstrap values: numpy's "lower" and
  "higher", the one convention for every interval here). An unsolved run counts as `math.inf` (worse than any
  solved one), so an interval bound can be `inf`: "not solved" is inside it.
- Rates (k of n seeds) get the Wilson score interval, which stays honest at 0/n and n/n where a bootstrap
  collapses to a point.
- IQM (the mean of the middle 50%, Agarwal et al. 2021) is offered for scores, with the same bootstrap.
- Scores across tasks get the stratified bootstrap (Agarwal et al. 2021): runs resampled within each task.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np

CONFIDENCE = 0.95
RESAMPLES = 10_000


def _as_array(values: Sequence[float | None]) -> np.ndarray:
    """Floats with None (not solved) as inf."""
    return np.asarray([math.inf if v is None else v for v in values], dtype=float)


def _percentile_interval(stats: np.ndarray, confidence: float) -> tuple[float, float]:
    """The central `confidence` range of bootstrap statistics."""
    alpha = (1 - confidence) / 2
    return (float(np.quantile(stats, alpha, method="lower")), float(np.quantile(stats, 1 - alpha, method="higher")))


def _stat_median(x: np.ndarray) -> np.ndarray:
    return np.median(x, axis=-1)


def _stat_mean(x: np.ndarray) -> np.ndarray:
    return np.mean(x, axis=-1)


def iqm(values: Sequence[float] | np.ndarray) -> float:
    """Interquartile mean: the mean of the values between the 25th and 75th percentiles (sorted, trimmed)."""
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    lo, hi = int(math.floor(0.25 * n)), int(math.ceil(0.75 * n))
    return float(np.mean(x[lo:hi])) if hi > lo else float(np.mean(x))


def _stat_iqm(x: np.ndarray) -> np.ndarray:
    return np.apply_along_axis(iqm, -1, x)


def bootstrap_ci(
    values: Sequence[float | None],
    statistic: str = "median",
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the median (or "iqm") of `values`; inf (or None: not solved) allowed."""
    x = _as_array(values)
    if len(x) == 0:
        return (math.nan, math.nan)
    fn: Callable[[np.ndarray], np.ndarray] = {"median": _stat_median, "iqm": _stat_iqm, "mean": _stat_mean}[statistic]
    rng = np.random.default_rng(seed)
    samples = x[rng.integers(0, len(x), size=(resamples, len(x)))]
    with np.errstate(invalid="ignore"):
        return _percentile_interval(fn(samples), confidence)


def ratio_ci(
    a: Sequence[float], b: Sequence[float], confidence: float = CONFIDENCE, resamples: int = RESAMPLES, seed: int = 0
) -> tuple[float, float]:
    """Bootstrap interval of median(a) / median(b), each sample resampled on its own (independent systems)."""
    xa, xb = _as_array(a), _as_array(b)
    if len(xa) == 0 or len(xb) == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    ma = np.median(xa[rng.integers(0, len(xa), size=(resamples, len(xa)))], axis=1)
    mb = np.median(xb[rng.integers(0, len(xb), size=(resamples, len(xb)))], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = ma / mb
    r = r[~np.isnan(r)]  # inf / inf: both unsolved in that resample, no ratio
    if len(r) == 0:
        return (math.nan, math.nan)
    return _percentile_interval(r, confidence)


def stratified_bootstrap_ci(
    statistic: Callable[..., float],
    *systems: Mapping[str, Sequence[float]],
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile interval of `statistic(*systems)` (each system: per task, one score per run) when every
    system's runs are resampled with replacement within each task, so the task mix stays fixed and only the
    runs vary (Agarwal et al. 2021). Every task needs a run: filter NaNs and empty tasks first."""
    arrays = [{t: np.asarray(v, dtype=float) for t, v in s.items()} for s in systems]
    if any(len(v) == 0 for s in arrays for v in s.values()):
        raise ValueError("every task needs at least one run")
    rng = np.random.default_rng(seed)
    values = np.empty(resamples)
    for i in range(resamples):
        values[i] = statistic(*({t: v[rng.integers(len(v), size=len(v))] for t, v in s.items()} for s in arrays))
    return _percentile_interval(values, confidence)


def median(values: Sequence[float | None]) -> float:
    """Median with None counted as inf (unsolved is worse than any solve)."""
    x = _as_array(values)
    return float(np.median(x)) if len(x) else math.nan


def wilson_ci(successes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval for a rate of `successes` in `n` trials."""
    if n == 0:
        return (0.0, 1.0)
    z = {0.95: 1.959963984540054, 0.9: 1.6448536269514722, 0.99: 2.5758293035489004}[confidence]
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo, hi = max(0.0, centre - half), min(1.0, centre + half)
    # exact at the ends: rounding must not turn n/n into 0.9999999999999999 (and so a "missed" rate of 1)
    return (0.0 if successes == 0 else lo, 1.0 if successes == n else hi)


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Exact two-sided McNemar p for paired yes/no outcomes: a binomial(n, 1/2) test on the `only_a + only_b` pairs
    where exactly one side said yes (1.0 when there are none)."""
    if only_a < 0 or only_b < 0:
        raise ValueError("counts must be >= 0")
    n, k = only_a + only_b, min(only_a, only_b)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def verdict(interval: tuple[float, float], target: float, better: str) -> str:
    """ "met" when the whole interval is on the good side of `target` ("lower" or "higher" is better),
    "missed" when the whole interval is on the bad side, else "undecided" (the interval spans the target)."""
    lo, hi = interval
    if math.isnan(lo) or math.isnan(hi):
        return "undecided"
    if better == "lower":
        return "met" if hi <= target else "missed" if lo > target else "undecided"
    if better == "higher":
        return "met" if lo >= target else "missed" if hi < target else "undecided"
    raise ValueError(f"better={better!r} must be 'lower' or 'higher'")


def fmt_interval(interval: tuple[float, float], fmt: str = ",.0f", inf: str = "not solved") -> str:
    """`[a, b]` with inf shown as `inf` text."""

    def one(v: float) -> str:
        return inf if math.isinf(v) else "-" if math.isnan(v) else format(v, fmt)

    return f"[{one(interval[0])}, {one(interval[1])}]"
