"""Intervals over seeds for the benchmark reports, and verdicts that claim "met" only when supported."""

import math

import numpy as np
import pytest

from tfdqn.experiments import stats


def test_bootstrap_interval_contains_the_median_and_is_reproducible():
    values = [4_000, 5_000, 6_000, 7_000, 8_000, 9_000, 10_000, 11_000, 12_000, 30_000]
    lo, hi = stats.bootstrap_ci(values)
    assert lo <= stats.median(values) <= hi
    assert (lo, hi) == stats.bootstrap_ci(values)
    assert lo >= 4_000 and hi <= 30_000


def test_unsolved_counts_as_worse_than_any_solve():
    lo, hi = stats.bootstrap_ci([1_000, None, None, None, 2_000])
    assert math.isinf(hi) and stats.median([1_000, None, None]) == math.inf
    assert stats.fmt_interval((1_000.0, math.inf)) == "[1,000, not solved]"


def test_wilson_interval_is_honest_at_the_extremes():
    lo, hi = stats.wilson_ci(10, 10)
    assert hi == 1.0 and lo == pytest.approx(0.7225, abs=1e-3)
    assert stats.verdict((lo, hi), 1.0, "higher") == "undecided"  # 10/10 does not miss a rate of 1
    lo, hi = stats.wilson_ci(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-3)
    lo, hi = stats.wilson_ci(7, 10)
    assert lo == pytest.approx(0.3968, abs=1e-3) and hi == pytest.approx(0.8922, abs=1e-3)


def test_verdicts():
    assert stats.verdict((5_000, 7_500), 8_000, "lower") == "met"
    assert stats.verdict((5_000, 9_000), 8_000, "lower") == "undecided"
    assert stats.verdict((8_500, 9_000), 8_000, "lower") == "missed"
    assert stats.verdict((0.72, 1.0), 0.9, "higher") == "undecided"
    assert stats.verdict((0.95, 1.0), 0.9, "higher") == "met"
    assert stats.verdict((0.1, 0.5), 0.9, "higher") == "missed"


def test_ratio_interval_of_medians():
    lo, hi = stats.ratio_ci([10.0] * 5, [20.0] * 5)
    assert lo == hi == 0.5
    lo, hi = stats.ratio_ci([8, 9, 10, 11, 12], [18, 19, 20, 21, 22])
    assert lo < 0.5 < hi and hi < 1


def test_iqm_trims_the_outer_quarters():
    assert stats.iqm([0, 1, 2, 3, 4, 5, 6, 100]) == pytest.approx((2 + 3 + 4 + 5) / 4)
    lo, hi = stats.bootstrap_ci([1, 2, 3, 4, 5, 6, 7, 8], statistic="iqm")
    assert 1 <= lo <= hi <= 8


def test_exact_mcnemar_is_a_two_sided_binomial_test_on_the_discordant_pairs():
    assert stats.mcnemar_exact(9, 2) == pytest.approx(2 * (1 + 11 + 55) / 2**11)  # 0.065
    assert stats.mcnemar_exact(2, 9) == stats.mcnemar_exact(9, 2)
    assert stats.mcnemar_exact(6, 0) == pytest.approx(2 / 2**6)
    assert stats.mcnemar_exact(5, 5) == 1.0 and stats.mcnemar_exact(0, 0) == 1.0
    with pytest.raises(ValueError):
        stats.mcnemar_exact(-1, 2)


def test_the_stratified_bootstrap_resamples_runs_within_each_task_and_rounds_outward():
    def mean_of_b(s):
        return float(np.mean(s["b"]))

    assert stats.stratified_bootstrap_ci(mean_of_b, {"a": [0.0, 9.0], "b": [2.0, 2.0]}, resamples=100) == (2.0, 2.0)
    lo, hi = stats.stratified_bootstrap_ci(mean_of_b, {"b": [0.0, 1.0]}, resamples=1000)
    assert (lo, hi) == (0.0, 1.0)  # the interval's ends are bootstrap values (numpy's "lower" and "higher")
    with pytest.raises(ValueError, match="at least one run"):
        stats.stratified_bootstrap_ci(mean_of_b, {"b": []})
